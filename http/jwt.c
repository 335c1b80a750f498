/*
 * jwt.c - HS256 JSON Web Tokens (see jwt.h).
 *
 *   token = base64url(header) "." base64url(payload) "." base64url(signature)
 *   signature = HMAC-SHA256(key, base64url(header) "." base64url(payload))
 *
 * base64url is base64 with '-' and '_' for '+' and '/', and no padding:
 * the bytes are turned into plain base64 and given to libcrypto.
 */
#include "http/jwt.h"

#include <jansson.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIG_LEN 32               /* SHA-256 */

/* ------------------------------------------------------------------ */
/* base64url                                                           */
/* ------------------------------------------------------------------ */

/* Decodes base64url in[0..len) into out (room for len * 3 / 4 + 3 bytes);
 * the decoded length, or -1 when it is not base64url. */
static long
b64url_decode(const char *in, size_t len, unsigned char *out)
{
	if (len % 4 == 1)
		return -1;                      /* no base64 length ends so */
	size_t padded = (len + 3) / 4 * 4;
	char *plain = malloc(padded + 1);
	if (plain == NULL)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char ch = in[i];
		if (ch == '-')
			ch = '+';
		else if (ch == '_')
			ch = '/';
		else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))) {
			free(plain);
			return -1;              /* '+', '/', '=' and the rest are not base64url */
		}
		plain[i] = ch;
	}
	memset(plain + len, '=', padded - len);
	int n = padded > 0 ? EVP_DecodeBlock(out, (const unsigned char *)plain, (int)padded) : 0;
	free(plain);
	if (n < 0)
		return -1;
	return n - (long)(padded - len);        /* EVP counts the padding as bytes */
}

/* Encodes in[0..len) as base64url (no padding) into out[cap]; its length,
 * or -1 when it does not fit. */
static long
b64url_encode(const unsigned char *in, size_t len, char *out, size_t cap)
{
	if ((len + 2) / 3 * 4 + 1 > cap)
		return -1;
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	for (int i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	out[n] = '\0';
	return n;
}

/* ------------------------------------------------------------------ */
/* Verifying                                                           */
/* ------------------------------------------------------------------ */

/* A base64url part holding a JSON object, or NULL. */
static json_t *
decode_object(const char *part, size_t len)
{
	unsigned char *raw = malloc(len * 3 / 4 + 3);
	long n = raw != NULL ? b64url_decode(part, len, raw) : -1;
	json_t *json = n >= 0 ? json_loadb((const char *)raw, (size_t)n, JSON_REJECT_DUPLICATES, NULL)
	                      : NULL;
	free(raw);
	if (json != NULL && !json_is_object(json)) {
		json_decref(json);
		json = NULL;
	}
	return json;
}

/* A name list claim into *out; false when it is not an array of names. */
static bool
read_list(json_t *array, jwt_list *out)
{
	out->n = 0;
	if (!json_is_array(array) || json_array_size(array) > JWT_LIST_MAX)
		return false;
	size_t i;
	json_t *item;
	json_array_foreach(array, i, item) {
		if (!json_is_string(item) || json_string_length(item) == 0 ||
		    json_string_length(item) > JWT_NAME_MAX ||
		    strlen(json_string_value(item)) != json_string_length(item))
			return false;
		memcpy(out->names[out->n++], json_string_value(item), json_string_length(item) + 1);
	}
	return true;
}

/* The claims of a verified payload. */
static jwt_rc
read_claims(json_t *payload, double now, jwt_claims *out)
{
	json_t *sub = json_object_get(payload, "sub"), *exp = json_object_get(payload, "exp");
	json_t *nbf = json_object_get(payload, "nbf"), *channels = json_object_get(payload, "channels");
	json_t *pub = json_object_get(payload, "pub");
	if (!json_is_string(sub) || json_string_length(sub) == 0 ||
	    json_string_length(sub) > JWT_NAME_MAX ||
	    strlen(json_string_value(sub)) != json_string_length(sub) || !json_is_number(exp) ||
	    (nbf != NULL && !json_is_number(nbf)) ||
	    (channels != NULL && !read_list(channels, &out->channels)) ||
	    (pub != NULL && !read_list(pub, &out->pub)))
		return JWT_BAD_CLAIMS;
	memcpy(out->sub, json_string_value(sub), json_string_length(sub) + 1);
	out->exp = json_number_value(exp);
	out->has_channels = channels != NULL;
	if (pub == NULL)
		out->pub.n = 0;
	if (!isfinite(out->exp) || out->exp <= now)
		return JWT_EXPIRED;
	if (nbf != NULL && json_number_value(nbf) > now)
		return JWT_NOT_YET;
	return JWT_OK;
}

/* Whether the third part is the HMAC of the first two, in constant time. */
static bool
signature_matches(const char *token, size_t signed_len, const char *sig, size_t sig_len,
                  const uint8_t *key, size_t key_len)
{
	unsigned char given[SIG_LEN + 3], want[EVP_MAX_MD_SIZE];
	char canonical[48];
	unsigned int want_len = 0;
	if (sig_len != 43 || b64url_decode(sig, sig_len, given) != SIG_LEN)
		return false;               /* 32 bytes are 43 base64url characters */
	/* The last character carries 2 bits that decoding ignores: only the
	 * one spelling of the signature is accepted, so a token cannot be
	 * varied and still pass. */
	if (b64url_encode(given, SIG_LEN, canonical, sizeof(canonical)) != 43 ||
	    memcmp(canonical, sig, 43) != 0)
		return false;
	if (HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)token, signed_len,
	         want, &want_len) == NULL || want_len != SIG_LEN)
		return false;
	return CRYPTO_memcmp(given, want, SIG_LEN) == 0;
}

