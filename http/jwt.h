/*
 * jwt.h - JSON Web Tokens (RFC 7519, in the compact form of RFC 7515)
 * signed with HMAC-SHA256 ("HS256") and nothing else: verify one, and
 * make one.  No sockets, no server state; libcrypto does the HMAC and
 * base64, jansson reads and writes the JSON.
 *
 * Verification pins the algorithm itself: a header whose "alg" is not
 * exactly "HS256" (none, HS512, RS256, a missing alg) is refused before
 * the signature is looked at, so no token can choose how it is checked.
 * The signature is compared in constant time.  Claims: "sub" (a string),
 * "exp" (a JSON number, required, in the future), "nbf" (a number,
 * honoured), "channels" and "pub" (arrays of strings).  Names are
 * case-sensitive.
 *
 * Thread-safety: every function from any thread.
 */
#ifndef PUSHQ_JWT_H
#define PUSHQ_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JWT_MAX_LEN 8192         /* bytes of a token at most */
#define JWT_NAME_MAX 64          /* bytes of sub, and of each channel */
#define JWT_LIST_MAX 64          /* names in "channels" or "pub" at most */

typedef enum {
	JWT_OK,
	JWT_MALFORMED,       /* not three base64url parts of JSON objects, or too long */
	JWT_BAD_ALG,         /* "alg" is not "HS256" */
	JWT_BAD_SIGNATURE,
	JWT_BAD_CLAIMS,      /* sub missing or not a string, exp not a number, ... */
	JWT_EXPIRED,         /* exp is not in the future */
	JWT_NOT_YET          /* nbf is in the future */
} jwt_rc;

typedef struct {
	size_t n;
	char names[JWT_LIST_MAX][JWT_NAME_MAX + 1];
} jwt_list;

typedef struct {
	char sub[JWT_NAME_MAX + 1];
	double exp;                  /* seconds since 1970 */
	bool has_channels;           /* absent: the caller's default */
	jwt_list channels;
	jwt_list pub;                /* absent: empty */
} jwt_claims;

/* Checks token[0..len) with key at time `now` (seconds since 1970);
 * JWT_OK with the claims in *out. */
jwt_rc jwt_verify(const char *token, size_t len, const uint8_t *key, size_t key_len,
                  double now, jwt_claims *out);

/* What a refusal says, for a JSON "error": "malformed token", ... */
const char *jwt_rc_text(jwt_rc rc);

/* Makes a token for claims (exp as given; channels only if has_channels)
 * into out[cap].  False when it does not fit or out of memory. */
bool jwt_sign(const jwt_claims *claims, const uint8_t *key, size_t key_len, char *out,
              size_t cap);

/* True when the list holds name. */
bool jwt_list_has(const jwt_list *list, const char *name);

#endif
