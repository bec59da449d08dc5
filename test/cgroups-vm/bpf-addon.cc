// Test-only module around native/addon/bpf.cc, built on the host by test/vm/run-cgroup-suite.sh until the
// lead wires RegisterBpf into the real addon (build/Release/tsrunc.node).
#include "addon/addon.h"
#include <cerrno>
#include <cstring>
#include <string>

void RegisterBpf(Napi::Env env, Napi::Object exports);

Napi::Value ThrowErrno(Napi::Env env, const char* what) {
  int saved = errno;
  Napi::Error err = Napi::Error::New(env, std::string(what) + ": " + strerror(saved));
  err.Set("errno", Napi::Number::New(env, saved));
  err.ThrowAsJavaScriptException();
  return env.Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  RegisterBpf(env, exports);
  return exports;
}

NODE_API_MODULE(tsrunc_bpf_test, Init)
