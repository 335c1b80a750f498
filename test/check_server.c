/*
 * check_server.c - integration: a real build/pushq on a free port, real
 * sockets.  Each test starts its own server and stops it with SIGTERM,
 * checking that it exits 0 in time.
 */
#include "suites.h"
#include "testutil.h"

#include "server/core/static.h"
#include "server/core/file_cache.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static tu_server server;

static void
start(const char *const *args)
{
	server = tu_server_start(args);
}

static void
stop(void)
{
	ck_assert_int_eq(tu_server_stop(&server, 3.0), 0);
}

/* One request; checks the status; returns the body (caller frees). */
static char *
expect(const char *method, const char *target, const char *body, int status)
{
	tu_response r = tu_request(server.port, method, target, body);
	ck_assert_msg(r.status == status, "%s %s: got %d, wanted %d\n%s", method, target,
	              r.status, status, r.head);
	return r.body;
}

static void
expect_body(const char *method, const char *target, const char *body, int status,
            const char *wanted)
{
	char *got = expect(method, target, body, status);
	tu_strip_sent_at(got);
	ck_assert_str_eq(got, wanted);
	free(got);
}

/* A send that worked: 200 {"status":true,"id":N,"receivers":K}. */
static void
expect_sent(const char *target, const char *body)
{
	char *got = expect("POST", target, body, 200);
	json_t *j = json_loads(got, 0, NULL);
	ck_assert_msg(j != NULL, "not JSON: %s", got);
	ck_assert(json_is_true(json_object_get(j, "status")));
	ck_assert_int_gt(json_integer_value(json_object_get(j, "id")), 0);
	ck_assert(json_is_integer(json_object_get(j, "receivers")));
	ck_assert_int_ge(json_integer_value(json_object_get(j, "receivers")), 0);
	json_decref(j);
	free(got);
}

/* The number of clients in /stats with one thread blocked in get. */
static int
waiting_clients(void)
{
	json_t *stats = tu_get_json(server.port, "/stats"), *client;
	ck_assert_ptr_nonnull(stats);
	int n = 0;
	size_t i;
	json_array_foreach(json_object_get(stats, "clients"), i, client)
		n += tu_json_int(client, "waiting") == 1;
	json_decref(stats);
	return n;
}

static bool
have_waiting(void *want)
{
	return waiting_clients() >= *(int *)want;
}

static void
await_waiting(int n)
{
	ck_assert_msg(tu_wait_until(have_waiting, &n, 10), "%d waiters never showed", n);
}

/* Starts a /get_msg on a new connection; returns the socket. */
static int
start_get(const char *name, const char *timeout)
{
	int fd = tu_connect(server.port);
	char req[256];
	snprintf(req, sizeof(req), "GET /get_msg?name=%s&timeout=%s HTTP/1.1\r\nHost: t\r\n\r\n",
	         name, timeout);
	tu_send_str(fd, req);
	return fd;
}

/* ---------------------------------------------------------- the seed */

START_TEST(seed_flow)
{
	start(NULL);
	free(expect("GET", "/ab_b1?name=alice", NULL, 200));
	free(expect("GET", "/ab_b1/?name=bob", NULL, 200));
	expect_sent("/send_msg/", "content=hello");
	expect_sent("/send_msg", "content=%E4%BD%A0%E5%A5%BD+there&name=alice");
	const char *names[] = { "alice", "bob" };
	for (int i = 0; i < 2; i++) {
		char target[64];
		snprintf(target, sizeof(target), "/get_msg?name=%s", names[i]);
		expect_body("GET", target, NULL, 200,
		            "{\"status\":true,\"msg\":\"hello\",\"id\":1,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}");
		strcat(target, "&timeout=0");
		expect_body("GET", target, NULL, 200,
		            "{\"status\":true,\"msg\":\"你好 there\",\"id\":2,\"from\":\"alice\",\"channel\":\"room\",\"dropped\":0}");
		expect_body("GET", target, NULL, 200, "{\"status\":false,\"msg\":\"\"}");
	}
	expect_body("POST", "/ab_dy", "", 200, "{\"username\":\"tony\"}");
	stop();
}
END_TEST

/* The route table: each API path takes its methods; any other method gets
 * 405 with exactly the route's methods in Allow. */
START_TEST(routes_answer_405_with_allow)
{
	static const struct { const char *method, *target, *allow; } cases[] = {
		{ "POST", "/ws/accept?key=dGhlIHNhbXBsZSBub25jZQ%3D%3D", "GET, HEAD" },
		{ "PUT", "/ab_dy", "GET, HEAD, POST" },
		{ "DELETE", "/ab_b1?name=x", "GET, HEAD" },
		{ "GET", "/send_msg/", "POST" },
		{ "POST", "/get_msg?name=x", "GET, HEAD" },
		{ "POST", "/stats", "GET, HEAD" },
		{ "HEAD", "/ws?name=x", "GET" },
		{ "POST", "/ws/echo", "GET" },
		{ "POST", "/index.html", "GET, HEAD" },
	};
	start(NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tu_response r = tu_request(server.port, cases[i].method, cases[i].target,
		                           strcmp(cases[i].method, "POST") == 0 ? "" : NULL);
		char allow[64] = "";
		ck_assert_msg(r.status == 405, "%s %s: %d", cases[i].method, cases[i].target, r.status);
		ck_assert(tu_header(&r, "Allow", allow, sizeof(allow)));
		ck_assert_str_eq(allow, cases[i].allow);
		tu_response_free(&r);
	}
	tu_response r = tu_request(server.port, "HEAD", "/ws/accept?key=dGhlIHNhbXBsZSBub25jZQ%3D%3D", NULL);
	ck_assert_int_eq(r.status, 200);
	tu_response_free(&r);
	stop();
}
END_TEST

