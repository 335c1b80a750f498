/*
 * fuzz_jwt.c - the token verifier (http/jwt.c).  Properties: it never
 * crashes or leaks on any bytes; it accepts only what it signed itself: an
 * input that is not a token made with the key is never JWT_OK; a token it
 * made is accepted, and changing any one of its bytes makes it refused.
 */
#include "http/jwt.h"
#include "fuzz_common.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static const uint8_t key[] = "fuzzing-key-of-thirty-two-bytes!";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	jwt_claims claims;
	/* Arbitrary bytes: almost never a valid signature (2^-256). */
	jwt_rc rc = jwt_verify((const char *)data, len, key, sizeof(key) - 1, 1e9, &claims);
	FUZZ_REQUIRE(rc >= JWT_OK && rc <= JWT_NOT_YET);
	FUZZ_REQUIRE(jwt_rc_text(rc) != NULL);

	/* A token of our own, for a sub made of the input's first bytes. */
	jwt_claims mine = { .exp = 2e9 };
	size_t sub_len = len < JWT_NAME_MAX ? len : JWT_NAME_MAX;
	for (size_t i = 0; i < sub_len; i++)
		mine.sub[i] = (char)(data[i] % 94 + 33);          /* printable, no NUL */
	if (sub_len == 0)
		mine.sub[0] = 'x';
	char token[JWT_MAX_LEN];
	FUZZ_REQUIRE(jwt_sign(&mine, key, sizeof(key) - 1, token, sizeof(token)));
	size_t token_len = strlen(token);
	FUZZ_REQUIRE(jwt_verify(token, token_len, key, sizeof(key) - 1, 1e9, &claims) == JWT_OK);
	FUZZ_REQUIRE(strcmp(claims.sub, mine.sub) == 0);
	/* One byte changed, where the input says: refused. */
	if (len > 0) {
		size_t at = data[0] % token_len;
		token[at] = token[at] == 'A' ? 'B' : 'A';
		FUZZ_REQUIRE(jwt_verify(token, token_len, key, sizeof(key) - 1, 1e9, &claims) != JWT_OK);
	}
	return 0;
}
