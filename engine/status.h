#ifndef TILLROLL_ENGINE_STATUS_H_
#define TILLROLL_ENGINE_STATUS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "engine/assert.h"

namespace tillroll {

// The outcome of an operation that can fail for expected reasons. No exception crosses the
// engine's API: a failure is a Status with one of these codes and a message for a human.
enum class StatusCode {
  kOk,
  kInvalidArgument,  // the input is malformed or over a limit; retrying will not help
  kConflict,         // a stale expected version, or an idempotency key reused with other content
  kNotFound,
  kUnauthorized,
  kForbidden,
  kUnavailable,  // I/O failed or the log is closing; retrying may help
  kCorruption,   // stored bytes fail a checksum, the hash chain or the schema
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "conflict: event 2 (stream price/4711): ..." or "ok".
  std::string ToString() const;

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    TR_ASSERT(!status_.ok());
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() {
    TR_ASSERT(ok());
    return *value_;
  }
  const T& value() const {
    TR_ASSERT(ok());
    return *value_;
  }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_STATUS_H_
