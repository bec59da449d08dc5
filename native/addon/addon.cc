#include "addon.h"
#include <cerrno>
#include <cstring>
#include <string>

Napi::Value ThrowErrno(Napi::Env env, const char* what) {
  int saved = errno;
  Napi::Error err = Napi::Error::New(env, std::string(what) + ": " + strerror(saved));
  err.Set("errno", Napi::Number::New(env, saved));
  err.ThrowAsJavaScriptException();
  return env.Undefined();
}

static const std::vector<Exporter::Entry>& Functions() {
  static const std::vector<Exporter::Entry> table = [] {
    Exporter add;
    RegisterSpawn(add);
    RegisterFdio(add);
    RegisterProcess(add);
    RegisterBpf(add);
    RegisterMount(add);
    RegisterFsat(add);
    RegisterFsops(add);
    return add.entries;
  }();
  return table;
}

// bind(name) -> the addon function `name`. The exports are only its names and this: making all 32 JS
// functions at load cost every call that loads the addon ~0.1 ms, and a call uses a few (native.ts binds
// each on first use).
static Napi::Value Bind(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>();
  for (const auto& e : Functions())
    if (name == e.name) return Napi::Function::New(info.Env(), e.fn, e.name);
  Napi::Error::New(info.Env(), "no addon function " + name).ThrowAsJavaScriptException();
  return info.Env().Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const auto& functions = Functions();
  Napi::Array names = Napi::Array::New(env, functions.size());
  for (uint32_t i = 0; i < functions.size(); i++) names.Set(i, Napi::String::New(env, functions[i].name));
  exports.Set("names", names);
  exports.Set("bind", Napi::Function::New(env, Bind));
  return exports;
}

NODE_API_MODULE(tsrunc, Init)
