#ifndef TILLROLL_ENGINE_EVENT_JSON_H_
#define TILLROLL_ENGINE_EVENT_JSON_H_

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace tillroll {

struct Envelope;

// One thing wrong with a JSON input, at a field path like "payload.lines[2].qty".
struct FieldProblem {
  std::string path;  // empty for the document as a whole
  std::string reason;
};

// What makes a JSON text too big to parse as one event or command: longer than
// limits::kJsonLineBytesMax, or nested deeper than limits::kJsonDepthMax (counted before
// parsing, so that a deep document cannot exhaust the stack).
std::optional<FieldProblem> JsonTextProblem(std::string_view text);

// Converts between events and their JSON form, which is the FlatBuffers JSON mapping of
// schemas/envelope.fbs (so the .fbs files stay the single contract). Input is checked field
// by field first, so that every problem is reported with its path and the expected type; the
// checked document is then built into the bytes directly, or by FlatBuffers' own parser for
// what that does not cover (structs, floats, vectors of unions).
//
// Not thread-safe (it owns a flatbuffers::Parser): use one per thread.
class EventJson {
 public:
  EventJson();
  ~EventJson();
  EventJson(const EventJson&) = delete;
  EventJson& operator=(const EventJson&) = delete;

  struct Parsed {
    std::string bytes;  // an unsealed event, when problems is empty
    std::vector<FieldProblem> problems;
    bool ok() const { return problems.empty(); }
  };

  // Parses one JSON object: an Event without the fields the log assigns (global_seq,
  // stream_version, recorded_at_ns, prev_hash, hash). Unknown fields, wrong types, unknown
  // enum or union names, missing required fields and values over the limits are problems.
  Parsed ParseUnsealed(std::string_view json);
  // The same for a document already parsed from a text that JsonTextProblem passed (or that
  // was checked as strictly): the same checks and the same event, without printing the
  // document and parsing it again.
  Parsed ParseUnsealedDocument(nlohmann::json doc);

  // An unsealed event from an envelope and a payload that tillroll decided itself: the payload
  // is FlatBuffers JSON of the table `payload_type` names, top-level empty strings left out.
  // Only FlatBuffers' own parser reads it, without the field-by-field checks of ParseUnsealed,
  // which are for what senders write; InvalidArgument with the parser's message when it does
  // not match the schema. EventLog::Append checks the result like any other event.
  Result<std::string> UnsealedFromPayload(const Envelope& envelope, std::string_view payload_type,
                                          std::string_view payload_json);

  // An unsealed event from an envelope and the payload of `source`, an event that passed
  // CheckUnsealedEvent (a command's args): the payload table is copied as it is, through
  // FlatBuffers reflection, without going through JSON. The same event as UnsealedFromPayload
  // gives for the payload's JSON when that has no empty strings.
  Result<std::string> UnsealedWithPayloadOf(const Envelope& envelope, std::string_view source);

  // One line of strict JSON for an event's bytes. The bytes are verified first:
  // Corruption if they are not a well-formed Event.
  Result<std::string> ToJson(std::string_view bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_EVENT_JSON_H_
