// Messages with fds over unix sockets, readiness on Node's own loop, and flock.
#include "addon.h"
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>
#include <cerrno>
#include <cstring>
#include <vector>

static constexpr int kMaxFds = 16;

// sendMsg(fd, data: Buffer, fds?: number[])
static Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> data = info[1].As<Napi::Buffer<char>>();
  std::vector<int> fds;
  if (info.Length() > 2 && info[2].IsArray()) {
    Napi::Array a = info[2].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length() && i < kMaxFds; i++) fds.push_back(a.Get(i).As<Napi::Number>().Int32Value());
  }
  struct iovec iov = {data.Data(), data.Length()};
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

// recvMsg(fd) -> { data: Buffer, fds: number[] } (data empty at EOF) | null when nothing is ready
static Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::vector<char> buf(256 * 1024);
  struct iovec iov = {buf.data(), buf.size()};
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
  result.Set("data", Napi::Buffer<char>::Copy(env, buf.data(), static_cast<size_t>(n)));
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

// waitReadable(fd): Promise<void> resolved when fd is readable (or hung up), on Node's own loop.
static Napi::Value WaitReadable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  auto* req = new PollRequest(env);
  req->handle.data = req;
  int rc = uv_poll_init(loop, &req->handle, fd);
  if (rc == 0) rc = uv_poll_start(&req->handle, UV_READABLE | UV_DISCONNECT, OnReadable);
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

void RegisterFdio(Napi::Env env, Napi::Object exports) {
  exports.Set("sendMsg", Napi::Function::New(env, SendMsg));
  exports.Set("recvMsg", Napi::Function::New(env, RecvMsg));
  exports.Set("waitReadable", Napi::Function::New(env, WaitReadable));
  exports.Set("flock", Napi::Function::New(env, Flock));
}
