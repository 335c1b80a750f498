/*
 * fuzz_decode.c - the form, query and path decoders and JSON strings
 * (http/http.c).  Properties: output always fits and is NUL-terminated at
 * the length returned; a decoded path never holds a NUL; decoding never
 * grows the text; JSON output is valid UTF-8 for any input bytes.
 */
#include "http/http.h"
#include "fuzz_common.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *text = (const char *)data;
	char out[256];
	static const char *const keys[] = { "name", "content", "timeout", "" };
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		long n = http_form_value(text, len, keys[k], out, sizeof(out));
		FUZZ_REQUIRE(n >= -2 && n < (long)sizeof(out));
		if (n >= 0) {
			FUZZ_REQUIRE(out[n] == '\0');
			FUZZ_REQUIRE((size_t)n <= len);
		}
	}
	long p = http_path_decode(text, len, out, sizeof(out));
	FUZZ_REQUIRE(p >= -1 && p < (long)sizeof(out));
	if (p >= 0) {
		FUZZ_REQUIRE((size_t)p <= len);
		FUZZ_REQUIRE(strlen(out) == (size_t)p);   /* no NUL inside */
	}
	http_buf json = { 0 };
	http_buf_json_string(&json, text, len);
	FUZZ_REQUIRE(!json.failed && json.len >= 2);
	FUZZ_REQUIRE(json.data[0] == '"' && json.data[json.len - 1] == '"');
	FUZZ_REQUIRE(fuzz_utf8_valid_by_decoding((const uint8_t *)json.data, json.len));
	for (size_t i = 0; i < json.len; i++)
		FUZZ_REQUIRE((unsigned char)json.data[i] >= 0x20);
	http_buf_free(&json);
	return 0;
}
