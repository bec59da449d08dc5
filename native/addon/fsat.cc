// Path walks that must not be redirected: openat2 with RESOLVE_* flags, fstatfs on an fd, and a tree
// removal through directory fds that never follows a symlink or crosses a mount (state directories).
#include "addon.h"
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <string>
#include <vector>

static int Openat2(int base, const char* path, uint64_t flags, uint64_t resolve, uint64_t mode = 0) {
  struct open_how how = {};
  how.flags = flags | O_CLOEXEC;
  how.mode = mode;
  how.resolve = resolve;
  long fd;
  do fd = syscall(SYS_openat2, base, path, &how, sizeof(how));
  while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  return static_cast<int>(fd);
}

// openat2(dirfd, path, flags, resolve) -> fd (O_CLOEXEC always)
static Napi::Value OpenAt2(const Napi::CallbackInfo& info) {
  int base = info[0].As<Napi::Number>().Int32Value();
  std::string path = info[1].As<Napi::String>().Utf8Value();
  uint64_t flags = static_cast<uint64_t>(info[2].As<Napi::Number>().Int64Value());
  uint64_t resolve = static_cast<uint64_t>(info[3].As<Napi::Number>().Int64Value());
  int fd = Openat2(base, path.c_str(), flags, resolve);
  if (fd < 0) return ThrowErrno(info.Env(), ("openat2 " + path).c_str());
  return Napi::Number::New(info.Env(), fd);
}

// fstatfsType(fd) -> f_type (the filesystem's magic number)
static Napi::Value FstatfsType(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct statfs st;
  if (fstatfs(fd, &st) < 0) return ThrowErrno(info.Env(), "fstatfs");
  return Napi::Number::New(info.Env(), static_cast<double>(static_cast<unsigned long>(st.f_type)));
}

// isCgroup2Root(path): whether path is the root directory of a cgroup2 hierarchy (cgroupfs, inode 1),
// not through a symlink: the CLI finds the cgroup2 mount at its usual places without reading mountinfo.
static Napi::Value IsCgroup2Root(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Napi::Boolean::New(info.Env(), false);
  struct statfs sfs;
  struct stat st;
  bool root = fstatfs(fd, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC && fstat(fd, &st) == 0 && st.st_ino == 1;
  close(fd);
  return Napi::Boolean::New(info.Env(), root);
}

// fstatBrief(fd) -> { mode, size }: delete's one stat (its journal's), without Node's Stats machinery,
// whose first use cost a cold delete ~0.3 ms.
static Napi::Value FstatBrief(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct stat st;
  if (fstat(info[0].As<Napi::Number>().Int32Value(), &st) < 0) return ThrowErrno(env, "fstat");
  Napi::Object r = Napi::Object::New(env);
  r.Set("mode", Napi::Number::New(env, st.st_mode));
  r.Set("size", Napi::Number::New(env, static_cast<double>(st.st_size)));
  return r;
}

static constexpr int kMaxDepth = 128;
static constexpr int kRetries = 16;
// A directory entry is opened only as a directory of the same mount, never through a symlink.
static constexpr uint64_t kSubdir = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

// Removes `name` below the directory `dirfd`: a non-directory (a symlink included) is unlinked itself;
// a directory is emptied through its own fd, then removed. Returns 0, or -1 with errno set.
static int RemoveAt(int parent, const char* name, int depth) {
  if (depth > kMaxDepth) {
    errno = ELOOP;
    return -1;
  }
  for (int attempt = 0; attempt < kRetries; attempt++) {
    int fd = Openat2(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, kSubdir);
    if (fd < 0) {
      if (errno == ENOENT) return 0;
      if (errno != ENOTDIR && errno != ELOOP) return -1;  // EXDEV: a mount point: never descend
      if (unlinkat(parent, name, 0) == 0 || errno == ENOENT) return 0;
      if (errno == EISDIR) continue;  // swapped for a directory meanwhile: open that one
      return -1;
    }
    DIR* d = fdopendir(fd);
    if (!d) {
      close(fd);
      return -1;
    }
    std::vector<std::string> names;
    errno = 0;
    for (struct dirent* e; (e = readdir(d)) != nullptr;) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    int failed = 0, saved = 0;
    for (const std::string& n : names) {
      if (RemoveAt(dirfd(d), n.c_str(), depth + 1) < 0 && !failed) {
        failed = 1;
        saved = errno;
      }
    }
    closedir(d);
    if (failed) {
      errno = saved;
      return -1;
    }
    if (unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return 0;
    if (errno != ENOTEMPTY && errno != ENOTDIR) return -1;  // refilled or swapped meanwhile: again
  }
  errno = EBUSY;
  return -1;
}

// removeTreeAt(parent, name): rm -rf of parent/name that neither follows symlinks nor crosses mounts.
// parent is a path, opened here (a CLI delete then needs no fs.openSync, compiled on first use).
static Napi::Value RemoveTreeAt(const Napi::CallbackInfo& info) {
  std::string name = info[1].As<Napi::String>().Utf8Value();
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    errno = EINVAL;
    return ThrowErrno(info.Env(), ("remove " + name).c_str());
  }
  int parent = open(info[0].As<Napi::String>().Utf8Value().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent < 0) return ThrowErrno(info.Env(), ("remove " + name).c_str());
  int rc = RemoveAt(parent, name.c_str(), 0);
  int saved = errno;
  close(parent);
  errno = saved;
  if (rc < 0) return ThrowErrno(info.Env(), ("remove " + name).c_str());
  return info.Env().Undefined();
}

static Napi::Object StatFields(Napi::Env env, const struct stat& st) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("mode", Napi::Number::New(env, st.st_mode));
  o.Set("uid", Napi::Number::New(env, st.st_uid));
  return o;
}

