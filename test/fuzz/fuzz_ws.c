/*
 * fuzz_ws.c - the WebSocket frame decoder and the UTF-8 validator.
 * The input is a stream of client frames, decoded whole and in pieces: the
 * events must match.  Every text message the decoder accepts must be valid
 * UTF-8 by an independent decoder, and http_utf8_valid must agree with
 * that decoder on the raw input itself.
 */
#include "http/ws.h"
#include "fuzz_common.h"

#include <string.h>

#define MAX_MESSAGE 8192

static void
decode_all(const uint8_t *data, size_t len, bool whole, http_buf *out)
{
	ws_decoder *d = ws_decoder_new(MAX_MESSAGE);
	FUZZ_REQUIRE(d != NULL);
	uint32_t state = fuzz_seed(data, len);
	size_t at = 0;
	bool ended = false;
	while (at < len && !ended) {
		size_t end = at + (whole ? len - at : fuzz_next_cut(&state, len - at));
		while (at < end) {
			size_t used;
			ws_event ev;
			ws_result r = ws_decoder_feed(d, data + at, end - at, &used, &ev);
			FUZZ_REQUIRE(used <= end - at);
			at += used;
			if (r == WS_NEED_MORE) {
				FUZZ_REQUIRE(at == end);
				break;
			}
			http_buf_printf(out, "%d:%d:%d:%zu;", (int)r, ev.opcode, ev.close_code, ev.len);
			if (r == WS_MESSAGE) {
				FUZZ_REQUIRE(ev.len <= MAX_MESSAGE);
				if (ev.opcode == WS_OP_TEXT)
					FUZZ_REQUIRE(fuzz_utf8_valid_by_decoding(ev.data, ev.len));
				http_buf_append(out, ev.data, ev.len);
			}
			if (r == WS_CLOSE || r == WS_FAIL) {
				ended = true;
				break;
			}
		}
	}
	ws_decoder_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	FUZZ_REQUIRE(http_utf8_valid(data, len) == fuzz_utf8_valid_by_decoding(data, len));
	http_buf whole = { 0 }, pieces = { 0 };
	decode_all(data, len, true, &whole);
	decode_all(data, len, false, &pieces);
	fuzz_require_same(&whole, &pieces);
	return 0;
}
