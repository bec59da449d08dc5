// mount(2) and umount2(2): the containerd shim's rootfs (an overlay from the snapshotter) without a mount(8)
// process per container, and detaching what a container without a mount namespace left in ours. fsMount: the
// new mount API, whose options are set one by one (an overlay's "lowerdir+" per layer: no page limit).
#include "addon.h"
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>
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

// The filesystem context's error log ("e overlay: ..."), which says more than errno.
static std::string FsLog(int fsfd) {
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(fsfd, buf, sizeof buf - 1)) > 0) {
    buf[n] = 0;
    out += (out.empty() ? "" : "; ") + std::string(buf[0] && buf[1] == ' ' ? buf + 2 : buf);
  }
  return out;
}

// fsMount(fstype, target, [[key, value|null], ...]): fsopen, one fsconfig per option (null: a flag), create,
// fsmount and move_mount onto target.
static Napi::Value FsMount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string fstype = info[0].As<Napi::String>();
  std::string target = info[1].As<Napi::String>();
  Napi::Array opts = info[2].As<Napi::Array>();
  int fsfd = fsopen(fstype.c_str(), FSOPEN_CLOEXEC);
  if (fsfd < 0) return ThrowErrno(env, ("fsopen " + fstype).c_str());
  auto fail = [&](const std::string& what) {
    int saved = errno;
    std::string log = FsLog(fsfd);
    close(fsfd);
    errno = saved;
    return ThrowErrno(env, (what + (log.empty() ? "" : " (" + log + ")")).c_str());
  };
  for (uint32_t i = 0; i < opts.Length(); i++) {
    Napi::Array kv = opts.Get(i).As<Napi::Array>();
    std::string key = kv.Get(0u).As<Napi::String>();
    Napi::Value v = kv.Get(1u);
    int rc;
    if (v.IsNull() || v.IsUndefined()) {
      rc = fsconfig(fsfd, FSCONFIG_SET_FLAG, key.c_str(), nullptr, 0);
    } else {
      std::string value = v.As<Napi::String>();
      rc = fsconfig(fsfd, FSCONFIG_SET_STRING, key.c_str(), value.c_str(), 0);
    }
    if (rc < 0) return fail("fsconfig " + fstype + " " + key);
  }
  if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) return fail("mount " + fstype + " on " + target);
  int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
  if (mfd < 0) return fail("fsmount " + fstype);
  close(fsfd);
  int rc = move_mount(mfd, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH);
  int saved = errno;
  close(mfd);
  errno = saved;
  if (rc < 0) return ThrowErrno(env, ("move_mount " + target).c_str());
  return env.Undefined();
}

void RegisterMount(Napi::Env env, Napi::Object exports) {
  exports.Set("fsMount", Napi::Function::New(env, FsMount));
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("umount", Napi::Function::New(env, Umount));
  exports.Set("umountDetach", Napi::Function::New(env, UmountDetach));
}
