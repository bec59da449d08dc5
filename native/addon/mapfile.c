// dist/'s cache files. mapFile(path, asText): a file of dist/ mapped read-only, as an external string
// (an ASCII bundle's source) or an external Buffer (its V8 code cache), for src/cli/fast/code-cache.ts.
// Reading create's 134 KB source and 178 KB cache into the heap cost a cold CLI ~3 ms (fresh pages, the
// UTF-8 decode); mapped, V8 reads the cache through the page cache and touches only the source it
// compiles lazily.
// C, not C++: the external string API is declared only under NAPI_EXPERIMENTAL (Node 20; stable from
// Node-API 10), which must not change how node-addon-api's headers compile in the other files.
#define NAPI_EXPERIMENTAL
#include <node_api.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  void* addr;
  size_t length;
} mapping_t;

static void unmap(node_api_basic_env env, void* data, void* hint) {
  (void)env;
  (void)data;
  mapping_t* m = hint;
  munmap(m->addr, m->length);
  free(m);
}

// NULL when the file cannot be mapped (absent, empty, not regular): the caller reads it as usual.
static mapping_t* map_file(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  mapping_t* m = NULL;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && (m = malloc(sizeof *m))) {
    m->length = (size_t)st.st_size;
    m->addr = mmap(NULL, m->length, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m->addr == MAP_FAILED) {
      free(m);
      m = NULL;
    }
  }
  close(fd);
  return m;
}

static napi_value MapFile(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  char path[4096];
  size_t len;
  bool as_text = false, copied;
  napi_get_undefined(env, &result);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok || len >= sizeof path - 1 ||
      napi_get_value_bool(env, argv[1], &as_text) != napi_ok)
    return result;
  mapping_t* m = map_file(path);
  if (!m) return result;
  // Both call unmap once V8 lets go of the value (or at once, when it copied the string instead).
  napi_status status =
      as_text ? node_api_create_external_string_latin1(env, m->addr, m->length, unmap, m, &result, &copied)
              : napi_create_external_buffer(env, m->length, m->addr, unmap, m, &result);
  if (status != napi_ok) {
    // e.g. napi_no_external_buffers_allowed (a V8 sandbox): not ours to keep
    unmap(env, NULL, m);
    napi_get_undefined(env, &result);
  }
  return result;
}

// textHash(text): FNV-1a 64 of the UTF-8 text, as 16 hex digits: the name of a cache file in dist/
// (src/runtime/seccomp/cache.ts; the file holds its whole key, the name only finds it). In JS the loop
// cost a cold CLI 2-3 ms for a 7 KB profile, node:crypto's load 7-10.
static napi_value TextHash(napi_env env, napi_callback_info info) {
  size_t argc = 1, len = 0;
  napi_value argv[1], result;
  napi_get_undefined(env, &result);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok)
    return result;
  char* text = malloc(len + 1);
  if (!text) return result;
  napi_get_value_string_utf8(env, argv[0], text, len + 1, &len);
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)text[i]) * 0x100000001b3ULL;
  free(text);
  char hex[17];
  snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
  napi_create_string_latin1(env, hex, 16, &result);
  return result;
}

void RegisterMapFile(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "mapFile", NAPI_AUTO_LENGTH, MapFile, NULL, &fn) == napi_ok)
    napi_set_named_property(env, exports, "mapFile", fn);
  if (napi_create_function(env, "textHash", NAPI_AUTO_LENGTH, TextHash, NULL, &fn) == napi_ok)
    napi_set_named_property(env, exports, "textHash", fn);
}
