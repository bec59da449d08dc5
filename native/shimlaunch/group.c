/* A strict JSON reader (RFC 8259 grammar) that keeps only what `start` needs: some members' string values. */
#include <string.h>
#include "group.h"

#define MAX_DEPTH 256
#define MAX_KEYS 4

struct rd {
	const char *p, *end;
};

struct str {
	const char *s;
	size_t n;
	int escaped; /* contains a backslash escape: the raw bytes are not the value */
	int ascii;   /* printable ASCII only */
};

static void ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* At a '"': reads the string up to its closing quote; 0 or -1 (malformed). */
static int string(struct rd *r, struct str *out)
{
	if (r->p >= r->end || *r->p != '"')
		return -1;
	r->p++;
	out->s = r->p;
	out->escaped = 0;
	out->ascii = 1;
	while (r->p < r->end) {
		unsigned char c = (unsigned char)*r->p;
		if (c == '"') {
			out->n = (size_t)(r->p - out->s);
			r->p++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c >= 0x7f)
			out->ascii = 0;
		if (c == '\\') {
			out->escaped = 1;
			if (++r->p >= r->end)
				return -1;
			c = (unsigned char)*r->p;
			if (c == 'u') {
				if (r->end - r->p < 5 || !hex(r->p[1]) || !hex(r->p[2]) || !hex(r->p[3]) || !hex(r->p[4]))
					return -1;
				r->p += 4;
			} else if (!strchr("\"\\/bfnrt", c) || c == 0) {
				return -1;
			}
		}
		r->p++;
	}
	return -1;
}

static int digits(struct rd *r)
{
	const char *s = r->p;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	return r->p > s ? 0 : -1;
}

static int number(struct rd *r)
{
	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (digits(r) < 0)
		return -1;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (digits(r) < 0)
			return -1;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (digits(r) < 0)
			return -1;
	}
	return 0;
}

static int literal(struct rd *r, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return -1;
	r->p += n;
	return 0;
}

struct want {
	const char *section; /* the top-level member whose object holds the keys; NULL: the top-level object */
	const char *const *keys;
	struct json_str *found;
	int fallback;
};

/*
 * One value. `role`: 0 any, 1 the top-level object (when the keys are in a section), 2 the object that holds
 * the keys. There, string members named like a key of ours are recorded.
 */
static int value(struct rd *r, int depth, int role, struct want *w);

static int object(struct rd *r, int depth, int role, struct want *w)
{
	r->p++; /* '{' */
	ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return 0;
	}
	for (;;) {
		struct str key;
		ws(r);
		if (string(r, &key) < 0)
			return -1;
		ws(r);
		if (r->p >= r->end || *r->p != ':')
			return -1;
		r->p++;
		ws(r);
		int sub = 0, mine = -1;
		if (role == 1) {
			if (key.escaped)
				w->fallback = 1; /* could be "annotations" spelled with escapes */
			else if (key.n == strlen(w->section) && memcmp(key.s, w->section, key.n) == 0) {
				sub = 2;
				/* A later section replaces an earlier one, as in JSON.parse. */
				for (int i = 0; i < MAX_KEYS && w->keys[i]; i++)
					w->found[i] = (struct json_str){ NULL, 0 };
			}
		} else if (role == 2) {
			if (key.escaped)
				w->fallback = 1; /* could be a key of ours spelled with escapes */
			for (int i = 0; !key.escaped && i < MAX_KEYS && w->keys[i]; i++)
				if (strlen(w->keys[i]) == key.n && memcmp(w->keys[i], key.s, key.n) == 0)
					mine = i;
		}
		if (mine >= 0) {
			struct str v;
			if (r->p < r->end && *r->p == '"') {
				if (string(r, &v) < 0)
					return -1;
				if (v.escaped || !v.ascii)
					w->fallback = 1;
				w->found[mine] = (struct json_str){ v.s, v.n };
			} else {
				w->fallback = 1; /* a non-string value: JSON.parse's truthiness rules, not ours */
				if (value(r, depth + 1, 0, w) < 0)
					return -1;
			}
		} else if (value(r, depth + 1, sub, w) < 0) {
			return -1;
		}
		ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return 0;
		}
		return -1;
	}
}

static int value(struct rd *r, int depth, int role, struct want *w)
{
	struct str s;
	if (depth > MAX_DEPTH)
		return -1;
	ws(r);
	if (r->p >= r->end)
		return -1;
	switch (*r->p) {
	case '{':
		return object(r, depth, role == 1 || role == 2 ? role : 0, w);
	case '[':
		r->p++;
		ws(r);
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return 0;
		}
		for (;;) {
			if (value(r, depth + 1, 0, w) < 0)
				return -1;
			ws(r);
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				continue;
			}
			if (r->p < r->end && *r->p == ']') {
				r->p++;
				return 0;
			}
			return -1;
		}
	case '"':
		return string(r, &s);
	case 't':
		return literal(r, "true");
	case 'f':
		return literal(r, "false");
	case 'n':
		return literal(r, "null");
	default:
		return number(r);
	}
}

int json_find_strings(const char *json, size_t n, const char *section, const char *const *keys, struct json_str *found)
{
	struct rd r = { json, json + n };
	struct want w = { section, keys, found, 0 };
	for (int i = 0; i < MAX_KEYS && keys[i]; i++)
		found[i] = (struct json_str){ NULL, 0 };
	ws(&r);
	/* An object; anything else is the Node shim's error to report. */
	if (r.p >= r.end || *r.p != '{')
		return -1;
	if (value(&r, 0, section ? 1 : 2, &w) < 0)
		return -1;
	ws(&r);
	return r.p != r.end || w.fallback ? -1 : 0;
}

int find_group(const char *json, size_t n, const char *const *keys, const char **val, size_t *len)
{
	struct json_str found[MAX_KEYS];
	if (json_find_strings(json, n, "annotations", keys, found) < 0)
		return -1;
	/* JSON.parse and a truthiness test: an empty string is no group */
	for (int i = 0; i < MAX_KEYS && keys[i]; i++) {
		if (found[i].n) {
			*val = found[i].s;
			*len = found[i].n;
			return 1;
		}
	}
	return 0;
}
