/* Decoding of plan fields (format in ../plan.h).  A malformed plan is a bug in the runtime. */
#include <stdlib.h>
#include <string.h>
#include "init.h"

static void need(struct reader *r, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		die("malformed plan (truncated record)");
}

uint64_t rd_u64(struct reader *r)
{
	uint64_t v;
	need(r, 8);
	memcpy(&v, r->p, 8);
	r->p += 8;
	return v;
}

static uint32_t rd_u32(struct reader *r)
{
	uint32_t v;
	need(r, 4);
	memcpy(&v, r->p, 4);
	r->p += 4;
	return v;
}

const void *rd_blob(struct reader *r, uint32_t *len)
{
	const void *p;
	*len = rd_u32(r);
	need(r, *len);
	p = r->p;
	r->p += *len;
	return p;
}

const char *rd_str(struct reader *r)
{
	uint32_t len;
	const char *s = rd_blob(r, &len);
	if (len == 0 || s[len - 1] != '\0')
		die("malformed plan (string without NUL)");
	return s;
}

char **rd_strv(struct reader *r)
{
	uint32_t n = rd_u32(r);
	char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		die_errno("calloc");
	for (uint32_t i = 0; i < n; i++)
		v[i] = (char *)rd_str(r);
	return v;
}

uint64_t *rd_u64v(struct reader *r, uint32_t *n)
{
	*n = rd_u32(r);
	uint64_t *v = calloc(*n + 1, sizeof(uint64_t));
	if (!v)
		die_errno("calloc");
	for (uint32_t i = 0; i < *n; i++)
		v[i] = rd_u64(r);
	return v;
}
