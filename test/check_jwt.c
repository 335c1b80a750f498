/*
 * check_jwt.c - unit tests of http/jwt.c: HS256 tokens made and verified,
 * and every way a token is refused, without a server.
 */
#include "http/jwt.h"
#include "suites.h"
#include "testutil.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

static const uint8_t KEY[] = "unit-test-key-of-thirty-two-byte";
#define KEY_LEN (sizeof(KEY) - 1)
#define NOW 1.8e9

static void
sign(const jwt_claims *claims, char *out, size_t cap)
{
	ck_assert(jwt_sign(claims, KEY, KEY_LEN, out, cap));
}

static jwt_claims
claims_for(const char *sub, double exp)
{
	jwt_claims c = { .exp = exp };
	snprintf(c.sub, sizeof(c.sub), "%s", sub);
	return c;
}

static jwt_rc
verify(const char *token, jwt_claims *out)
{
	return jwt_verify(token, strlen(token), KEY, KEY_LEN, NOW, out);
}

/* A token with any header and payload, signed with HMAC-SHA256 (or the
 * digest given) over them with KEY -- how an attacker would make one. */
static void
forge(const char *header, const char *payload, const EVP_MD *md, char *out)
{
	char h[512], p[512];
	tu_b64url(header, strlen(header), h);
	tu_b64url(payload, strlen(payload), p);
	int n = sprintf(out, "%s.%s", h, p);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	HMAC(md, KEY, (int)KEY_LEN, (const unsigned char *)out, (size_t)n, mac, &mac_len);
	out[n++] = '.';
	tu_b64url((const char *)mac, mac_len, out + n);
}

START_TEST(round_trip_keeps_every_claim)
{
	jwt_claims c = claims_for("alice", NOW + 60);
	c.has_channels = true;
	c.channels.n = 2;
	strcpy(c.channels.names[0], "room");
	strcpy(c.channels.names[1], "news");
	c.pub.n = 1;
	strcpy(c.pub.names[0], "news");
	char token[JWT_MAX_LEN];
	sign(&c, token, sizeof(token));
	ck_assert_int_eq(strchr(token, '=') == NULL, 1);     /* base64url: no padding */
	jwt_claims got;
	ck_assert_int_eq(verify(token, &got), JWT_OK);
	ck_assert_str_eq(got.sub, "alice");
	ck_assert(got.exp == (double)(long long)(NOW + 60));
	ck_assert(got.has_channels);
	ck_assert_uint_eq(got.channels.n, 2);
	ck_assert_str_eq(got.channels.names[1], "news");
	ck_assert(jwt_list_has(&got.pub, "news"));
	ck_assert(!jwt_list_has(&got.pub, "room"));
}
END_TEST

START_TEST(absent_lists_are_empty)
{
	char token[JWT_MAX_LEN];
	jwt_claims c = claims_for("bob", NOW + 60);
	sign(&c, token, sizeof(token));
	jwt_claims got;
	ck_assert_int_eq(verify(token, &got), JWT_OK);
	ck_assert(!got.has_channels);
	ck_assert_uint_eq(got.pub.n, 0);
}
END_TEST

START_TEST(time_claims)
{
	char token[1024];
	jwt_claims got;
	forge("{\"alg\":\"HS256\"}", "{\"sub\":\"a\",\"exp\":1700000000}", EVP_sha256(), token);
	ck_assert_int_eq(verify(token, &got), JWT_EXPIRED);
	forge("{\"alg\":\"HS256\"}", "{\"sub\":\"a\",\"exp\":1800000000}", EVP_sha256(), token);
	ck_assert_int_eq(verify(token, &got), JWT_EXPIRED);            /* exp == now: not in the future */
	forge("{\"alg\":\"HS256\"}", "{\"sub\":\"a\",\"exp\":1900000000,\"nbf\":1850000000}",
	      EVP_sha256(), token);
	ck_assert_int_eq(verify(token, &got), JWT_NOT_YET);
	forge("{\"alg\":\"HS256\"}", "{\"sub\":\"a\",\"exp\":1900000000.5,\"nbf\":1700000000}",
	      EVP_sha256(), token);
	ck_assert_int_eq(verify(token, &got), JWT_OK);                 /* numbers, fractions too */
	forge("{\"alg\":\"HS256\"}", "{\"sub\":\"a\",\"exp\":\"1900000000\"}", EVP_sha256(), token);
	ck_assert_int_eq(verify(token, &got), JWT_BAD_CLAIMS);         /* a string is no number */
	forge("{\"alg\":\"HS256\"}", "{\"sub\":\"a\"}", EVP_sha256(), token);
	ck_assert_int_eq(verify(token, &got), JWT_BAD_CLAIMS);         /* exp is required */
}
END_TEST

START_TEST(bad_claims)
{
	char token[1024];
	jwt_claims got;
	static const char *const payloads[] = {
		"{\"exp\":1900000000}",                                  /* no sub */
		"{\"sub\":5,\"exp\":1900000000}",
		"{\"sub\":\"\",\"exp\":1900000000}",
		"{\"sub\":\"a\",\"exp\":1900000000,\"channels\":\"room\"}",   /* not an array */
		"{\"sub\":\"a\",\"exp\":1900000000,\"channels\":[1]}",
		"{\"sub\":\"a\",\"exp\":1900000000,\"pub\":[\"\"]}",
		"{\"sub\":\"a\",\"exp\":1900000000,\"nbf\":\"x\"}",
		"[1,2]",                                                 /* not an object */
	};
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		forge("{\"alg\":\"HS256\"}", payloads[i], EVP_sha256(), token);
		jwt_rc rc = verify(token, &got);
		ck_assert_msg(rc == JWT_BAD_CLAIMS || rc == JWT_MALFORMED, "%s: %d", payloads[i], rc);
	}
}
END_TEST

