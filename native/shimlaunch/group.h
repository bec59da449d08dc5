/* The shim group a container's config.json asks for (the annotations `start` groups by), and the JSON reader under it. */
#ifndef SHIMLAUNCH_GROUP_H
#define SHIMLAUNCH_GROUP_H

#include <stddef.h>

/*
 * Validates the whole document as JSON and finds the value of the first of `keys` (NULL-terminated, in
 * order of preference) that the top-level "annotations" object holds as a non-empty string, as
 * JSON.parse would read it (the last of duplicate keys wins). Returns 1 with the value in val and len (pointing
 * into json), 0 when none is set, -1 when the launcher must leave the decision to the Node shim: malformed
 * JSON, an escape sequence in a key or in the value it would use (they are not decoded here), a
 * non-string or non-ASCII value for a key of ours, nesting deeper than 256.
 */
int find_group(const char *json, size_t n, const char *const *keys, const char **val, size_t *len);

/* A string member's raw value (pointing into the document); s == NULL: absent. */
struct json_str {
	const char *s;
	size_t n;
};

/*
 * Validates the whole document as JSON (an object) and records in found[i] the string value of keys[i]
 * (NULL-terminated, at most 4) as a member of the object `section` (a top-level member's name; NULL: the
 * top-level object itself), the last of duplicates winning, as JSON.parse reads them. 0, or -1 when the
 * launcher must leave it to the Node shim: malformed JSON, an escape sequence in a key of that object or in
 * a value recorded, a non-string or non-ASCII value for one of the keys, nesting deeper than 256.
 */
int json_find_strings(const char *json, size_t n, const char *section, const char *const *keys, struct json_str *found);

#endif
