/* wsframe.c - see wsframe.h. */
#include "wsframe.h"
#include "testutil.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

size_t
wsf_encode(uint8_t *out, const wsf_frame *f)
{
	size_t n = 0;
	out[n++] = (uint8_t)((f->fin ? 0x80 : 0) | ((f->rsv & 7) << 4) | (f->opcode & 0x0f));
	uint8_t mask_bit = f->unmasked ? 0 : 0x80;
	if (f->len <= 125) {
		out[n++] = mask_bit | (uint8_t)f->len;
	} else if (f->len <= 0xffff) {
		out[n++] = mask_bit | 126;
		out[n++] = (uint8_t)(f->len >> 8);
		out[n++] = (uint8_t)f->len;
	} else {
		out[n++] = mask_bit | 127;
		for (int i = 7; i >= 0; i--)
			out[n++] = (uint8_t)((uint64_t)f->len >> (8 * i));
	}
	if (!f->unmasked) {
		memcpy(out + n, f->mask, 4);
		n += 4;
	}
	for (size_t i = 0; i < f->len; i++)
		out[n + i] = f->unmasked ? f->payload[i] : f->payload[i] ^ f->mask[i & 3];
	return n + f->len;
}

int
wsf_connect(int port, const char *target)
{
	int fd = tu_connect(port);
	char req[512];
	snprintf(req, sizeof(req),
	         "GET %s HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
	         target);
	tu_send_str(fd, req);
	tu_response r = tu_read_response(fd, 1);
	char accept[64] = "";
	tu_header(&r, "Sec-WebSocket-Accept", accept, sizeof(accept));
	ck_assert_msg(r.status == 101, "upgrade of %s answered %d", target, r.status);
	ck_assert_str_eq(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	tu_response_free(&r);
	return fd;
}

void
wsf_send(int fd, const wsf_frame *f)
{
	uint8_t *buf = malloc(f->len + WSF_HEADER_MAX);
	size_t n = wsf_encode(buf, f);
	tu_send(fd, (const char *)buf, n);
	free(buf);
}

void
wsf_send_message(int fd, int opcode, const void *data, size_t len)
{
	wsf_frame f = { .fin = true, .opcode = opcode, .payload = data, .len = len,
	                .mask = { 0xa1, 0xb2, 0xc3, 0xd4 } };
	wsf_send(fd, &f);
}

static bool
read_exactly(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = recv(fd, buf + got, len - got, 0);
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

int
wsf_read(int fd, uint8_t **payload, size_t *len)
{
	uint8_t h[2];
	*payload = NULL;
	*len = 0;
	if (!read_exactly(fd, h, 2) || (h[1] & 0x80))
		return -1;                 /* server frames are never masked */
	uint64_t n = h[1] & 0x7f;
	uint8_t ext[8];
	if (n == 126) {
		if (!read_exactly(fd, ext, 2))
			return -1;
		n = ((uint64_t)ext[0] << 8) | ext[1];
	} else if (n == 127) {
		if (!read_exactly(fd, ext, 8))
			return -1;
		n = 0;
		for (int i = 0; i < 8; i++)
			n = (n << 8) | ext[i];
	}
	*payload = malloc(n + 1);
	if (!read_exactly(fd, *payload, n)) {
		free(*payload);
		*payload = NULL;
		return -1;
	}
	(*payload)[n] = 0;
	*len = n;
	return h[0] & 0x0f;
}

int
wsf_read_close_code(int fd)
{
	for (;;) {
		uint8_t *p;
		size_t len;
		int op = wsf_read(fd, &p, &len);
		if (op < 0)
			return -1;
		int code = len >= 2 ? (p[0] << 8) | p[1] : 1005;
		free(p);
		if (op == 0x8)
			return code;
	}
}
