/*
 * fanout.c - the push load generator (wrk cannot measure fan-out): one
 * process, epoll, thousands of sockets, against pushq or any peer that
 * speaks the same API.
 *
 * PORT may be two, PORT_A,PORT_B (two nodes sharing a room through Redis):
 * clients alternate between them, and the sender is on the first.
 *
 *   fanout lp   PORT N M [RATE] [PID]   N long-poll clients (/ab_b1?name=,
 *               then one /get_msg always outstanding on a keep-alive
 *               connection); M messages through POST /send_msg
 *   fanout ws   PORT N M [RATE] [PID]   N WebSocket chat clients (/ws?name=);
 *               M messages sent as text frames by client 0
 *   fanout sse  PORT N M [RATE] [PID]   N Server-Sent Events streams
 *               (/events?name=); M messages through POST /send_msg
 *   fanout echo PORT SECONDS            round trips on one /ws/echo socket
 *   fanout register PORT N PREFIX [CHANNELS]  registers N idle clients
 *               PREFIX0.. (with channels=CHANNELS); pipelined on a few
 *               keep-alive connections when the server keeps them open
 *   fanout listen PORT N SECONDS        N WebSocket chat clients that read
 *               (and count) every frame for SECONDS: the audience while
 *               wrk measures POST /send_msg; prints "ready" once all are in
 *
 * --api NAME before the mode speaks a peer's API instead of pushq's (one
 * channel "room", no registration, no CHANNEL):
 *   --api nchan   nginx + nchan (bench/peers/nchan/nginx.conf): subscribers
 *                 on /lp/room, /sse/room, /ws/room; messages published by
 *                 POST /pub/room with the JSON {"msg":"..."} as the body; a
 *                 long poll sends the Last-Modified and Etag of its last
 *                 answer back (If-Modified-Since, If-None-Match), as nchan's
 *                 own client does
 *   --api grip    Pushpin in front of bench/peers/pushpin/origin.py:
 *                 /get_msg?since=ID (ID: the last id this client had),
 *                 /events, /ws; messages by POST /send_msg
 * With a peer, WebSocket messages are published by POST too (pushq's are
 * text frames from client 0).
 *
 * PID may be a list, PID,PID,... (a server of several processes: nginx's
 * master and workers, Pushpin's runner, its services and the origin): CPU
 * and threads are summed, and memory is the sum of their Pss (shared pages
 * divided among the processes that share them) instead of one VmRSS.
 *
 * lp, ws and sse take a last argument CHANNEL (after RATE and PID): every
 * client joins with channels=CHANNEL on its URLs, each message goes to that
 * channel (POST channel=CHANNEL; a WebSocket text frame goes to the sender's
 * first channel), and before each one a message another client may get goes
 * out (alternately channel=CHANNEL.noise and to=fanoutnoise, both to one
 * client registered here): a delivery that does not say
 * "channel":"CHANNEL" is counted as wrong_channel, and a POST whose
 * "receivers" is not N (1 for the other) as receivers_off; either fails the
 * run.
 *
 * RATE 0 sends one message at a time (the next when every client has the
 * last one: latency); RATE > 0 offers that many messages per second
 * (throughput).  Each message carries its send time; every delivery's
 * latency is recorded, and for each message the time until the last client
 * had it.  Every delivery is counted: a missing or duplicated one fails the
 * run (exit 1).  With PID, the server's RSS, threads and CPU time come from
 * /proc/PID before and after, and CPU per delivery is printed.
 *
 * The last line is machine-readable: "RESULT key=value ...".
 * Traffic goes to 127.0.0.1 only; every wait is bounded.
 */
#define _GNU_SOURCE /* memmem */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MESSAGE_DEADLINE 10.0   /* a message not everywhere by then is missing */
#define RUN_DEADLINE 300.0
#define BUF_SIZE 65536

typedef struct {
	int fd;
	bool head_seen;             /* sse: the response head is read */
	long since;                 /* --api grip: the id of the last message had */
	char validators[192];       /* --api nchan: If-Modified-Since/If-None-Match lines */
	char buf[BUF_SIZE];
	size_t len;
} client;

typedef enum { API_PUSHQ, API_NCHAN, API_GRIP } server_api;
static server_api api = API_PUSHQ;

static int port;                /* the sender's node (the first PORT) */
static int ports[2];            /* PORT or PORT_A,PORT_B: client i uses ports[i % n_ports] */
static int n_ports = 1;
static bool websocket;
static bool sse;                /* Server-Sent Events (messages by POST, like lp) */
static long n_clients, n_messages;
static client *clients;
static double *sent_at;         /* per message */
static long *deliveries;        /* per message: how many clients had it */
static double *last_at;         /* per message: when the last client had it */
static double *latency;         /* per delivery */
static long frames_seen;        /* WebSocket text frames, for `listen` */
static long latency_count;
static long duplicates_seen;
static const char *channel;     /* lp/ws/sse CHANNEL, or NULL */
static char channel_tag[96];    /* "channel":"CHANNEL" */
static long wrong_channel;      /* deliveries of another channel, or direct */
static long receivers_off;      /* POST answers whose "receivers" was not as expected */

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fail(const char *what)
{
	fprintf(stderr, "fanout: %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(1);
}

static void
send_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	double deadline = now() + MESSAGE_DEADLINE;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR) && now() < deadline)
			continue;
		if (n <= 0)
			fail("send");
		p += n;
		len -= (size_t)n;
	}
}