jwt_rc
jwt_verify(const char *token, size_t len, const uint8_t *key, size_t key_len, double now,
           jwt_claims *out)
{
	if (len == 0 || len > JWT_MAX_LEN)
		return JWT_MALFORMED;
	const char *dot1 = memchr(token, '.', len);
	const char *dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL ||
	    memchr(token, '\0', len) != NULL)
		return JWT_MALFORMED;
	json_t *header = decode_object(token, (size_t)(dot1 - token));
	json_t *payload = decode_object(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	jwt_rc rc = JWT_OK;
	json_t *alg = json_object_get(header, "alg");
	if (header == NULL || payload == NULL)
		rc = JWT_MALFORMED;
	else if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256") != 0 ||
	         json_string_length(alg) != 5)
		rc = JWT_BAD_ALG;            /* pinned: the token does not choose */
	else if (!signature_matches(token, (size_t)(dot2 - token), dot2 + 1,
	                            len - (size_t)(dot2 + 1 - token), key, key_len))
		rc = JWT_BAD_SIGNATURE;
	else
		rc = read_claims(payload, now, out);
	json_decref(header);
	json_decref(payload);
	return rc;
}

const char *
jwt_rc_text(jwt_rc rc)
{
	switch (rc) {
	case JWT_OK: return "ok";
	case JWT_MALFORMED: return "malformed token";
	case JWT_BAD_ALG: return "token algorithm not allowed (HS256 only)";
	case JWT_BAD_SIGNATURE: return "bad token signature";
	case JWT_BAD_CLAIMS: return "bad token claims";
	case JWT_EXPIRED: return "token expired";
	case JWT_NOT_YET: return "token not yet valid";
	}
	return "bad token";
}

bool
jwt_list_has(const jwt_list *list, const char *name)
{
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->names[i], name) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* Signing (pushq token)                                               */
/* ------------------------------------------------------------------ */

static json_t *
list_json(const jwt_list *list)
{
	json_t *array = json_array();
	for (size_t i = 0; array != NULL && i < list->n; i++)
		json_array_append_new(array, json_string(list->names[i]));
	return array;
}

/* base64url of a JSON object's compact text appended at out + *used. */
static bool
append_part(json_t *object, char *out, size_t cap, size_t *used)
{
	char *text = json_dumps(object, JSON_COMPACT);
	long n = text != NULL ? b64url_encode((const unsigned char *)text, strlen(text),
	                                      out + *used, cap - *used) : -1;
	free(text);
	if (n < 0)
		return false;
	*used += (size_t)n;
	return true;
}

bool
jwt_sign(const jwt_claims *claims, const uint8_t *key, size_t key_len, char *out, size_t cap)
{
	json_t *header = json_pack("{s:s, s:s}", "alg", "HS256", "typ", "JWT");
	json_t *payload = json_pack("{s:s, s:I}", "sub", claims->sub, "exp", (json_int_t)claims->exp);
	if (payload != NULL && claims->has_channels)
		json_object_set_new(payload, "channels", list_json(&claims->channels));
	if (payload != NULL && claims->pub.n > 0)
		json_object_set_new(payload, "pub", list_json(&claims->pub));
	size_t used = 0;
	bool ok = header != NULL && payload != NULL && append_part(header, out, cap, &used) &&
	          used + 1 < cap;
	if (ok) {
		out[used++] = '.';
		ok = append_part(payload, out, cap, &used) && used + 1 < cap;
	}
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	if (ok)
		ok = HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)out, used, mac,
		          &mac_len) != NULL;
	if (ok) {
		out[used++] = '.';
		ok = b64url_encode(mac, mac_len, out + used, cap - used) >= 0;
	}
	json_decref(header);
	json_decref(payload);
	return ok;
}
