#include "adapters/http/api_support.h"

#include <charconv>

#include "engine/clock.h"
#include "engine/json_writer.h"
#include "engine/utc_time.h"
#include "schemas/envelope_generated.h"

namespace tillroll::http {

using json = nlohmann::ordered_json;

EventJson& ThreadEventJson() {
  thread_local EventJson converter;
  return converter;
}

HttpResponse StatusResponse(const Status& status, std::string_view field_prefix) {
  const std::string& message = status.message();
  switch (status.code()) {
    case StatusCode::kInvalidArgument: {
      // Messages name their field first: "lines[2].qty: expected ...".
      const std::size_t colon = message.find(": ");
      std::string field;
      if (colon != std::string::npos && message.substr(0, colon).find(' ') == std::string::npos) {
        field = std::string(field_prefix) + message.substr(0, colon);
      }
      return ErrorResponse(400, "invalid", message, field);
    }
    case StatusCode::kNotFound:
      return ErrorResponse(404, "not_found", message);
    case StatusCode::kConflict:
      return ErrorResponse(409, "conflict", message);
    case StatusCode::kUnavailable:
      return ErrorResponse(503, "unavailable", message);
    default:
      return ErrorResponse(500, "internal", message);
  }
}

HttpResponse OutcomeResponse(const Command& command, const SubmitOutcome& outcome) {
  const Decision& d = outcome.decision;
  int status = 201;
  if (d.outcome == events::AuditOutcome::HeldForApproval) status = 202;
  JsonWriter body;
  body.BeginObject();
  if (d.outcome == events::AuditOutcome::Rejected) {
    std::string_view code = "refused";
    status = 422;
    if (d.rejection == RejectionKind::kInvalid) {
      status = 400;
      code = "invalid";
    } else if (d.field == "expected_version") {
      status = 409;
      code = "conflict";
    } else if (d.rejection == RejectionKind::kForbidden) {
      code = "forbidden_by_governance";
    }
    body.Str("error", code).Str("message", d.reason);
  } else if (outcome.duplicate) {
    status = 200;
  }
  WriteOutcome(body, command, outcome);
  body.EndObject();
  return HttpResponse{.status = status, .body = body.Release()};
}

HttpResponse ProblemsResponse(const json& problems, const json& more) {
  const json& first = problems.front();
  std::string message = first["reason"].get<std::string>();
  if (problems.size() > 1) message += " (and " + std::to_string(problems.size() - 1) + " more)";
  HttpResponse r = ErrorResponse(400, "invalid", message, first["field"].get<std::string>());
  json body = json::parse(r.body);
  body["problems"] = problems;
  for (const auto& [key, value] : more.items()) body[key] = value;
  r.body = body.dump();
  return r;
}

std::optional<HttpResponse> ApplyHeaders(const HttpRequest& request, CommandDoc& command) {
  if (!request.idempotency_key.empty()) {
    if (command.contains("idempotency_key") &&
        command["idempotency_key"] != request.idempotency_key) {
      return ErrorResponse(400, "invalid",
                           "the Idempotency-Key header and the command's idempotency_key differ",
                           "Idempotency-Key");
    }
    command["idempotency_key"] = request.idempotency_key;
  }
  if (!request.if_match.empty()) {
    std::string_view tag = request.if_match;
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') {
      tag = tag.substr(1, tag.size() - 2);
    }
    std::int64_t version = -1;
    const auto [ptr, ec] = std::from_chars(tag.data(), tag.data() + tag.size(), version);
    if (ec != std::errc() || ptr != tag.data() + tag.size() || version < 0) {
      return ErrorResponse(400, "invalid",
                           "If-Match: expected the stream version the command expects, e.g. \"3\"",
                           "If-Match");
    }
    if (command.contains("expected_version") && command["expected_version"] != version) {
      return ErrorResponse(400, "invalid",
                           "the If-Match header and the command's expected_version differ",
                           "If-Match");
    }
    command["expected_version"] = version;
  }
  return std::nullopt;
}

std::optional<std::string> JsonShapeProblem(std::string_view text, std::size_t depth_max,
                                            std::size_t array_max, std::size_t top_array_max) {
  // Per open bracket: whether it is an array, and the commas seen directly inside it.
  struct Open {
    bool array;
    std::size_t commas;
  };
  std::vector<Open> stack;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      stack.push_back({c == '[', 0});
      if (stack.size() > depth_max) {
        return "nested deeper than " + std::to_string(depth_max) + " levels";
      }
    } else if (c == ']' || c == '}') {
      if (!stack.empty()) stack.pop_back();
    } else if (c == ',' && !stack.empty() && stack.back().array) {
      const std::size_t max = stack.size() == 1 ? top_array_max : array_max;
      if (++stack.back().commas + 1 > max) {
        return "an array has more than " + std::to_string(max) + " elements";
      }
    }
  }
  return std::nullopt;
}

Result<std::int64_t> TimeParam(const HttpRequest& request, std::string_view name) {
  std::optional<std::string_view> text = request.Param(name);
  if (!text || text->empty()) return SystemClock().NowNs();
  Result<std::int64_t> ns = ParseUtcTimeNs(*text);
  if (!ns.ok()) return Status::InvalidArgument(std::string(name) + ": " + ns.status().message());
  return ns;
}

std::optional<HttpResponse> CheckObject(
    const json& body, std::initializer_list<std::pair<const char*, json::value_t>> fields,
    std::initializer_list<std::string_view> optional) {
  if (body.is_discarded() || !body.is_object()) {
    return ErrorResponse(400, "invalid_json", "expected a JSON object", "body");
  }
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (const auto& field : fields) known = known || key == field.first;
    if (!known) return ErrorResponse(400, "invalid", "unknown field", key);
  }
  for (const auto& [name, type] : fields) {
    if (!body.contains(name)) {
      if (std::find(optional.begin(), optional.end(), name) != optional.end()) continue;
      return ErrorResponse(400, "invalid", "required", name);
    }
    if (body[name].type() != type) {
      return ErrorResponse(400, "invalid",
                           std::string("expected ") +
                               (type == json::value_t::string   ? "a string"
                                : type == json::value_t::array  ? "an array"
                                                                : "an object"),
                           name);
    }
  }
  return std::nullopt;
}

Result<std::vector<checkout::ReturnedQty>> ReturnLines(const json& lines) {
  std::vector<checkout::ReturnedQty> out;
  if (lines.empty()) return Status::InvalidArgument("lines: at least one line to return");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string path = "lines[" + std::to_string(i) + "]";
    const json& line = lines[i];
    if (!line.is_object() || !line.contains("line_no") || !line.contains("qty") ||
        line.size() != 2 || !line["line_no"].is_number_integer() ||
        !line["qty"].is_number_integer()) {
      return Status::InvalidArgument(path + ": expected {\"line_no\": N, \"qty\": N}");
    }
    const std::int64_t line_no = line["line_no"].get<std::int64_t>();
    const std::int64_t qty = line["qty"].get<std::int64_t>();
    if (line_no < 1 || line_no > INT32_MAX || qty < 1 || qty > INT32_MAX) {
      return Status::InvalidArgument(path + ": line_no and qty must be positive");
    }
    out.push_back({.line_no = static_cast<std::int32_t>(line_no),
                   .qty = static_cast<std::int32_t>(qty)});
  }
  return out;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

}  // namespace tillroll::http
