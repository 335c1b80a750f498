/*
 * fuzz_common.h - helpers shared by the libFuzzer targets (make fuzz).
 */
#ifndef PUSHQ_FUZZ_COMMON_H
#define PUSHQ_FUZZ_COMMON_H

#include "http/http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A failed property: libFuzzer saves the input that did it. */
#define FUZZ_REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

/*
 * UTF-8 checked another way than http/http.c does: decode each sequence to
 * its code point, then reject overlong forms by value, surrogates and
 * anything above U+10FFFF.  The two must always agree.
 */
static inline bool
fuzz_utf8_valid_by_decoding(const uint8_t *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t b = s[i];
		size_t n;
		uint32_t cp, min;
		if (b < 0x80) { i++; continue; }
		else if ((b & 0xe0) == 0xc0) { n = 2; cp = b & 0x1f; min = 0x80; }
		else if ((b & 0xf0) == 0xe0) { n = 3; cp = b & 0x0f; min = 0x800; }
		else if ((b & 0xf8) == 0xf0) { n = 4; cp = b & 0x07; min = 0x10000; }
		else return false;
		if (len - i < n)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

/* Cut points derived from the input itself, so a run is reproducible. */
static inline size_t
fuzz_next_cut(uint32_t *state, size_t left)
{
	*state = *state * 1103515245u + 12345u;
	return left == 0 ? 0 : 1 + (*state >> 8) % left;
}

static inline uint32_t
fuzz_seed(const uint8_t *data, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len && i < 16; i++)
		h = (h ^ data[i]) * 16777619u;
	return h;
}

/* The two runs (whole, in pieces) must have seen the same: then both
 * summaries are freed. */
static inline void
fuzz_require_same(http_buf *whole, http_buf *pieces)
{
	FUZZ_REQUIRE(!whole->failed && !pieces->failed);
	FUZZ_REQUIRE(whole->len == pieces->len);
	FUZZ_REQUIRE(whole->len == 0 || memcmp(whole->data, pieces->data, whole->len) == 0);
	http_buf_free(whole);
	http_buf_free(pieces);
}

#endif
