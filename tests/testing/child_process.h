// Test support: a child process (redis-server, townhalld) that tests start,
// signal and wait for.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace townhall::testing {

class ChildProcess {
 public:
  // Starts `argv[0]` (searched in PATH) with `argv`.
  static absl::StatusOr<ChildProcess> Spawn(
      const std::vector<std::string>& argv);

  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_) {
    other.pid_ = -1;
  }
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  // Kills (SIGKILL) and reaps a child still running.
  ~ChildProcess();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void Signal(int signal_number) const;
  // Waits up to `timeout` for the child to exit; returns its exit code
  // (128 + signal when killed), or nullopt if it is still running.
  std::optional<int> WaitFor(absl::Duration timeout);
  // SIGKILL and reap.
  void Kill();

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

}  // namespace townhall::testing