/* The token never chooses how it is checked. */
START_TEST(algorithm_is_pinned)
{
	char token[1024];
	jwt_claims got;
	const char *payload = "{\"sub\":\"a\",\"exp\":1900000000}";
	forge("{\"alg\":\"HS512\"}", payload, EVP_sha512(), token);
	ck_assert_int_eq(verify(token, &got), JWT_BAD_ALG);
	forge("{\"alg\":\"RS256\"}", payload, EVP_sha256(), token);    /* the key as a "public key" */
	ck_assert_int_eq(verify(token, &got), JWT_BAD_ALG);
	forge("{\"alg\":\"hs256\"}", payload, EVP_sha256(), token);
	ck_assert_int_eq(verify(token, &got), JWT_BAD_ALG);
	forge("{\"typ\":\"JWT\"}", payload, EVP_sha256(), token);
	ck_assert_int_eq(verify(token, &got), JWT_BAD_ALG);
	forge("{\"alg\":\"none\"}", payload, EVP_sha256(), token);
	ck_assert_int_eq(verify(token, &got), JWT_BAD_ALG);
	char h[64], p[128], unsigned_token[256];
	tu_b64url("{\"alg\":\"none\"}", 14, h);
	tu_b64url(payload, strlen(payload), p);
	snprintf(unsigned_token, sizeof(unsigned_token), "%s.%s.", h, p);
	ck_assert_int_eq(verify(unsigned_token, &got), JWT_BAD_ALG);
	/* Two alg keys: refused, not "the last one wins". */
	forge("{\"alg\":\"none\",\"alg\":\"HS256\"}", payload, EVP_sha256(), token);
	ck_assert_int_ne(verify(token, &got), JWT_OK);
}
END_TEST

START_TEST(tampering_is_seen)
{
	char token[JWT_MAX_LEN];
	jwt_claims c = claims_for("alice", NOW + 60);
	sign(&c, token, sizeof(token));
	jwt_claims got;
	/* Another payload under alice's signature. */
	char *dot1 = strchr(token, '.'), *dot2 = strchr(dot1 + 1, '.');
	char other[64], forged[JWT_MAX_LEN];
	const char *mallory = "{\"sub\":\"mallory\",\"exp\":1900000000}";
	tu_b64url(mallory, strlen(mallory), other);
	snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(dot1 - token), token, other, dot2);
	ck_assert_int_eq(verify(forged, &got), JWT_BAD_SIGNATURE);
	/* Every byte changed in turn: never accepted. */
	size_t len = strlen(token);
	for (size_t i = 0; i < len; i++) {
		char copy[JWT_MAX_LEN];
		memcpy(copy, token, len + 1);
		copy[i] = copy[i] == 'A' ? 'B' : 'A';
		ck_assert_msg(verify(copy, &got) != JWT_OK, "byte %zu changed, still accepted", i);
	}
	/* Cut short, or with a part added: malformed or a bad signature. */
	token[len - 5] = '\0';
	ck_assert_int_ne(verify(token, &got), JWT_OK);
	ck_assert_int_eq(jwt_verify("a.b", 3, KEY, KEY_LEN, NOW, &got), JWT_MALFORMED);
	ck_assert_int_eq(jwt_verify("a.b.c.d", 7, KEY, KEY_LEN, NOW, &got), JWT_MALFORMED);
	ck_assert_int_eq(jwt_verify("", 0, KEY, KEY_LEN, NOW, &got), JWT_MALFORMED);
	/* Another key: a bad signature. */
	sign(&c, token, sizeof(token));
	static const uint8_t other_key[] = "another-key-of-thirty-two-bytes!";
	ck_assert_int_eq(jwt_verify(token, strlen(token), other_key, sizeof(other_key) - 1, NOW, &got),
	                 JWT_BAD_SIGNATURE);
}
END_TEST

START_TEST(too_long_is_refused)
{
	static char big[JWT_MAX_LEN + 10];
	memset(big, 'a', sizeof(big) - 1);
	jwt_claims got;
	ck_assert_int_eq(jwt_verify(big, sizeof(big) - 1, KEY, KEY_LEN, NOW, &got), JWT_MALFORMED);
}
END_TEST

Suite *
jwt_suite(void)
{
	Suite *s = suite_create("jwt");
	TCase *tc = tcase_create("hs256");
	tcase_add_test(tc, round_trip_keeps_every_claim);
	tcase_add_test(tc, absent_lists_are_empty);
	tcase_add_test(tc, time_claims);
	tcase_add_test(tc, bad_claims);
	tcase_add_test(tc, algorithm_is_pinned);
	tcase_add_test(tc, tampering_is_seen);
	tcase_add_test(tc, too_long_is_refused);
	suite_add_tcase(s, tc);
	return s;
}