static int
connect_to(int to_port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)to_port),
	                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		fail("connect");
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct timeval tv = { 30, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* The sender's node. */
static int
connect_local(void)
{
	return connect_to(port);
}

/* Client i's node: with two nodes, every other client is on the second. */
static int
connect_client(long i)
{
	return n_ports > 1 ? connect_to(ports[i % n_ports]) : connect_local();
}

static bool last_response_closes;   /* the last response said Connection: close */

/* Reads one whole HTTP response (blocking); returns its status. */
static int
read_response(int fd, char *body, size_t cap)
{
	char head[4096];
	size_t got = 0;
	while (got < sizeof(head) - 1) {
		if (recv(fd, head + got, 1, 0) != 1)
			fail("reading a response");
		got++;
		if (got >= 4 && memcmp(head + got - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	head[got] = '\0';
	int status = 0;
	sscanf(head, "HTTP/1.%*d %d", &status);
	const char *cl = strcasestr(head, "\r\nContent-Length:");
	size_t len = cl ? strtoul(cl + 17, NULL, 10) : 0;
	last_response_closes = strcasestr(head, "\r\nConnection: close") != NULL ||
	                       strncmp(head, "HTTP/1.0", 8) == 0;
	for (size_t read_so_far = 0; read_so_far < len;) {
		char sink[4096];
		char *dst = read_so_far < cap ? body + read_so_far : sink;
		size_t room = read_so_far < cap ? cap - read_so_far : sizeof(sink);
		ssize_t n = recv(fd, dst, len - read_so_far < room ? len - read_so_far : room, 0);
		if (n <= 0)
			fail("reading a body");
		read_so_far += (size_t)n;
	}
	if (body != NULL && cap > 0)
		body[len < cap ? len : cap - 1] = '\0';
	return status;
}

/* ---------------------------------------------------------- deliveries */

/* A message body carries "<index> <send time>" as its text. */
static void
record(const char *json, size_t len)
{
	/* "msg":"..." (Django's JsonResponse writes "msg": "...", with a space) */
	const char *m = memmem(json, len, "\"msg\":", 6);
	long index;
	double sent;
	if (channel != NULL && memmem(json, len, "\"id\":", 5) != NULL &&
	    memmem(json, len, channel_tag, strlen(channel_tag)) == NULL) {
		wrong_channel++;    /* a message, not of our channel */
		return;
	}
	if (m != NULL)
		m += 6 + (m[6] == ' ');
	if (m == NULL || *m != '"' || sscanf(m + 1, "%ld %lf", &index, &sent) != 2 || index < 0 ||
	    index >= n_messages)
		return;             /* not one of ours (a timeout answer, say) */
	double t = now();
	if (++deliveries[index] > n_clients)
		duplicates_seen++;
	last_at[index] = t;
	if (latency_count < n_clients * n_messages)
		latency[latency_count++] = t - sent;
}

/* ------------------------------------------------------ long-poll side */

static void
send_get_msg(client *c, long i)
{
	char req[512];
	int n;
	if (api == API_NCHAN)
		n = snprintf(req, sizeof(req), "GET /lp/room HTTP/1.1\r\nHost: b\r\n%s\r\n", c->validators);
	else if (api == API_GRIP)
		n = snprintf(req, sizeof(req), "GET /get_msg?since=%ld HTTP/1.1\r\nHost: b\r\n\r\n", c->since);
	else
		n = snprintf(req, sizeof(req), "GET /get_msg/?name=fan%ld&timeout=30%s%s HTTP/1.1\r\nHost: b\r\n\r\n",
		             i, channel ? "&channels=" : "", channel ? channel : "");
	/* A server that closed this connection makes the send fail: the
	 * reader sees the close and reconnects. */
	if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n && errno != EPIPE && errno != ECONNRESET)
		fail("send");
}

/* The value of header NAME in HEAD (HEAD_LEN bytes) into OUT, or "". */
static void
header_value(const char *head, size_t head_len, const char *name, char *out, size_t cap)
{
	out[0] = '\0';
	const char *h = memmem(head, head_len, name, strlen(name));
	if (h == NULL)
		return;
	h += strlen(name);
	while (*h == ' ')
		h++;
	size_t len = strcspn(h, "\r\n");
	if (len >= cap)
		len = cap - 1;
	memcpy(out, h, len);
	out[len] = '\0';
}

/* A peer's long poll asks for the message after the last one it had: nchan
 * by its answer's Last-Modified and Etag, the GRIP origin by the id. */
static void
remember_position(client *c, size_t head_len, size_t body_len)
{
	if (api == API_NCHAN) {
		char modified[64], etag[64];
		header_value(c->buf, head_len, "\r\nLast-Modified:", modified, sizeof(modified));
		header_value(c->buf, head_len, "\r\nEtag:", etag, sizeof(etag));
		if (modified[0] != '\0')
			snprintf(c->validators, sizeof(c->validators), "If-Modified-Since: %s\r\nIf-None-Match: %s\r\n",
			         modified, etag);
	} else if (api == API_GRIP) {
		const char *id = memmem(c->buf + head_len, body_len, "\"id\":", 5);
		if (id != NULL)
			c->since = strtol(id + 5, NULL, 10);
	}
}

/* Takes whole HTTP responses off c->buf; returns how many. */
static int
lp_drain(client *c, long i)
{
	int answers = 0;
	for (;;) {
		char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		if (end == NULL)
			break;
		size_t head_len = (size_t)(end - c->buf) + 4;
		const char *cl = memmem(c->buf, head_len, "Content-Length:", 15);
		if (cl == NULL)
			cl = memmem(c->buf, head_len, "content-length:", 15);
		if (cl == NULL)
			break;           /* no length: the body ends when the server closes */
		size_t body_len = strtoul(cl + 15, NULL, 10);
		if (c->len < head_len + body_len)
			break;
		record(c->buf + head_len, body_len);
		remember_position(c, head_len, body_len);
		memmove(c->buf, c->buf + head_len + body_len, c->len - head_len - body_len);
		c->len -= head_len + body_len;
		send_get_msg(c, i);      /* always one request outstanding */
		answers++;
	}
	return answers;
}

static void
lp_open_all(void)
{
	int reg[2] = { -1, -1 };           /* one registering connection per node */
	for (long i = 0; i < n_clients && api != API_PUSHQ; i++) {
		clients[i].fd = connect_client(i);   /* a peer has no registration */
		send_get_msg(&clients[i], i);
	}
	for (long i = 0; i < n_clients && api == API_PUSHQ; i++) {
		/* Register on the client's node (on a connection reused while the
		 * server keeps it)... */
		int *r = &reg[i % n_ports];
		if (*r < 0)
			*r = connect_client(i);
		char req[256];
		int n = snprintf(req, sizeof(req), "GET /ab_b1/?name=fan%ld%s%s HTTP/1.1\r\nHost: b\r\n\r\n", i,
		                 channel ? "&channels=" : "", channel ? channel : "");
		send_all(*r, req, (size_t)n);
		if (read_response(*r, NULL, 0) != 200)
			fail("registering a client");
		if (last_response_closes) {
			close(*r);
			*r = -1;
		}
		/* ...then the client's own connection, with its first /get_msg. */
		clients[i].fd = connect_client(i);
		send_get_msg(&clients[i], i);
	}
	for (int k = 0; k < 2; k++)
		if (reg[k] >= 0)
			close(reg[k]);
}

static long reconnects;

/* A server that closes after each answer (the seed's Django does): the
 * client opens a new connection and asks again, as a browser would. */
static void
lp_reconnect(int ep, long i)
{
	client *c = &clients[i];
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = connect_client(i);
	c->len = 0;
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)i };
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	send_get_msg(c, i);
	reconnects++;
}

static int sender_fd = -1;

/*
 * A POST's answer is read while the deliveries are: pushq answers
 * /send_msg once it has put the message into every queue (its "receivers"
 * count), nchan once it has queued it.  A sender that waited for that
 * answer before reading its streams again would read every delivery only
 * after the whole fan-out and charge that to the server's latency; so the
 * answer waits in the pump's epoll set (key ANSWER_KEY) beside the clients.
 */
#define ANSWER_KEY UINT64_MAX
static int answers_ep = -1;       /* the pump's epoll set, once there is one */
static bool answer_pending;       /* a POST's answer is not read yet */
static bool answer_in_pump;       /* ...and sender_fd is in the pump's set for it */
static long answer_expect;        /* its "receivers" should be this (with a channel) */
static char answer_body[192];     /* its body, for the error message */

/* Reads the answer to the last POST (blocking) and checks it. */
static void
take_answer(void)
{
	if (answer_in_pump)
		epoll_ctl(answers_ep, EPOLL_CTL_DEL, sender_fd, NULL);
	answer_pending = answer_in_pump = false;
	char answer[256];
	int status = read_response(sender_fd, answer, sizeof(answer));
	if (status < 200 || status > 299)   /* nchan: 201 Created, 202 Accepted */
		fail("POST /send_msg");
	const char *k = strstr(answer, "\"receivers\":");
	if (channel != NULL && k != NULL && strtol(k + 12, NULL, 10) != answer_expect) {
		if (receivers_off++ == 0)
			fprintf(stderr, "fanout: %s answered %s (expected %ld receivers)\n", answer_body, answer,
			        answer_expect);
	}
	if (last_response_closes) {
		close(sender_fd);
		sender_fd = -1;
	}
}

/* POST /send_msg with BODY on the sender's connection; with a channel, the
 * answer's "receivers" must be EXPECT (pushq answers JSON; a peer's "ok" has
 * none and is not checked).  index >= 0: the send time of that message.
 * The answer is read by the pump (see ANSWER_KEY), or here before the next
 * POST; Pushpin's long poll (grip) asks its origin in between: read here. */
static void
post_send(const char *body, long index, long expect)
{
	if (answer_pending)
		take_answer();             /* one request at a time on the connection */
	char req[512];
	int n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: b\r\n"
	                 "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
	                 api == API_NCHAN ? "/pub/room" : "/send_msg/",
	                 api == API_NCHAN ? "application/json" : "application/x-www-form-urlencoded",
	                 strlen(body), body);
	if (sender_fd < 0)
		sender_fd = connect_local();
	if (index >= 0)
		sent_at[index] = now();
	send_all(sender_fd, req, (size_t)n);
	answer_expect = expect;
	snprintf(answer_body, sizeof(answer_body), "%s", body);
	answer_pending = true;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = ANSWER_KEY };
	answer_in_pump = index >= 0 && api != API_GRIP && answers_ep >= 0 &&
	                 epoll_ctl(answers_ep, EPOLL_CTL_ADD, sender_fd, &ev) == 0;
	if (!answer_in_pump)
		take_answer();
}

