/*
 * check_stress.c - the attacks that once hurt pushq, each asserting the
 * bound it must hold: pipelining amplification (memory per connection),
 * abandoned long polls (slots come back), slow-loris (time to 408, others
 * served meanwhile), a connection flood over --max-conns (503, slots
 * back), and a WebSocket client that never reads (its queue bounded, drops
 * counted, others unaffected).  `make stress` runs this suite alone; `make
 * test` runs it with the others.
 */
#include "suites.h"
#include "testutil.h"
#include "wsframe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static tu_server server;

static void
stop(void)
{
	ck_assert_int_eq(tu_server_stop(&server, 5.0), 0);
}

/* The server's resident memory, KiB (/proc/PID/status VmRSS). */
static long
server_rss_kib(void)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)server.pid);
	FILE *f = fopen(path, "r");
	long kib = -1;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return kib;
}

/* A connection whose receive buffer is small: a client that reads
 * nothing then holds the server's answers back after a few KiB. */
static int
connect_small_window(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)server.port),
	                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

/* The integer at `path` ("connections.open") in /stats; -1 if /stats did
 * not answer 200 or has no such integer. */
static long
stats_number(const char *path)
{
	json_t *stats = tu_get_json(server.port, "/stats");
	long v = (long)tu_json_int(stats, path);
	json_decref(stats);
	return v;
}

static bool
only_one_connection_open(void *arg)
{
	(void)arg;
	return stats_number("connections.open") == 1;   /* the /stats request itself */
}

/* ------------------------------------------------------------------ */

#define PIPELINE_CONNS 20
#define PIPELINE_BYTES 16384

static bool
rss_above(void *limit)
{
	return server_rss_kib() > *(long *)limit;
}

/* Once, each 16 KiB read of pipelined GETs was answered into one buffer:
 * 9.5 MB per connection.  Now answers past 64 KiB are written before more
 * is parsed, so a client that does not read holds the server back. */
