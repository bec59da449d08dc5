/* The few protobuf wire-format steps the launcher needs (reading options and ttrpc answers, writing one frame). */
#ifndef SHIMLAUNCH_PB_H
#define SHIMLAUNCH_PB_H

#include <stddef.h>
#include <stdint.h>

/* One field of a message: its number, wire type, and value (a varint in v; length-delimited in data/len). */
struct pb_field {
	unsigned number, wire;
	uint64_t v;
	const uint8_t *data;
	size_t len;
};

/* Reads the field at *p (advancing it): 1, 0 at the end of the message, -1 when malformed. */
int pb_next(const uint8_t **p, const uint8_t *end, struct pb_field *f);

/*
 * The last value of each of the length-delimited fields 1..n of a message, in out[0..n-1] (zeroed when
 * absent; other fields skipped): 0, or -1 when malformed or one of those fields has another wire type.
 */
int pb_strings(const uint8_t *p, const uint8_t *end, struct pb_field *out, unsigned n);

/* A bounded output buffer; overflow is sticky. */
struct pb_buf {
	uint8_t *p;
	size_t n, cap;
	int overflow;
};

void pb_put_varint(struct pb_buf *b, uint64_t v);
/* A length-delimited field (wire type 2). */
void pb_put_bytes(struct pb_buf *b, unsigned field, const void *data, size_t n);

#endif
