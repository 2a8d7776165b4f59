#include "tools/cli/serve_command.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <ostream>
#include <thread>

#include "adapters/http/api.h"
#include "adapters/http/server.h"
#include "adapters/http/service_config.h"
#include "engine/clock.h"
#include "engine/command_executor.h"
#include "engine/event_log.h"
#include "projections/decision_state.h"
#include "projections/projection_runner.h"
#include "tools/cli/exit_codes.h"
#include "tools/cli/terminal_output.h"

namespace tillroll::cli {
namespace {

// Structured logs: one JSON object per line on stderr, UTC time first.
std::shared_ptr<spdlog::logger> JsonLogger() {
  auto logger = std::make_shared<spdlog::logger>(
      "tillroll", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})",
                      spdlog::pattern_time_type::utc);
  return logger;
}

std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) {
      out.push_back(' ');
      continue;
    }
    out.push_back(c);
  }
  return out + "\"";
}

// Runs the expiry scheduler once a second until stopped.
class ExpiryScheduler {
 public:
  ExpiryScheduler(CommandExecutor& executor, spdlog::logger& log)
      : thread_([this, &executor, &log] {
          std::unique_lock lock(mu_);
          while (!stop_) {
            lock.unlock();
            Result<std::vector<Sequence>> expired = executor.ExpireDue();
            if (!expired.ok()) {
              log.warn(R"("msg":"expiry scheduler",{})",
                       "\"error\":" + Quoted(expired.status().ToString()));
            } else if (!expired->empty()) {
              log.info(R"("msg":"promotions expired","events":{})", expired->size());
            }
            lock.lock();
            wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; });
          }
        }) {}
  ~ExpiryScheduler() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

int RunTokenHash(const std::string& token, std::ostream& out) {
  out << http::TokenSha256(token) << "\n";
  return kExitOk;
}

int RunServe(const ServeArgs& args, std::ostream& out, std::ostream& err) {
  Result<http::ServiceConfig> config = http::LoadServiceConfig(args.config);
  if (!config.ok()) {
    return FailCommand(err, "serve",
                       config.status().code() == StatusCode::kNotFound
                           ? Status::InvalidArgument("--config: " + config.status().message())
                           : config.status());
  }
  if (!args.listen.empty()) config->http.listen = args.listen;
  std::shared_ptr<spdlog::logger> log = JsonLogger();

  Result<std::unique_ptr<EventLog>> ledger = EventLog::Open(args.data_dir);
  if (!ledger.ok()) return FailCommand(err, "serve", ledger.status());
  projections::RunnerOptions options;
  options.progress = ProgressPrinter(err, StderrIsTerminal());
  options.notice = [&log](std::string_view line) {
    log->info(R"("msg":{})", Quoted(line));
  };
  Result<std::unique_ptr<projections::ProjectionRunner>> runner =
      projections::ProjectionRunner::Open(**ledger, args.data_dir / "projections", options);
  if (!runner.ok()) return FailCommand(err, "serve", runner.status());

  projections::LedgerDecisionState state(**ledger, **runner);
  SystemClock clock;
  CommandExecutor executor(**ledger, state, config->governance.rules, clock,
                           [&runner, &ledger] { return (*runner)->CatchUpTo((*ledger)->Head().seq); });
  http::Metrics metrics;
  http::Api api(*config, **ledger, **runner, executor, metrics);
  std::function<void(std::string_view)> access_log;
  if (config->http.access_log) access_log = [&log](std::string_view line) {
    // The line is a JSON object; the logger's pattern wraps its fields.
    log->info("{}", line.substr(1, line.size() - 2));
  };
  // Listening first: /healthz answers and /readyz says 503 while the projections catch up.
  Result<std::unique_ptr<http::Server>> server =
      http::Server::Start(api, metrics, config->http, access_log);
  if (!server.ok()) return FailCommand(err, "serve", server.status());
  (*server)->ShutdownOnSignals();
  const std::string address =
      config->http.listen.substr(0, config->http.listen.rfind(':')) + ":" +
      std::to_string((*server)->port());
  log->info(R"("msg":"listening","url":"http://{}","ledger":{},"head_seq":{})", address,
            Quoted(args.data_dir.string()), (*ledger)->Head().seq);
  if (Status s = (*runner)->CatchUp(); !s.ok()) {
    log->error(R"("msg":"projections did not catch up","error":{})", Quoted(s.ToString()));
  }
  (*runner)->StartFollowing();
  api.SetReady();
  log->info(R"("msg":"ready","caught_up_seq":{})", (*runner)->CaughtUpSeq());
  out << "tillroll: serving http://" << address << std::endl;
  std::optional<ExpiryScheduler> expiry(std::in_place, executor, *log);

  const bool in_time = (*server)->Wait();
  expiry.reset();
  (*runner)->StopFollowing();
  log->info(R"("msg":"stopped","in_flight_finished":{},"head_seq":{})", in_time,
            (*ledger)->Head().seq);
  log->flush();
  return kExitOk;
}

}  // namespace tillroll::cli
