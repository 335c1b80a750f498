/*
 * check_lab.c - the queue lab (server/lab.h) on its own, and its HTTP API
 * (/lab/...) against a real build/pushq: blocked calls that time out, that
 * are woken by another request, and every bound a classroom relies on.
 */
#include "server/lab/lab.h"
#include "suites.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* The module                                                          */
/* ------------------------------------------------------------------ */

START_TEST(lab_bounds_and_idle_removal)
{
	srv_lab *lab = srv_lab_new(SRV_LAB_MAX_WAITING);
	char id[SRV_LAB_ID_SIZE];
	ck_assert_int_eq(srv_lab_create(lab, 0, id), SRV_LAB_BAD_SIZE);
	ck_assert_int_eq(srv_lab_create(lab, SRV_LAB_MAX_SIZE + 1, id), SRV_LAB_BAD_SIZE);
	for (int i = 0; i < SRV_LAB_MAX_QUEUES; i++)
		ck_assert_int_eq(srv_lab_create(lab, 3, id), SRV_LAB_OK);
	ck_assert_int_eq(srv_lab_create(lab, 3, id), SRV_LAB_TOO_MANY);
	/* A held queue is never removed, however idle; the others are. */
	srv_lab_queue *held = srv_lab_acquire(lab, id);
	ck_assert_ptr_nonnull(held);
	ck_assert_uint_eq(srv_lab_reap(lab, 3600), 0);
	ck_assert_uint_eq(srv_lab_reap(lab, 0), SRV_LAB_MAX_QUEUES - 1);
	size_t queues;
	long blocked;
	srv_lab_counts(lab, &queues, &blocked);
	ck_assert_uint_eq(queues, 1);
	/* Deleted while held: the reference stays usable until released. */
	ck_assert(srv_lab_delete(lab, id));
	ck_assert(!srv_lab_delete(lab, id));
	ck_assert_ptr_null(srv_lab_acquire(lab, id));
	unsigned long put_no;
	ck_assert_int_eq(srv_lab_put(held, "x", false, 0, &put_no), QUEUE_SHUTDOWN);
	srv_lab_release(lab, held);
	/* Blocking slots. */
	for (int i = 0; i < SRV_LAB_MAX_WAITING; i++)
		ck_assert(srv_lab_block(lab));
	ck_assert(!srv_lab_block(lab));
	srv_lab_unblock(lab);
	ck_assert(srv_lab_block(lab));
	srv_lab_free(lab);
}
END_TEST

START_TEST(lab_items_are_numbered_and_bounded)
{
	srv_lab *lab = srv_lab_new(SRV_LAB_MAX_WAITING);
	char id[SRV_LAB_ID_SIZE];
	ck_assert_int_eq(srv_lab_create(lab, 2, id), SRV_LAB_OK);
	srv_lab_queue *lq = srv_lab_acquire(lab, id);
	unsigned long n1, n2, n3;
	ck_assert_int_eq(srv_lab_put(lq, "a", false, 0, &n1), QUEUE_OK);
	ck_assert_int_eq(srv_lab_put(lq, "b", true, 0.05, &n2), QUEUE_OK);
	ck_assert_int_eq(srv_lab_put(lq, "c", true, 0.05, &n3), QUEUE_FULL);
	ck_assert_uint_eq(n1, 1);
	ck_assert_uint_eq(n3, 3);          /* every put call has its number */
	char long_text[SRV_LAB_ITEM_MAX + 2];
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	ck_assert_int_eq(srv_lab_put(lq, long_text, false, 0, &n3), QUEUE_EINVAL);
	http_buf json = { 0 };
	srv_lab_state_json(lq, &json);
	char want[200];
	snprintf(want, sizeof(want), "{\"id\":\"%s\",\"items\":[{\"item\":\"a\",\"put\":1},"
	         "{\"item\":\"b\",\"put\":2}],\"qsize\":2,\"maxsize\":2,\"unfinished\":2,"
	         "\"getters\":0,\"putters\":0,\"joiners\":0,\"shutdown\":false}", id);
	ck_assert_str_eq(json.data, want);
	http_buf_free(&json);
	void *taken;
	ck_assert_int_eq(queue_get_nowait(srv_lab_q(lq), &taken), QUEUE_OK);
	srv_lab_item *item = taken;
	ck_assert_str_eq(item->text, "a");
	ck_assert_uint_eq(item->put_no, 1);
	free(item);
	ck_assert_int_eq(queue_task_done(srv_lab_q(lq)), QUEUE_OK);
	ck_assert_int_eq(queue_join_timeout(srv_lab_q(lq), 0.05), QUEUE_TIMEOUT);  /* "b" is open */
	srv_lab_release(lab, lq);
	srv_lab_free(lab);                 /* frees "b" too (ASan would see a leak) */
}
END_TEST