/* --api grip, long poll: waits until the origin told every client's
 * re-poll to hold since the last message (bench/peers/pushpin/origin.py,
 * "the re-poll race"), then a little for Pushpin to hold the last of them. */
static long holding_errors;

static void
grip_wait_for_holds(void)
{
	char answer[128];
	static const char req[] = "GET /holding HTTP/1.1\r\nHost: b\r\n\r\n";
	size_t n = sizeof(req) - 1;
	for (double deadline = now() + MESSAGE_DEADLINE; now() < deadline;) {
		if (sender_fd < 0)
			sender_fd = connect_local();
		send_all(sender_fd, req, n);
		int status = read_response(sender_fd, answer, sizeof(answer));
		if (last_response_closes) {
			close(sender_fd);
			sender_fd = -1;
		}
		const char *held = strstr(answer, "\"held\":");
		if (status == 200 && held != NULL && strtol(held + 7, NULL, 10) >= n_clients)
			break;
		if (status != 200 && holding_errors++ == 0)   /* asked again; said once */
			fprintf(stderr, "fanout: GET /holding answered %d: %s\n", status, answer);
		struct timespec pause = { 0, 20 * 1000 * 1000 };   /* a few requests a message */
		nanosleep(&pause, NULL);
	}
	struct timespec grace = { 0, 50 * 1000 * 1000 };
	nanosleep(&grace, NULL);
}

