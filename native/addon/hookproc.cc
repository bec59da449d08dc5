// The processes of the hooks the runtime runs itself (src/runtime/hooks.ts), without node:child_process:
// its load (child_process, net, streams) and its fork of the whole Node process cost a cold create ~20 ms
// of CPU per hook. posix_spawn clones with CLONE_VM|CLONE_VFORK (no page tables copied) and gives the
// child default signal handlers and an empty mask, as Node's spawn and Go's exec do.
#include "addon.h"
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <string>
#include <vector>

static std::vector<std::string> Strings(const Napi::Array& a) {
  std::vector<std::string> out;
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  return out;
}

static std::vector<char*> Pointers(std::vector<std::string>& s) {
  std::vector<char*> p;
  for (auto& x : s) p.push_back(x.data());
  p.push_back(nullptr);
  return p;
}

// spawnProcess(path, argv, envp, fds) -> { pid, pidfd }: fds[i] becomes the child's fd i, every other fd
// is closed; execve(path) (no PATH search: hook paths are absolute). Throws "exec PATH: ..." on failure.
static Napi::Value SpawnProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::vector<std::string> argvS = Strings(info[1].As<Napi::Array>()), envS = Strings(info[2].As<Napi::Array>());
  std::vector<char*> argv = Pointers(argvS), envp = Pointers(envS);
  Napi::Array fdArray = info[3].As<Napi::Array>();
  int count = static_cast<int>(fdArray.Length());

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  // Each source first to base+i, above every source and target, so that placing fd i never overwrites
  // a source still to come.
  std::vector<int> src;
  int base = count;
  for (int i = 0; i < count; i++) {
    src.push_back(fdArray.Get(i).As<Napi::Number>().Int32Value());
    if (src[i] >= base) base = src[i] + 1;
  }
  for (int i = 0; i < count; i++) posix_spawn_file_actions_adddup2(&actions, src[i], base + i);
  for (int i = 0; i < count; i++) posix_spawn_file_actions_adddup2(&actions, base + i, i);
  posix_spawn_file_actions_addclosefrom_np(&actions, count);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
#ifdef __GLIBC__
  // glibc's sigfillset leaves out its two internal signals (32, 33), and glibc before 2.38 then sets
  // them to SIG_IGN in the child, which an ignored signal keeps across exec: in the set by hand, they
  // are reset to default like the rest (Node's spawn and Go's exec leave a hook nothing ignored).
  reinterpret_cast<unsigned long*>(&all)[0] |= 3UL << 31;
#endif
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, path.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    errno = rc;
    return ThrowErrno(env, ("exec " + path).c_str());
  }
  // Our unreaped child: its pid cannot be reused before we open the pidfd.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    // (EMFILE): a process we cannot wait for is not left running
    int saved = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    errno = saved;
    return ThrowErrno(env, "pidfd_open");
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, pid));
  result.Set("pidfd", Napi::Number::New(env, pidfd));
  return result;
}

// pipe(nonblockingRead?) -> [read, write], both close-on-exec.
static Napi::Value Pipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return ThrowErrno(env, "pipe2");
  if (info.Length() > 0 && info[0].ToBoolean().Value()) fcntl(p[0], F_SETFL, O_NONBLOCK);
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, p[0]));
  result.Set(1u, Napi::Number::New(env, p[1]));
  return result;
}

// readerOf(text) -> fd: reads the text's UTF-8, then EOF (a hook's stdin). A pipe, as runc gives hooks,
// filled before the hook runs (a hook need not read it), enlarged when the text needs it; a text larger
// than a pipe can hold (1 MiB, pipe-max-size) goes into a memfd instead.
static Napi::Value ReaderOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string text = info[0].As<Napi::String>().Utf8Value();
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return ThrowErrno(env, "pipe2");
  int fd = p[0], out = p[1];
  // (a pipe can start smaller than 64 KiB: a user past pipe-user-pages-soft gets one page)
  int capacity = fcntl(out, F_GETPIPE_SZ);
  if (capacity < static_cast<int>(text.size()) && fcntl(out, F_SETPIPE_SZ, static_cast<int>(text.size())) < 0) {
    close(p[0]);
    close(p[1]);
    fd = out = static_cast<int>(memfd_create("tsrunc-hook-stdin", MFD_CLOEXEC));
    if (fd < 0) return ThrowErrno(env, "memfd_create");
  }
  for (size_t done = 0; done < text.size();) {
    ssize_t n = write(out, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = errno;
      close(fd);
      if (out != fd) close(out);
      errno = saved;
      return ThrowErrno(env, "write");
    }
    done += static_cast<size_t>(n);
  }
  if (out != fd) close(out);
  else lseek(fd, 0, SEEK_SET);
  return Napi::Number::New(env, fd);
}

// epollOf(fds) -> an epoll fd (close-on-exec) readable while any of fds is: one waitReadable for several.
static Napi::Value EpollOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array fds = info[0].As<Napi::Array>();
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return ThrowErrno(env, "epoll_create1");
  for (uint32_t i = 0; i < fds.Length(); i++) {
    struct epoll_event ev = {};
    ev.events = EPOLLIN;
    ev.data.fd = fds.Get(i).As<Napi::Number>().Int32Value();
    if (epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0) {
      int saved = errno;
      close(ep);
      errno = saved;
      return ThrowErrno(env, "epoll_ctl");
    }
  }
  return Napi::Number::New(env, ep);
}

void RegisterHookProc(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnProcess", Napi::Function::New(env, SpawnProcess));
  exports.Set("pipe", Napi::Function::New(env, Pipe));
  exports.Set("readerOf", Napi::Function::New(env, ReaderOf));
  exports.Set("epollOf", Napi::Function::New(env, EpollOf));
}
