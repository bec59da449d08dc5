// registered from addon.cc by the lead
// bpf(2) for the cgroup v2 device filter (src/runtime/cgroups/devices.ts compiles the program).
// Exports: bpfProgLoadDevice(insns: Buffer, license: string) -> fd
//          bpfProgAttach(progFd, cgroupFd, flags = 0, replaceFd = -1)   (attach type BPF_CGROUP_DEVICE)
//          bpfProgDetach(progFd, cgroupFd)
//          bpfProgQuery(cgroupFd) -> { flags: number, ids: number[] }
//          bpfProgGetFdById(id) -> fd
// Never raises RLIMIT_MEMLOCK: kernels >= 5.11 charge BPF memory to the memory cgroup instead.
#include "addon.h"
#include <linux/bpf.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

void RegisterBpf(Napi::Env env, Napi::Object exports);

static long Bpf(int cmd, union bpf_attr* attr) {
  long r;
  do r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));
  while (r < 0 && errno == EINTR);
  return r;
}

static uint64_t Ptr(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

static Napi::Value ThrowWithLog(Napi::Env env, int err, const std::string& log) {
  Napi::Error e = Napi::Error::New(env, std::string("bpf(BPF_PROG_LOAD): ") + strerror(err) + (log.empty() ? "" : "\nverifier log:\n" + log));
  e.Set("errno", Napi::Number::New(env, err));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

// The verifier gives up with EAGAIN whenever a signal is pending on the loading thread (a SIGCHLD in a
// shim whose other containers' processes exit, a profiler's SIGPROF): signals wait while it runs.
class SignalsHeld {
 public:
  SignalsHeld() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old_);
  }
  ~SignalsHeld() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

 private:
  sigset_t old_;
};

// Load without a verifier log first (cheap); on failure load again with a log for the error message.
static Napi::Value ProgLoadDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> insns = info[0].As<Napi::Buffer<uint8_t>>();
  std::string license = info[1].As<Napi::String>().Utf8Value();
  if (insns.Length() == 0 || insns.Length() % sizeof(struct bpf_insn) != 0) {
    Napi::TypeError::New(env, "bpfProgLoadDevice: instructions must be a non-empty multiple of 8 bytes").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insn_cnt = static_cast<uint32_t>(insns.Length() / sizeof(struct bpf_insn));
  attr.insns = Ptr(insns.Data());
  attr.license = Ptr(license.c_str());
  SignalsHeld held;
  // The kernel may answer EAGAIN while freed BPF memory is still being accounted (libbpf retries too).
  long fd;
  for (int attempt = 0; (fd = Bpf(BPF_PROG_LOAD, &attr)) < 0 && errno == EAGAIN && attempt < 10; attempt++) usleep(1000);
  if (fd >= 0) return Napi::Number::New(env, static_cast<double>(fd));
  int err = errno;
  if (err != EINVAL && err != EACCES) return ThrowErrno(env, "bpf(BPF_PROG_LOAD)");
  std::vector<char> log(64 * 1024, '\0');
  attr.log_level = 1;
  attr.log_buf = Ptr(log.data());
  attr.log_size = static_cast<uint32_t>(log.size());
  fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return Napi::Number::New(env, static_cast<double>(fd));  // loaded after all
  return ThrowWithLog(env, err, std::string(log.data()));
}

static Napi::Value ProgAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.attach_bpf_fd = info[0].As<Napi::Number>().Uint32Value();
  attr.target_fd = info[1].As<Napi::Number>().Uint32Value();
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 0;
  if (info.Length() > 3 && info[3].IsNumber() && info[3].As<Napi::Number>().Int32Value() >= 0) {
    attr.replace_bpf_fd = info[3].As<Napi::Number>().Uint32Value();  // needs BPF_F_REPLACE in flags
  }
  if (Bpf(BPF_PROG_ATTACH, &attr) < 0) return ThrowErrno(env, "bpf(BPF_PROG_ATTACH)");
  return env.Undefined();
}

static Napi::Value ProgDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.attach_bpf_fd = info[0].As<Napi::Number>().Uint32Value();
  attr.target_fd = info[1].As<Napi::Number>().Uint32Value();
  attr.attach_type = BPF_CGROUP_DEVICE;
  if (Bpf(BPF_PROG_DETACH, &attr) < 0) return ThrowErrno(env, "bpf(BPF_PROG_DETACH)");
  return env.Undefined();
}

static Napi::Value ProgQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<uint32_t> ids(64);
  union bpf_attr attr;
  for (;;) {
    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = info[0].As<Napi::Number>().Uint32Value();
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = Ptr(ids.data());
    attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (Bpf(BPF_PROG_QUERY, &attr) == 0) break;
    if (errno != ENOSPC) return ThrowErrno(env, "bpf(BPF_PROG_QUERY)");
    ids.resize(attr.query.prog_cnt);  // the kernel reported how many there are
  }
  Napi::Array out = Napi::Array::New(env, attr.query.prog_cnt);
  for (uint32_t i = 0; i < attr.query.prog_cnt; i++) out.Set(i, Napi::Number::New(env, ids[i]));
  Napi::Object res = Napi::Object::New(env);
  res.Set("flags", Napi::Number::New(env, attr.query.attach_flags));
  res.Set("ids", out);
  return res;
}

static Napi::Value ProgGetFdById(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_id = info[0].As<Napi::Number>().Uint32Value();
  long fd = Bpf(BPF_PROG_GET_FD_BY_ID, &attr);
  if (fd < 0) return ThrowErrno(env, "bpf(BPF_PROG_GET_FD_BY_ID)");
  return Napi::Number::New(env, static_cast<double>(fd));
}

void RegisterBpf(Napi::Env env, Napi::Object exports) {
  exports.Set("bpfProgLoadDevice", Napi::Function::New(env, ProgLoadDevice));
  exports.Set("bpfProgAttach", Napi::Function::New(env, ProgAttach));
  exports.Set("bpfProgDetach", Napi::Function::New(env, ProgDetach));
  exports.Set("bpfProgQuery", Napi::Function::New(env, ProgQuery));
  exports.Set("bpfProgGetFdById", Napi::Function::New(env, ProgGetFdById));
}
