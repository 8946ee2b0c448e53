#include "tests/testing/child_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace townhall::testing {

absl::StatusOr<ChildProcess> ChildProcess::Spawn(
    const std::vector<std::string>& argv) {
  std::vector<std::string> args = argv;
  std::vector<char*> pointers;
  for (std::string& a : args) pointers.push_back(a.data());
  pointers.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawnp(&pid, pointers[0], nullptr, nullptr, pointers.data(),
                   environ) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot start ", argv[0]));
  }
  return ChildProcess(pid);
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    Kill();
    pid_ = other.pid_;
    other.pid_ = -1;
  }
  return *this;
}

ChildProcess::~ChildProcess() { Kill(); }

void ChildProcess::Signal(int signal_number) const {
  if (pid_ > 0) kill(pid_, signal_number);
}

std::optional<int> ChildProcess::WaitFor(absl::Duration timeout) {
  if (pid_ <= 0) return std::nullopt;
  absl::Time give_up = absl::Now() + timeout;
  while (true) {
    int status = 0;
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (absl::Now() >= give_up) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

void ChildProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace townhall::testing
