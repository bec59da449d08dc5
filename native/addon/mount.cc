// Detaching mounts that a container without a mount namespace of its own left in the runtime's namespace.
#include "addon.h"
#include <sys/mount.h>
#include <cerrno>
#include <string>

// umountDetach(path): umount2(MNT_DETACH | UMOUNT_NOFOLLOW); the caller has checked that no component of
// `path` is a symlink, so only the last one could be, and NOFOLLOW covers it.
static Napi::Value UmountDetach(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) < 0) return ThrowErrno(info.Env(), ("umount " + path).c_str());
  return info.Env().Undefined();
}

void RegisterMount(Napi::Env env, Napi::Object exports) {
  exports.Set("umountDetach", Napi::Function::New(env, UmountDetach));
}
