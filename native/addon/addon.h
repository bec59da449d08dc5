// The tsrunc addon: the few kernel calls Node has no API for. Each file registers its functions.
#pragma once
#include <napi.h>
#include <vector>

using AddonFunction = Napi::Value (*)(const Napi::CallbackInfo&);

/** Collects the addon's functions by name; addon.cc makes each a JS function on its first use. */
struct Exporter {
  struct Entry {
    const char* name;
    AddonFunction fn;
  };
  std::vector<Entry> entries;
  void operator()(const char* name, AddonFunction fn) { entries.push_back({name, fn}); }
};

void RegisterSpawn(Exporter& add);
void RegisterFdio(Exporter& add);
void RegisterProcess(Exporter& add);
void RegisterBpf(Exporter& add);
void RegisterMount(Exporter& add);
void RegisterFsat(Exporter& add);
void RegisterFsops(Exporter& add);

// Throws a JS Error "<what>: <strerror(errno)>" with .code = errno name's number in .errno.
Napi::Value ThrowErrno(Napi::Env env, const char* what);
