// spawnHelper: clone3 a child that execs a sealed memfd copy of tsrunc-init.
// Node is multi-threaded: between clone3 and execveat the child makes raw syscalls only.
// On x86_64 the child shares our memory until it execs (CLONE_VM|CLONE_VFORK, on a stack of its own):
// a fork would copy Node's page tables and leave every page copy-on-write, which costs create and exec
// several ms (tens of ms on a loaded VM) in the fork and in page faults after it.
#include "addon.h"
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

// A sealed, read-only in-memory copy: the container can never write the binary it sees
// behind /proc/<init>/exe (runc CVE-2019-5736).
static int SealedCopyOnce(int src, off_t size) {
  int mfd = memfd_create("tsrunc-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd >= 0) {
    off_t off = 0;
    while (off < size) {
      ssize_t n = sendfile(mfd, src, &off, size - off);
      if (n <= 0) { close(mfd); mfd = -1; break; }
    }
  }
  if (mfd >= 0 && fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    int err = errno;
    close(mfd);
    errno = err;
    mfd = -1;
  }
  return mfd;
}

// F_SEAL_WRITE fails with EBUSY while the kernel still sees an extra reference on one of the copy's
// pages, after waiting for it a while (seen once in ~160 shim starts here: a Create failing with
// "copy ...: Device or resource busy"). A fresh copy does not share the stray reference.
static int SealedCopy(int src, off_t size) {
  int mfd = -1;
  for (int attempt = 0; attempt < 3; attempt++) {
    mfd = SealedCopyOnce(src, size);
    if (mfd >= 0 || errno != EBUSY) break;
  }
  return mfd;
}

// The copy is kept for the next spawn of a long-lived process (the shim: one per exec) while the file
// on disk is unchanged: the same device, inode, size, mtime and ctime (any write or replacement
// changes one of them). The seals make the kept copy immutable, so reusing it is as safe as a new one.
// Returns a new fd (close-on-exec) of the copy.
static std::mutex copyLock;
static struct {
  std::string path;
  struct stat st;
  int fd = -1;
} kept;

static bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec && a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

static int HelperCopy(const std::string& path) {
  std::lock_guard<std::mutex> guard(copyLock);
  struct stat st;
  if (stat(path.c_str(), &st) < 0) return -1;
  if (kept.fd >= 0 && kept.path == path && SameFile(kept.st, st)) return fcntl(kept.fd, F_DUPFD_CLOEXEC, 0);
  int src = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (src < 0) return -1;
  // What was copied is what fstat on the open file says (a replacement between stat and open is caught
  // by the next spawn's stat).
  struct stat copied;
  int mfd = fstat(src, &copied) == 0 ? SealedCopy(src, copied.st_size) : -1;
  int saved = errno;
  close(src);
  if (mfd < 0) {
    errno = saved;
    return -1;
  }
  if (kept.fd >= 0) close(kept.fd);
  kept.path = path;
  kept.st = copied;
  kept.fd = mfd;
  return fcntl(mfd, F_DUPFD_CLOEXEC, 0);
}

// In the child: put fds[i] at i, the sync socket after them, the memfd last; close the rest; exec.
[[noreturn]] static void ChildExec(const std::vector<int>& src, int total, char** argv, char** envp) {
  int tmp[total];
  for (int i = 0; i < total; i++) {
    tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, total);
    if (tmp[i] < 0) _exit(126);
  }
  for (int i = 0; i < total - 1; i++)
    if (dup3(tmp[i], i, 0) < 0) _exit(126);
  if (dup3(tmp[total - 1], total - 1, O_CLOEXEC) < 0) _exit(126);
  syscall(SYS_close_range, total, ~0U, 0);
  // Node may have made its stdio non-blocking; the container expects blocking fds.
  for (int i = 0; i < 3 && i < total - 2; i++) {
    int fl = fcntl(i, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(i, F_SETFL, fl & ~O_NONBLOCK);
  }
  syscall(SYS_execveat, total - 1, "", argv, envp, AT_EMPTY_PATH);
  static const char msg[] = "Ecannot execute tsrunc-init";
  if (write(total - 2, msg, sizeof(msg) - 1) < 0) {}
  _exit(127);
}

#if defined(__x86_64__)
struct ChildArgs {
  const std::vector<int>* src;
  int total;
  char** argv;
  char** envp;
};

