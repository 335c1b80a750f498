/*
 * fuzz_decode.c - the form, query and path decoders and JSON strings
 * (http/http.c).  Properties: output always fits and is NUL-terminated at
 * the length returned; a decoded path never holds a NUL; decoding never
 * grows the text; JSON output is valid UTF-8 for any input bytes; an SSE
 * event is only "data: " lines (no CR anywhere) that give the text back
 * with every line end as LF; an event id parses only from plain digits.
 */
#include "http/http.h"
#include "fuzz_common.h"

#include <stdbool.h>
#include <stdio.h>
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

	/* SSE: the browser joins the data lines with LF; so must we get back
	 * the text with CRLF, CR and LF all made LF. */
	http_buf event = { 0 }, joined = { 0 }, expected = { 0 };
	http_sse_event_append(&event, NULL, text, len);
	FUZZ_REQUIRE(!event.failed && event.len >= 8);
	FUZZ_REQUIRE(memcmp(event.data + event.len - 2, "\n\n", 2) == 0);
	FUZZ_REQUIRE(memchr(event.data, '\r', event.len) == NULL);
	for (size_t at = 0; at + 1 < event.len;) {
		const char *eol = memchr(event.data + at, '\n', event.len - at);
		FUZZ_REQUIRE(eol != NULL && event.len - at >= 6 && memcmp(event.data + at, "data: ", 6) == 0);
		if (joined.len > 0 || at > 0)
			http_buf_append(&joined, "\n", 1);
		http_buf_append(&joined, event.data + at + 6, (size_t)(eol - (event.data + at) - 6));
		at = (size_t)(eol - event.data) + 1;
	}
	for (size_t i = 0; i < len; i++) {
		bool crlf = text[i] == '\r' && i + 1 < len && text[i + 1] == '\n';
		http_buf_append(&expected, text[i] == '\r' ? "\n" : &text[i], 1);
		i += crlf;
	}
	FUZZ_REQUIRE(joined.len == expected.len &&
	             (expected.len == 0 || memcmp(joined.data, expected.data, expected.len) == 0));
	http_buf_free(&event);
	http_buf_free(&joined);
	http_buf_free(&expected);

	char id_text[32];
	size_t id_len = len < sizeof(id_text) - 1 ? len : sizeof(id_text) - 1;
	memcpy(id_text, text, id_len);
	id_text[id_len] = '\0';
	uint64_t id;
	if (http_parse_event_id(id_text, &id)) {
		char back[32];
		snprintf(back, sizeof(back), "%llu", (unsigned long long)id);
		/* Digits only; the same number (leading zeros aside). */
		size_t zeros = strspn(id_text, "0");
		FUZZ_REQUIRE(strcmp(back, id_text + (zeros == strlen(id_text) ? zeros - 1 : zeros)) == 0);
	}
	return 0;
}