/* ------------------------------------------------------------------ */
/* Over HTTP                                                           */
/* ------------------------------------------------------------------ */

static tu_server server;

static void
stop(void)
{
	ck_assert_int_eq(tu_server_stop(&server, 3.0), 0);
}

/* A request; checks the status and returns the body (free it). */
static char *
call(const char *method, const char *target, int status)
{
	tu_response r = tu_request(server.port, method, target, method[0] == 'P' ? "" : NULL);
	ck_assert_msg(r.status == status, "%s %s: %d, not %d: %s", method, target, r.status,
	              status, r.body);
	return r.body;
}

/* POST /lab/new?maxsize=N; the new queue's id into id. */
static void
new_queue(int maxsize, char id[SRV_LAB_ID_SIZE])
{
	char target[64];
	snprintf(target, sizeof(target), "/lab/new?maxsize=%d", maxsize);
	char *body = call("POST", target, 201);
	ck_assert_int_eq(sscanf(body, "{\"id\":\"%8[0-9a-f]\"", id), 1);
	free(body);
}

/* POSTs /lab/CALL?q=ID&REST and checks that the answer holds `part`. */
static void
expect_call(const char *what, const char *id, const char *rest, const char *part)
{
	char target[160];
	snprintf(target, sizeof(target), "/lab/%s?q=%s%s%s", what, id, rest[0] ? "&" : "", rest);
	char *body = call("POST", target, 200);
	ck_assert_msg(strstr(body, part) != NULL, "%s: %s lacks %s", target, body, part);
	free(body);
}

/* Starts a call that will block: sends it on its own connection. */
static int
start_call(const char *what, const char *id, const char *rest)
{
	char req[256];
	int n = snprintf(req, sizeof(req), "POST /lab/%s?q=%s&%s HTTP/1.1\r\nHost: t\r\n"
	                 "Content-Length: 0\r\n\r\n", what, id, rest);
	int fd = tu_connect(server.port);
	tu_send(fd, req, (size_t)n);
	return fd;
}

/* The lab queue's state holds `part` (polled, with a deadline). */
struct state_wait {
	const char *id;
	const char *part;
};

static bool
state_has(void *arg)
{
	struct state_wait *w = arg;
	char target[64];
	snprintf(target, sizeof(target), "/lab/state?q=%s", w->id);
	tu_response r = tu_request(server.port, "GET", target, NULL);
	bool has = r.status == 200 && strstr(r.body, w->part) != NULL;
	tu_response_free(&r);
	return has;
}

static void
await_state(const char *id, const char *part)
{
	struct state_wait w = { id, part };
	ck_assert_msg(tu_wait_until(state_has, &w, tu_slack(5)), "state never showed %s", part);
}

/* Reads the answer of a call started with start_call; checks `part`. */
static void
finish_call(int fd, const char *part)
{
	tu_response r = tu_read_response(fd, 0);
	close(fd);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(strstr(r.body, part) != NULL, "%s lacks %s", r.body, part);
	tu_response_free(&r);
}

START_TEST(blocked_get_times_out_into_empty)
{
	server = tu_server_start(NULL);
	char id[SRV_LAB_ID_SIZE];
	new_queue(3, id);
	double started = tu_now();
	int fd = start_call("get", id, "block=1&timeout=0.4");
	await_state(id, "\"getters\":1");             /* a thread really sleeps in get */
	finish_call(fd, "{\"call\":\"get\",\"result\":\"Empty\",\"waited\":");
	ck_assert_double_ge(tu_now() - started, 0.4);
	await_state(id, "\"getters\":0");
	stop();
}
END_TEST