static void
lp_send(long index)
{
	char body[192];
	if (api == API_GRIP && !websocket && !sse)
		grip_wait_for_holds();
	if (api == API_NCHAN)   /* nchan delivers the body as it is */
		snprintf(body, sizeof(body), "{\"msg\":\"%ld %.9f\"}", index, now());
	else
		snprintf(body, sizeof(body), "content=%ld+%.9f&name=fanout%s%s", index, now(),
		         channel ? "&channel=" : "", channel ? channel : "");
	post_send(body, index, n_clients);
}

/* Before message INDEX: one for somebody else (one client), alternately in
 * the channel CHANNEL.noise and direct; no member may get it. */
static void
noise_send(long index)
{
	char body[192];
	if (index % 2 == 0)
		snprintf(body, sizeof(body), "content=noise+%ld&name=fanout&channel=%s.noise", index, channel);
	else
		snprintf(body, sizeof(body), "content=noise+%ld&name=fanout&to=fanoutnoise", index);
	post_send(body, -1, 1);
}

/* ------------------------------------------------------ WebSocket side */

static void
ws_handshake(int fd, const char *target)
{
	char req[320];
	int n = snprintf(req, sizeof(req),
	                 "GET %s HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	                 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
	                 target);
	send_all(fd, req, (size_t)n);
	char head[1024];
	size_t got = 0;
	while (got < sizeof(head) - 1) {          /* byte by byte: eat no frame */
		if (recv(fd, head + got, 1, 0) != 1)
			fail("handshake");
		got++;
		if (got >= 4 && memcmp(head + got - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	if (strncmp(head, "HTTP/1.1 101", 12) != 0)
		fail("upgrade refused");
}

static void
ws_send_text(int fd, const char *text)
{
	uint8_t frame[256];
	size_t len = strlen(text);
	const uint8_t mask[4] = { 0x11, 0x22, 0x33, 0x44 };
	frame[0] = 0x81;
	frame[1] = (uint8_t)(0x80 | len);
	memcpy(frame + 2, mask, 4);
	for (size_t i = 0; i < len; i++)
		frame[6 + i] = (uint8_t)text[i] ^ mask[i & 3];
	send_all(fd, frame, 6 + len);
}

/* Takes whole server frames off c->buf; text frames are deliveries; a ping
 * is answered.  Returns the number of text frames. */
static int
ws_drain(client *c)
{
	int texts = 0;
	size_t off = 0;
	while (c->len - off >= 2) {
		uint8_t *h = (uint8_t *)c->buf + off;
		size_t hlen = 2, plen = h[1] & 0x7f;
		if (plen == 126) {
			if (c->len - off < 4)
				break;
			plen = ((size_t)h[2] << 8) | h[3];
			hlen = 4;
		} else if (plen == 127) {
			fail("a frame too large for this benchmark");
		}
		if (c->len - off < hlen + plen)
			break;
		int opcode = h[0] & 0x0f;
		if (opcode == 0x1) {
			record((const char *)h + hlen, plen);
			texts++;
			frames_seen++;
		} else if (opcode == 0x9) {
			uint8_t pong[6] = { 0x8a, 0x80, 0, 0, 0, 0 };   /* empty, masked */
			send_all(c->fd, pong, sizeof(pong));
		}
		off += hlen + plen;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	return texts;
}

static void
ws_open_all(void)
{
	for (long i = 0; i < n_clients; i++) {
		char target[160];
		snprintf(target, sizeof(target), "/ws?name=fan%ld%s%s", i, channel ? "&channels=" : "",
		         channel ? channel : "");
		if (api != API_PUSHQ)
			snprintf(target, sizeof(target), "%s", api == API_NCHAN ? "/ws/room" : "/ws");
		clients[i].fd = connect_client(i);
		ws_handshake(clients[i].fd, target);
	}
}

static void
ws_send(long index)
{
	char text[96];
	snprintf(text, sizeof(text), "%ld %.9f", index, now());
	sent_at[index] = now();
	ws_send_text(clients[0].fd, text);
}

/* ------------------------------------------------------------ SSE side */

/* Reads a stream's response head (byte by byte: no event is eaten). */
static void
sse_read_head(client *c)
{
	char head[1024];
	size_t got = 0;
	while (got < sizeof(head) - 1) {
		if (recv(c->fd, head + got, 1, 0) != 1)
			fail("an /events head");
		got++;
		if (got >= 4 && memcmp(head + got - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	head[got] = '\0';
	if (strncmp(head, "HTTP/1.1 200", 12) != 0) {
		fprintf(stderr, "fanout: an /events stream was refused: %.*s\n", (int)strcspn(head, "\r\n"), head);
		exit(1);
	}
	c->head_seen = true;
}

static void
sse_open_all(void)
{
	for (long i = 0; i < n_clients; i++) {
		char req[256];
		int n = snprintf(req, sizeof(req), "GET /events?name=fan%ld%s%s HTTP/1.1\r\nHost: b\r\n"
		                 "Accept: text/event-stream\r\n\r\n", i, channel ? "&channels=" : "",
		                 channel ? channel : "");
		if (api != API_PUSHQ)
			n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: b\r\nAccept: text/event-stream\r\n\r\n",
			             api == API_NCHAN ? "/sse/room" : "/events");
		clients[i].fd = connect_client(i);
		send_all(clients[i].fd, req, (size_t)n);
		/* Pushpin answers 502 (its HTTP client "unavailable") to a burst of
		 * a thousand streams opening at once through it to the origin: one
		 * stream at a time, each open once its head is in. */
		if (api == API_GRIP)
			sse_read_head(&clients[i]);
	}
}

/* Takes the head, then whole events ("...\n\n") off c->buf; each event's
 * data line is the /get_msg JSON. */
static void
sse_drain(client *c)
{
	size_t off = 0;
	if (!c->head_seen) {
		char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		if (end == NULL)
			return;
		if (strncmp(c->buf, "HTTP/1.1 200", 12) != 0) {
			fprintf(stderr, "fanout: an /events stream was refused: %.*s\n",
			        (int)strcspn(c->buf, "\r\n"), c->buf);
			exit(1);
		}
		c->head_seen = true;
		off = (size_t)(end + 4 - c->buf);
	}
	for (;;) {
		char *end = memmem(c->buf + off, c->len - off, "\n\n", 2);
		if (end == NULL)
			break;
		size_t block = (size_t)(end + 2 - (c->buf + off));
		char *data = memmem(c->buf + off, block, "data: ", 6);
		if (data != NULL) {
			char *eol = memchr(data, '\n', (size_t)(end + 1 - data));
			record(data + 6, (size_t)(eol - data - 6));
		}
		off += block;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
}

/* ------------------------------------------------------------ /proc */

typedef struct { long rss_kib, threads; double cpu_s; } proc_usage;

#define MAX_PIDS 16
static long pids[MAX_PIDS];     /* the server's processes (PID or PID,PID,...) */
static int n_pids;

/* One process's Pss (KiB) from /proc/PID/smaps_rollup, or -1. */
static long
pss_of(long pid)
{
	char path[64], line[256];
	long pss = -1;
	snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Pss: %ld", &pss) == 1)
			break;
	if (f)
		fclose(f);
	return pss;
}

static proc_usage
usage_of_one(long pid)
{
	proc_usage u = { 0, 0, 0 };
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", &u.rss_kib);
		sscanf(line, "Threads: %ld", &u.threads);
	}
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f && fgets(line, sizeof(line), f)) {
		/* utime and stime are fields 14 and 15, after "(comm)". */
		const char *p = strrchr(line, ')');
		unsigned long utime = 0, stime = 0;
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		                &utime, &stime) == 2)
			u.cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
	}
	if (f)
		fclose(f);
	return u;
}

/* The server's usage: one process as it is; several summed, with Pss for
 * memory (their shared pages, nchan's shared memory say, counted once). */
static proc_usage
usage_of_server(void)
{
	proc_usage sum = { 0, 0, 0 };
	for (int k = 0; k < n_pids; k++) {
		proc_usage u = usage_of_one(pids[k]);
		long pss = n_pids > 1 ? pss_of(pids[k]) : -1;
		sum.rss_kib += pss >= 0 ? pss : u.rss_kib;
		sum.threads += u.threads;
		sum.cpu_s += u.cpu_s;
	}
	return sum;
}

/* PID or PID,PID,...: the processes whose usage is measured. */
static void
parse_pids(const char *list)
{
	for (const char *p = list; p != NULL && *p != '\0' && n_pids < MAX_PIDS;) {
		long pid = strtol(p, NULL, 10);
		if (pid > 0)
			pids[n_pids++] = pid;
		p = strchr(p, ',');
		if (p != NULL)
			p++;
	}
}

/* ------------------------------------------------------------- the run */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double
percentile(double *sorted, long count, double p)
{
	if (count == 0)
		return 0;
	long i = (long)(p * (double)(count - 1) + 0.5);
	return sorted[i];
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

/* An epoll set of every client's socket (made non-blocking), keyed by index. */
static int
epoll_all_clients(void)
{
	int ep = epoll_create1(0);
	for (long i = 0; i < n_clients; i++) {
		fcntl(clients[i].fd, F_SETFL, O_NONBLOCK);
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)i };
		epoll_ctl(ep, EPOLL_CTL_ADD, clients[i].fd, &ev);
	}
	return ep;
}

/* Reads whatever is ready; returns false if a client was disconnected. */
static bool
pump(int ep, double timeout_s)
{
	struct epoll_event events[512];
	int n = epoll_wait(ep, events, 512, (int)(timeout_s * 1000));
	for (int e = 0; e < n; e++) {
		if (events[e].data.u64 == ANSWER_KEY) {
			take_answer();              /* the last POST's (see ANSWER_KEY) */
			continue;
		}
		long i = (long)events[e].data.u64;
		client *c = &clients[i];
		ssize_t got = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
		bool closed = got == 0 || (got < 0 && (errno == ECONNRESET || errno == EPIPE));
		if (!websocket && !sse && closed) {
			/* An answer whose body ran to the close (no Content-Length). */
			char *end = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
			if (end != NULL)
				record(end + 4, c->len - (size_t)(end + 4 - c->buf));
			lp_reconnect(ep, i);
			continue;
		}
		if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
			fprintf(stderr, "fanout: client %ld was disconnected\n", i);
			return false;
		}
		if (got > 0) {
			c->len += (size_t)got;
			if (websocket)
				ws_drain(c);
			else if (sse)
				sse_drain(c);
			else
				lp_drain(c, i);
		}
	}
	return true;
}

static int
run_fanout(double rate)
{
	raise_fd_limit(n_clients + 64);
	clients = calloc((size_t)n_clients, sizeof(*clients));
	sent_at = calloc((size_t)n_messages, sizeof(double));
	last_at = calloc((size_t)n_messages, sizeof(double));
	deliveries = calloc((size_t)n_messages, sizeof(long));
	latency = malloc(sizeof(double) * (size_t)(n_clients * n_messages));
	if (!clients || !sent_at || !last_at || !deliveries || !latency)
		fail("memory");

	if (channel != NULL) {
		/* The one client the noise is for, in CHANNEL.noise only. */
		char req[256];
		int n = snprintf(req, sizeof(req), "GET /ab_b1/?name=fanoutnoise&channels=%s.noise HTTP/1.1\r\n"
		                 "Host: b\r\n\r\n", channel);
		int fd = connect_local();
		send_all(fd, req, (size_t)n);
		if (read_response(fd, NULL, 0) != 200)
			fail("registering the noise client");
		close(fd);
	}
	proc_usage before_connect = usage_of_server();
	if (websocket)
		ws_open_all();
	else if (sse)
		sse_open_all();
	else
		lp_open_all();
	int ep = epoll_all_clients();
	answers_ep = ep;
	/* Let every request reach its waiting thread before the first message. */
	double settle = 0.5 + (double)n_clients / 10000.0;
	if (api == API_GRIP && (websocket || sse))   /* every open passes the proxy and the origin */
		settle = 1.0 + (double)n_clients / 2000.0;
	for (double until = now() + settle; now() < until;)
		if (!pump(ep, until - now()))
			return 1;
	proc_usage idle = usage_of_server();
	proc_usage last_idle = n_pids > 1 ? usage_of_one(pids[n_pids - 1]) : idle;

	double start = now(), run_deadline = start + RUN_DEADLINE;
	long sent = 0, done = 0;
	bool broken = false;
	while (done < n_messages && now() < run_deadline && !broken) {
		bool may_send = rate > 0 ? now() >= start + (double)sent / rate : sent == done;
		if (sent < n_messages && may_send) {
			if (channel != NULL)
				noise_send(sent);
			if (websocket && api == API_PUSHQ)
				ws_send(sent);
			else
				lp_send(sent);    /* a peer's WebSocket messages too */
			sent++;
		}
		double wait = rate > 0 ? 0.001 : 0.05;
		broken = !pump(ep, wait);
		/* A message is done when everyone has it, or it is too late. */
		while (done < sent && (deliveries[done] >= n_clients ||
		                       now() - sent_at[done] > MESSAGE_DEADLINE))
			done++;
	}
	/* Late duplicates would show up now. */
	for (double until = now() + 0.2; now() < until && !broken;)
		broken = !pump(ep, 0.05);
	if (answer_pending && !broken)
		take_answer();
	double elapsed = now() - start;
	proc_usage after = usage_of_server();
	proc_usage last_after = n_pids > 1 ? usage_of_one(pids[n_pids - 1]) : after;

	long expected = n_clients * n_messages, delivered = 0, missing = 0;
	double *complete = malloc(sizeof(double) * (size_t)n_messages);
	long complete_count = 0;
	for (long i = 0; i < n_messages; i++) {
		delivered += deliveries[i] < n_clients ? deliveries[i] : n_clients;
		if (deliveries[i] < n_clients)
			missing += n_clients - deliveries[i];
		else
			complete[complete_count++] = last_at[i] - sent_at[i];
	}
	qsort(latency, (size_t)latency_count, sizeof(double), cmp_double);
	qsort(complete, (size_t)complete_count, sizeof(double), cmp_double);
	double p50 = percentile(latency, latency_count, 0.50) * 1e3;
	double p90 = percentile(latency, latency_count, 0.90) * 1e3;
	double p99 = percentile(latency, latency_count, 0.99) * 1e3;
	double max = latency_count ? latency[latency_count - 1] * 1e3 : 0;
	double last_p50 = percentile(complete, complete_count, 0.50) * 1e3;
	double last_p99 = percentile(complete, complete_count, 0.99) * 1e3;
	double cpu_us = delivered > 0 ? (after.cpu_s - idle.cpu_s) * 1e6 / (double)delivered : 0;
	/* Of it, the last process's (Pushpin's origin, say). */
	double cpu_us_last = delivered > 0 ? (last_after.cpu_s - last_idle.cpu_s) * 1e6 / (double)delivered : 0;
	double rss_per_client = n_clients > 0 ? (double)(idle.rss_kib - before_connect.rss_kib) / (double)n_clients : 0;

	printf("%s fan-out N=%ld M=%ld rate=%s: received %ld/%ld (%ld missing, %ld duplicated) in %.2f s"
	       " = %.0f deliveries/s\n", websocket ? "WebSocket" : sse ? "SSE" : "long-poll", n_clients, n_messages,
	       rate > 0 ? "fixed" : "one-at-a-time", delivered, expected, missing, duplicates_seen,
	       elapsed, (double)delivered / elapsed);
	printf("  latency per delivery: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
	       p50, p90, p99, max);
	printf("  until the last client had it: p50 %.2f ms, p99 %.2f ms\n", last_p50, last_p99);
	if (channel != NULL)
		printf("  channel %s: %ld deliveries of another channel or direct (must be 0), "
		       "%ld POST answers with the wrong receivers (must be 0)\n", channel, wrong_channel,
		       receivers_off);
	if (reconnects > 0)
		printf("  the server closed after answers: %ld reconnections\n", reconnects);
	if (n_pids > 0)
		printf("  server (%d process%s): %s %ld KiB before clients, %ld KiB idle with them (%.1f KiB per client), "
		       "%ld KiB after; threads %ld -> %ld -> %ld; CPU %.2f us per delivery\n",
		       n_pids, n_pids > 1 ? "es" : "", n_pids > 1 ? "Pss" : "RSS", before_connect.rss_kib, idle.rss_kib, rss_per_client, after.rss_kib,
		       before_connect.threads, idle.threads, after.threads, cpu_us);
	if (n_pids > 1)
		printf("  of that CPU, the last process (%ld): %.2f us per delivery\n", pids[n_pids - 1], cpu_us_last);
	printf("RESULT mode=%s n=%ld m=%ld delivered=%ld expected=%ld missing=%ld duplicated=%ld "
	       "rate=%.0f p50=%.3f p90=%.3f p99=%.3f max=%.3f last_p99=%.3f cpu_us=%.3f "
	       "rss_per_client_kib=%.1f wrong_channel=%ld receivers_off=%ld cpu_us_last_pid=%.3f\n", websocket ? "ws" : sse ? "sse" : "lp",
	       n_clients, n_messages, delivered, expected, missing, duplicates_seen, (double)delivered / elapsed,
	       p50, p90, p99, max, last_p99, cpu_us, rss_per_client, wrong_channel, receivers_off, cpu_us_last);
	for (long i = 0; i < n_clients; i++)
		close(clients[i].fd);
	return (missing || duplicates_seen || broken || wrong_channel || receivers_off) ? 1 : 0;
}

static int
run_listen(double seconds)
{
	websocket = true;
	raise_fd_limit(n_clients + 64);
	clients = calloc((size_t)n_clients, sizeof(*clients));
	if (clients == NULL)
		fail("memory");
	ws_open_all();
	int ep = epoll_all_clients();
	printf("ready: %ld WebSocket clients\n", n_clients);
	fflush(stdout);
	for (double end = now() + seconds; now() < end;)
		if (!pump(ep, 0.1))
			return 1;
	printf("RESULT mode=listen n=%ld frames=%ld\n", n_clients, frames_seen);
	for (long i = 0; i < n_clients; i++)
		close(clients[i].fd);
	return 0;
}

static int
run_echo(double seconds)
{
	client *c = calloc(1, sizeof(*c));
	c->fd = connect_local();
	ws_handshake(c->fd, "/ws/echo");
	long rounds = 0;
	double start = now();
	while (now() - start < seconds && rounds < 10000000) {
		ws_send_text(c->fd, "0123456789abcdef");
		size_t want = 2 + 16;
		while (c->len < want) {
			ssize_t got = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
			if (got <= 0)
				fail("echo");
			c->len += (size_t)got;
		}
		c->len = 0;
		rounds++;
	}
	double elapsed = now() - start;
	printf("WebSocket echo: %ld round trips in %.2f s = %.0f round trips/s (16-byte text)\n",
	       rounds, elapsed, (double)rounds / elapsed);
	printf("RESULT mode=echo rate=%.0f\n", (double)rounds / elapsed);
	close(c->fd);
	free(c);
	return 0;
}

/* A keep-alive connection whose answers are read through a buffer. */
typedef struct {
	int fd;
	size_t len;
	char buf[BUF_SIZE];
} reader;

/* Takes one whole response off r (reading more as needed); returns its status. */
static int
read_buffered(reader *r)
{
	for (;;) {
		char *end = memmem(r->buf, r->len, "\r\n\r\n", 4);
		if (end != NULL) {
			size_t head_len = (size_t)(end - r->buf) + 4;
			char head[4096];
			size_t copy = head_len < sizeof(head) ? head_len : sizeof(head) - 1;
			memcpy(head, r->buf, copy);
			head[copy] = '\0';
			int status = 0;
			sscanf(head, "HTTP/1.%*d %d", &status);
			const char *cl = strcasestr(head, "\r\nContent-Length:");
			size_t body_len = cl ? strtoul(cl + 17, NULL, 10) : 0;
			if (head_len + body_len > sizeof(r->buf))
				fail("an answer too large for this benchmark");
			if (r->len >= head_len + body_len) {
				memmove(r->buf, r->buf + head_len + body_len, r->len - head_len - body_len);
				r->len -= head_len + body_len;
				return status;
			}
		}
		if (r->len == sizeof(r->buf))
			fail("an answer too large for this benchmark");
		ssize_t got = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, 0);
		if (got <= 0)
			fail("reading an answer");
		r->len += (size_t)got;
	}
}