// The vfork child, on its own stack. Our signal handlers (Node's) must never run in it: they would act
// on the parent's memory. All signals were blocked before clone3 and stay blocked through execveat (the
// mask survives exec, caught handlers do not): tsrunc-init resets every disposition and empties its mask
// first thing. Querying and resetting ~64 handlers here held Node's loop for ~0.1 ms per spawn.
[[noreturn]] static int ChildMain(void* p) {
  const ChildArgs* a = static_cast<const ChildArgs*>(p);
  ChildExec(*a->src, a->total, a->argv, a->envp);
}

// clone3 whose child calls fn(arg) on the stack in args (it never returns into our frames, which
// the sleeping parent still needs) and exits with its result. Returns the pid or -errno.
static long Clone3OwnStack(struct clone_args* args, int (*fn)(void*), void* arg) {
  long ret;
  __asm__ volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "xor %%ebp, %%ebp\n\t"
      "mov %[arg], %%rdi\n\t"
      "call *%[fn]\n\t"
      "mov %%eax, %%edi\n\t"
      "mov %[nr_exit], %%eax\n\t"
      "syscall\n\t"
      "hlt\n\t"
      "1:\n\t"
      : "=a"(ret)
      : "a"(static_cast<long>(SYS_clone3)), "D"(args), "S"(sizeof(*args)), [fn] "r"(fn), [arg] "r"(arg),
        [nr_exit] "i"(SYS_exit)
      : "rcx", "r11", "memory");
  return ret;
}

static const size_t kChildStack = 64 * 1024;
#endif

// spawnHelper(helperPath, fds[], cgroupFd) -> { pid, pidfd, sock }
static Napi::Value SpawnHelper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string helper = info[0].As<Napi::String>();
  Napi::Array fdArray = info[1].As<Napi::Array>();
  int cgroupFd = info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : -1;

  std::vector<int> src;
  for (uint32_t i = 0; i < fdArray.Length(); i++) src.push_back(fdArray.Get(i).As<Napi::Number>().Int32Value());

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return ThrowErrno(env, "socketpair");
  int memfd = HelperCopy(helper);
  if (memfd < 0) {
    close(sv[0]);
    close(sv[1]);
    return ThrowErrno(env, ("copy " + helper).c_str());
  }
  int syncFdInChild = static_cast<int>(src.size());
  src.push_back(sv[1]);
  src.push_back(memfd);
  int total = static_cast<int>(src.size());

  char syncArg[16];
  snprintf(syncArg, sizeof(syncArg), "%d", syncFdInChild);
  char name[] = "tsrunc-init";
  char* argv[] = {name, syncArg, nullptr};
  char* envp[] = {nullptr};

  int pidfd = -1;
  struct clone_args args = {};
  args.flags = CLONE_PIDFD | (cgroupFd >= 0 ? CLONE_INTO_CGROUP : 0);
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  args.cgroup = cgroupFd >= 0 ? static_cast<uint64_t>(cgroupFd) : 0;
#if defined(__x86_64__)
  long pid = -1;
  int saved = 0;
  void* stack = mmap(nullptr, kChildStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    saved = errno;
  } else {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    ChildArgs child = {&src, total, argv, envp};
    args.flags |= CLONE_VM | CLONE_VFORK;
    args.stack = reinterpret_cast<uint64_t>(stack);
    args.stack_size = kChildStack;
    // Returns once the child has exec'd or exited.
    pid = Clone3OwnStack(&args, reinterpret_cast<int (*)(void*)>(ChildMain), &child);
    if (pid < 0) saved = static_cast<int>(-pid);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    munmap(stack, kChildStack);
  }
#else
  long pid = syscall(SYS_clone3, &args, sizeof(args));
  if (pid == 0) ChildExec(src, total, argv, envp);
  int saved = errno;
#endif
  close(sv[1]);
  close(memfd);
  if (pid < 0) {
    close(sv[0]);
    errno = saved;
    return ThrowErrno(env, "clone3");
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, static_cast<double>(pid)));
  result.Set("pidfd", Napi::Number::New(env, pidfd));
  result.Set("sock", Napi::Number::New(env, sv[0]));
  return result;
}

void RegisterSpawn(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnHelper", Napi::Function::New(env, SpawnHelper));
}
