/*
 * check_redis.c - integration: two pushq nodes share one room through a
 * real redis-server (Debian's), which each test starts on a free port in a
 * temporary directory, with every write fsync'ed (appendfsync always), and
 * stops itself, by its PID.  `make test` installs redis-server; where it is
 * missing all the same, every test here fails under CI=true, and otherwise
 * says loudly on stderr that it did not run.
 */
#include "suites.h"
#include "testutil.h"
#include "wsframe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REDIS_SERVER "/usr/bin/redis-server"

static tu_server node_a, node_b;

typedef struct {
	pid_t pid;
	int port;
	char dir[128];
} redis_proc;

/* Whether the suite can run.  `make test` installs redis-server (as root
 * with apt-get) or stops saying how; run some other way without it, the
 * test fails under CI=true and says loudly that it did not run. */
static bool
have_redis(void)
{
	if (access(REDIS_SERVER, X_OK) == 0)
		return true;
	const char *ci = getenv("CI");
	ck_assert_msg(ci == NULL || strcmp(ci, "true") != 0,
	              "%s is not installed: the Redis suite cannot run (CI=true)", REDIS_SERVER);
	fprintf(stderr, "check_redis: NOT RUN: %s is not installed "
	                "(apt-get install redis-server); the Redis scale-out is untested here\n",
	        REDIS_SERVER);
	return false;
}

/* True when something on 127.0.0.1:port answers PING with +PONG. */
static bool
redis_answers(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bool ok = false;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6 && tu_wait_readable(fd, 1) >= 0) {
		char reply[16] = "";
		ok = recv(fd, reply, sizeof(reply) - 1, 0) > 0 && strncmp(reply, "+PONG", 5) == 0;
	}
	close(fd);
	return ok;
}

/* A free port (bound and let go: nobody else here picks ports at random). */
static int
free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	close(fd);
	return ntohs(addr.sin_port);
}

/* Whether r's redis-server answers, or has exited (then reaped: r->pid -1). */
static bool
redis_up_or_gone(void *arg)
{
	redis_proc *r = arg;
	if (redis_answers(r->port))
		return true;
	if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
		r->pid = -1;
		return true;
	}
	return false;
}

/* Starts redis-server on r->port with its data in r->dir (kept across
 * restarts), and waits until it answers.  A server that exits at once is
 * started again, up to three times: on a restart the port can be held for
 * a moment (a node reconnecting in a loop may, rarely, connect its socket
 * to itself on that very port).  Its output goes to r->dir/redis.log. */
static void
redis_start(redis_proc *r)
{
	char port[16], log[sizeof(r->dir) + 16];
	snprintf(port, sizeof(port), "%d", r->port);
	snprintf(log, sizeof(log), "%s/redis.log", r->dir);
	for (int attempt = 0; attempt < 3; attempt++) {
		r->pid = fork();
		ck_assert_int_ge(r->pid, 0);
		if (r->pid == 0) {
			freopen(log, "a", stdout);
			execl(REDIS_SERVER, "redis-server", "--port", port, "--bind", "127.0.0.1",
			      "--dir", r->dir, "--appendonly", "yes", "--appendfsync", "always",
			      "--save", "", "--daemonize", "no", (char *)NULL);
			_exit(127);
		}
		if (tu_wait_until(redis_up_or_gone, r, tu_slack(10)) && r->pid > 0)
			return;                  /* it answers */
		if (r->pid > 0) {            /* neither answers nor exits: give up */
			kill(r->pid, SIGKILL);
			waitpid(r->pid, NULL, 0);
			break;
		}
		struct timespec back_off = { 0, 300 * 1000 * 1000 };   /* let the port go */
		nanosleep(&back_off, NULL);
	}
	ck_abort_msg("redis-server did not start (its output: %s)", log);
}

/* A Redis on a free port with a fresh data directory under $TMPDIR (named
 * by our PID and the port: no other test picks the same), not started. */
static redis_proc
redis_prepare(void)
{
	redis_proc r = { .port = free_port() };
	const char *tmp = getenv("TMPDIR");
	snprintf(r.dir, sizeof(r.dir), "%s/pushq-redis-%d-%d", tmp ? tmp : "/tmp", (int)getpid(), r.port);
	ck_assert_msg(mkdir(r.dir, 0700) == 0, "mkdir %s", r.dir);
	return r;
}