static int
register_request(char *req, size_t cap, const char *prefix, long i, const char *channels)
{
	return snprintf(req, cap, "GET /ab_b1/?name=%s%ld%s%s HTTP/1.1\r\nHost: b\r\n\r\n", prefix, i,
	                channels ? "&channels=" : "", channels ? channels : "");
}

#define REGISTER_CONNS 4        /* connections (server threads) at once */
#define REGISTER_BATCH 64       /* requests in flight on each */

/* Registers n idle long-poll clients (in CHANNELS, or the server's default):
 * on one connection, one at a time, if the server closes after an answer
 * (the seed's Django); else pipelined on REGISTER_CONNS keep-alive ones. */
static int
run_register(long n, const char *prefix, const char *channels)
{
	double start = now();
	char req[256];
	int fd = connect_local();
	long i = 0;
	bool keep_alive = true;
	for (; i < n && (i == 0 || !keep_alive); i++) {
		int len = register_request(req, sizeof(req), prefix, i, channels);
		if (fd < 0)
			fd = connect_local();
		send_all(fd, req, (size_t)len);
		int status = read_response(fd, NULL, 0);
		if (status != 200) {
			fprintf(stderr, "fanout: registering %s%ld: status %d\n", prefix, i, status);
			return 1;
		}
		if (last_response_closes) {
			keep_alive = false;
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	if (i < n) {
		reader *r = calloc(REGISTER_CONNS, sizeof(*r));
		if (r == NULL)
			fail("memory");
		for (int k = 0; k < REGISTER_CONNS; k++)
			r[k].fd = connect_local();
		static char batch[REGISTER_BATCH * 256];
		while (i < n) {
			long first = i, count[REGISTER_CONNS] = { 0 };
			for (int k = 0; k < REGISTER_CONNS && i < n; k++) {
				size_t used = 0;
				for (; count[k] < REGISTER_BATCH && i < n; count[k]++, i++)
					used += (size_t)register_request(batch + used, sizeof(batch) - used, prefix, i,
					                                 channels);
				send_all(r[k].fd, batch, used);
			}
			for (int k = 0; k < REGISTER_CONNS; k++)
				for (long j = 0; j < count[k]; j++) {
					int status = read_buffered(&r[k]);
					if (status != 200) {
						fprintf(stderr, "fanout: registering near %s%ld: status %d\n", prefix,
						        first, status);
						return 1;
					}
				}
		}
		for (int k = 0; k < REGISTER_CONNS; k++)
			close(r[k].fd);
		free(r);
	}
	printf("registered %ld idle clients %s0..%s%ld%s%s in %.2f s\n", n, prefix, prefix, n - 1,
	       channels ? " in " : "", channels ? channels : "", now() - start);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--api") == 0) {
		if (strcmp(argv[2], "nchan") == 0)
			api = API_NCHAN;
		else if (strcmp(argv[2], "grip") == 0)
			api = API_GRIP;
		else if (strcmp(argv[2], "pushq") != 0) {
			fprintf(stderr, "fanout: --api pushq|nchan|grip\n");
			return 2;
		}
		argc -= 2;
		argv += 2;
	}
	if (argc >= 5 && strcmp(argv[1], "register") == 0) {
		port = atoi(argv[2]);
		return run_register(atol(argv[3]), argv[4], argc >= 6 ? argv[5] : NULL);
	}
	if (argc >= 5 && strcmp(argv[1], "listen") == 0) {
		port = atoi(argv[2]);
		n_clients = atol(argv[3]);
		if (n_clients < 1 || n_clients > 100000)
			return 2;
		return run_listen(atof(argv[4]));
	}
	if (argc >= 4 && strcmp(argv[1], "echo") == 0) {
		port = atoi(argv[2]);
		return run_echo(atof(argv[3]));
	}
	if (argc >= 5 && (strcmp(argv[1], "lp") == 0 || strcmp(argv[1], "ws") == 0 ||
	                  strcmp(argv[1], "sse") == 0)) {
		websocket = strcmp(argv[1], "ws") == 0;
		sse = strcmp(argv[1], "sse") == 0;
		n_ports = sscanf(argv[2], "%d,%d", &ports[0], &ports[1]);
		if (n_ports < 1)
			return 2;
		port = ports[0];
		n_clients = atol(argv[3]);
		n_messages = atol(argv[4]);
		double rate = argc >= 6 ? atof(argv[5]) : 0;
		parse_pids(argc >= 7 ? argv[6] : NULL);
		if (argc >= 8 && api != API_PUSHQ) {
			fprintf(stderr, "fanout: a peer's API has one channel, no CHANNEL argument\n");
			return 2;
		}
		if (argc >= 8) {
			channel = argv[7];
			size_t len = strlen(channel);
			if (len < 1 || len > 58 || strspn(channel, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			                                            "0123456789_.:-") != len) {
				fprintf(stderr, "fanout: CHANNEL must be 1..58 of A-Z a-z 0-9 _ . : -\n");
				return 2;
			}
			snprintf(channel_tag, sizeof(channel_tag), "\"channel\":\"%s\"", channel);
		}
		if (n_clients < 1 || n_messages < 1 || n_clients > 100000 || n_messages > 100000) {
			fprintf(stderr, "fanout: N and M must be 1..100000\n");
			return 2;
		}
		return run_fanout(rate);
	}
	fprintf(stderr, "usage: fanout [--api pushq|nchan|grip] lp|ws|sse PORT N M [RATE] [PID[,PID...]] [CHANNEL] | fanout echo PORT SECONDS"
	                " | fanout register PORT N PREFIX [CHANNELS] | fanout listen PORT N SECONDS\n");
	return 2;
}