START_TEST(blocked_get_is_woken_by_a_put)
{
	server = tu_server_start(NULL);
	char id[SRV_LAB_ID_SIZE];
	new_queue(3, id);
	int fd = start_call("get", id, "timeout=20");  /* block=1 is the default */
	await_state(id, "\"getters\":1");
	double put_at = tu_now();
	expect_call("put", id, "item=hello&block=0", "\"result\":\"ok\",\"put\":1,");
	finish_call(fd, "{\"call\":\"get\",\"result\":\"ok\",\"item\":\"hello\",\"put\":1,");
	ck_assert_double_lt(tu_now() - put_at, tu_slack(1));   /* woken, not timed out */
	/* The tutorial's bounded queue: full without blocking, and a blocked put
	 * that a get lets in. */
	expect_call("put", id, "item=a&block=0", "\"result\":\"ok\"");
	expect_call("put", id, "item=b&block=0", "\"result\":\"ok\"");
	expect_call("put", id, "item=c&block=0", "\"qsize\":3");
	expect_call("put", id, "item=d&block=0", "\"result\":\"Full\"");
	fd = start_call("put", id, "item=e&timeout=20");
	await_state(id, "\"putters\":1");
	expect_call("get", id, "block=0", "\"item\":\"a\"");
	finish_call(fd, "\"result\":\"ok\",\"put\":6,");
	expect_call("put", id, "item=f&timeout=0.2", "\"result\":\"Full\"");
	/* task_done and join: five taken... */
	expect_call("task_done", id, "", "\"result\":\"ok\"");
	expect_call("task_done", id, "", "\"unfinished\":3");
	fd = start_call("join", id, "timeout=20");
	await_state(id, "\"joiners\":1");
	for (int i = 0; i < 3; i++) {
		expect_call("get", id, "block=0", "\"result\":\"ok\"");
		expect_call("task_done", id, "", "\"result\":\"ok\"");
	}
	finish_call(fd, "{\"call\":\"join\",\"result\":\"ok\"");
	expect_call("task_done", id, "", "\"result\":\"ValueError\"");
	/* Python 3.13's shutdown: a waiting get ends in ShutDown. */
	fd = start_call("get", id, "timeout=20");
	await_state(id, "\"getters\":1");
	expect_call("shutdown", id, "immediate=0", "\"shutdown\":true");
	finish_call(fd, "\"result\":\"ShutDown\"");
	expect_call("put", id, "item=late&block=0", "\"result\":\"ShutDown\"");
	stop();
}
END_TEST

/* The waiting bound of the HTTP test: --lab-max-waiting, small to be quick. */
#define TEST_MAX_WAITING 5

START_TEST(lab_refuses_what_it_cannot_bound)
{
	const char *args[] = { "--lab-max-waiting", "5", NULL };
	server = tu_server_start(args);
	char id[SRV_LAB_ID_SIZE];
	new_queue(1, id);
	free(call("POST", "/lab/new?maxsize=0", 400));
	free(call("POST", "/lab/new?maxsize=11", 400));
	free(call("POST", "/lab/new?maxsize=x", 400));
	free(call("GET", "/lab/new", 405));
	free(call("GET", "/lab/state?q=00000000", 404));
	free(call("GET", "/lab/state", 400));
	char target[128];
	snprintf(target, sizeof(target), "/lab/get?q=%s", id);           /* no timeout */
	char *body = call("POST", target, 400);
	ck_assert_ptr_nonnull(strstr(body, "holds a server thread"));
	free(body);
	snprintf(target, sizeof(target), "/lab/get?q=%s&timeout=31", id);
	free(call("POST", target, 400));
	snprintf(target, sizeof(target), "/lab/join?q=%s&block=0", id);  /* join needs one too */
	free(call("POST", target, 400));
	snprintf(target, sizeof(target), "/lab/put?q=%s&item=%s&block=0", id,
	         "123456789012345678901234567890123");                    /* 33 bytes */
	free(call("POST", target, 400));
	/* --lab-max-waiting calls at once; the next is refused, with its code. */
	int fds[TEST_MAX_WAITING];
	for (int i = 0; i < TEST_MAX_WAITING; i++)
		fds[i] = start_call("get", id, "timeout=20");
	char getters[32];
	snprintf(getters, sizeof(getters), "\"getters\":%d", TEST_MAX_WAITING);
	await_state(id, getters);
	snprintf(target, sizeof(target), "/lab/get?q=%s&timeout=5", id);
	body = call("POST", target, 429);
	ck_assert_ptr_nonnull(strstr(body, "5 lab calls are waiting already"));
	ck_assert_ptr_nonnull(strstr(body, "\"code\":\"too_many_waiting\""));
	free(body);
	/* The teacher's view lists the queue and its waiting getters. */
	body = call("GET", "/lab/list", 200);
	ck_assert_ptr_nonnull(strstr(body, id));
	ck_assert_ptr_nonnull(strstr(body, getters));
	ck_assert_ptr_nonnull(strstr(body, "\"waiting\":5,\"max_waiting\":5"));
	free(body);
	/* A call that does not wait needs no slot. */
	snprintf(target, sizeof(target), "/lab/get?q=%s&block=0", id);
	free(call("POST", target, 200));
	/* Deleting the queue ends every waiting call. */
	snprintf(target, sizeof(target), "/lab/delete?q=%s", id);
	free(call("POST", target, 200));
	for (int i = 0; i < TEST_MAX_WAITING; i++)
		finish_call(fds[i], "\"result\":\"ShutDown\"");
	free(call("POST", target, 404));
	/* The lab cannot reach a chat client's queue: its names are not lab ids. */
	free(call("GET", "/ab_b1?name=chat", 200));
	free(call("GET", "/lab/state?q=chat", 404));
	stop();
}
END_TEST

