#include "tools/cli/log_commands.h"

#include <charconv>
#include <fstream>
#include <istream>
#include <ostream>

#include "engine/event_json.h"
#include "engine/event_log.h"
#include "engine/limits.h"
#include "engine/utc_time.h"
#include "schemas/envelope_generated.h"
#include "tools/cli/exit_codes.h"

namespace tillroll::cli {
namespace {

constexpr std::size_t kReadChunkEvents = 10'000;

Result<std::unique_ptr<EventLog>> OpenExisting(const std::filesystem::path& dir) {
  LogOptions options;
  options.create_if_missing = false;
  return EventLog::Open(dir, options);
}

// The log names a failed event by its place in the batch ("event K of the batch"); the user
// knows it by its input line.
std::string WithInputLine(const std::string& message, const std::vector<std::size_t>& lines) {
  constexpr std::string_view kPrefix = "event ";
  std::size_t k = 0;
  if (message.rfind(kPrefix, 0) == 0) {
    const char* begin = message.data() + kPrefix.size();
    std::from_chars(begin, message.data() + message.size(), k);
  }
  if (k == 0 || k > lines.size()) return message;
  return "line " + std::to_string(lines[k - 1]) + ": " + message;
}

struct InputEvents {
  std::vector<std::string> events;
  std::vector<std::size_t> lines;  // the input line of each event
  std::size_t problem_count = 0;
};

InputEvents ParseInput(std::istream& in, std::ostream& err) {
  InputEvents input;
  EventJson json;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (input.events.size() == limits::kBatchEventsMax) {
      err << "line " << line_no << ": one append takes at most " << limits::kBatchEventsMax
          << " events; split the input\n";
      ++input.problem_count;
      break;
    }
    EventJson::Parsed parsed = json.ParseUnsealed(line);
    for (const FieldProblem& p : parsed.problems) {
      err << "line " << line_no << ": " << (p.path.empty() ? "" : p.path + ": ") << p.reason
          << "\n";
    }
    input.problem_count += parsed.problems.size();
    input.events.push_back(std::move(parsed.bytes));
    input.lines.push_back(line_no);
  }
  return input;
}

}  // namespace

int RunAppend(const AppendArgs& args, std::istream& stdin_stream, std::ostream& out,
              std::ostream& err) {
  std::ifstream file;
  if (!args.file.empty()) {
    file.open(args.file);
    if (!file) {
      err << "tillroll append: cannot read " << args.file << "\n";
      return kExitBadInput;
    }
  }
  InputEvents input = ParseInput(args.file.empty() ? stdin_stream : file, err);
  if (input.problem_count > 0) {
    err << "tillroll append: " << input.problem_count
        << " problem(s) in the input; nothing was appended\n";
    return kExitBadInput;
  }
  if (input.events.empty()) {
    err << "tillroll append: no events in the input; nothing was appended\n";
    return kExitBadInput;
  }
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(args.data_dir);
  if (!log.ok()) return FailCommand(err, "append", log.status());
  Result<std::vector<AppendOutcome>> outcomes = (*log)->Append(std::move(input.events));
  if (!outcomes.ok()) {
    const Status& s = outcomes.status();
    err << "tillroll append: " << StatusCodeName(s.code()) << ": "
        << WithInputLine(s.message(), input.lines) << "; nothing was appended\n";
    return ExitCodeFor(s);
  }
  EventJson json;
  for (const AppendOutcome& outcome : *outcomes) {
    Result<std::vector<EventRecord>> stored = (*log)->Read(outcome.seq, 1);
    if (!stored.ok()) return FailCommand(err, "append", stored.status());
    if (stored->empty())
      return FailCommand(err, "append", Status::Internal("appended event not found"));
    Result<std::string> text = json.ToJson(stored->front().bytes);
    if (!text.ok()) return FailCommand(err, "append", text.status());
    out << *text << "\n";
  }
  return kExitOk;
}

int RunLog(const LogArgs& args, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<EventLog>> log = OpenExisting(args.data_dir);
  if (!log.ok()) return FailCommand(err, "log", log.status());
  Sequence from = std::max<Sequence>(args.from, 1);
  if (!args.since.empty()) {
    Result<std::int64_t> since = ParseUtcTimeNs(args.since);
    if (!since.ok())
      return FailCommand(err, "log",
                         Status::InvalidArgument("--since: " + since.status().message()));
    Result<Sequence> first = (*log)->FirstRecordedAtOrAfter(*since);
    if (!first.ok()) return FailCommand(err, "log", first.status());
    from = std::max(from, *first);
  }
  const Sequence last = std::min(args.to.value_or(UINT64_MAX), (*log)->Head().seq);
  EventJson json;
  auto print = [&](const EventRecord& record) -> Status {
    Result<std::string> text = json.ToJson(record.bytes);
    if (!text.ok()) return text.status();
    out << *text << "\n";
    return Status::Ok();
  };
  if (!args.stream.empty()) {
    std::uint64_t version = 1;
    for (;;) {
      Result<std::vector<EventRecord>> page =
          (*log)->ReadStream(args.stream, version, kReadChunkEvents);
      if (!page.ok()) return FailCommand(err, "log", page.status());
      for (const EventRecord& record : *page) {
        if (record.seq < from || record.seq > last) continue;
        if (Status s = print(record); !s.ok()) return FailCommand(err, "log", s);
      }
      if (page->size() < kReadChunkEvents) return kExitOk;
      version += page->size();
    }
  }
  while (from <= last) {
    const std::size_t chunk =
        static_cast<std::size_t>(std::min<Sequence>(kReadChunkEvents, last - from + 1));
    Result<std::vector<EventRecord>> page = (*log)->Read(from, chunk);
    if (!page.ok()) return FailCommand(err, "log", page.status());
    if (page->empty()) break;
    for (const EventRecord& record : *page) {
      if (Status s = print(record); !s.ok()) return FailCommand(err, "log", s);
    }
    from = page->back().seq + 1;
  }
  return kExitOk;
}

int RunVerify(const std::filesystem::path& data_dir, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<EventLog>> log = OpenExisting(data_dir);
  if (!log.ok()) return FailCommand(err, "verify", log.status());
  VerifyReport report = (*log)->Verify();
  if (!report.status.ok()) {
    out << "bad at sequence " << report.first_bad_seq << ": " << report.status.message() << "\n";
    return kExitVerifyFailed;
  }
  out << "ok " << report.event_count << " events, head " << report.head.hash.ToHex() << "\n";
  return kExitOk;
}

int RunStats(const std::filesystem::path& data_dir, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<EventLog>> log = OpenExisting(data_dir);
  if (!log.ok()) return FailCommand(err, "stats", log.status());
  Result<LogStats> stats = (*log)->Stats();
  if (!stats.ok()) return FailCommand(err, "stats", stats.status());
  out << "{\"events\":" << stats->head.seq << ",\"streams\":" << stats->stream_count
      << ",\"event_bytes\":" << stats->event_bytes << ",\"disk_bytes\":" << stats->disk_bytes
      << ",\"head_seq\":" << stats->head.seq << ",\"head_hash\":\"" << stats->head.hash.ToHex()
      << "\",\"head_recorded_at\":\""
      << (stats->head.seq == 0 ? std::string() : FormatUtcTime(stats->head.recorded_at_ns))
      << "\"}\n";
  return kExitOk;
}

}  // namespace tillroll::cli
