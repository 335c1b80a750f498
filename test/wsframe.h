/*
 * wsframe.h - a WebSocket *client* for the tests: it builds masked client
 * frames (any of them malformed on purpose) and reads server frames.
 */
#ifndef PUSHQ_TEST_WSFRAME_H
#define PUSHQ_TEST_WSFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WSF_HEADER_MAX 14

typedef struct {
	bool fin;
	int opcode;
	int rsv;                  /* RSV1-3 bits, 0..7 (non-zero is invalid) */
	bool unmasked;            /* invalid from a client */
	const uint8_t *payload;
	size_t len;
	uint8_t mask[4];
} wsf_frame;

/* Writes the frame (header + masked payload) into out, which needs
 * len + WSF_HEADER_MAX bytes; returns its size. */
size_t wsf_encode(uint8_t *out, const wsf_frame *f);

/* Connects to 127.0.0.1:port and upgrades `target` (e.g. "/ws/echo").
 * Returns the socket; fails the test unless the answer is 101 with the
 * right Sec-WebSocket-Accept. */
int wsf_connect(int port, const char *target);

/* Sends a frame. */
void wsf_send(int fd, const wsf_frame *f);

/* Sends one text or binary message in a single masked frame. */
void wsf_send_message(int fd, int opcode, const void *data, size_t len);

/* Reads one server frame: returns its opcode (-1 on EOF or a malformed or
 * masked server frame); *payload is malloc'd (free it), *len its size. */
int wsf_read(int fd, uint8_t **payload, size_t *len);

/* Reads frames until a close frame; returns its code (-1 if the socket
 * closed first, 1005 for an empty close). */
int wsf_read_close_code(int fd);

#endif
