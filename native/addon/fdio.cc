// Messages with fds over unix sockets, readiness on Node's own loop, and flock.
#include "addon.h"
#include <fcntl.h>
#include <memory>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <termios.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

static constexpr int kMaxFds = 16;

// sendMsg(fd, data: Uint8Array | string (sent as UTF-8), fds?: number[])
static Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  // a string is encoded here: Buffer.from and Buffer.concat are JS that a cold CLI compiles first
  std::string text;
  char* bytes;
  size_t length;
  if (info[1].IsString()) {
    text = info[1].As<Napi::String>().Utf8Value();
    bytes = text.data();
    length = text.size();
  } else {
    Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
    bytes = reinterpret_cast<char*>(data.Data());
    length = data.ByteLength();
  }
  std::vector<int> fds;
  if (info.Length() > 2 && info[2].IsArray()) {
    Napi::Array a = info[2].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length() && i < kMaxFds; i++) fds.push_back(a.Get(i).As<Napi::Number>().Int32Value());
  }
  struct iovec iov = {bytes, length};
  char cbuf[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = cbuf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(cm), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do n = sendmsg(fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return ThrowErrno(env, "sendmsg");
  return Napi::Number::New(env, static_cast<double>(n));
}

// sendPlan(fd, plan: Uint8Array): the plan in a sealed memfd, passed with one byte ('F') on the sync
// socket. A SEQPACKET message is capped by the socket buffer (~200 KB); a config the kernel can exec
// (a 1 MB env) must fit.
static Napi::Value SendPlan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
  int mfd = memfd_create("tsrunc-plan", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) return ThrowErrno(env, "memfd_create");
  size_t off = 0;
  while (off < data.ByteLength()) {
    ssize_t n = write(mfd, data.Data() + off, data.ByteLength() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = errno;
      close(mfd);
      errno = saved;
      return ThrowErrno(env, "write the plan");
    }
    off += static_cast<size_t>(n);
  }
  fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
  char tag = 'F';
  struct iovec iov = {&tag, 1};
  char cbuf[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof(cbuf);
  struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &mfd, sizeof(int));
  ssize_t n;
  do n = sendmsg(fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  int saved = errno;
  close(mfd);
  errno = saved;
  if (n < 0) return ThrowErrno(env, "sendmsg");
  return env.Undefined();
}

// recvMsg(fd) -> { data: Buffer, fds: number[] } (data empty at EOF) | null when nothing is ready
static Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  // Not a zeroed std::vector: zeroing 256 KiB faulted in all 64 pages on every call (~2 ms on a VM, the
  // largest part of `start`); recvmsg touches only the pages the message fills.
  constexpr size_t kBufSize = 256 * 1024;
  std::unique_ptr<char[]> buf(new char[kBufSize]);
  struct iovec iov = {buf.get(), kBufSize};
  char cbuf[CMSG_SPACE(sizeof(int) * kMaxFds)];
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof(cbuf);
  ssize_t n;
  do n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    if (errno == ECONNRESET) n = 0;
    else return ThrowErrno(env, "recvmsg");
  }
  Napi::Array fds = Napi::Array::New(env);
  for (struct cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int received;
      memcpy(&received, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
      fds.Set(fds.Length(), Napi::Number::New(env, received));
    }
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("data", Napi::Buffer<char>::Copy(env, buf.get(), static_cast<size_t>(n)));
  result.Set("fds", fds);
  return result;
}

struct PollRequest {
  uv_poll_t handle;
  Napi::Promise::Deferred deferred;
  explicit PollRequest(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
  auto* req = static_cast<PollRequest*>(handle->data);
  uv_poll_stop(handle);
  Napi::Env env = req->deferred.Env();
  Napi::HandleScope scope(env);
  if (status < 0)
    req->deferred.Reject(Napi::Error::New(env, std::string("poll: ") + uv_strerror(status)).Value());
  else
    req->deferred.Resolve(env.Undefined());
  uv_close(reinterpret_cast<uv_handle_t*>(handle), [](uv_handle_t* h) { delete static_cast<PollRequest*>(h->data); });
}

// waitReadable(fd, hangupOnly?): Promise<void> resolved when fd is readable (or hung up), on Node's own
// loop. hangupOnly: only when every peer has gone (queued messages do not wake us; epoll always reports
// EPOLLHUP, and libuv passes it on as UV_DISCONNECT).
static Napi::Value WaitReadable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  bool hangupOnly = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  auto* req = new PollRequest(env);
  req->handle.data = req;
  int rc = uv_poll_init(loop, &req->handle, fd);
  if (rc == 0) rc = uv_poll_start(&req->handle, hangupOnly ? UV_DISCONNECT : UV_READABLE | UV_DISCONNECT, OnReadable);
  Napi::Promise promise = req->deferred.Promise();
  if (rc < 0) {
    req->deferred.Reject(Napi::Error::New(env, std::string("poll: ") + uv_strerror(rc)).Value());
    uv_close(reinterpret_cast<uv_handle_t*>(&req->handle), [](uv_handle_t* h) { delete static_cast<PollRequest*>(h->data); });
  }
  return promise;
}

