#ifndef TILLROLL_TESTS_SUPPORT_SERVER_PROCESS_H_
#define TILLROLL_TESTS_SUPPORT_SERVER_PROCESS_H_

// A real `tillroll serve` in a child process, on a free loopback port: started, waited for
// until it says it serves, then stopped with SIGTERM or killed with SIGKILL. Killed at the
// latest when the object goes, so that a failing check leaves no server behind.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace tillroll::testing {

// Waits for the child `pid` to end (through EINTR) and returns its wait status.
int WaitForChild(pid_t pid);

class ServerProcess {
 public:
  // Starts build/bin/tillroll serve --data DATA --config CONFIG --listen 127.0.0.1:0, with its
  // stderr (the JSON log) going to `log_file`.
  ServerProcess(const std::filesystem::path& data_dir, const std::filesystem::path& config,
                const std::filesystem::path& log_file);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Waits for "tillroll: serving http://127.0.0.1:PORT"; the port, or nullopt when the server
  // ended or said nothing within `timeout`.
  std::optional<std::uint16_t> WaitServing(std::chrono::milliseconds timeout =
                                               std::chrono::seconds(120));
  std::uint16_t port() const { return port_; }

  // Sends SIGTERM and waits; the exit code, or -1 when it did not exit normally.
  int Terminate();
  // SIGKILL, reaped.
  void Kill();

 private:
  int Reap();
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace tillroll::testing

#endif  // TILLROLL_TESTS_SUPPORT_SERVER_PROCESS_H_
