#ifndef TILLROLL_TESTS_CRASH_CHILD_PROCESS_H_
#define TILLROLL_TESTS_CRASH_CHILD_PROCESS_H_

// What the crash tests share: a child process to kill, a kept temp folder, numbers from the
// environment.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/server_process.h"

namespace tillroll {

constexpr std::chrono::seconds kStartTimeout{120};
constexpr int kExitExecFailed = 127;

inline std::optional<std::uint64_t> EnvNumber(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  const char* end = text + std::strlen(text);
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end) FAIL(name << " is not a number: '" << text << "'");
  return value;
}

// Not testing::TempDir: the folder of a failed run is kept for a post-mortem.
inline std::filesystem::path MakeTempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "tillroll-crash-XXXXXX").string();
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

// A running tillroll-crash-child, its stdout on a pipe to us. Killed and reaped at the latest
// when this goes away, so that a failing check leaves no child appending.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    pid_ = fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec: the parent has threads.
      dup2(fds[1], STDOUT_FILENO);
      execv(argv[0], argv.data());
      _exit(kExitExecFailed);
    }
    close(fds[1]);
    stdout_fd_ = fds[0];
    REQUIRE(pid_ > 0);
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Reap();
    }
    close(stdout_fd_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Waits for the child's first output line ("appending"); false if the child ended before it.
  bool WaitAppending() const {
    pollfd readable{stdout_fd_, POLLIN, 0};
    const int timeout_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(kStartTimeout).count());
    int ready = 0;
    do {
      ready = poll(&readable, 1, timeout_ms);
    } while (ready < 0 && errno == EINTR);
    REQUIRE(ready >= 0);
    if (ready == 0) FAIL("the child did not start appending within " << timeout_ms << " ms");
    char c = 0;
    return read(stdout_fd_, &c, 1) == 1;
  }

  // Kills the child and returns its wait status.
  int Kill() {
    REQUIRE(kill(pid_, SIGKILL) == 0);
    return Reap();
  }

 private:
  int Reap() {
    const int status = testing::WaitForChild(pid_);
    pid_ = -1;
    return status;
  }

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
};

}  // namespace tillroll

#endif  // TILLROLL_TESTS_CRASH_CHILD_PROCESS_H_