// flock(fd, exclusive: boolean, wait: boolean) -> boolean (false: would block)
static Napi::Value Flock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int op = info[1].As<Napi::Boolean>() ? LOCK_EX : LOCK_SH;
  if (!info[2].As<Napi::Boolean>()) op |= LOCK_NB;
  int rc;
  do rc = flock(fd, op);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
    return ThrowErrno(env, "flock");
  }
  return Napi::Boolean::New(env, true);
}

// flockWait(fd, exclusive) -> Promise<void>: a blocking flock on a thread of its own, so that a lock
// held by another process (a tsrunc CLI) never blocks Node's loop. Not libuv's pool: a few waiting
// locks would fill its 4 threads and stall every fs.promises call. The thread locks a dup of fd (same
// open file description, so the lock is fd's) and closes the dup: if the caller closed fd meanwhile,
// the lock goes with the last reference instead of leaking.
struct FlockJob {
  int fd;
  int op;
  int err = 0;
  Napi::Promise::Deferred deferred;
  Napi::ThreadSafeFunction tsfn;
  FlockJob(Napi::Env env, int f, int o) : fd(f), op(o), deferred(Napi::Promise::Deferred::New(env)) {}
};

static Napi::Value FlockWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int op = info[1].As<Napi::Boolean>() ? LOCK_EX : LOCK_SH;
  int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return ThrowErrno(env, "flock");
  auto* job = new FlockJob(env, dup, op);
  Napi::Promise promise = job->deferred.Promise();
  job->tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "tsrunc-flock", 0, 1);
  std::thread([job]() {
    int rc;
    do rc = flock(job->fd, job->op);
    while (rc < 0 && errno == EINTR);
    job->err = rc < 0 ? errno : 0;
    close(job->fd);
    Napi::ThreadSafeFunction tsfn = job->tsfn;
    tsfn.BlockingCall(job, [](Napi::Env env, Napi::Function, FlockJob* j) {
      if (j->err) {
        Napi::Error e = Napi::Error::New(env, std::string("flock: ") + strerror(j->err));
        e.Set("errno", Napi::Number::New(env, j->err));
        j->deferred.Reject(e.Value());
      } else {
        j->deferred.Resolve(env.Undefined());
      }
      delete j;
    });
    tsfn.Release();
  }).detach();
  return promise;
}

// unixConnect(path) -> fd of a connected SOCK_STREAM unix socket (the --console-socket protocol).
static Napi::Value UnixConnect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    errno = ENAMETOOLONG;
    return ThrowErrno(env, ("connect " + path).c_str());
  }
  memcpy(addr.sun_path, path.c_str(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, "socket");
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return ThrowErrno(env, ("connect " + path).c_str());
  }
  return Napi::Number::New(env, fd);
}

// socketPair() -> [fd, fd] (SOCK_STREAM, close-on-exec)
static Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return ThrowErrno(env, "socketpair");
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, sv[0]));
  a.Set(1u, Napi::Number::New(env, sv[1]));
  return a;
}

// setWinsize(fd, rows, cols)
static Napi::Value SetWinsize(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct winsize ws = {};
  ws.ws_row = static_cast<unsigned short>(info[1].As<Napi::Number>().Uint32Value());
  ws.ws_col = static_cast<unsigned short>(info[2].As<Napi::Number>().Uint32Value());
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0) return ThrowErrno(info.Env(), "TIOCSWINSZ");
  return info.Env().Undefined();
}

void RegisterFdio(Napi::Env env, Napi::Object exports) {
  exports.Set("unixConnect", Napi::Function::New(env, UnixConnect));
  exports.Set("socketPair", Napi::Function::New(env, SocketPair));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  exports.Set("sendMsg", Napi::Function::New(env, SendMsg));
  exports.Set("sendPlan", Napi::Function::New(env, SendPlan));
  exports.Set("recvMsg", Napi::Function::New(env, RecvMsg));
  exports.Set("waitReadable", Napi::Function::New(env, WaitReadable));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("flockWait", Napi::Function::New(env, FlockWait));
}
