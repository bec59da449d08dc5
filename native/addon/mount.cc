// mount(2) and umount2(2): the containerd shim's rootfs (an overlay from the snapshotter) without a mount(8)
// process per container, and detaching what a container without a mount namespace left in ours.
#include "addon.h"
#include <sys/mount.h>
#include <cerrno>
#include <string>

// mount(source, target, fstype, flags, data)
static Napi::Value Mount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string source = info[0].As<Napi::String>();
  std::string target = info[1].As<Napi::String>();
  std::string fstype = info[2].As<Napi::String>();
  unsigned long flags = static_cast<unsigned long>(info[3].As<Napi::Number>().Int64Value());
  std::string data = info[4].As<Napi::String>();
  int rc;
  do rc = mount(source.c_str(), target.c_str(), fstype.empty() ? nullptr : fstype.c_str(), flags, data.empty() ? nullptr : data.c_str());
  while (rc < 0 && errno == EINTR);
  if (rc < 0) return ThrowErrno(env, ("mount " + target).c_str());
  return env.Undefined();
}

// umount(target, flags)
static Napi::Value Umount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string target = info[0].As<Napi::String>();
  int flags = info[1].As<Napi::Number>().Int32Value();
  int rc;
  do rc = umount2(target.c_str(), flags);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) return ThrowErrno(env, ("umount " + target).c_str());
  return env.Undefined();
}

// umountDetach(path): umount2(MNT_DETACH | UMOUNT_NOFOLLOW); the caller has checked that no component of
// `path` is a symlink, so only the last one could be, and NOFOLLOW covers it.
static Napi::Value UmountDetach(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) < 0) return ThrowErrno(info.Env(), ("umount " + path).c_str());
  return info.Env().Undefined();
}

void RegisterMount(Napi::Env env, Napi::Object exports) {
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("umount", Napi::Function::New(env, Umount));
  exports.Set("umountDetach", Napi::Function::New(env, UmountDetach));
}
