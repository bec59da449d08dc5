/* Protobuf wire format, as far as the launcher uses it (pb.h). */
#include <string.h>
#include "pb.h"

static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t c = *(*p)++;
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return 0;
	}
	return -1;
}

int pb_next(const uint8_t **p, const uint8_t *end, struct pb_field *f)
{
	uint64_t tag;
	if (*p >= end)
		return 0;
	if (get_varint(p, end, &tag) < 0 || tag >> 3 == 0 || tag >> 3 > 0x1fffffff)
		return -1;
	f->number = (unsigned)(tag >> 3);
	f->wire = tag & 7;
	f->v = 0;
	f->data = NULL;
	f->len = 0;
	size_t skip;
	switch (f->wire) {
	case 0:
		return get_varint(p, end, &f->v) < 0 ? -1 : 1;
	case 1:
		skip = 8;
		break;
	case 2:
		if (get_varint(p, end, &f->v) < 0)
			return -1;
		skip = (size_t)f->v;
		f->data = *p;
		f->len = skip;
		break;
	case 5:
		skip = 4;
		break;
	default:
		return -1; /* groups (3, 4) are not in any message of ours */
	}
	if ((size_t)(end - *p) < skip)
		return -1;
	*p += skip;
	return 1;
}

int pb_strings(const uint8_t *p, const uint8_t *end, struct pb_field *out, unsigned n)
{
	struct pb_field f;
	int r;
	memset(out, 0, n * sizeof *out);
	while ((r = pb_next(&p, end, &f)) > 0) {
		if (f.number > n)
			continue;
		if (f.wire != 2)
			return -1; /* a known field with another wire type: the library's error */
		out[f.number - 1] = f;
	}
	return r;
}

static void put(struct pb_buf *b, const void *data, size_t n)
{
	if (b->overflow || b->n + n > b->cap) {
		b->overflow = 1;
		return;
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
}

void pb_put_varint(struct pb_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;
	do {
		tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	put(b, tmp, n);
}

void pb_put_bytes(struct pb_buf *b, unsigned field, const void *data, size_t n)
{
	pb_put_varint(b, (uint64_t)field << 3 | 2);
	pb_put_varint(b, n);
	put(b, data, n);
}