START_TEST(pipelining_does_not_amplify_memory)
{
	server = tu_server_start(NULL);
	long before = server_rss_kib();
	static const char one[] = "GET /texts.js HTTP/1.1\r\nHost: t\r\n\r\n";   /* ~40 KiB */
	char *burst = malloc(PIPELINE_BYTES);
	size_t n = 0;
	while (n + sizeof(one) - 1 <= PIPELINE_BYTES) {
		memcpy(burst + n, one, sizeof(one) - 1);
		n += sizeof(one) - 1;
	}
	int fds[PIPELINE_CONNS];
	for (int i = 0; i < PIPELINE_CONNS; i++) {
		fds[i] = connect_small_window();
		tu_send(fds[i], burst, n);
	}
	for (int i = 0; i < PIPELINE_CONNS; i++)
		ck_assert_double_ge(tu_wait_readable(fds[i], 5), 0);   /* answering */
	/* 20 x 9.5 MB before the fix; now a few hundred KiB in all.  Sanitizer
	 * builds add shadow memory in proportion: the bound grows with them. */
	long limit = before + (long)(40 * 1024 * tu_slack(1.0));
	ck_assert_msg(!tu_wait_until(rss_above, &limit, 1.0),
	              "server RSS grew from %ld to %ld KiB", before, server_rss_kib());
	for (int i = 0; i < PIPELINE_CONNS; i++)
		close(fds[i]);
	free(burst);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */

#define ABANDONED 50

static bool
all_waiting(void *want)
{
	return tu_client_stat(server.port, "x", "waiting") >= *(long *)want;
}

/* Once, a /get_msg whose client left kept its thread and its --max-conns
 * slot until --poll-timeout: fifty abandoned polls locked everyone out. */
START_TEST(abandoned_polls_give_their_slots_back)
{
	const char *args[] = { "--max-conns", "51", "--poll-timeout", "30", NULL };
	server = tu_server_start(args);
	tu_response r = tu_request(server.port, "GET", "/ab_b1?name=x", NULL);
	ck_assert_int_eq(r.status, 200);
	tu_response_free(&r);
	int fds[ABANDONED];
	for (int i = 0; i < ABANDONED; i++) {
		fds[i] = tu_connect(server.port);
		tu_send_str(fds[i], "GET /get_msg?name=x HTTP/1.1\r\nHost: t\r\n\r\n");
	}
	long want = ABANDONED;
	ck_assert(tu_wait_until(all_waiting, &want, tu_slack(10)));
	/* Half leave with a FIN, half with a reset. */
	for (int i = 0; i < ABANDONED; i++) {
		if (i % 2) {
			struct linger reset = { 1, 0 };
			setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		}
		close(fds[i]);
	}
	double t0 = tu_now();
	ck_assert(tu_wait_until(only_one_connection_open, NULL, tu_slack(2)));
	ck_assert_double_lt(tu_now() - t0, tu_slack(1.0));
	/* Nothing was lost: the next poll gets the next message. */
	r = tu_request(server.port, "POST", "/send_msg", "content=after");
	tu_response_free(&r);
	r = tu_request(server.port, "GET", "/get_msg?name=x&timeout=0", NULL);
	ck_assert_ptr_nonnull(strstr(r.body, "\"msg\":\"after\",\"id\":1,"));
	tu_response_free(&r);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */

#define LORIS 30

/* Slow-loris: connections that send a byte at a time get 408 within the
 * request limit (5 s), and a normal client is answered meanwhile. */
START_TEST(slow_loris_gets_408_and_others_are_served)
{
	server = tu_server_start(NULL);
	int fds[LORIS];
	for (int i = 0; i < LORIS; i++) {
		fds[i] = tu_connect(server.port);
		tu_send_str(fds[i], "GET / HTTP/1.1\r\n");
	}
	double t0 = tu_now();
	for (int round = 0; round < 3; round++) {       /* keep dripping */
		for (int i = 0; i < LORIS; i++)
			tu_send_str(fds[i], "X");
		double asked = tu_now();
		tu_response r = tu_request(server.port, "GET", "/stats", NULL);
		ck_assert_int_eq(r.status, 200);
		ck_assert_double_lt(tu_now() - asked, tu_slack(0.5));
		tu_response_free(&r);
	}
	for (int i = 0; i < LORIS; i++) {
		tu_response r = tu_read_response(fds[i], 0);
		ck_assert_int_eq(r.status, 408);
		tu_response_free(&r);
		close(fds[i]);
	}
	ck_assert_double_lt(tu_now() - t0, 5.0 + tu_slack(1.5));
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */

#define FLOOD 100

/* More connections than --max-conns: the rest get 503 and are closed, and
 * every slot is back once they are gone. */
START_TEST(connection_flood_gets_503_and_slots_come_back)
{
	const char *args[] = { "--max-conns", "20", NULL };
	server = tu_server_start(args);
	int fds[FLOOD];
	for (int i = 0; i < FLOOD; i++)
		fds[i] = tu_connect(server.port);
	/* A refused connection is answered at once; an accepted one stays
	 * silent, so each gets a short deadline (longer under sanitizers). */
	int refused = 0;
	for (int i = 0; i < FLOOD; i++) {
		if (tu_wait_readable(fds[i], tu_slack(0.1)) >= 0) {
			tu_response r = tu_read_response(fds[i], 0);
			refused += r.status == 503;
			tu_response_free(&r);
		}
	}
	ck_assert_int_ge(refused, FLOOD - 20);
	for (int i = 0; i < FLOOD; i++)
		close(fds[i]);
	ck_assert(tu_wait_until(only_one_connection_open, NULL, tu_slack(3)));
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */

#define FLOOD_MESSAGES 2000

static bool
drops_counted(void *arg)
{
	(void)arg;
	return stats_number("messages.dropped") > 0;
}

/* A WebSocket chat client that never reads while messages keep coming:
 * its queue stays within --queue-size, its drops are counted, and another
 * client still gets each message at once. */
START_TEST(client_that_never_reads_is_bounded)
{
	const char *args[] = { "--queue-size", "50", NULL };
	server = tu_server_start(args);
	int deaf = wsf_connect(server.port, "/ws?name=deaf");
	int small = 4096;
	setsockopt(deaf, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	tu_response r = tu_request(server.port, "GET", "/ab_b1?name=ear", NULL);
	tu_response_free(&r);
	char body[256];
	int fd = tu_connect(server.port);
	for (int i = 0; i < FLOOD_MESSAGES; i++) {
		snprintf(body, sizeof(body), "content=message-%04d-%0200d", i, 0);
		char req[640];
		snprintf(req, sizeof(req), "POST /send_msg HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n"
		         "Content-Type: application/x-www-form-urlencoded\r\n\r\n%s", strlen(body), body);
		tu_send_str(fd, req);
		r = tu_read_response(fd, 0);
		ck_assert_int_eq(r.status, 200);
		tu_response_free(&r);
		if (i % 40 == 39) {          /* the listening client keeps up */
			tu_response got = tu_request(server.port, "GET", "/get_msg?name=ear&timeout=0", NULL);
			ck_assert_ptr_nonnull(strstr(got.body, "\"status\":true"));
			tu_response_free(&got);
		}
	}
	close(fd);
	ck_assert(tu_wait_until(drops_counted, NULL, tu_slack(5)));
	json_t *stats = tu_get_json(server.port, "/stats");
	json_t *deaf_entry = tu_stats_client(stats, "deaf");
	ck_assert_ptr_nonnull(deaf_entry);
	long long depth = tu_json_int(deaf_entry, "queue");
	ck_assert_int_ge(depth, 0);
	ck_assert_int_le(depth, 50);
	json_decref(stats);
	/* Another client is answered at once. */
	double t0 = tu_now();
	r = tu_request(server.port, "POST", "/send_msg", "content=still-here");
	tu_response_free(&r);
	r = tu_request(server.port, "GET", "/get_msg?name=ear&timeout=5", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_double_lt(tu_now() - t0, tu_slack(0.5));
	tu_response_free(&r);
	close(deaf);
	stop();
}
END_TEST

/* A client that sends requests and never reads their answers: once its
 * answers fill the socket the server's thread waits to write and reads no
 * more.  SIGTERM must not wait for it: the server exits at once, 0. */
START_TEST(sigterm_does_not_wait_for_a_deaf_client)
{
	server = tu_server_start(NULL);
	int fd = connect_small_window();
	static const char one[] = "GET /texts.js HTTP/1.1\r\nHost: t\r\n\r\n";   /* ~40 KiB */
	long sent = 0;
	double deadline = tu_now() + tu_slack(10);
	/* Until our send buffer stays full for half a second: the server's
	 * thread no longer reads, it waits to write. */
	while (tu_now() < deadline && sent < 1000000) {
		ssize_t n = send(fd, one, sizeof(one) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			sent++;
			continue;
		}
		struct pollfd room = { .fd = fd, .events = POLLOUT };
		if (poll(&room, 1, 500) == 0)
			break;
	}
	ck_assert_msg(tu_now() < deadline, "the server never stopped reading");
	double t0 = tu_now();
	ck_assert_int_eq(tu_server_stop(&server, 5.0), 0);
	/* Without the stop in srv_send_all: the whole 1.5 s grace, then "still
	 * closing; exiting anyway". */
	ck_assert_double_lt(tu_now() - t0, tu_slack(1.0));
	close(fd);
}
END_TEST

/* The same with a file sent by sendfile (above 64 KiB): the copy waits for
 * room with the server's stop in view too. */
START_TEST(sigterm_does_not_wait_for_a_deaf_download)
{
	char dir[128], file[160];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/pushq-big-%d", tmp ? tmp : "/tmp", (int)getpid());
	snprintf(file, sizeof(file), "%s/big.bin", dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	FILE *f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	static char chunk[65536];
	for (int i = 0; i < 256; i++)               /* 16 MiB: more than any socket holds */
		ck_assert_uint_eq(fwrite(chunk, 1, sizeof(chunk), f), sizeof(chunk));
	fclose(f);
	const char *args[] = { "--www", dir, NULL };
	server = tu_server_start(args);
	int fd = connect_small_window();
	tu_send_str(fd, "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert_double_ge(tu_wait_readable(fd, tu_slack(5)), 0);   /* the copy began */
	double t0 = tu_now();
	ck_assert_int_eq(tu_server_stop(&server, 5.0), 0);
	ck_assert_double_lt(tu_now() - t0, tu_slack(1.0));
	close(fd);
	ck_assert_int_eq(unlink(file), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

Suite *
stress_suite(void)
{
	Suite *s = suite_create("stress");
	TCase *tc = tcase_create("attacks");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pipelining_does_not_amplify_memory);
	tcase_add_test(tc, abandoned_polls_give_their_slots_back);
	tcase_add_test(tc, slow_loris_gets_408_and_others_are_served);
	tcase_add_test(tc, connection_flood_gets_503_and_slots_come_back);
	tcase_add_test(tc, client_that_never_reads_is_bounded);
	tcase_add_test(tc, sigterm_does_not_wait_for_a_deaf_client);
	tcase_add_test(tc, sigterm_does_not_wait_for_a_deaf_download);
	suite_add_tcase(s, tc);
	return s;
}