START_TEST(get_msg_errors)
{
	start(NULL);
	expect_body("GET", "/get_msg?name=ghost", NULL, 404,
	            "{\"status\":false,\"msg\":\"\",\"error\":\"unknown client\"}");
	free(expect("GET", "/get_msg", NULL, 400));
	free(expect("GET", "/ab_b1?name=x", NULL, 200));
	free(expect("GET", "/get_msg?name=x&timeout=-1", NULL, 400));
	free(expect("GET", "/get_msg?name=x&timeout=abc", NULL, 400));
	free(expect("GET", "/get_msg?name=x&timeout=nan", NULL, 400));
	free(expect("POST", "/send_msg", "content=", 400));
	free(expect("POST", "/send_msg", "other=1", 400));
	free(expect("POST", "/send_msg", "content=%zz", 400));
	tu_response r = tu_request(server.port, "GET", "/send_msg", NULL);
	char allow[64];
	ck_assert_int_eq(r.status, 405);
	ck_assert(tu_header(&r, "Allow", allow, sizeof(allow)));
	ck_assert_str_eq(allow, "POST");
	tu_response_free(&r);
	stop();
}
END_TEST

START_TEST(redirect_without_name)
{
	start(NULL);
	tu_response r = tu_request(server.port, "GET", "/ab_b1", NULL);
	char location[128];
	ck_assert_int_eq(r.status, 302);
	ck_assert(tu_header(&r, "Location", location, sizeof(location)));
	ck_assert_int_eq(strncmp(location, "/ab_b1?name=guest-", 18), 0);
	tu_response_free(&r);
	stop();
}
END_TEST

/* ------------------------------------------------------ long polling */

START_TEST(timeout_not_before)
{
	start(NULL);
	free(expect("GET", "/ab_b1?name=t", NULL, 200));
	double t0 = tu_now();
	expect_body("GET", "/get_msg?name=t&timeout=0.3", NULL, 200, "{\"status\":false,\"msg\":\"\"}");
	double waited = tu_now() - t0;
	ck_assert_double_ge(waited, 0.3);
	ck_assert_double_lt(waited, tu_slack(2.0));
	t0 = tu_now();      /* short polling: timeout=0 answers at once */
	expect_body("GET", "/get_msg?name=t&timeout=0", NULL, 200, "{\"status\":false,\"msg\":\"\"}");
	ck_assert_double_lt(tu_now() - t0, tu_slack(0.5));
	stop();
}
END_TEST

START_TEST(poll_timeout_caps_wait)
{
	start((const char *[]){ "--poll-timeout", "0.2", NULL });
	free(expect("GET", "/ab_b1?name=t", NULL, 200));
	double t0 = tu_now();
	expect_body("GET", "/get_msg?name=t&timeout=60", NULL, 200, "{\"status\":false,\"msg\":\"\"}");
	ck_assert_double_lt(tu_now() - t0, tu_slack(2.0));
	stop();
}
END_TEST

START_TEST(waiting_get_wakes_at_once)
{
	start(NULL);
	free(expect("GET", "/ab_b1?name=w", NULL, 200));
	int fd = start_get("w", "10");
	await_waiting(1);
	double sent = tu_now();
	expect_sent("/send_msg", "content=now");
	ck_assert_double_ge(tu_wait_readable(fd, 5), 0);
	double latency = tu_now() - sent;
	tu_response r = tu_read_response(fd, 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"msg\":\"now\""));
	ck_assert_double_lt(latency, tu_slack(0.05));    /* a few ms, generously */
	tu_response_free(&r);
	close(fd);
	stop();
}
END_TEST

START_TEST(drops_are_reported)
{
	start((const char *[]){ "--queue-size", "2", NULL });
	free(expect("GET", "/ab_b1?name=d", NULL, 200));
	for (int i = 0; i < 5; i++)
		expect_sent("/send_msg", "content=m");
	char *first = expect("GET", "/get_msg?name=d&timeout=0", NULL, 200);
	ck_assert_ptr_nonnull(strstr(first, "\"id\":1,"));
	ck_assert_ptr_nonnull(strstr(first, "\"dropped\":3}"));
	free(first);
	json_t *stats = tu_get_json(server.port, "/stats");
	ck_assert_ptr_nonnull(stats);
	ck_assert_int_eq(tu_json_int(stats, "messages.dropped"), 3);
	ck_assert_int_eq(tu_json_int(tu_stats_client(stats, "d"), "dropped"), 3);
	json_decref(stats);
	stop();
}
END_TEST

START_TEST(message_survives_a_vanished_poller)
{
	start(NULL);
	free(expect("GET", "/ab_b1?name=v", NULL, 200));
	int fd = start_get("v", "10");
	await_waiting(1);
	close(fd);                /* the browser tab closes while waiting */
	expect_sent("/send_msg", "content=keep+me");
	char *body = expect("GET", "/get_msg?name=v&timeout=5", NULL, 200);
	ck_assert_ptr_nonnull(strstr(body, "\"msg\":\"keep me\""));
	free(body);
	stop();
}
END_TEST

static bool
nobody_waits(void *arg)
{
	(void)arg;
	return waiting_clients() == 0;
}

/* A message sent now is kept for `name` (whose poll went away) and is
 * what its next poll gets. */
static void
assert_next_is_kept(const char *name)
{
	expect_sent("/send_msg", "content=kept");
	char target[64];
	snprintf(target, sizeof(target), "/get_msg?name=%s&timeout=5", name);
	char *body = expect("GET", target, NULL, 200);
	ck_assert_ptr_nonnull(strstr(body, "\"msg\":\"kept\""));
	free(body);
}

