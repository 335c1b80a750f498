/*
 * ws.c - the WebSocket handshake and frame codec (see ws.h).
 */
#include "http/ws.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


/* ------------------------------------------------------------------ */
/* libcrypto's life                                                    */
/* ------------------------------------------------------------------ */

bool
ws_init(void)
{
	/* libcrypto sets itself up on first use, and that set-up may touch
	 * signal handling; one digest now does it before any thread exists. */
	char accept[29];
	return ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", accept) &&
	       strcmp(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0;
}

void
ws_thread_cleanup(void)
{
	OPENSSL_thread_stop();
}

/* ------------------------------------------------------------------ */
/* Handshake                                                           */
/* ------------------------------------------------------------------ */

bool
ws_accept_key(const char *key, char accept[29])
{
	char joined[64 + sizeof(WS_GUID)];
	size_t key_len = strlen(key);
	if (key_len > 64)
		return false;
	memcpy(joined, key, key_len);
	memcpy(joined + key_len, WS_GUID, sizeof(WS_GUID) - 1);
	unsigned char sha1[EVP_MAX_MD_SIZE];
	unsigned int sha1_len = 0;
	if (EVP_Digest(joined, key_len + sizeof(WS_GUID) - 1, sha1, &sha1_len, EVP_sha1(), NULL) != 1 ||
	    sha1_len != 20)
		return false;
	/* 20 bytes -> 28 base64 characters + NUL. */
	return EVP_EncodeBlock((unsigned char *)accept, sha1, 20) == 28;
}

bool
ws_key_valid(const char *key)
{
	if (key == NULL || strlen(key) != 24 || strcmp(key + 22, "==") != 0)
		return false;
	unsigned char raw[18];
	if (strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") != 22)
		return false;
	return EVP_DecodeBlock(raw, (const unsigned char *)key, 24) == 18;
}

int
ws_handshake_check(const http_request *req, char accept[29])
{
	if (req->method != HTTP_GET)
		return 405;
	if (!req->upgrade_websocket || !req->connection_upgrade)
		return 426;
	const char *version = http_header(req, "Sec-WebSocket-Version");
	if (version == NULL || strcmp(version, "13") != 0)
		return 426;
	const char *key = http_header(req, "Sec-WebSocket-Key");
	if (!ws_key_valid(key))
		return 400;
	return ws_accept_key(key, accept) ? 0 : 500;
}

/* ------------------------------------------------------------------ */
/* The decoder                                                         */
/* ------------------------------------------------------------------ */

typedef enum { ST_HEADER, ST_PAYLOAD, ST_ENDED } decoder_state;

struct ws_decoder {
	decoder_state state;
	size_t max_message;

	/* The frame header being collected: 2 to 14 bytes. */
	uint8_t head[14];
	size_t head_have, head_need;

	/* The current frame. */
	bool fin;
	int opcode;
	uint64_t remaining;       /* payload bytes still to come */
	uint64_t payload_pos;     /* payload bytes seen: the mask index */
	uint8_t mask[4];

	uint8_t control[WS_CONTROL_MAX];
	size_t control_len;

	/* The message being joined from its fragments. */
	int msg_opcode;           /* 0 when no message is open */
	http_buf msg;              /* its bytes so far, unmasked */
	http_utf8_state utf8;
	bool msg_delivered;       /* forget it at the next feed */
};

ws_decoder *
ws_decoder_new(size_t max_message)
{
	ws_decoder *d = calloc(1, sizeof(*d));
	if (d != NULL) {
		d->max_message = max_message;
		d->head_need = 2;
	}
	return d;
}

void
ws_decoder_free(ws_decoder *d)
{
	if (d != NULL)
		http_buf_free(&d->msg);
	free(d);
}

static ws_result
fail(ws_decoder *d, ws_event *ev, int code)
{
	d->state = ST_ENDED;
	ev->close_code = code;
	return WS_FAIL;
}

static bool
is_control(int opcode)
{
	return (opcode & 0x8) != 0;
}

/* Step 1, byte 1: FIN, RSV1-3, opcode.  0 or the close code to fail with. */
static int
check_first_byte(const ws_decoder *d, uint8_t b)
{
	int opcode = b & 0x0f;
	bool fin = (b & 0x80) != 0;
	if (b & 0x70)
		return WS_CLOSE_PROTOCOL_ERROR;   /* RSV bits: no extension agreed */
	if (opcode > WS_OP_BINARY && opcode < WS_OP_CLOSE)
		return WS_CLOSE_PROTOCOL_ERROR;   /* 0x3-0x7 are reserved */
	if (opcode > WS_OP_PONG)
		return WS_CLOSE_PROTOCOL_ERROR;   /* 0xB-0xF are reserved */
	if (is_control(opcode) && !fin)
		return WS_CLOSE_PROTOCOL_ERROR;   /* control frames are never split */
	if (opcode == WS_OP_CONTINUATION && d->msg_opcode == 0)
		return WS_CLOSE_PROTOCOL_ERROR;   /* continuing nothing */
	if ((opcode == WS_OP_TEXT || opcode == WS_OP_BINARY) && d->msg_opcode != 0)
		return WS_CLOSE_PROTOCOL_ERROR;   /* a new message inside another */
	return 0;
}

/* Step 2, byte 2: MASK bit and the 7-bit length; sets how long the header
 * is.  0 or the close code to fail with. */
static int
check_second_byte(ws_decoder *d, uint8_t b)
{
	if ((b & 0x80) == 0)
		return WS_CLOSE_PROTOCOL_ERROR;   /* client frames must be masked */
	int len7 = b & 0x7f;
	if (is_control(d->head[0] & 0x0f) && len7 > WS_CONTROL_MAX)
		return WS_CLOSE_PROTOCOL_ERROR;
	d->head_need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
	return 0;
}

/* The header is complete: read the length (steps 2b) and the mask (step 3). */
static int
start_payload(ws_decoder *d)
{
	const uint8_t *h = d->head;
	d->fin = (h[0] & 0x80) != 0;
	d->opcode = h[0] & 0x0f;
	uint64_t len = h[1] & 0x7f;
	size_t at = 2;
	if (len == 126) {                 /* 16-bit length, network order */
		len = ((uint64_t)h[2] << 8) | h[3];
		at = 4;
	} else if (len == 127) {          /* 64-bit length, network order */
		len = 0;
		for (int i = 0; i < 8; i++)
			len = (len << 8) | h[2 + i];
		at = 10;
		if (len >> 63)
			return WS_CLOSE_PROTOCOL_ERROR;   /* the top bit must be 0 */
	}
	memcpy(d->mask, h + at, 4);
	d->remaining = len;
	d->payload_pos = 0;
	d->control_len = 0;
	if (!is_control(d->opcode)) {
		if (len > d->max_message - d->msg.len)
			return WS_CLOSE_TOO_BIG;  /* checked before any allocation */
		if (d->opcode != WS_OP_CONTINUATION) {
			d->msg_opcode = d->opcode;
			d->msg.len = 0;
			http_utf8_init(&d->utf8);
		}
		if (!http_buf_reserve(&d->msg, (size_t)len))
			return WS_CLOSE_INTERNAL_ERROR;
	}
	d->state = ST_PAYLOAD;
	return 0;
}

/* Step 4: unmask payload bytes into their place; text is checked as UTF-8
 * here, so invalid text fails at its first bad byte.  0 or a close code. */
static int
take_payload(ws_decoder *d, const uint8_t *data, size_t n)
{
	uint8_t *dst = is_control(d->opcode) ? d->control + d->control_len
	                                     : (uint8_t *)d->msg.data + d->msg.len;
	for (size_t i = 0; i < n; i++)
		dst[i] = data[i] ^ d->mask[(d->payload_pos + i) & 3];
	d->payload_pos += n;
	d->remaining -= n;
	if (is_control(d->opcode)) {
		d->control_len += n;
		return 0;
	}
	d->msg.len += n;
	if (d->msg_opcode == WS_OP_TEXT)
		for (size_t i = 0; i < n; i++)
			if (!http_utf8_step(&d->utf8, dst[i]))
				return WS_CLOSE_INVALID_DATA;
	return 0;
}

bool
ws_close_code_valid(int code)
{
	if (code >= 3000 && code <= 4999)
		return true;                  /* registered and private codes */
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

/* A close frame: its optional code and UTF-8 reason. */
static ws_result
peer_closes(ws_decoder *d, ws_event *ev)
{
	if (d->control_len == 0) {
		ev->peer_code = WS_CLOSE_NO_STATUS;
		ev->close_code = WS_CLOSE_NORMAL;
	} else {
		if (d->control_len == 1)
			return fail(d, ev, WS_CLOSE_PROTOCOL_ERROR);
		int code = (d->control[0] << 8) | d->control[1];
		if (!ws_close_code_valid(code))
			return fail(d, ev, WS_CLOSE_PROTOCOL_ERROR);
		if (!http_utf8_valid(d->control + 2, d->control_len - 2))
			return fail(d, ev, WS_CLOSE_INVALID_DATA);
		ev->peer_code = code;
		ev->close_code = code;        /* echo it, as RFC 6455 5.5.1 asks */
	}
	d->state = ST_ENDED;
	ev->data = d->control;
	ev->len = d->control_len;
	return WS_CLOSE;
}

/* The frame's payload is complete: is it an event? */
static ws_result
end_frame(ws_decoder *d, ws_event *ev)
{
	d->state = ST_HEADER;
	d->head_have = 0;
	d->head_need = 2;
	switch (d->opcode) {
	case WS_OP_PING:
		ev->data = d->control;
		ev->len = d->control_len;
		return WS_PING;
	case WS_OP_PONG:
		ev->data = d->control;
		ev->len = d->control_len;
		return WS_PONG;
	case WS_OP_CLOSE:
		return peer_closes(d, ev);
	default:
		if (!d->fin)
			return WS_NEED_MORE;      /* more fragments to come */
		if (d->msg_opcode == WS_OP_TEXT && d->utf8.need != 0)
			return fail(d, ev, WS_CLOSE_INVALID_DATA);  /* cut mid-character */
		ev->opcode = d->msg_opcode;
		ev->data = (const uint8_t *)d->msg.data;
		ev->len = d->msg.len;
		d->msg_opcode = 0;
		d->msg_delivered = true;
		return WS_MESSAGE;
	}
}

ws_result
ws_decoder_feed(ws_decoder *d, const uint8_t *data, size_t len, size_t *used,
                ws_event *ev)
{
	*ev = (ws_event){ 0 };
	*used = 0;
	if (d->msg_delivered) {
		d->msg.len = 0;
		d->msg_delivered = false;
	}
	size_t i = 0;
	while (d->state != ST_ENDED) {
		int code = 0;
		if (d->state == ST_HEADER) {
			if (i == len)
				break;
			uint8_t b = data[i++];
			d->head[d->head_have++] = b;
			if (d->head_have == 1)
				code = check_first_byte(d, b);
			else if (d->head_have == 2)
				code = check_second_byte(d, b);
			if (code == 0 && d->head_have == d->head_need)
				code = start_payload(d);
		} else {
			size_t n = len - i < d->remaining ? len - i : (size_t)d->remaining;
			code = take_payload(d, data + i, n);
			i += n;
		}
		if (code != 0) {
			*used = i;
			return fail(d, ev, code);
		}
		if (d->state == ST_PAYLOAD && d->remaining == 0) {
			ws_result r = end_frame(d, ev);
			if (r != WS_NEED_MORE) {
				*used = i;
				return r;
			}
		} else if (d->state == ST_PAYLOAD && i == len) {
			break;
		}
	}
	*used = i;
	return WS_NEED_MORE;
}

/* ------------------------------------------------------------------ */
/* Server frames                                                       */
/* ------------------------------------------------------------------ */

size_t
ws_frame_header(uint8_t out[WS_FRAME_HEADER_MAX], int opcode, uint64_t len)
{
	out[0] = (uint8_t)(0x80 | (opcode & 0x0f));   /* FIN + opcode */
	if (len <= 125) {
		out[1] = (uint8_t)len;                     /* no mask bit */
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (int i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

void
ws_frame_append(http_buf *b, int opcode, const void *payload, size_t len)
{
	uint8_t head[WS_FRAME_HEADER_MAX];
	http_buf_append(b, head, ws_frame_header(head, opcode, len));
	http_buf_append(b, payload, len);
}

void
ws_close_frame_append(http_buf *b, int code)
{
	uint8_t payload[2] = { (uint8_t)(code >> 8), (uint8_t)code };
	ws_frame_append(b, WS_OP_CLOSE, payload, sizeof(payload));
}
