// Processes by pidfd: open, signal, reap; becoming a child subreaper; a user's name; leaving at once.
#include "addon.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <string>
#include <string_view>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  int pid = info[0].As<Napi::Number>().Int32Value();
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return ThrowErrno(info.Env(), "pidfd_open");
  return Napi::Number::New(info.Env(), static_cast<double>(fd));
}

// pidfdSendSignal(pidfd, signal) -> boolean (false: the process is gone)
static Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  if (syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0) < 0) {
    if (errno == ESRCH) return Napi::Boolean::New(info.Env(), false);
    return ThrowErrno(info.Env(), "pidfd_send_signal");
  }
  return Napi::Boolean::New(info.Env(), true);
}

// reapPidfd(pidfd) -> { code, signal } once the child exited, else null. Never blocks.
static Napi::Value ReapPidfd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  siginfo_t si = {};
  int rc;
  do rc = waitid(static_cast<idtype_t>(P_PIDFD), fd, &si, WEXITED | WNOHANG);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) return ThrowErrno(env, "waitid");
  if (si.si_pid == 0) return env.Null();
  Napi::Object result = Napi::Object::New(env);
  bool signaled = si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED;
  result.Set("code", signaled ? env.Null() : Napi::Number::New(env, si.si_status));
  result.Set("signal", signaled ? Napi::Number::New(env, si.si_status) : env.Null());
  return result;
}

// setChildSubreaper(on = true)
static Napi::Value SetChildSubreaper(const Napi::CallbackInfo& info) {
  unsigned long on = info.Length() > 0 && !info[0].ToBoolean().Value() ? 0 : 1;
  if (prctl(PR_SET_CHILD_SUBREAPER, on, 0, 0, 0) < 0) return ThrowErrno(info.Env(), "prctl(PR_SET_CHILD_SUBREAPER)");
  return info.Env().Undefined();
}

// userName(uid) -> its name in /etc/passwd, or undefined when it has none: `list`'s owners. The file
// itself, as runc's list reads it (libcontainer/user's parser), not getpwuid_r: NSS's set-up
// (nsswitch.conf, dlopen of its modules) cost ~0.3 ms, and even stdio's fgetpwent_r ~0.2 on its first
// call; a read(2) and a scan of "name:password:uid:..." lines cost ~0.04.
static Napi::Value UserName(const Napi::CallbackInfo& info) {
  uid_t uid = info[0].As<Napi::Number>().Uint32Value();
  int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return info.Env().Undefined();
  std::string text;
  char chunk[4096];
  for (ssize_t n; (n = read(fd, chunk, sizeof chunk)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || text.size() > (16u << 20)) break;
    text.append(chunk, static_cast<size_t>(n));
  }
  close(fd);
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    size_t c3 = c2 == std::string_view::npos ? c2 : line.find(':', c2 + 1);
    if (c3 == std::string_view::npos || c1 == 0) continue;
    // the uid field as a number ("007" is 7), as libcontainer/user's parser reads it
    std::string_view field = line.substr(c2 + 1, c3 - c2 - 1);
    if (field.empty() || field.size() > 10 || field.find_first_not_of("0123456789") != std::string_view::npos) continue;
    if (std::stoull(std::string(field)) == uid) return Napi::String::New(info.Env(), std::string(line.substr(0, c1)));
  }
  return info.Env().Undefined();
}

// exitNow(code): _exit(2), none of Node's teardown (the CLI's 'exit' listeners have run; see src/cli/fast/exit.ts)
static Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  _exit(info[0].As<Napi::Number>().Int32Value());
}

void RegisterProcess(Napi::Env env, Napi::Object exports) {
  exports.Set("userName", Napi::Function::New(env, UserName));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal));
  exports.Set("reapPidfd", Napi::Function::New(env, ReapPidfd));
  exports.Set("setChildSubreaper", Napi::Function::New(env, SetChildSubreaper));
  exports.Set("exitNow", Napi::Function::New(env, ExitNow));
}