/* The watcher keeps a keep-alive connection's socket in its set between
 * its polls: a hang-up during the third poll on one connection still gives
 * the thread back at once, and what is sent next is kept. */
START_TEST(hang_up_on_a_later_poll_of_one_connection)
{
	start(NULL);
	free(expect("GET", "/ab_b1?name=k", NULL, 200));
	int fd = start_get("k", "0.2");                   /* 1: parked, then times out */
	tu_response r = tu_read_response(fd, 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"status\":false"));
	tu_response_free(&r);
	tu_send_str(fd, "GET /get_msg?name=k&timeout=10 HTTP/1.1\r\nHost: t\r\n\r\n");
	await_waiting(1);                                  /* 2: answered by a message */
	expect_sent("/send_msg", "content=second");
	r = tu_read_response(fd, 0);
	ck_assert_ptr_nonnull(strstr(r.body, "\"msg\":\"second\""));
	tu_response_free(&r);
	tu_send_str(fd, "GET /get_msg?name=k&timeout=30 HTTP/1.1\r\nHost: t\r\n\r\n");
	await_waiting(1);                                  /* 3: the tab closes */
	double t0 = tu_now();
	close(fd);
	ck_assert(tu_wait_until(nobody_waits, NULL, tu_slack(3)));
	ck_assert_double_lt(tu_now() - t0, tu_slack(3));   /* not the 30 s */
	assert_next_is_kept("k");
	stop();
}
END_TEST

/* A hang-up that comes with the next request, while the thread is not
 * parked (it is answering, or has just read the request): re-arming the
 * socket for that poll reports it, and the poll ends at once instead of
 * waiting its 30 s. */
START_TEST(hang_up_between_two_polls_ends_the_next)
{
	start(NULL);
	free(expect("GET", "/ab_b1?name=h", NULL, 200));
	int fd = start_get("h", "0.2");                   /* parked once: in the set */
	tu_response r = tu_read_response(fd, 0);
	ck_assert_int_eq(r.status, 200);
	tu_response_free(&r);
	double t0 = tu_now();
	tu_send_str(fd, "GET /get_msg?name=h&timeout=30 HTTP/1.1\r\nHost: t\r\n\r\n");
	shutdown(fd, SHUT_WR);                             /* the FIN right behind it */
	char byte;
	ck_assert_double_ge(tu_wait_readable(fd, tu_slack(3)), 0);
	ck_assert_int_eq(recv(fd, &byte, 1, 0), 0);        /* closed, nothing answered */
	ck_assert_double_lt(tu_now() - t0, tu_slack(3));
	ck_assert(tu_wait_until(nobody_waits, NULL, tu_slack(3)));
	close(fd);
	assert_next_is_kept("h");
	stop();
}
END_TEST

/* Connections one after another get the same descriptor back; an event
 * of the old connection must not be taken for the new one's, and each
 * hang-up is heard. */
START_TEST(hang_ups_on_reused_descriptors)
{
	start(NULL);
	free(expect("GET", "/ab_b1?name=r", NULL, 200));
	for (int i = 0; i < 4; i++) {
		int fd = start_get("r", "30");
		await_waiting(1);
		double t0 = tu_now();
		close(fd);
		ck_assert(tu_wait_until(nobody_waits, NULL, tu_slack(3)));
		ck_assert_double_lt(tu_now() - t0, tu_slack(3));
	}
	stop();
}
END_TEST

#define CONCURRENT 100

START_TEST(hundred_concurrent_long_polls)
{
	start(NULL);
	int fds[CONCURRENT];
	for (int i = 0; i < CONCURRENT; i++) {
		char target[64], name[16];
		snprintf(name, sizeof(name), "c%d", i);
		snprintf(target, sizeof(target), "/ab_b1?name=%s", name);
		free(expect("GET", target, NULL, 200));
		fds[i] = start_get(name, "20");
	}
	await_waiting(CONCURRENT);
	expect_sent("/send_msg", "content=all");
	for (int i = 0; i < CONCURRENT; i++) {
		tu_response r = tu_read_response(fds[i], 0);
		ck_assert_int_eq(r.status, 200);
		ck_assert_ptr_nonnull(strstr(r.body, "\"msg\":\"all\",\"id\":1,"));
		tu_response_free(&r);
		close(fds[i]);
	}
	stop();
}
END_TEST

/* ---------------------------------------------------------- HTTP/1.1 */

