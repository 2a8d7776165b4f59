#ifndef TILLROLL_ADAPTERS_HTTP_API_SUPPORT_H_
#define TILLROLL_ADAPTERS_HTTP_API_SUPPORT_H_

// What the API's handlers share: status mapping, body checks, parameters. Included by the
// api*.cc files only (it brings nlohmann/json).

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/http/http_message.h"
#include "engine/checkout.h"
#include "engine/command.h"
#include "engine/command_executor.h"
#include "engine/event_json.h"
#include "engine/status.h"

namespace tillroll::http {

// A command as the service reads it from a body, in the form ParseCommandDocument takes.
using CommandDoc = nlohmann::json;

// One EventJson per thread (it is not thread-safe and costly to build).
EventJson& ThreadEventJson();

// The response for a failed status: 400 InvalidArgument (with the field path its message
// starts with, after `field_prefix`), 404 NotFound, 409 Conflict, 503 Unavailable, 500 else.
HttpResponse StatusResponse(const Status& status, std::string_view field_prefix = {});

// What became of one command: 201 accepted (200 when it was a duplicate), 202 held for
// approval, 400 invalid, 409 a stale expected version, 422 refused by governance; the body is
// OutcomeJson plus, when rejected, "error" and "message".
HttpResponse OutcomeResponse(const Command& command, const SubmitOutcome& outcome);

// 400 listing every problem ({"field", "reason"}); the first one is the error's field.
// `more` adds its members to the body (e.g. the audit_seqs of the attempts recorded).
HttpResponse ProblemsResponse(
    const nlohmann::ordered_json& problems,
    const nlohmann::ordered_json& more = nlohmann::ordered_json::object());

// Puts the Idempotency-Key and If-Match headers into a command document: 400 when the
// document already says otherwise or If-Match is not a version number.
std::optional<HttpResponse> ApplyHeaders(const HttpRequest& request, CommandDoc& command);

// Why a JSON text is over the limits (nested deeper than depth_max, an array longer than
// array_max, or the top-level array longer than top_array_max), or nullopt. Counts without
// parsing, so an oversized document never builds a DOM.
std::optional<std::string> JsonShapeProblem(std::string_view text, std::size_t depth_max,
                                            std::size_t array_max, std::size_t top_array_max);

// A time query parameter (ISO 8601 or UTC ns); now when absent.
Result<std::int64_t> TimeParam(const HttpRequest& request, std::string_view name);

// 400 unless `body` is an object with exactly these fields of these types (those in
// `optional` may be left out).
std::optional<HttpResponse> CheckObject(
    const nlohmann::ordered_json& body,
    std::initializer_list<std::pair<const char*, nlohmann::ordered_json::value_t>> fields,
    std::initializer_list<std::string_view> optional = {});

// [{"line_no": 1, "qty": 2}, ...] of a return.
Result<std::vector<checkout::ReturnedQty>> ReturnLines(const nlohmann::ordered_json& lines);

// "'a', 'b'"
std::string JoinNames(const std::vector<std::string>& names);

}  // namespace tillroll::http

#endif  // TILLROLL_ADAPTERS_HTTP_API_SUPPORT_H_
