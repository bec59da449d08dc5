// Filesystem calls Node has no API for, used to unpack image layers:
// mknod (device nodes, fifos, overlay whiteouts), l*xattr (never following a symlink).
#include "addon.h"
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <cerrno>
#include <string>
#include <vector>

static Napi::Value Mknod(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  mode_t mode = info[1].As<Napi::Number>().Uint32Value();
  unsigned maj = info[2].As<Napi::Number>().Uint32Value(), min = info[3].As<Napi::Number>().Uint32Value();
  if (mknod(path.c_str(), mode, makedev(maj, min)) < 0) return ThrowErrno(info.Env(), ("mknod " + path).c_str());
  return info.Env().Undefined();
}

static Napi::Value Lsetxattr(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>(), name = info[1].As<Napi::String>();
  Napi::Buffer<char> value = info[2].As<Napi::Buffer<char>>();
  if (lsetxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), 0) < 0)
    return ThrowErrno(info.Env(), ("setxattr " + name + " on " + path).c_str());
  return info.Env().Undefined();
}

// Returns the value, or null when the attribute is absent.
static Napi::Value Lgetxattr(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>(), name = info[1].As<Napi::String>();
  std::vector<char> buf(65536);
  ssize_t n = lgetxattr(path.c_str(), name.c_str(), buf.data(), buf.size());
  if (n < 0) {
    if (errno == ENODATA || errno == ENOTSUP) return info.Env().Null();
    return ThrowErrno(info.Env(), ("getxattr " + name + " on " + path).c_str());
  }
  return Napi::Buffer<char>::Copy(info.Env(), buf.data(), static_cast<size_t>(n));
}

static Napi::Value Llistxattr(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  std::vector<char> buf(65536);
  ssize_t n = llistxattr(path.c_str(), buf.data(), buf.size());
  Napi::Array out = Napi::Array::New(info.Env());
  if (n < 0) {
    if (errno == ENOTSUP) return out;
    return ThrowErrno(info.Env(), ("listxattr " + path).c_str());
  }
  uint32_t i = 0;
  for (ssize_t at = 0; at < n;) {
    std::string name(buf.data() + at);
    at += static_cast<ssize_t>(name.size()) + 1;
    if (!name.empty()) out.Set(i++, Napi::String::New(info.Env(), name));
  }
  return out;
}

void RegisterFsops(Napi::Env env, Napi::Object exports) {
  exports.Set("mknod", Napi::Function::New(env, Mknod));
  exports.Set("lsetxattr", Napi::Function::New(env, Lsetxattr));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr));
  exports.Set("llistxattr", Napi::Function::New(env, Llistxattr));
}