START_TEST(sigterm_ends_a_waiting_join)
{
	server = tu_server_start(NULL);
	char id[SRV_LAB_ID_SIZE];
	new_queue(2, id);
	expect_call("put", id, "item=x&block=0", "\"result\":\"ok\"");
	expect_call("get", id, "block=0", "\"item\":\"x\"");          /* taken, never done */
	int fd = start_call("join", id, "timeout=30");
	await_state(id, "\"joiners\":1");
	double started = tu_now();
	stop();                                        /* exit status 0 within 3 s */
	ck_assert_double_lt(tu_now() - started, tu_slack(2));
	close(fd);
}
END_TEST

START_TEST(teacher_lists_and_purges_lab_queues)
{
	/* With --api-key the teacher's view needs the key; the lab itself not. */
	const char *tmp = getenv("TMPDIR");
	char dir[128], key_path[192];
	snprintf(dir, sizeof(dir), "%.80s/pushq-lab-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(key_path, sizeof(key_path), "%s/api.key", dir);
	FILE *f = fopen(key_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("teacher-key-of-the-lab-test-0123456789\n", f);
	ck_assert_int_eq(fclose(f), 0);
	const char *args[] = { "--api-key", key_path, NULL };
	server = tu_server_start(args);
	char a[SRV_LAB_ID_SIZE], b[SRV_LAB_ID_SIZE];
	new_queue(2, a);
	new_queue(3, b);
	char *body = call("GET", "/lab/list", 401);
	ck_assert_ptr_nonnull(strstr(body, "\"code\":\"api_key_needed\""));
	free(body);
	free(call("POST", "/lab/purge", 401));
	body = call("GET", "/lab/list?token=teacher-key-of-the-lab-test-0123456789", 200);
	ck_assert_ptr_nonnull(strstr(body, a));
	ck_assert_ptr_nonnull(strstr(body, b));
	free(body);
	body = call("POST", "/lab/purge?token=teacher-key-of-the-lab-test-0123456789", 200);
	ck_assert_ptr_nonnull(strstr(body, "\"removed\":2"));
	free(body);
	char target[64];
	snprintf(target, sizeof(target), "/lab/state?q=%s", a);
	body = call("GET", target, 404);
	ck_assert_ptr_nonnull(strstr(body, "\"code\":\"no_such_queue\""));
	free(body);
	stop();
	unlink(key_path);
	rmdir(dir);
}
END_TEST

Suite *
lab_suite(void)
{
	Suite *s = suite_create("lab");
	TCase *module = tcase_create("module");
	tcase_add_test(module, lab_bounds_and_idle_removal);
	tcase_add_test(module, lab_items_are_numbered_and_bounded);
	suite_add_tcase(s, module);
	TCase *http = tcase_create("http");
	tcase_set_timeout(http, 30);
	tcase_add_test(http, blocked_get_times_out_into_empty);
	tcase_add_test(http, blocked_get_is_woken_by_a_put);
	tcase_add_test(http, lab_refuses_what_it_cannot_bound);
	tcase_add_test(http, teacher_lists_and_purges_lab_queues);
	tcase_add_test(http, sigterm_ends_a_waiting_join);
	suite_add_tcase(s, http);
	return s;
}
