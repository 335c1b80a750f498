/*
 * ws.h - WebSocket (RFC 6455) without sockets: the opening handshake, an
 * incremental frame decoder for client frames, and the header of server
 * frames.  The server code in server/push/ws_session.c does the I/O.
 *
 * The decoder is the tutorial's "receiving data" step, one state per step:
 *   1. byte 1: FIN bit, three reserved bits, the 4-bit opcode;
 *   2. byte 2: MASK bit and a 7-bit length; 126 means "the real length is
 *      the next 2 bytes", 127 means "the next 8 bytes";
 *   3. the 4-byte masking key (every client frame must have one);
 *   4. the payload, each byte XORed with key[i % 4].
 * It is strict: every rule a server must enforce is checked as the bytes
 * arrive, and the result says which close code to answer with.
 *
 * Thread-safety: a decoder belongs to one connection's reading thread.
 */
#ifndef PUSHQ_WS_H
#define PUSHQ_WS_H

#include "http/http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opcodes (RFC 6455 section 5.2). */
enum {
	WS_OP_CONTINUATION = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA
};

/* Close codes we send (RFC 6455 section 7.4.1). */
enum {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL_ERROR = 1002,
	WS_CLOSE_UNSUPPORTED = 1003,
	WS_CLOSE_NO_STATUS = 1005,     /* never sent: "the close had no code" */
	WS_CLOSE_INVALID_DATA = 1007,
	WS_CLOSE_POLICY = 1008,        /* a policy violation: an expired token */
	WS_CLOSE_TOO_BIG = 1009,
	WS_CLOSE_INTERNAL_ERROR = 1011
};

#define WS_CONTROL_MAX 125       /* largest control-frame payload */
#define WS_FRAME_HEADER_MAX 10   /* largest server frame header (unmasked) */

/* ------------------------------------------------------------------ */
/* libcrypto (SHA-1, base64) stays inside ws.c                         */
/* ------------------------------------------------------------------ */

/* Sets libcrypto up and checks it against RFC 6455's example key.  Call
 * once, before threads start and before signals are masked.  False when
 * libcrypto does not work. */
bool ws_init(void);

/* Frees what libcrypto keeps for the calling thread (it would free it at
 * thread exit; a thread that did a handshake calls this when its session
 * ends, so a server that exits right after leaks nothing). */
void ws_thread_cleanup(void);

/* ------------------------------------------------------------------ */
/* Handshake                                                           */
/* ------------------------------------------------------------------ */

/*
 * Checks an upgrade request: GET, "Upgrade: websocket", "Connection:
 * upgrade", "Sec-WebSocket-Version: 13" and a Sec-WebSocket-Key that is
 * 16 bytes in base64.  Returns 0 and fills accept[29] (the
 * Sec-WebSocket-Accept value, NUL-terminated); otherwise returns the status
 * to answer with: 405 (not GET), 426 (not an upgrade, or another version:
 * answer with "Sec-WebSocket-Version: 13"), 400 (bad or missing key).
 */
int ws_handshake_check(const http_request *req, char accept[29]);

/* The GUID every WebSocket server appends to the key (RFC 6455 1.3). */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* True when key is 16 bytes in base64: 24 characters ending in "==". */
bool ws_key_valid(const char *key);

/* base64(SHA-1(key + RFC 6455's GUID)) into accept[29], via libcrypto.
 * Returns false only if libcrypto fails. */
bool ws_accept_key(const char *key, char accept[29]);

/* ------------------------------------------------------------------ */
/* Frames from the client                                              */
/* ------------------------------------------------------------------ */

typedef enum {
	WS_NEED_MORE, /* all input used; feed more */
	WS_MESSAGE,   /* a whole text or binary message (fragments joined) */
	WS_PING,      /* answer with a pong carrying the same payload */
	WS_PONG,
	WS_CLOSE,     /* the peer closes: answer with close_code, then end */
	WS_FAIL       /* broken input: send close_code, then end */
} ws_result;

/* What a feed produced.  Pointers stay valid until the next feed. */
typedef struct {
	int opcode;              /* WS_OP_TEXT or WS_OP_BINARY for messages */
	const uint8_t *data;     /* message or control payload */
	size_t len;
	int close_code;          /* WS_CLOSE and WS_FAIL: the code to send */
	int peer_code;           /* WS_CLOSE: what the peer sent (or 1005) */
} ws_event;

typedef struct ws_decoder ws_decoder;

/* A decoder accepting messages of at most max_message bytes (else 1009).
 * NULL when out of memory. */
ws_decoder *ws_decoder_new(size_t max_message);
void ws_decoder_free(ws_decoder *d);

/*
 * Feeds len bytes.  Stops at the first event (*used says how many bytes it
 * took; feed the rest after handling the event) or when the input is used
 * up (WS_NEED_MORE).  After WS_FAIL or WS_CLOSE, feeding does nothing.
 */
ws_result ws_decoder_feed(ws_decoder *d, const uint8_t *data, size_t len,
                          size_t *used, ws_event *ev);

/* ------------------------------------------------------------------ */
/* Frames to the client                                                */
/* ------------------------------------------------------------------ */

/*
 * Writes the header of a final, unmasked server frame with this opcode and
 * payload length into out; returns its size (2, 4 or 10 bytes): the 7-bit
 * length, or 126 + 16 bits, or 127 + 64 bits.
 */
size_t ws_frame_header(uint8_t out[WS_FRAME_HEADER_MAX], int opcode, uint64_t len);

/* Appends a whole server frame (header + payload) to b. */
void ws_frame_append(http_buf *b, int opcode, const void *payload, size_t len);

/* Appends a close frame with `code` (and no reason) to b. */
void ws_close_frame_append(http_buf *b, int code);

/* True for codes a peer may send in a close frame (RFC 6455 7.4). */
bool ws_close_code_valid(int code);

#endif