static redis_proc
redis_new(void)
{
	redis_proc r = redis_prepare();
	redis_start(&r);
	return r;
}

/* SIGKILL: no goodbye, no last save; only what was fsync'ed survives. */
static void
redis_kill(redis_proc *r)
{
	if (r->pid <= 0)
		return;
	kill(r->pid, SIGKILL);
	waitpid(r->pid, NULL, 0);
	r->pid = -1;
}

static void
redis_remove(redis_proc *r)
{
	redis_kill(r);
	char cmd[sizeof(r->dir) + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static tu_server
node_start(const redis_proc *r)
{
	char url[64];
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", r->port);
	return tu_server_start((const char *[]){ "--redis", url, NULL });
}

/* "connected":true in the node's /stats. */
static bool
node_connected(void *node)
{
	json_t *stats = tu_get_json(((tu_server *)node)->port, "/stats");
	bool yes = json_is_true(tu_json_at(stats, "redis.connected"));
	json_decref(stats);
	return yes;
}

static void
start_two_nodes(redis_proc *r)
{
	*r = redis_new();
	node_a = node_start(r);
	node_b = node_start(r);
	ck_assert(tu_wait_until(node_connected, &node_a, tu_slack(5)));
	ck_assert(tu_wait_until(node_connected, &node_b, tu_slack(5)));
}

static void
stop_all(redis_proc *r)
{
	ck_assert_int_eq(tu_server_stop(&node_a, 3.0), 0);
	ck_assert_int_eq(tu_server_stop(&node_b, 3.0), 0);
	redis_remove(r);
}

static void
post(const tu_server *node, const char *body, int want_status)
{
	tu_response resp = tu_request(node->port, "POST", "/send_msg", body);
	ck_assert_msg(resp.status == want_status, "POST %s: %d %s", body, resp.status, resp.body);
	tu_response_free(&resp);
}

static void
join(const tu_server *node, const char *name)
{
	char target[96];
	snprintf(target, sizeof(target), "/ab_b1?name=%s", name);
	tu_response resp = tu_request(node->port, "GET", target, NULL);
	ck_assert_int_eq(resp.status, 200);
	tu_response_free(&resp);
}

/* The next message for `name` on `node` (waiting up to 5 s): its body. */
static tu_response
get(const tu_server *node, const char *name)
{
	char target[96];
	snprintf(target, sizeof(target), "/get_msg?name=%s&timeout=5", name);
	tu_response resp = tu_request(node->port, "GET", target, NULL);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_msg(strstr(resp.body, "\"status\":true") != NULL, "no message: %s", resp.body);
	return resp;
}

static void
expect_get(const tu_server *node, const char *name, const char *json_part)
{
	tu_response resp = get(node, name);
	tu_strip_sent_at(resp.body);
	ck_assert_msg(strstr(resp.body, json_part) != NULL, "%s lacks %s", resp.body, json_part);
	tu_response_free(&resp);
}

/* Whether node B's bridge thread has delivered id 1 ("redis.last_id"). */
static bool
b_read_first(void *unused)
{
	(void)unused;
	json_t *stats = tu_get_json(node_b.port, "/stats");
	bool yes = tu_json_int(stats, "redis.last_id") >= 1;
	json_decref(stats);
	return yes;
}

/* ------------------------------------------------------------------ */

START_TEST(long_poll_on_b_gets_what_a_was_sent)
{
	if (!have_redis())
		return;
	redis_proc r;
	start_two_nodes(&r);
	join(&node_b, "bob");
	post(&node_a, "content=hello+from+A&name=alice", 200);
	expect_get(&node_b, "bob", "{\"status\":true,\"msg\":\"hello from A\",\"id\":1,\"from\":\"alice\",\"channel\":\"room\",\"dropped\":0}");
	stop_all(&r);
}
END_TEST

START_TEST(websocket_on_a_gets_what_b_was_sent)
{
	if (!have_redis())
		return;
	redis_proc r;
	start_two_nodes(&r);
	int ws = wsf_connect(node_a.port, "/ws?name=wanda");
	post(&node_b, "content=from+B", 200);
	uint8_t *p;
	size_t len;
	ck_assert_int_eq(wsf_read(ws, &p, &len), 0x1);
	ck_assert_int_eq(tu_strip_sent_at((char *)p), 1);
	ck_assert_str_eq((char *)p, "{\"status\":true,\"msg\":\"from B\",\"id\":1,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}");
	free(p);
	/* A chat frame sent on A reaches a long poll on B (who joins once B
	 * has read id 1 itself: else id 1 would be bea's first). */
	ck_assert(tu_wait_until(b_read_first, NULL, tu_slack(5)));
	join(&node_b, "bea");
	wsf_send_message(ws, 0x1, "frame on A", 10);
	expect_get(&node_b, "bea", "\"msg\":\"frame on A\",\"id\":2,\"from\":\"wanda\"");
	close(ws);
	stop_all(&r);
}
END_TEST

/* Sends alternate between the nodes; both deliver the same ids, in the
 * same order, with the same texts. */
START_TEST(both_nodes_deliver_the_same_ids_in_order)
{
	if (!have_redis())
		return;
	redis_proc r;
	start_two_nodes(&r);
	join(&node_a, "on-a");
	join(&node_b, "on-b");
	for (int i = 1; i <= 20; i++) {
		char body[32];
		snprintf(body, sizeof(body), "content=m%d", i);
		post(i % 2 ? &node_a : &node_b, body, 200);
	}
	for (long id = 1; id <= 20; id++) {
		char want[160];
		snprintf(want, sizeof(want), "\"msg\":\"m%ld\",\"id\":%ld,", id, id);
		expect_get(&node_a, "on-a", want);
		expect_get(&node_b, "on-b", want);
	}
	stop_all(&r);
}
END_TEST

/* Redis killed: sends are refused (503, or an error frame), never lost in
 * silence; restarted on the same directory: both nodes come back by
 * themselves and go on with the next id. */
START_TEST(outage_answers_503_and_recovers)
{
	if (!have_redis())
		return;
	redis_proc r;
	start_two_nodes(&r);
	join(&node_b, "bob");
	int ws = wsf_connect(node_a.port, "/ws?name=wes");
	uint8_t *p;
	size_t len;
	for (long id = 1; id <= 16; id++) {       /* the batch connection in use before the kill */
		post(&node_a, "content=before", 200);
		char want[160];
		snprintf(want, sizeof(want), "\"msg\":\"before\",\"id\":%ld,", id);
		expect_get(&node_b, "bob", want);
		ck_assert_int_eq(wsf_read(ws, &p, &len), 0x1);
		free(p);
	}

	redis_kill(&r);
	tu_response resp = tu_request(node_a.port, "POST", "/send_msg", "content=during");
	ck_assert_int_eq(resp.status, 503);
	ck_assert_str_eq(resp.body, "{\"status\":false,\"error\":\"redis unavailable\"}");
	tu_response_free(&resp);
	wsf_send_message(ws, 0x1, "during", 6);
	ck_assert_int_eq(wsf_read(ws, &p, &len), 0x1);
	ck_assert_str_eq((char *)p, "{\"status\":false,\"error\":\"redis unavailable\"}");
	free(p);

	redis_start(&r);
	ck_assert(tu_wait_until(node_connected, &node_a, tu_slack(10)));
	ck_assert(tu_wait_until(node_connected, &node_b, tu_slack(10)));
	/* Every send after the restart goes through (no stale connection). */
	for (long id = 17; id <= 32; id++) {
		post(&node_a, "content=after", 200);
		char want[160];
		snprintf(want, sizeof(want), "\"msg\":\"after\",\"id\":%ld,", id);
		expect_get(&node_b, "bob", want);      /* nothing in between */
		ck_assert_int_eq(wsf_read(ws, &p, &len), 0x1);
		ck_assert_ptr_nonnull(strstr((char *)p, want));
		free(p);
	}
	json_t *stats = tu_get_json(node_b.port, "/stats");
	ck_assert_ptr_nonnull(stats);
	ck_assert_int_eq(tu_json_int(stats, "redis.reconnects"), 1);
	json_decref(stats);
	close(ws);
	stop_all(&r);
}
END_TEST

/* Node B is frozen while ten messages go through A; Redis is killed and
 * restarted from its files; B wakes: it reconnects and delivers all ten,
 * once each, in order -- what pub/sub would have lost. */
START_TEST(nothing_written_before_a_restart_is_lost)
{
	if (!have_redis())
		return;
	redis_proc r;
	start_two_nodes(&r);
	join(&node_b, "late");
	kill(node_b.pid, SIGSTOP);
	for (int i = 1; i <= 10; i++) {
		char body[32];
		snprintf(body, sizeof(body), "content=kept%d", i);
		post(&node_a, body, 200);
	}
	redis_kill(&r);
	redis_start(&r);
	kill(node_b.pid, SIGCONT);
	for (long id = 1; id <= 10; id++) {
		char want[128];
		snprintf(want, sizeof(want), "\"msg\":\"kept%ld\",\"id\":%ld,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}", id, id);
		expect_get(&node_b, "late", want);
	}
	tu_response resp = tu_request(node_b.port, "GET", "/get_msg?name=late&timeout=0", NULL);
	ck_assert_str_eq(resp.body, "{\"status\":false,\"msg\":\"\"}");      /* none twice */
	tu_response_free(&resp);
	stop_all(&r);
}
END_TEST

/* A node whose Redis is not there yet starts anyway, answers 503 to
 * sends, and joins once Redis is up. */
START_TEST(unreachable_at_start_is_not_fatal)
{
	if (!have_redis())
		return;
	redis_proc r = redis_prepare();
	node_a = node_start(&r);
	join(&node_a, "early");
	post(&node_a, "content=too+early", 503);
	json_t *stats = tu_get_json(node_a.port, "/stats");
	ck_assert_ptr_nonnull(stats);
	ck_assert(json_is_false(tu_json_at(stats, "redis.connected")));
	json_decref(stats);
	redis_start(&r);
	ck_assert(tu_wait_until(node_connected, &node_a, tu_slack(10)));
	post(&node_a, "content=now", 200);
	expect_get(&node_a, "early", "\"msg\":\"now\",\"id\":1,");
	ck_assert_int_eq(tu_server_stop(&node_a, 3.0), 0);
	redis_remove(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Channels, direct messages and presence across nodes                 */
/* ------------------------------------------------------------------ */

static void
join_in(const tu_server *node, const char *name, const char *channels)
{
	char target[128];
	snprintf(target, sizeof(target), "/ab_b1?name=%s&channels=%s", name, channels);
	tu_response resp = tu_request(node->port, "GET", target, NULL);
	ck_assert_int_eq(resp.status, 200);
	tu_response_free(&resp);
}

START_TEST(direct_message_on_a_reaches_one_client_on_b)
{
	if (!have_redis())
		return;
	redis_proc r;
	start_two_nodes(&r);
	join(&node_b, "bob");
	join(&node_b, "carol");
	join(&node_a, "alice");
	post(&node_a, "content=just+you&name=alice&to=bob", 200);
	post(&node_a, "content=everyone", 200);
	expect_get(&node_b, "bob", "\"msg\":\"just you\",\"id\":1,\"from\":\"alice\",\"to\":\"bob\",\"dropped\":0}");
	/* Nobody else had it: their next (and first) message is the one after. */
	expect_get(&node_b, "carol", "\"msg\":\"everyone\",\"id\":2,");
	expect_get(&node_a, "alice", "\"msg\":\"everyone\",\"id\":2,");
	expect_get(&node_b, "bob", "\"msg\":\"everyone\",\"id\":2,");
	stop_all(&r);
}
END_TEST

START_TEST(channel_message_reaches_its_subscribers_on_both_nodes)
{
	if (!have_redis())
		return;
	redis_proc r;
	start_two_nodes(&r);
	join_in(&node_a, "ann", "news");
	join_in(&node_b, "ben", "news,room");
	join_in(&node_b, "cid", "sport");
	post(&node_b, "content=headline&channel=news", 200);
	post(&node_a, "content=goal&channel=sport", 200);
	expect_get(&node_a, "ann", "\"msg\":\"headline\",\"id\":1,\"from\":\"\",\"channel\":\"news\",");
	expect_get(&node_b, "ben", "\"msg\":\"headline\",\"id\":1,\"from\":\"\",\"channel\":\"news\",");
	expect_get(&node_b, "cid", "\"msg\":\"goal\",\"id\":2,\"from\":\"\",\"channel\":\"sport\",");
	/* Neither news reader had the sport message. */
	tu_response resp = tu_request(node_a.port, "GET", "/get_msg?name=ann&timeout=0", NULL);
	ck_assert_str_eq(resp.body, "{\"status\":false,\"msg\":\"\"}");
	tu_response_free(&resp);
	resp = tu_request(node_b.port, "GET", "/get_msg?name=ben&timeout=0", NULL);
	ck_assert_str_eq(resp.body, "{\"status\":false,\"msg\":\"\"}");
	tu_response_free(&resp);
	stop_all(&r);
}
END_TEST

/* Whether node A's /presence?channel=room lists `name` (the arg). */
typedef struct {
	const char *name;
	bool listed;
} presence_probe;

static bool
a_lists(void *arg)
{
	presence_probe *p = arg;
	json_t *j = tu_get_json(node_a.port, "/presence?channel=room");
	bool found = false;
	json_t *clients = json_object_get(j, "clients");
	for (size_t i = 0; i < json_array_size(clients); i++)
		found |= strcmp(tu_json_str(json_array_get(clients, i), "name"), p->name) == 0;
	json_decref(j);
	return found == p->listed;
}

START_TEST(presence_covers_both_nodes_and_a_dead_node_drops_out)
{
	if (!have_redis())
		return;
	redis_proc r;
	start_two_nodes(&r);
	join(&node_b, "bea");
	/* A long poll held open on B: bea is online there. */
	int fd = tu_connect(node_b.port);
	const char *req = "GET /get_msg?name=bea&timeout=60 HTTP/1.1\r\nHost: t\r\n\r\n";
	tu_send(fd, req, strlen(req));
	presence_probe there = { "bea", true };
	ck_assert_msg(tu_wait_until(a_lists, &there, tu_slack(5)), "A does not list B's client");
	json_t *j = tu_get_json(node_a.port, "/presence?channel=room");
	ck_assert_int_eq(tu_json_int(j, "count"), 1);
	ck_assert_str_eq(tu_json_str(json_array_get(json_object_get(j, "clients"), 0), "kind"), "poll");
	json_decref(j);
	/* B dies without a word: within 10 s A no longer lists bea. */
	double killed = tu_now();
	kill(node_b.pid, SIGKILL);
	waitpid(node_b.pid, NULL, 0);
	close(fd);
	presence_probe gone = { "bea", false };
	ck_assert_msg(tu_wait_until(a_lists, &gone, tu_slack(12)), "a dead node's client stays listed");
	ck_assert_msg(tu_now() - killed < tu_slack(10), "dropped out after %.1f s", tu_now() - killed);
	ck_assert_int_eq(tu_server_stop(&node_a, 3.0), 0);
	redis_remove(&r);
}
END_TEST


/* ------------------------------------------------------------------ */
/* Sends in batches: several threads sending at once through node A    */
/* ------------------------------------------------------------------ */

#define SENDERS 4
#define SENDS_MAX 400          /* per sender, at most */

/* One answered send: its text and what node A answered. */
typedef struct {
	char text[32];
	int status;                 /* 200, 503, or anything else (a failure) */
	long long id;               /* 200: the id answered */
} answer;

typedef struct {
	int port, sender, count;    /* count: sends to make (stop may end it sooner) */
	atomic_bool *stop;
	atomic_int *answered, *refused;
	answer answers[SENDS_MAX];
	int made;                   /* how many of answers[] are filled */
} sender_job;

static void *
sender_main(void *arg)
{
	sender_job *job = arg;
	for (int i = 0; i < job->count && !atomic_load(job->stop); i++) {
		answer *a = &job->answers[i];
		snprintf(a->text, sizeof(a->text), "s%d-%d", job->sender, i);
		char body[64];
		snprintf(body, sizeof(body), "content=%s", a->text);
		json_t *j = tu_request_json(job->port, "POST", "/send_msg", body, &a->status);
		a->id = a->status == 200 ? tu_json_int(j, "id") : -1;
		json_decref(j);
		job->made = i + 1;
		atomic_fetch_add(job->answered, 1);
		if (a->status == 503)
			atomic_fetch_add(job->refused, 1);
	}
	return NULL;
}

typedef struct {
	atomic_bool stop;
	atomic_int answered, refused;
	sender_job jobs[SENDERS];
	pthread_t threads[SENDERS];
} senders;

static void
senders_start(senders *ss, int port, int count)
{
	atomic_init(&ss->stop, false);
	atomic_init(&ss->answered, 0);
	atomic_init(&ss->refused, 0);
	for (int t = 0; t < SENDERS; t++) {
		ss->jobs[t] = (sender_job){ .port = port, .sender = t, .count = count, .stop = &ss->stop,
		                            .answered = &ss->answered, .refused = &ss->refused };
		ck_assert_int_eq(pthread_create(&ss->threads[t], NULL, sender_main, &ss->jobs[t]), 0);
	}
}

static void
senders_join(senders *ss)
{
	atomic_store(&ss->stop, true);
	for (int t = 0; t < SENDERS; t++)
		pthread_join(ss->threads[t], NULL);
}

/* What a receiver got: ids and texts in the order delivered. */
typedef struct {
	long long ids[SENDERS * SENDS_MAX + 8];
	char texts[SENDERS * SENDS_MAX + 8][32];
	int n;
} delivered;

/* Reads text frames from ws into d until the message `last` (included). */
static void
read_until(int ws, const char *last, delivered *d)
{
	for (;;) {
		uint8_t *p;
		size_t len;
		int op = wsf_read(ws, &p, &len);
		ck_assert_msg(op >= 0, "the WebSocket ended before '%s' (%d read)", last, d->n);
		if (op != 0x1) {
			free(p);
			continue;
		}
		json_t *j = json_loadb((const char *)p, len, 0, NULL);
		free(p);
		const char *msg = tu_json_str(j, "msg");
		ck_assert_ptr_nonnull(msg);
		ck_assert_int_lt(d->n, (int)(sizeof(d->ids) / sizeof(d->ids[0])));
		d->ids[d->n] = tu_json_int(j, "id");
		snprintf(d->texts[d->n], sizeof(d->texts[0]), "%s", msg);
		bool end = strcmp(msg, last) == 0;
		d->n++;
		json_decref(j);
		if (end)
			return;
	}
}

/* Where text is in d: its index, or -1. */
static int
find_text(const delivered *d, const char *text)
{
	for (int i = 0; i < d->n; i++)
		if (strcmp(d->texts[i], text) == 0)
			return i;
	return -1;
}

/* The closing send ("end", from the test itself): once a receiver has it,
 * it has every entry before it in the stream.  Its id. */
static long long
send_end(const tu_server *node)
{
	int status;
	json_t *j = tu_request_json(node->port, "POST", "/send_msg", "content=end", &status);
	ck_assert_int_eq(status, 200);
	long long id = tu_json_int(j, "id");
	json_decref(j);
	return id;
}

/*
 * Both nodes' receivers got the same entries in the same order, ids
 * increasing; every send answered 200 is there once, with the id it was
 * answered; no send answered otherwise is there; each sender's ids
 * increase in its own order.  Returns how many were answered 200.
 */
static int
check_answers(const senders *ss, const delivered *on_a, const delivered *on_b)
{
	ck_assert_int_eq(on_a->n, on_b->n);
	for (int i = 0; i < on_a->n; i++) {
		ck_assert_int_eq(on_a->ids[i], on_b->ids[i]);
		ck_assert_str_eq(on_a->texts[i], on_b->texts[i]);
		if (i > 0)
			ck_assert_int_gt(on_a->ids[i], on_a->ids[i - 1]);
	}
	int sent = 0;
	for (int t = 0; t < SENDERS; t++) {
		long long last_id = 0;
		for (int i = 0; i < ss->jobs[t].made; i++) {
			const answer *a = &ss->jobs[t].answers[i];
			ck_assert_msg(a->status == 200 || a->status == 503, "%s answered %d", a->text, a->status);
			int at = find_text(on_a, a->text);
			if (a->status == 200) {
				ck_assert_msg(at >= 0, "%s answered 200 (id %lld), never delivered", a->text, a->id);
				ck_assert_int_eq(on_a->ids[at], a->id);
				ck_assert_int_gt(a->id, last_id);
				last_id = a->id;
				sent++;
			} else {
				ck_assert_msg(at < 0, "%s answered 503, delivered as id %lld", a->text,
				              at >= 0 ? on_a->ids[at] : -1);
			}
		}
	}
	ck_assert_int_eq(sent + 1, on_a->n);     /* and "end": nothing else */
	return sent;
}

START_TEST(concurrent_senders_keep_order_and_ids)
{
	if (!have_redis())
		return;
	redis_proc r;
	start_two_nodes(&r);
	int ws_a = wsf_connect(node_a.port, "/ws?name=wa");
	int ws_b = wsf_connect(node_b.port, "/ws?name=wb");
	static senders ss;
	senders_start(&ss, node_a.port, 60);
	for (int t = 0; t < SENDERS; t++)
		pthread_join(ss.threads[t], NULL);
	long long end = send_end(&node_a);
	static delivered on_a, on_b;
	on_a.n = on_b.n = 0;
	read_until(ws_a, "end", &on_a);
	read_until(ws_b, "end", &on_b);
	ck_assert_int_eq(check_answers(&ss, &on_a, &on_b), SENDERS * 60);
	ck_assert_int_eq(end, SENDERS * 60 + 1);     /* ids 1..240 went to the senders */
	close(ws_a);
	close(ws_b);
	stop_all(&r);
}
END_TEST

static bool
answered_enough(void *arg)
{
	senders *ss = arg;
	return atomic_load(&ss->answered) >= 40;
}

static bool
refused_some(void *arg)
{
	senders *ss = arg;
	return atomic_load(&ss->refused) >= SENDERS;
}

/* Redis is killed while four threads send through node A (a batch in
 * flight, most likely, and more queued behind it), and started again on
 * its files: every send is answered 200 or 503; what was answered 200 is
 * delivered on both nodes with its id, what was answered 503 nowhere; and
 * sends after the restart go through. */
START_TEST(redis_dies_under_a_batch)
{
	if (!have_redis())
		return;
	redis_proc r;
	start_two_nodes(&r);
	int ws_a = wsf_connect(node_a.port, "/ws?name=wa");
	int ws_b = wsf_connect(node_b.port, "/ws?name=wb");
	static senders ss;
	senders_start(&ss, node_a.port, SENDS_MAX);
	ck_assert(tu_wait_until(answered_enough, &ss, tu_slack(10)));
	redis_kill(&r);
	ck_assert_msg(tu_wait_until(refused_some, &ss, tu_slack(10)), "no 503 while Redis was down");
	int refused_while_down = atomic_load(&ss.refused);
	redis_start(&r);
	ck_assert(tu_wait_until(node_connected, &node_a, tu_slack(10)));
	ck_assert(tu_wait_until(node_connected, &node_b, tu_slack(10)));
	senders_join(&ss);
	send_end(&node_a);
	static delivered on_a, on_b;
	on_a.n = on_b.n = 0;
	read_until(ws_a, "end", &on_a);
	read_until(ws_b, "end", &on_b);
	int sent = check_answers(&ss, &on_a, &on_b);
	ck_assert_int_gt(sent, 0);
	ck_assert_int_ge(refused_while_down, SENDERS);
	close(ws_a);
	close(ws_b);
	stop_all(&r);
}
END_TEST

Suite *
redis_suite(void)
{
	Suite *s = suite_create("redis");
	TCase *tc = tcase_create("scale-out");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, long_poll_on_b_gets_what_a_was_sent);
	tcase_add_test(tc, websocket_on_a_gets_what_b_was_sent);
	tcase_add_test(tc, both_nodes_deliver_the_same_ids_in_order);
	tcase_add_test(tc, outage_answers_503_and_recovers);
	tcase_add_test(tc, nothing_written_before_a_restart_is_lost);
	tcase_add_test(tc, unreachable_at_start_is_not_fatal);
	tcase_add_test(tc, direct_message_on_a_reaches_one_client_on_b);
	tcase_add_test(tc, channel_message_reaches_its_subscribers_on_both_nodes);
	tcase_add_test(tc, presence_covers_both_nodes_and_a_dead_node_drops_out);
	tcase_add_test(tc, concurrent_senders_keep_order_and_ids);
	tcase_add_test(tc, redis_dies_under_a_batch);
	suite_add_tcase(s, tc);
	return s;
}
