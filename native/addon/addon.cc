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

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  RegisterSpawn(env, exports);
  RegisterFdio(env, exports);
  RegisterProcess(env, exports);
  RegisterBpf(env, exports);
  RegisterMount(env, exports);
  RegisterFsat(env, exports);
  RegisterFsops(env, exports);
  RegisterHookProc(env, exports);
  RegisterMapFile(env, exports);
  return exports;
}

NODE_API_MODULE(tsrunc, Init)