START_TEST(keep_alive_and_pipelining)
{
	start(NULL);
	int fd = tu_connect(server.port);
	for (int i = 0; i < 3; i++) {
		tu_send_str(fd, "GET /stats HTTP/1.1\r\nHost: t\r\n\r\n");
		tu_response r = tu_read_response(fd, 0);
		ck_assert_int_eq(r.status, 200);
		char conn[32];
		ck_assert(tu_header(&r, "Connection", conn, sizeof(conn)));
		ck_assert_str_eq(conn, "keep-alive");
		ck_assert(tu_header(&r, "Date", conn, sizeof(conn)));
		tu_response_free(&r);
	}
	/* Three pipelined requests in one write: three answers, in order. */
	tu_send_str(fd, "POST /ab_dy HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"
	                "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"
	                "POST /ab_dy HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
	                "Connection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
	int wanted[] = { 200, 404, 200 };
	for (int i = 0; i < 3; i++) {
		tu_response r = tu_read_response(fd, 0);
		ck_assert_int_eq(r.status, wanted[i]);
		tu_response_free(&r);
	}
	ck_assert_double_ge(tu_wait_readable(fd, 5), 0);    /* then it closes */
	char byte;
	ck_assert_int_eq(recv(fd, &byte, 1, 0), 0);
	close(fd);

	/* HTTP/1.0 closes after one answer. */
	fd = tu_connect(server.port);
	tu_send_str(fd, "GET /stats HTTP/1.0\r\n\r\n");
	tu_response r = tu_read_response(fd, 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(recv(fd, &byte, 1, 0), 0);
	tu_response_free(&r);
	close(fd);
	stop();
}
END_TEST

START_TEST(static_files)
{
	start(NULL);
	tu_response get = tu_request(server.port, "GET", "/", NULL);
	tu_response head = tu_request(server.port, "HEAD", "/index.html", NULL);
	char type[64], len_get[16], len_head[16];
	ck_assert_int_eq(get.status, 200);
	ck_assert_int_eq(head.status, 200);
	ck_assert(tu_header(&get, "Content-Type", type, sizeof(type)));
	ck_assert_str_eq(type, "text/html; charset=utf-8");
	ck_assert(tu_header(&get, "Content-Length", len_get, sizeof(len_get)));
	ck_assert(tu_header(&head, "Content-Length", len_head, sizeof(len_head)));
	ck_assert_str_eq(len_get, len_head);
	ck_assert_uint_eq(head.body_len, 0);
	ck_assert_ptr_nonnull(strstr(get.body, "<html"));
	tu_response_free(&get);
	tu_response_free(&head);
	free(expect("GET", "/no-such-file.html", NULL, 404));
	free(expect("GET", "/.git/config", NULL, 404));
	free(expect("GET", "/%2e%2e/Makefile", NULL, 400));
	free(expect("GET", "/../Makefile", NULL, 400));
	free(expect("GET", "/a%00b", NULL, 400));
	free(expect("GET", "/%zz", NULL, 400));
	free(expect("DELETE", "/index.html", NULL, 405));
	free(expect("BREW", "/", NULL, 405));
	stop();
}
END_TEST

/* A --www of our own in a temporary directory: index.html, a directory
 * symlink to /etc, a file symlink, and a FIFO.  Returns its path. */
static const char *
make_hostile_www(char dir[64])
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, 64, "%s/pushq-www-%d", tmp != NULL ? tmp : "/tmp", (int)getpid());
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	char path[128];
	snprintf(path, sizeof(path), "%s/index.html", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("<html>ok</html>\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/sub", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sub/inner.txt", dir);
	f = fopen(path, "w");
	fputs("inner\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/sysetc", dir);
	ck_assert_int_eq(symlink("/etc", path), 0);
	snprintf(path, sizeof(path), "%s/link.html", dir);
	ck_assert_int_eq(symlink("index.html", path), 0);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	return dir;
}

static void
remove_hostile_www(const char *dir)
{
	const char *names[] = { "index.html", "sub/inner.txt", "sub", "sysetc", "link.html", "fifo" };
	char path[128];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		remove(path);
	}
	rmdir(dir);
}

/* Bugs: a directory symlink inside --www served files outside it, and a
 * FIFO pinned its thread for ever (opened blocking). */
START_TEST(www_symlinks_and_fifos_are_refused)
{
	char dir[64];
	make_hostile_www(dir);
	const char *args[] = { "--www", dir, NULL };
	start(args);
	free(expect("GET", "/", NULL, 200));
	free(expect("GET", "/sub/inner.txt", NULL, 200));
	free(expect("GET", "/sysetc/passwd", NULL, 404));
	free(expect("GET", "/sysetc/hostname", NULL, 404));
	free(expect("GET", "/link.html", NULL, 404));
	double t0 = tu_now();
	free(expect("GET", "/fifo", NULL, 404));
	ck_assert_double_lt(tu_now() - t0, tu_slack(1.0));
	stop();
	/* The same walk without openat2, as on kernels that lack it. */
	int root = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(root, 0);
	for (int walk = 0; walk <= 1; walk++) {
		int fd = srv_open_beneath(root, "./sub/inner.txt", walk);
		ck_assert_int_ge(fd, 0);
		close(fd);
		ck_assert_int_lt(srv_open_beneath(root, "./sysetc/passwd", walk), 0);
		ck_assert_int_lt(srv_open_beneath(root, "./link.html", walk), 0);
		ck_assert_int_lt(srv_open_beneath(root, "./sub/../../etc/passwd", walk), 0);
		fd = srv_open_beneath(root, "./fifo", walk);    /* opens at once, not a file */
		struct stat st;
		ck_assert(fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode));
		close(fd);
	}
	close(root);
	remove_hostile_www(dir);
}
END_TEST

/* Bug: ?name=%00 answered 503, and name=a%00b was client "a". */
START_TEST(names_with_nul_are_refused)
{
	start(NULL);
	free(expect("GET", "/ab_b1?name=a", NULL, 200));
	free(expect("GET", "/ab_b1?name=%00", NULL, 400));
	free(expect("GET", "/ab_b1?name=a%00b", NULL, 400));
	free(expect("GET", "/get_msg?name=a%00b&timeout=0", NULL, 400));
	free(expect("POST", "/send_msg", "content=x&name=a%00b", 400));
	stop();
}
END_TEST

START_TEST(max_clients_answers_503)
{
	const char *args[] = { "--max-clients", "2", NULL };
	start(args);
	free(expect("GET", "/ab_b1?name=a", NULL, 200));
	free(expect("GET", "/ab_b1?name=b", NULL, 200));
	char *body = expect("GET", "/ab_b1?name=c", NULL, 503);
	ck_assert_ptr_nonnull(strstr(body, "--max-clients"));
	free(body);
	free(expect("GET", "/ab_b1?name=a", NULL, 200));   /* known names still come in */
	stop();
}
END_TEST

/* ------------------------------------------------------------ bad input */

/* Sends raw bytes on a new connection; returns the status answered. */
static int
raw_status(const char *raw, size_t len)
{
	int fd = tu_connect(server.port);
	tu_send(fd, raw, len);
	tu_response r = tu_read_response(fd, 0);
	tu_response_free(&r);
	close(fd);
	return r.status;
}

