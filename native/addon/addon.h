// The tsrunc addon: the few kernel calls Node has no API for. Each file registers its functions.
#pragma once
#include <napi.h>

void RegisterSpawn(Napi::Env env, Napi::Object exports);
void RegisterFdio(Napi::Env env, Napi::Object exports);
void RegisterProcess(Napi::Env env, Napi::Object exports);
void RegisterBpf(Napi::Env env, Napi::Object exports);
void RegisterMount(Napi::Env env, Napi::Object exports);
void RegisterFsat(Napi::Env env, Napi::Object exports);
void RegisterFsops(Napi::Env env, Napi::Object exports);
void RegisterHookProc(Napi::Env env, Napi::Object exports);
extern "C" void RegisterMapFile(napi_env env, napi_value exports);  // mapfile.c

// Throws a JS Error "<what>: <strerror(errno)>" with .code = errno name's number in .errno.
Napi::Value ThrowErrno(Napi::Env env, const char* what);
