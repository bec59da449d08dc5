/* SHA-256 (FIPS 180-4) of one buffer: the shim socket name is sha256(containerd address/namespace/group). */
#ifndef SHIMLAUNCH_SHA256_H
#define SHIMLAUNCH_SHA256_H

#include <stddef.h>
#include <stdint.h>

void sha256(const void *data, size_t len, uint8_t out[32]);

#endif