#define RAW_STATUS(literal) raw_status(literal, sizeof(literal) - 1)

START_TEST(bad_input_gets_its_status)
{
	start((const char *[]){ "--max-body", "1000", NULL });
	free(expect("GET", "/ab_b1?name=victim", NULL, 200));
	expect_sent("/send_msg", "content=before");

	ck_assert_int_eq(RAW_STATUS("\x01\x02garbage\r\n\r\n"), 400);
	ck_assert_int_eq(RAW_STATUS("GET /a\0b HTTP/1.1\r\nHost: t\r\n\r\n"), 400);
	ck_assert_int_eq(RAW_STATUS("POST /send_msg HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\n"), 400);
	ck_assert_int_eq(RAW_STATUS("POST /send_msg HTTP/1.1\r\nHost: t\r\n"
	                            "Content-Length: 99999999999999999999\r\n\r\n"), 413);
	ck_assert_int_eq(RAW_STATUS("POST /send_msg HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
	                            "Transfer-Encoding: chunked\r\n\r\n"), 400);
	ck_assert_int_eq(RAW_STATUS("POST /send_msg HTTP/1.1\r\nHost: t\r\n"
	                            "Transfer-Encoding: chunked\r\n\r\nxyz\r\n"), 400);
	ck_assert_int_eq(RAW_STATUS("POST /send_msg HTTP/1.1\r\nHost: t\r\n"
	                            "Transfer-Encoding: compress\r\n\r\n"), 501);

	char *big = malloc(200 * 1024);
	int n = sprintf(big, "GET / HTTP/1.1\r\nHost: t\r\nX-Long: ");
	memset(big + n, 'a', 100 * 1024);
	strcpy(big + n + 100 * 1024, "\r\n\r\n");
	ck_assert_int_eq(raw_status(big, strlen(big)), 431);
	n = sprintf(big, "GET / HTTP/1.1\r\nHost: t\r\n");
	for (int i = 0; i < 10000; i++)
		n += sprintf(big + n, "A: b\r\n");
	strcpy(big + n, "\r\n");
	ck_assert_int_eq(raw_status(big, strlen(big)), 431);
	n = sprintf(big, "GET /");
	memset(big + n, 'u', 20000);
	strcpy(big + n + 20000, " HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert_int_eq(raw_status(big, strlen(big)), 414);
	n = sprintf(big, "POST /send_msg HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n\r\ncontent=");
	memset(big + n, 'x', 1992);
	ck_assert_int_eq(raw_status(big, (size_t)n + 1992), 413);
	free(big);

	/* Everyone else is still served, and no message was lost or changed. */
	expect_sent("/send_msg", "content=after");
	expect_body("GET", "/get_msg?name=victim&timeout=0", NULL, 200,
	            "{\"status\":true,\"msg\":\"before\",\"id\":1,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}");
	expect_body("GET", "/get_msg?name=victim&timeout=0", NULL, 200,
	            "{\"status\":true,\"msg\":\"after\",\"id\":2,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}");
	stop();
}
END_TEST

START_TEST(slow_request_gets_408)
{
	start(NULL);
	int fd = tu_connect(server.port);
	tu_send_str(fd, "GET / HTTP/1.1\r\nHost: t\r\n");   /* and never the blank line */
	double waited = tu_wait_readable(fd, 15);
	ck_assert_double_ge(waited, 4.0);
	tu_response r = tu_read_response(fd, 0);
	ck_assert_int_eq(r.status, 408);
	tu_response_free(&r);
	close(fd);
	stop();
}
END_TEST

START_TEST(max_conns_gives_503)
{
	start((const char *[]){ "--max-conns", "2", NULL });
	int a = tu_connect(server.port), b = tu_connect(server.port);
	for (int i = 0; i < 2; i++) {     /* both are being served */
		int fd = i == 0 ? a : b;
		tu_send_str(fd, "GET /stats HTTP/1.1\r\nHost: t\r\n\r\n");
		tu_response r = tu_read_response(fd, 0);
		ck_assert_int_eq(r.status, 200);
		tu_response_free(&r);
	}
	int c = tu_connect(server.port);
	tu_response r = tu_read_response(c, 0);
	ck_assert_int_eq(r.status, 503);
	tu_response_free(&r);
	close(c);
	close(a);
	close(b);
	stop();
}
END_TEST

/* ------------------------------------------------- command line, stop */

START_TEST(graceful_shutdown_answers_waiters)
{
	start(NULL);
	free(expect("GET", "/ab_b1?name=s", NULL, 200));
	int fd = start_get("s", "10");
	await_waiting(1);
	double t0 = tu_now();
	kill(server.pid, SIGTERM);
	tu_response r = tu_read_response(fd, 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"status\":false,\"msg\":\"\"}");
	ck_assert_double_lt(tu_now() - t0, tu_slack(1.0));
	tu_response_free(&r);
	close(fd);
	ck_assert_int_eq(tu_server_stop(&server, 2.0), 0);
}
END_TEST

START_TEST(command_line)
{
	char err[256];
	ck_assert_int_eq(tu_run_pushq((const char *[]){ "--help", NULL }, err, sizeof(err)), 0);
	ck_assert_int_eq(tu_run_pushq((const char *[]){ "--version", NULL }, err, sizeof(err)), 0);
	ck_assert_int_eq(tu_run_pushq((const char *[]){ "--bogus", NULL }, err, sizeof(err)), 2);
	ck_assert_ptr_nonnull(strstr(err, "unknown option"));
	ck_assert_int_eq(tu_run_pushq((const char *[]){ "--port", "70000", NULL }, err, sizeof(err)), 2);
	ck_assert_int_eq(tu_run_pushq((const char *[]){ "--queue-size", NULL }, err, sizeof(err)), 2);
	ck_assert_int_eq(tu_run_pushq((const char *[]){ "--log", "loud", NULL }, err, sizeof(err)), 2);
	ck_assert_int_eq(tu_run_pushq((const char *[]){ "extra", NULL }, err, sizeof(err)), 2);
	ck_assert_int_eq(tu_run_pushq((const char *[]){ "--port", "0", "--www", "/nonexistent-dir",
	                                                NULL }, err, sizeof(err)), 1);
	ck_assert_ptr_nonnull(strstr(err, "--www"));
	ck_assert_int_eq(tu_run_pushq((const char *[]){ "--host", "not-an-ip", "--port", "0",
	                                                NULL }, err, sizeof(err)), 1);
	/* A port already in use. */
	start(NULL);
	char port[16];
	snprintf(port, sizeof(port), "%d", server.port);
	ck_assert_int_eq(tu_run_pushq((const char *[]){ "--port", port, NULL }, err, sizeof(err)), 1);
	ck_assert_ptr_nonnull(strstr(err, "cannot"));
	stop();
}
END_TEST

/* Every message says when it was sent (the server's clock, ms since 1970),
 * so a page can show the delay of messages it did not send; /stats?name=
 * shows one client, and tells a short poll from a long one. */
START_TEST(messages_carry_their_send_time)
{
	server = tu_server_start(NULL);
	free(expect("GET", "/ab_b1?name=timer", NULL, 200));
	free(expect("GET", "/ab_b1?name=other", NULL, 200));
	struct timespec before, after;
	clock_gettime(CLOCK_REALTIME, &before);
	expect_sent("/send_msg", "content=tick");
	clock_gettime(CLOCK_REALTIME, &after);
	char *got = expect("GET", "/get_msg?name=timer&timeout=0", NULL, 200);
	unsigned long long sent_at = 0;
	const char *field = strstr(got, ",\"sent_at\":");
	ck_assert_ptr_nonnull(field);
	ck_assert_int_eq(sscanf(field, ",\"sent_at\":%llu", &sent_at), 1);
	ck_assert_uint_ge(sent_at, (unsigned long long)before.tv_sec * 1000 + (unsigned long long)before.tv_nsec / 1000000);
	ck_assert_uint_le(sent_at, (unsigned long long)after.tv_sec * 1000 + (unsigned long long)after.tv_nsec / 1000000);
	free(got);
	json_t *stats = tu_get_json(server.port, "/stats?name=timer");
	ck_assert_ptr_nonnull(stats);
	json_t *clients = json_object_get(stats, "clients");
	ck_assert_uint_eq(json_array_size(clients), 1);        /* only timer, not other */
	json_t *timer = json_array_get(clients, 0);
	ck_assert_str_eq(json_string_value(json_object_get(timer, "name")), "timer");
	ck_assert_str_eq(json_string_value(json_object_get(timer, "kind")), "poll");
	ck_assert(json_is_true(json_object_get(timer, "short")));
	ck_assert_ptr_null(tu_stats_client(stats, "other"));
	ck_assert_int_eq(tu_json_int(stats, "client_count"), 2);   /* the count stays whole */
	json_decref(stats);
	free(expect("GET", "/stats?name=%zz", NULL, 400));
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* /metrics                                                            */
/* ------------------------------------------------------------------ */

/* The value of one sample line ("name{labels} value") of a /metrics page,
 * or -1 when it is not there. */
static double
sample(const char *page, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = page; (p = strstr(p, series)) != NULL; p += n)
		if ((p == page || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static char *
metrics_page(void)
{
	tu_response r = tu_request(server.port, "GET", "/metrics", NULL);
	ck_assert_int_eq(r.status, 200);
	char type[96];
	ck_assert(tu_header(&r, "Content-Type", type, sizeof(type)));
	ck_assert_str_eq(type, "text/plain; version=0.0.4; charset=utf-8");
	char *page = strdup(r.body);
	tu_response_free(&r);
	return page;
}

/* Debian's promtool (package prometheus) accepts the page of a server that
 * has seen every kind of traffic. */
START_TEST(metrics_pass_promtool)
{
	ck_assert_msg(access("/usr/bin/promtool", X_OK) == 0,
	              "promtool is missing: apt-get install prometheus (make test installs it)");
	start(NULL);
	free(expect("GET", "/ab_b1?name=m1&channels=room,news", NULL, 200));
	expect_sent("/send_msg", "content=a&channel=news");
	free(expect("GET", "/get_msg?name=m1&timeout=0", NULL, 200));
	free(expect("GET", "/nope.html", NULL, 404));
	char *page = metrics_page();
	char path[48];
	snprintf(path, sizeof(path), "%.20s/pushq-metrics-%d.txt", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
	         (int)getpid());
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(page, f);
	fclose(f);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s > %s.out 2>&1", path, path);
	int rc = system(cmd);
	snprintf(cmd, sizeof(cmd), "%s.out", path);
	FILE *out = fopen(cmd, "r");
	char said[512] = "";
	if (out != NULL) {
		size_t got = fread(said, 1, sizeof(said) - 1, out);
		said[got] = '\0';
		fclose(out);
	}
	unlink(path);
	unlink(cmd);
	ck_assert_msg(rc == 0, "promtool check metrics: %s", said);
	free(page);
	stop();
}
END_TEST

/* The counters move as messages flow, and by the right amounts. */
START_TEST(metrics_count_what_happens)
{
	start(NULL);
	free(expect("GET", "/ab_b1?name=m1", NULL, 200));
	free(expect("GET", "/ab_b1?name=m2&channels=news", NULL, 200));
	char *before = metrics_page();
	ck_assert(sample(before, "pushq_messages_published_total") == 0);
	ck_assert(sample(before, "pushq_clients") == 2);
	ck_assert(sample(before, "pushq_channel_subscribers{channel=\"news\"}") == 1);
	for (int i = 0; i < 3; i++)
		expect_sent("/send_msg", "content=x");
	expect_sent("/send_msg", "content=y&channel=news");
	free(expect("GET", "/get_msg?name=m1&timeout=0", NULL, 200));
	free(expect("GET", "/get_msg?name=m1&timeout=0", NULL, 200));
	char *after = metrics_page();
	ck_assert(sample(after, "pushq_messages_published_total") == 4);
	ck_assert(sample(after, "pushq_messages_delivered_total") == 2);
	ck_assert(sample(after, "pushq_channel_messages_published_total{channel=\"room\"}") == 3);
	ck_assert(sample(after, "pushq_channel_messages_published_total{channel=\"news\"}") == 1);
	ck_assert(sample(after, "pushq_http_requests_total{route=\"/send_msg\",status=\"200\"}") == 4);
	ck_assert(sample(after, "pushq_transport_connections_total{transport=\"longpoll\"}") == 2);
	ck_assert(sample(after, "pushq_delivery_delay_seconds_count") == 2);
	/* m1 holds one message still, m2 one: the histogram counts both clients. */
	ck_assert(sample(after, "pushq_queue_depth_count") == 2);
	ck_assert(sample(after, "pushq_queue_depth_bucket{le=\"0\"}") == 0);
	ck_assert(sample(after, "pushq_queue_depth_bucket{le=\"1\"}") == 2);
	ck_assert(sample(after, "pushq_queue_depth_sum") == 2);
	free(before);
	free(after);
	stop();
}
END_TEST

/* Writes `text` to path (replacing it) and sets its modification time to
 * `mtime` seconds since 1970, so that two versions always differ. */
static void
write_file(const char *path, const char *text, time_t mtime)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	struct timespec times[2] = { { mtime, 0 }, { mtime, 0 } };
	ck_assert_int_eq(utimensat(AT_FDCWD, path, times, 0), 0);
}

/* The entry the cache gives for path's file as it is now. */
static const srv_file *
offer(srv_file_cache *fc, const char *key, const char *path, double now)
{
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	const srv_file *f = srv_file_cache_offer(fc, key, fd, &st, "text/plain", now);
	close(fd);
	return f;
}

/* The cache's rules, with the clock given: trusted for SRV_FILE_FRESH_S,
 * then checked; unchanged keeps the same bytes, changed reads again; an
 * entry replaced while held stays whole for its holder; big files are not
 * kept. */
START_TEST(file_cache_rules)
{
	char dir[64], path[96];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/pushq-fc-%d", tmp != NULL ? tmp : "/tmp", (int)getpid());
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/a.txt", dir);
	write_file(path, "first", 1000000);
	srv_file_cache *fc = srv_file_cache_new();
	ck_assert_ptr_nonnull(fc);
	ck_assert_ptr_null(srv_file_cache_fresh(fc, "/a.txt", 100.0));      /* empty */
	const srv_file *one = offer(fc, "/a.txt", path, 100.0);
	ck_assert_ptr_nonnull(one);
	ck_assert_uint_eq(one->size, 5);
	ck_assert_int_eq(memcmp(one->data, "first", 5), 0);
	ck_assert_str_eq(one->type, "text/plain");
	const srv_file *again = srv_file_cache_fresh(fc, "/a.txt", 100.0 + SRV_FILE_FRESH_S / 2);
	ck_assert_ptr_eq(again, one);                                         /* no system call */
	srv_file_release(again);
	ck_assert_ptr_null(srv_file_cache_fresh(fc, "/a.txt", 100.0 + SRV_FILE_FRESH_S));  /* check it */
	ck_assert_ptr_null(srv_file_cache_fresh(fc, "/b.txt", 100.0));       /* another path */
	again = offer(fc, "/a.txt", path, 102.0);                            /* unchanged: the same bytes */
	ck_assert_ptr_eq(again, one);
	srv_file_release(again);
	again = srv_file_cache_fresh(fc, "/a.txt", 102.5);                   /* checked at 102 */
	ck_assert_ptr_eq(again, one);
	srv_file_release(again);

	write_file(path, "second!", 1000001);                                /* edited */
	const srv_file *two = offer(fc, "/a.txt", path, 104.0);
	ck_assert_ptr_nonnull(two);
	ck_assert_ptr_ne(two, one);
	ck_assert_uint_eq(two->size, 7);
	ck_assert_int_eq(memcmp(two->data, "second!", 7), 0);
	ck_assert_int_eq(memcmp(one->data, "first", 5), 0);                  /* still whole for its holder */
	srv_file_release(one);

	/* Bigger than SRV_FILE_CACHE_MAX: not kept, served from the file. */
	snprintf(path, sizeof(path), "%s/big.bin", dir);
	FILE *f = fopen(path, "w");
	for (int i = 0; i < SRV_FILE_CACHE_MAX + 1; i++)
		fputc('x', f);
	fclose(f);
	ck_assert_ptr_null(offer(fc, "/big.bin", path, 100.0));
	srv_file_release(two);
	srv_file_cache_free(fc);
	remove(path);
	snprintf(path, sizeof(path), "%s/a.txt", dir);
	remove(path);
	rmdir(dir);
}
END_TEST

static int cache_port;
static const char *cache_expect;

/* GET /page.html answers 200 with exactly cache_expect. */
static bool
page_is(void *arg)
{
	(void)arg;
	tu_response r = tu_request(cache_port, "GET", "/page.html", NULL);
	bool same = r.status == 200 && r.body_len == strlen(cache_expect) &&
	            memcmp(r.body, cache_expect, r.body_len) == 0;
	bool known = r.status == 404 || (r.status == 200 &&
	             ((r.body_len == 9 && memcmp(r.body, "version 1", 9) == 0) ||
	              (r.body_len == 16 && memcmp(r.body, "version two, now", 16) == 0)));
	ck_assert_msg(known, "an answer that is neither version: %d, %zu bytes", r.status, r.body_len);
	tu_response_free(&r);
	return same;
}

static bool
page_is_gone(void *arg)
{
	(void)arg;
	tu_response r = tu_request(cache_port, "GET", "/page.html", NULL);
	int status = r.status;
	tu_response_free(&r);
	return status == 404;
}

/* Files kept in memory: an edited page shows within a second or so, a
 * deleted one is 404 as soon; HEAD, pipelining and a big file still right. */
START_TEST(edited_and_deleted_files_show)
{
	char dir[64], path[96];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/pushq-edit-%d", tmp != NULL ? tmp : "/tmp", (int)getpid());
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/page.html", dir);
	write_file(path, "version 1", 1000000);
	char big_path[96];
	snprintf(big_path, sizeof(big_path), "%s/big.txt", dir);
	FILE *f = fopen(big_path, "w");
	for (int i = 0; i < 3 * SRV_FILE_CACHE_MAX; i++)
		fputc('a' + i % 26, f);
	fclose(f);
	const char *args[] = { "--www", dir, NULL };
	start(args);
	cache_port = server.port;
	cache_expect = "version 1";
	ck_assert(page_is(NULL));
	ck_assert(page_is(NULL));                                   /* from memory now */
	tu_response head = tu_request(server.port, "HEAD", "/page.html", NULL);
	char len[16];
	ck_assert_int_eq(head.status, 200);
	ck_assert(tu_header(&head, "Content-Length", len, sizeof(len)));
	ck_assert_str_eq(len, "9");
	ck_assert_uint_eq(head.body_len, 0);
	tu_response_free(&head);

	/* Pipelined: a cached body between two others, each whole, in order. */
	int fd = tu_connect(server.port);
	tu_send_str(fd, "GET /page.html HTTP/1.1\r\nHost: t\r\n\r\n"
	                "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"
	                "HEAD /page.html HTTP/1.1\r\nHost: t\r\n\r\n"
	                "GET /page.html HTTP/1.1\r\nHost: t\r\n\r\n");
	int wanted[] = { 200, 404, 200, 200 };
	size_t bodies[] = { 9, 14, 0, 9 };
	for (int i = 0; i < 4; i++) {
		tu_response r = tu_read_response(fd, i == 2);
		ck_assert_int_eq(r.status, wanted[i]);
		ck_assert_uint_eq(r.body_len, bodies[i]);
		tu_response_free(&r);
	}
	close(fd);

	/* Bigger than the cache keeps: every byte, by sendfile. */
	tu_response big = tu_request(server.port, "GET", "/big.txt", NULL);
	ck_assert_int_eq(big.status, 200);
	ck_assert_uint_eq(big.body_len, 3 * SRV_FILE_CACHE_MAX);
	for (size_t i = 0; i < big.body_len; i++)
		ck_assert_int_eq(big.body[i], 'a' + (int)(i % 26));
	tu_response_free(&big);

	write_file(path, "version two, now", 1000100);
	cache_expect = "version two, now";
	ck_assert(tu_wait_until(page_is, NULL, tu_slack(3)));
	remove(path);
	ck_assert(tu_wait_until(page_is_gone, NULL, tu_slack(3)));
	stop();
	remove(big_path);
	rmdir(dir);
}
END_TEST

Suite *
server_suite(void)
{
	Suite *s = suite_create("server");
	TCase *api = tcase_create("api");
	tcase_set_timeout(api, 30);
	tcase_add_test(api, seed_flow);
	tcase_add_test(api, messages_carry_their_send_time);
	tcase_add_test(api, get_msg_errors);
	tcase_add_test(api, routes_answer_405_with_allow);
	tcase_add_test(api, redirect_without_name);
	tcase_add_test(api, timeout_not_before);
	tcase_add_test(api, poll_timeout_caps_wait);
	tcase_add_test(api, waiting_get_wakes_at_once);
	tcase_add_test(api, drops_are_reported);
	tcase_add_test(api, message_survives_a_vanished_poller);
	tcase_add_test(api, hang_up_on_a_later_poll_of_one_connection);
	tcase_add_test(api, hang_up_between_two_polls_ends_the_next);
	tcase_add_test(api, hang_ups_on_reused_descriptors);
	tcase_add_test(api, hundred_concurrent_long_polls);
	tcase_add_test(api, keep_alive_and_pipelining);
	tcase_add_test(api, static_files);
	tcase_add_test(api, www_symlinks_and_fifos_are_refused);
	tcase_add_test(api, file_cache_rules);
	tcase_add_test(api, edited_and_deleted_files_show);
	tcase_add_test(api, names_with_nul_are_refused);
	tcase_add_test(api, max_clients_answers_503);
	tcase_add_test(api, metrics_pass_promtool);
	tcase_add_test(api, metrics_count_what_happens);
	suite_add_tcase(s, api);

	TCase *robust = tcase_create("robust");
	tcase_set_timeout(robust, 30);
	tcase_add_test(robust, bad_input_gets_its_status);
	tcase_add_test(robust, slow_request_gets_408);
	tcase_add_test(robust, max_conns_gives_503);
	tcase_add_test(robust, graceful_shutdown_answers_waiters);
	tcase_add_test(robust, command_line);
	suite_add_tcase(s, robust);
	return s;
}