// openStateDir(root, name, lock = true) -> { fd, ino, root: {mode, uid}, dir: {mode, uid}, locked, current } | undefined
// A state directory opened (O_NOFOLLOW, below an fd of the root), with what the privacy checks need and
// (lock) an exclusive flock tried without waiting: every CLI call on a container does this first, and one
// call here costs less than Node's stat, open, fstat and stat, each compiled on its first use. `current`:
// still the root's entry of that name once locked (a delete may have removed it just before).
// Undefined: the root or the directory does not exist. Other failures throw (errno).
static Napi::Value OpenStateDir(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string root = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  bool lock = info.Length() < 3 || info[2].ToBoolean().Value();
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    errno = EINVAL;
    return ThrowErrno(env, ("open " + name).c_str());
  }
  int rootFd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootFd < 0) return errno == ENOENT ? env.Undefined() : ThrowErrno(env, ("open " + root).c_str());
  struct stat rootSt, dirSt, now;
  int fd = -1;
  if (fstat(rootFd, &rootSt) < 0) goto fail;
  fd = openat(rootFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) goto fail;
    close(rootFd);
    return env.Undefined();
  }
  if (fstat(fd, &dirSt) < 0) goto fail;
  {
    bool locked = lock;
    int rc = 0;
    if (lock) {
      do rc = flock(fd, LOCK_EX | LOCK_NB);
      while (rc < 0 && errno == EINTR);
    }
    if (rc < 0) {
      if (errno != EWOULDBLOCK) goto fail;
      locked = false;
    }
    bool current = false;
    if (locked) {
      if (fstatat(rootFd, name.c_str(), &now, AT_SYMLINK_NOFOLLOW) == 0) current = now.st_ino == dirSt.st_ino && now.st_dev == dirSt.st_dev;
      else if (errno != ENOENT) goto fail;
    }
    close(rootFd);
    Napi::Object r = Napi::Object::New(env);
    r.Set("fd", Napi::Number::New(env, fd));
    r.Set("ino", Napi::Number::New(env, static_cast<double>(dirSt.st_ino)));
    r.Set("root", StatFields(env, rootSt));
    r.Set("dir", StatFields(env, dirSt));
    r.Set("locked", Napi::Boolean::New(env, locked));
    r.Set("current", Napi::Boolean::New(env, current));
    return r;
  }
fail:
  int saved = errno;
  if (fd >= 0) close(fd);
  close(rootFd);
  errno = saved;
  return ThrowErrno(env, ("open " + root + "/" + name).c_str());
}

// inodesIn(dir, names): each name's inode below dir (symlinks followed, as stat(2) does), -1 where it
// has none; undefined when dir cannot be opened. exec compares /proc/<init>/ns/* with /proc/self/ns/*:
// sixteen fs.statSync calls, each building a Stats object, had cost a cold CLI ~0.85 ms.
static Napi::Value InodesIn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  Napi::Array names = info[1].As<Napi::Array>();
  int dirFd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirFd < 0) return env.Undefined();
  Napi::Array out = Napi::Array::New(env, names.Length());
  for (uint32_t i = 0; i < names.Length(); i++) {
    struct stat st;
    std::string name = names.Get(i).As<Napi::String>().Utf8Value();
    bool found = fstatat(dirFd, name.c_str(), &st, 0) == 0;
    out.Set(i, Napi::Number::New(env, found ? static_cast<double>(st.st_ino) : -1));
  }
  close(dirFd);
  return out;
}

void RegisterFsat(Napi::Env env, Napi::Object exports) {
  exports.Set("inodesIn", Napi::Function::New(env, InodesIn));
  exports.Set("openStateDir", Napi::Function::New(env, OpenStateDir));
  exports.Set("openat2", Napi::Function::New(env, OpenAt2));
  exports.Set("fstatfsType", Napi::Function::New(env, FstatfsType));
  exports.Set("isCgroup2Root", Napi::Function::New(env, IsCgroup2Root));
  exports.Set("fstatBrief", Napi::Function::New(env, FstatBrief));
  exports.Set("removeTreeAt", Napi::Function::New(env, RemoveTreeAt));
}
