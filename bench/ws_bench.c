/*
 * ws_bench.c - WebSocket load generator: one process, epoll, many sockets.
 *
 *   broadcast  K clients join the chat (/ws?name=benchN); client 0 sends M
 *              messages, each carrying its send time; every client must
 *              receive every message.  At most W messages are in flight
 *              (W = 1: one at a time, for latency).  Prints deliveries/s
 *              and the latency send -> receipt, p50/p99/max.  Fails loudly
 *              if any delivery is missing or duplicated.
 *   echo       one /ws/echo client, round trips per second.
 *
 * usage: ws_bench PORT broadcast K M W
 *        ws_bench PORT echo SECONDS
 * Traffic goes to 127.0.0.1 only; every loop is bounded in count and time.
 */
#define _GNU_SOURCE /* memmem */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RUN_DEADLINE_SECONDS 120.0

typedef struct {
	int fd;
	uint8_t buf[65536];
	size_t len;
	long received;
} client;

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "ws_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
send_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			die("send");
		p += n;
		len -= (size_t)n;
	}
}

/* Connects and upgrades; returns the socket (blocking). */
static int
ws_open(int port, const char *target)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		die("connect");
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	char req[256];
	int n = snprintf(req, sizeof(req),
	                 "GET %s HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	                 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
	                 target);
	send_all(fd, req, (size_t)n);
	/* Read the 101 head byte by byte so no frame byte is eaten. */
	char head[1024];
	size_t got = 0;
	while (got < sizeof(head) - 1) {
		if (recv(fd, head + got, 1, 0) != 1)
			die("handshake");
		got++;
		if (got >= 4 && memcmp(head + got - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	head[got] = '\0';
	if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
		fprintf(stderr, "ws_bench: upgrade refused: %.40s\n", head);
		exit(1);
	}
	return fd;
}

/* Sends one masked text frame (payload < 126 bytes). */
static void
send_text(int fd, const char *text)
{
	uint8_t frame[256];
	size_t len = strlen(text);
	const uint8_t mask[4] = { 1, 2, 3, 4 };
	frame[0] = 0x81;
	frame[1] = (uint8_t)(0x80 | len);
	memcpy(frame + 2, mask, 4);
	for (size_t i = 0; i < len; i++)
		frame[6 + i] = (uint8_t)text[i] ^ mask[i & 3];
	send_all(fd, frame, 6 + len);
}

/*
 * Takes complete frames off c->buf; calls on_text(payload) for text frames.
 * Returns the number of text frames taken.
 */
static long
drain_frames(client *c, void (*on_text)(const char *payload, size_t len))
{
	long texts = 0;
	size_t off = 0;
	for (;;) {
		if (c->len - off < 2)
			break;
		uint8_t *h = c->buf + off;
		size_t hlen = 2, plen = h[1] & 0x7f;
		if (plen == 126) {
			if (c->len - off < 4)
				break;
			plen = ((size_t)h[2] << 8) | h[3];
			hlen = 4;
		} else if (plen == 127) {
			fprintf(stderr, "ws_bench: unexpected huge frame\n");
			exit(1);
		}
		if (c->len - off < hlen + plen)
			break;
		if ((h[0] & 0x0f) == 0x1) {
			on_text((const char *)h + hlen, plen);
			texts++;
		}
		off += hlen + plen;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	return texts;
}

/* ---------------------------------------------------------- broadcast */

static double *latencies;
static long latency_count, latency_cap;
static long *seen_per_message;
static long messages_total;

static void
record_delivery(const char *payload, size_t len)
{
	/* payload: {"status":true,"msg":"<index> <send time>",...} */
	const char *m = memmem(payload, len, "\"msg\":\"", 7);
	long index;
	double sent;
	if (m == NULL || sscanf(m + 7, "%ld %lf", &index, &sent) != 2 || index < 0 ||
	    index >= messages_total) {
		fprintf(stderr, "ws_bench: unexpected message %.*s\n", (int)len, payload);
		exit(1);
	}
	seen_per_message[index]++;
	if (latency_count < latency_cap)
		latencies[latency_count++] = now() - sent;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void
raise_fd_limit(long need)
{
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < (rlim_t)need) {
		lim.rlim_cur = (rlim_t)need < lim.rlim_max ? (rlim_t)need : lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
}

static int
broadcast(int port, long k, long m, long window)
{
	raise_fd_limit(k + 64);
	client *clients = calloc((size_t)k, sizeof(*clients));
	int ep = epoll_create1(0);
	for (long i = 0; i < k; i++) {
		char target[64];
		snprintf(target, sizeof(target), "/ws?name=bench%ld", i);
		clients[i].fd = ws_open(port, target);
		fcntl(clients[i].fd, F_SETFL, O_NONBLOCK);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &clients[i] };
		epoll_ctl(ep, EPOLL_CTL_ADD, clients[i].fd, &ev);
	}
	messages_total = m;
	latency_cap = k * m;
	latencies = malloc(sizeof(double) * (size_t)latency_cap);
	seen_per_message = calloc((size_t)m, sizeof(long));

	long sent = 0, complete = 0;   /* messages fully delivered, in order of index */
	double start = now(), deadline = start + RUN_DEADLINE_SECONDS;
	struct epoll_event events[256];
	while (complete < m && now() < deadline) {
		while (sent < m && sent - complete < window) {
			char text[64];
			snprintf(text, sizeof(text), "%ld %.9f", sent, now());
			send_text(clients[0].fd, text);
			sent++;
		}
		int n = epoll_wait(ep, events, 256, 1000);
		for (int e = 0; e < n; e++) {
			client *c = events[e].data.ptr;
			ssize_t got = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
			if (got <= 0) {
				if (got < 0 && errno == EAGAIN)
					continue;
				fprintf(stderr, "ws_bench: a client was disconnected\n");
				return 1;
			}
			c->len += (size_t)got;
			c->received += drain_frames(c, record_delivery);
		}
		while (complete < m && seen_per_message[complete] >= k)
			complete++;
	}
	double elapsed = now() - start;
	long expected = k * m, delivered = 0, duplicated = 0, missing = 0;
	for (long i = 0; i < m; i++) {
		delivered += seen_per_message[i];
		if (seen_per_message[i] > k)
			duplicated += seen_per_message[i] - k;
		if (seen_per_message[i] < k)
			missing += k - seen_per_message[i];
	}
	qsort(latencies, (size_t)latency_count, sizeof(double), cmp_double);
	double p50 = latency_count ? latencies[latency_count / 2] : 0;
	double p99 = latency_count ? latencies[(long)(latency_count * 0.99)] : 0;
	double max = latency_count ? latencies[latency_count - 1] : 0;
	printf("broadcast K=%ld M=%ld window=%ld: delivered %ld/%ld in %.2f s = %.0f deliveries/s; "
	       "latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
	       k, m, window, delivered, expected, elapsed, (double)delivered / elapsed,
	       p50 * 1e3, p99 * 1e3, max * 1e3);
	for (long i = 0; i < k; i++)
		close(clients[i].fd);
	if (missing || duplicated) {
		printf("FAILED: %ld missing, %ld duplicated deliveries\n", missing, duplicated);
		return 1;
	}
	return 0;
}

/* --------------------------------------------------------------- echo */

static void
ignore_text(const char *payload, size_t len)
{
	(void)payload;
	(void)len;
}

static int
echo(int port, double seconds)
{
	client c = { .fd = ws_open(port, "/ws/echo") };
	long rounds = 0;
	double start = now();
	while (now() - start < seconds && rounds < 10000000) {
		send_text(c.fd, "0123456789abcdef");
		long texts = 0;
		while (texts == 0) {
			ssize_t got = recv(c.fd, c.buf + c.len, sizeof(c.buf) - c.len, 0);
			if (got <= 0)
				die("echo recv");
			c.len += (size_t)got;
			texts = drain_frames(&c, ignore_text);
		}
		rounds++;
	}
	double elapsed = now() - start;
	printf("echo: %ld round trips in %.2f s = %.0f round trips/s (16-byte text)\n", rounds,
	       elapsed, (double)rounds / elapsed);
	close(c.fd);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 6 && strcmp(argv[2], "broadcast") == 0)
		return broadcast(atoi(argv[1]), atol(argv[3]), atol(argv[4]), atol(argv[5]));
	if (argc >= 4 && strcmp(argv[2], "echo") == 0)
		return echo(atoi(argv[1]), atof(argv[3]));
	fprintf(stderr, "usage: ws_bench PORT broadcast K M W | ws_bench PORT echo SECONDS\n");
	return 2;
}
