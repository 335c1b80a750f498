/*
 * check_registry.c - the chat room without a network: join, broadcast,
 * take, drops, give-back, reaping and shutdown.
 */
#include "server/room/broadcast.h"
#include "server/room/delivery.h"
#include "server/room/resume.h"
#include "http/ws.h"
#include "suites.h"
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static srv_registry *reg;

static void
setup(void)
{
	reg = srv_registry_new(3, 1000, 100);
	ck_assert_ptr_nonnull(reg);
}

static void
teardown(void)
{
	srv_registry_free(reg);
}

/* The /get_msg JSON of the client's next message, or "" when none. */
static void
take_json(srv_client *c, char *out, size_t cap)
{
	srv_delivery d;
	out[0] = '\0';
	if (srv_client_next(reg, c, 0, NULL, SRV_WIRE_JSON, &d) != QUEUE_OK)
		return;
	http_buf b = { 0 };
	srv_delivery_append(&b, &d);
	ck_assert_uint_eq(b.len, d.len);
	snprintf(out, cap, "%.*s", (int)b.len, b.data);
	ck_assert_int_eq(tu_strip_sent_at(out), 1);
	http_buf_free(&b);
	srv_delivery_done(&d);
}

/* What /stats says of one client (copied out of the visit). */
typedef struct {
	bool found;
	srv_client_info info;
} one_client;

static void
copy_info(const srv_client_info *info, void *ctx)
{
	one_client *out = ctx;
	out->found = true;
	out->info = *info;
	out->info.name = NULL;        /* valid during the visit only */
}

static one_client
client_info(const char *name)
{
	one_client out = { 0 };
	srv_registry_visit(reg, name, copy_info, &out);
	return out;
}

START_TEST(join_keeps_queue)
{
	srv_client *a = srv_registry_join(reg, "tony", SRV_CLIENT_POLL, NULL);
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(srv_client_name(a), "tony");
	ck_assert(srv_registry_broadcast(reg, "", "hi", 2, NULL));
	srv_client *again = srv_registry_join(reg, "tony", SRV_CLIENT_POLL, NULL);
	ck_assert_ptr_eq(a, again);         /* the seed replaced it, losing "hi" */
	char json[256];
	take_json(again, json, sizeof(json));
	ck_assert_str_eq(json, "{\"status\":true,\"msg\":\"hi\",\"id\":1,\"from\":\"\",\"channel\":\"room\",\"dropped\":0}");
	srv_client_release(reg, a);
	srv_client_release(reg, again);
	ck_assert_ptr_null(srv_registry_find(reg, "nobody"));
}
END_TEST

START_TEST(bad_names)
{
	char long_name[SRV_NAME_MAX + 2];
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ck_assert_ptr_null(srv_registry_join(reg, "", SRV_CLIENT_POLL, NULL));
	ck_assert_ptr_null(srv_registry_join(reg, long_name, SRV_CLIENT_POLL, NULL));
	long_name[SRV_NAME_MAX] = '\0';
	srv_client *c = srv_registry_join(reg, long_name, SRV_CLIENT_POLL, NULL);
	ck_assert_ptr_nonnull(c);
	srv_client_release(reg, c);
}
END_TEST

START_TEST(broadcast_in_order_to_all)
{
	srv_client *a = srv_registry_join(reg, "a", SRV_CLIENT_POLL, NULL);
	srv_client *b = srv_registry_join(reg, "b", SRV_CLIENT_WS, NULL);
	uint64_t id1, id2;
	ck_assert(srv_registry_broadcast(reg, "a", "one", 3, &id1));
	ck_assert(srv_registry_broadcast(reg, "b", "t\"wo", 4, &id2));
	ck_assert_uint_lt(id1, id2);
	char json[256];
	for (int i = 0; i < 2; i++) {
		srv_client *c = i == 0 ? a : b;
		take_json(c, json, sizeof(json));
		ck_assert_str_eq(json, "{\"status\":true,\"msg\":\"one\",\"id\":1,\"from\":\"a\",\"channel\":\"room\",\"dropped\":0}");
		take_json(c, json, sizeof(json));
		ck_assert_str_eq(json, "{\"status\":true,\"msg\":\"t\\\"wo\",\"id\":2,\"from\":\"b\",\"channel\":\"room\",\"dropped\":0}");
		take_json(c, json, sizeof(json));
		ck_assert_str_eq(json, "");
	}
	srv_registry_counts counts;
	srv_registry_counts_get(reg, &counts);
	ck_assert_uint_eq(counts.sent, 2);
	ck_assert_uint_eq(counts.delivered, 4);
	ck_assert_uint_eq(counts.clients, 2);
	/* Both messages were taken: the queue is empty, but its peak shows the two. */
	one_client info = client_info("b");
	ck_assert(info.found);
	ck_assert_int_eq(info.info.kind, SRV_CLIENT_WS);
	ck_assert(!info.info.short_polling);
	ck_assert_uint_eq(info.info.queued, 0);
	ck_assert_uint_eq(info.info.peak, 2);
	ck_assert_int_eq(info.info.maxsize, 3);
	ck_assert_int_eq(info.info.dropped, 0);
	ck_assert_uint_eq(info.info.waiting, 0);
	ck_assert_int_eq(info.info.sessions, 0);
	ck_assert(info.info.idle >= 0 && info.info.idle < 5);
	ck_assert(!client_info("nobody").found);
	srv_client_release(reg, a);
	srv_client_release(reg, b);
}
END_TEST

START_TEST(full_queue_counts_drops)
{
	srv_client *a = srv_registry_join(reg, "a", SRV_CLIENT_POLL, NULL);
	for (int i = 1; i <= 5; i++) {
		char text[16];
		snprintf(text, sizeof(text), "m%d", i);
		ck_assert(srv_registry_broadcast(reg, "", text, strlen(text), NULL));  /* never blocks */
	}
	char json[256];
	take_json(a, json, sizeof(json));
	ck_assert_str_eq(json, "{\"status\":true,\"msg\":\"m1\",\"id\":1,\"from\":\"\",\"channel\":\"room\",\"dropped\":2}");
	take_json(a, json, sizeof(json));
	ck_assert_ptr_nonnull(strstr(json, "\"msg\":\"m2\""));
	ck_assert_ptr_nonnull(strstr(json, "\"dropped\":0"));
	srv_registry_counts counts;
	srv_registry_counts_get(reg, &counts);
	ck_assert_uint_eq(counts.dropped, 2);
	srv_client_release(reg, a);
}
END_TEST

/* What a pusher saw: each call takes what is queued, as a session would. */
typedef struct {
	srv_registry *r;
	srv_client *c;
	int calls;
	uint64_t taken[8];
	int n_taken;
} push_log;

static void
log_push(void *ctx)
{
	push_log *log = ctx;
	log->calls++;
	srv_msg *m;
	srv_gap dropped;
	while (srv_client_take(log->r, log->c, 0, NULL, &m, &dropped) == QUEUE_OK) {
		if (log->n_taken < 8)
			log->taken[log->n_taken++] = m->id;
		srv_msg_release(m);
	}
}

START_TEST(pushers_are_called_after_the_put)
{
	srv_registry *r = srv_registry_new(2, 10, 100);
	srv_client *ws = srv_registry_join(r, "ws", SRV_CLIENT_WS, NULL);
	srv_client *other = srv_registry_join(r, "other", SRV_CLIENT_POLL, NULL);
	push_log log = { .r = r, .c = ws };
	srv_pusher p = { .push = log_push, .ctx = &log };
	srv_client_attach_pusher(ws, &p);
	ck_assert(srv_registry_broadcast(r, "a", "one", 3, NULL));
	ck_assert(srv_registry_broadcast(r, "a", "two", 3, NULL));
	/* Each broadcast called it once, with its message already queued. */
	ck_assert_int_eq(log.calls, 2);
	ck_assert_int_eq(log.n_taken, 2);
	ck_assert_uint_eq(log.taken[0], 1);
	ck_assert_uint_eq(log.taken[1], 2);
	/* The client without a pusher just has them queued. */
	srv_msg *m;
	srv_gap dropped;
	ck_assert_int_eq(srv_client_take(r, other, 0, NULL, &m, &dropped), QUEUE_OK);
	ck_assert_uint_eq(m->id, 1);
	srv_msg_release(m);
	/* A full queue takes nothing, so its pusher is not called. */
	srv_client_detach_pusher(ws, &p);
	ck_assert(srv_registry_broadcast(r, "a", "three", 5, NULL));
	ck_assert(srv_registry_broadcast(r, "a", "four", 4, NULL));
	srv_client_attach_pusher(ws, &p);
	ck_assert(srv_registry_broadcast(r, "a", "five", 4, NULL));   /* dropped */
	ck_assert_int_eq(log.calls, 2);
	/* Detached: never called again. */
	srv_client_detach_pusher(ws, &p);
	log_push(&log);                 /* take what is queued: 3 and 4 */
	ck_assert(srv_registry_broadcast(r, "a", "six", 3, NULL));
	ck_assert_int_eq(log.calls, 3);
	ck_assert_int_eq(log.n_taken, 4);
	ck_assert_uint_eq(log.taken[3], 4);
	srv_client_release(r, ws);
	srv_client_release(r, other);
	srv_registry_free(r);
}
END_TEST

START_TEST(give_back_comes_first)
{
	srv_client *a = srv_registry_join(reg, "a", SRV_CLIENT_POLL, NULL);
	srv_registry_broadcast(reg, "", "first", 5, NULL);
	srv_registry_broadcast(reg, "", "second", 6, NULL);
	srv_msg *m;
	srv_gap dropped;
	ck_assert_int_eq(srv_client_take(reg, a, 0, NULL, &m, &dropped), QUEUE_OK);
	srv_client_give_back(reg, a, m, dropped);   /* the response failed */
	char json[256];
	take_json(a, json, sizeof(json));
	ck_assert_ptr_nonnull(strstr(json, "\"msg\":\"first\""));
	take_json(a, json, sizeof(json));
	ck_assert_ptr_nonnull(strstr(json, "\"msg\":\"second\""));
	srv_client_release(reg, a);
}
END_TEST

/* Bug: messages given back by several takers at once came out of order
 * (one slot for a returned message; the next went to the back). */
START_TEST(give_backs_keep_id_order)
{
	srv_client *a = srv_registry_join(reg, "a", SRV_CLIENT_POLL, NULL);
	srv_msg *taken[3];
	srv_gap dropped[3];
	for (int i = 0; i < 3; i++) {
		char text[16];
		snprintf(text, sizeof(text), "m%d", i + 1);
		ck_assert(srv_registry_broadcast(reg, "", text, strlen(text), NULL));
		ck_assert_int_eq(srv_client_take(reg, a, 0, NULL, &taken[i], &dropped[i]), QUEUE_OK);
	}
	ck_assert(srv_registry_broadcast(reg, "", "m4", 2, NULL));
	/* Three abandoned polls' worth, given back in a scrambled order. */
	srv_client_give_back(reg, a, taken[1], dropped[1]);
	srv_client_give_back(reg, a, taken[2], dropped[2]);
	srv_client_give_back(reg, a, taken[0], dropped[0]);
	char json[256];
	for (int i = 1; i <= 4; i++) {
		char want[160];
		snprintf(want, sizeof(want), "\"msg\":\"m%d\",\"id\":%d", i, i);
		take_json(a, json, sizeof(json));
		ck_assert_msg(strstr(json, want) != NULL, "wanted %s, got %s", want, json);
	}
	srv_client_release(reg, a);
}
END_TEST

/* Bug: a give-back left a wake-up marker in the queue: the next take
 * answered empty at once although a message was queued, and the marker
 * took a slot (a message was dropped with only one real one queued). */
START_TEST(give_back_leaves_no_marker)
{
	srv_client *a = srv_registry_join(reg, "a", SRV_CLIENT_POLL, NULL);
	srv_msg *m;
	srv_gap dropped;
	ck_assert(srv_registry_broadcast(reg, "", "m1", 2, NULL));
	ck_assert_int_eq(srv_client_take(reg, a, 0, NULL, &m, &dropped), QUEUE_OK);
	srv_client_give_back(reg, a, m, dropped);           /* nobody waits */
	char json[256];
	take_json(a, json, sizeof(json));
	ck_assert_ptr_nonnull(strstr(json, "\"msg\":\"m1\""));
	/* The queue holds 3: three more fit, none is dropped. */
	for (int i = 2; i <= 4; i++)
		ck_assert(srv_registry_broadcast(reg, "", "mx", 2, NULL));
	srv_registry_counts counts;
	srv_registry_counts_get(reg, &counts);
	ck_assert_uint_eq(counts.dropped, 0);
	double wait = 1;
	double t0 = tu_now();
	ck_assert_int_eq(srv_client_take(reg, a, wait, NULL, &m, &dropped), QUEUE_OK);
	ck_assert_double_lt(tu_now() - t0, tu_slack(0.5));
	srv_msg_release(m);
	srv_client_release(reg, a);
}
END_TEST

START_TEST(max_clients_is_a_clear_error)
{
	srv_registry *small = srv_registry_new(3, 2, 100);
	srv_join_rc why;
	srv_client *a = srv_registry_join(small, "a", SRV_CLIENT_POLL, &why);
	srv_client *b = srv_registry_join(small, "b", SRV_CLIENT_POLL, &why);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_null(srv_registry_join(small, "c", SRV_CLIENT_POLL, &why));
	ck_assert_int_eq(why, SRV_JOIN_FULL);
	srv_client *again = srv_registry_join(small, "a", SRV_CLIENT_POLL, &why);
	ck_assert_ptr_eq(again, a);                           /* known names still join */
	ck_assert_ptr_null(srv_registry_join(small, "", SRV_CLIENT_POLL, &why));
	ck_assert_int_eq(why, SRV_JOIN_BAD_NAME);
	srv_client_release(small, again);
	srv_client_release(small, a);
	srv_client_release(small, b);
	srv_registry_free(small);
}
END_TEST

/* Reaps clients idle for 50 ms; true once only one client is left. */
static bool
reaped_to_one(void *arg)
{
	(void)arg;
	srv_registry_reap(reg, 0.05);
	srv_registry_counts counts;
	srv_registry_counts_get(reg, &counts);
	return counts.clients == 1;
}

START_TEST(idle_clients_are_reaped)
{
	srv_client *held = srv_registry_join(reg, "held", SRV_CLIENT_POLL, NULL);
	srv_client *idle = srv_registry_join(reg, "idle", SRV_CLIENT_POLL, NULL);
	srv_registry_broadcast(reg, "", "x", 1, NULL);   /* freed with its queue */
	srv_client_release(reg, idle);
	ck_assert(tu_wait_until(reaped_to_one, NULL, 5));
	ck_assert_ptr_null(srv_registry_find(reg, "idle"));
	/* A held client is never reaped, however old. */
	ck_assert_uint_eq(srv_registry_reap(reg, 0), 0);
	srv_client *still = srv_registry_find(reg, "held");
	ck_assert_ptr_eq(still, held);
	srv_client_release(reg, still);
	srv_client_release(reg, held);
}
END_TEST

struct taker { srv_client *c; queue_rc rc; };

static void *
take_blocking(void *arg)
{
	struct taker *t = arg;
	srv_msg *m;
	srv_gap dropped;
	t->rc = srv_client_take(reg, t->c, 30, NULL, &m, &dropped);
	if (t->rc == QUEUE_OK)
		srv_msg_release(m);
	return NULL;
}

static void
count_waiting(const srv_client_info *info, void *ctx)
{
	*(unsigned *)ctx += info->waiting;
}

static bool
someone_waits(void *arg)
{
	unsigned waiting = 0;
	srv_registry_visit(reg, NULL, count_waiting, &waiting);
	(void)arg;
	return waiting == 1;
}

START_TEST(shutdown_wakes_takers)
{
	struct taker t = { .c = srv_registry_join(reg, "w", SRV_CLIENT_POLL, NULL) };
	pthread_t thread;
	pthread_create(&thread, NULL, take_blocking, &t);
	ck_assert(tu_wait_until(someone_waits, NULL, 5));
	double start = tu_now();
	srv_registry_shutdown(reg);
	pthread_join(thread, NULL);
	ck_assert_int_eq(t.rc, QUEUE_SHUTDOWN);
	ck_assert_double_lt(tu_now() - start, tu_slack(1.0));
	ck_assert_ptr_null(srv_registry_join(reg, "late", SRV_CLIENT_POLL, NULL));
	srv_client_release(reg, t.c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Resume                                                              */
/* ------------------------------------------------------------------ */

/* Broadcasts messages "m<first>".."m<last>". */
static void
send_range(srv_registry *r, int first, int last)
{
	for (int i = first; i <= last; i++) {
		char text[16];
		snprintf(text, sizeof(text), "m%d", i);
		ck_assert(srv_registry_broadcast(r, "", text, strlen(text), NULL));
	}
}

/* Takes the next message without waiting: its id, and its gap in *gap. */
static uint64_t
take_id(srv_registry *r, srv_client *c, srv_gap *gap)
{
	srv_msg *m;
	srv_gap ignored;
	if (srv_client_take(r, c, 0, NULL, &m, gap != NULL ? gap : &ignored) != QUEUE_OK)
		return 0;
	uint64_t id = m->id;
	srv_msg_release(m);
	return id;
}

/* The queue dropped 4..6; the history has them: a resume recovers them,
 * settles the drops, and never repeats what was seen. */
START_TEST(resume_recovers_drops_from_the_history)
{
	srv_registry *r = srv_registry_new(3, 10, 10);
	srv_client *a = srv_registry_join(r, "a", SRV_CLIENT_POLL, NULL);
	send_range(r, 1, 6);                  /* queue: 1 2 3; dropped: 4 5 6 */
	ck_assert_int_eq(srv_client_resume(r, a, 1), 0);
	srv_gap gap;
	for (uint64_t id = 2; id <= 6; id++) {
		ck_assert_uint_eq(take_id(r, a, &gap), id);
		ck_assert_int_eq(gap.dropped, 0);
		ck_assert_int_eq(gap.missed, 0);
	}
	ck_assert_uint_eq(take_id(r, a, NULL), 0);       /* nothing twice */
	send_range(r, 7, 7);
	ck_assert_uint_eq(take_id(r, a, NULL), 7);
	srv_client_release(r, a);
	srv_registry_free(r);
}
END_TEST

/* The history (4) is shorter than what was missed: the queue's old ones
 * come first, then the history's, and the gap between is counted once.
 * delivered + missed + dropped = every id above since. */
START_TEST(resume_counts_what_is_gone_exactly)
{
	srv_registry *r = srv_registry_new(3, 10, 4);
	srv_client *a = srv_registry_join(r, "a", SRV_CLIENT_POLL, NULL);
	send_range(r, 1, 10);                 /* queue: 1 2 3; history: 7..10 */
	ck_assert_int_eq(srv_client_resume(r, a, 0), 3);   /* 4, 5, 6 */
	srv_gap gap;
	ck_assert_uint_eq(take_id(r, a, &gap), 1);
	ck_assert_int_eq(gap.missed, 3);
	ck_assert_int_eq(gap.dropped, 0);
	const uint64_t rest[] = { 2, 3, 7, 8, 9, 10 };
	for (size_t i = 0; i < 6; i++) {
		ck_assert_uint_eq(take_id(r, a, &gap), rest[i]);
		ck_assert_int_eq(gap.missed + gap.dropped, 0);
	}
	/* Resuming again from an earlier id does not count the lost ones twice
	 * (nor 2 and 3, delivered already): what the history holds comes again. */
	ck_assert_int_eq(srv_client_resume(r, a, 1), 0);
	ck_assert_uint_eq(take_id(r, a, &gap), 7);
	ck_assert_int_eq(gap.missed, 0);
	srv_registry_counts counts;
	srv_registry_counts_get(r, &counts);
	ck_assert_uint_eq(counts.missed, 3);
	ck_assert_uint_eq(counts.last_id, 10);
	ck_assert_uint_eq(counts.history, 4);
	srv_client_release(r, a);
	srv_registry_free(r);
}
END_TEST

/* A client that did not exist when the messages were sent (new, or
 * reaped) gets them from the history; an id from an earlier run of the
 * server (above the last one given out) means everything is new. */
START_TEST(resume_serves_a_new_client_from_the_history)
{
	srv_registry *r = srv_registry_new(3, 10, 100);
	send_range(r, 1, 5);
	srv_client *late = srv_registry_join(r, "late", SRV_CLIENT_POLL, NULL);
	ck_assert_int_eq(srv_client_resume(r, late, 2), 0);
	for (uint64_t id = 3; id <= 5; id++)
		ck_assert_uint_eq(take_id(r, late, NULL), id);
	srv_client *restarted = srv_registry_join(r, "restarted", SRV_CLIENT_POLL, NULL);
	ck_assert_int_eq(srv_client_resume(r, restarted, 900), 0);
	for (uint64_t id = 1; id <= 5; id++)
		ck_assert_uint_eq(take_id(r, restarted, NULL), id);
	ck_assert_uint_eq(take_id(r, restarted, NULL), 0);
	srv_client_release(r, late);
	srv_client_release(r, restarted);
	srv_registry_free(r);
}
END_TEST

/* A backlog message whose answer failed comes back first, with its gap. */
START_TEST(resume_give_back_keeps_order)
{
	srv_registry *r = srv_registry_new(3, 10, 3);
	srv_client *a = srv_registry_join(r, "a", SRV_CLIENT_POLL, NULL);
	send_range(r, 1, 8);                  /* queue 1 2 3, history 6 7 8 */
	ck_assert_int_eq(srv_client_resume(r, a, 0), 2);
	srv_msg *m1, *m2;
	srv_gap g1, g2;
	ck_assert_int_eq(srv_client_take(r, a, 0, NULL, &m1, &g1), QUEUE_OK);
	ck_assert_int_eq(srv_client_take(r, a, 0, NULL, &m2, &g2), QUEUE_OK);
	srv_client_give_back(r, a, m2, g2);
	srv_client_give_back(r, a, m1, g1);   /* in the other order */
	srv_gap gap;
	ck_assert_uint_eq(take_id(r, a, &gap), 1);
	ck_assert_int_eq(gap.missed, 2);       /* the gap went back with it */
	const uint64_t rest[] = { 2, 3, 6, 7, 8 };
	for (size_t i = 0; i < 5; i++)
		ck_assert_uint_eq(take_id(r, a, NULL), rest[i]);
	srv_client_release(r, a);
	srv_registry_free(r);
}
END_TEST

Suite *
registry_suite(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("registry");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, join_keeps_queue);
	tcase_add_test(tc, bad_names);
	tcase_add_test(tc, broadcast_in_order_to_all);
	tcase_add_test(tc, full_queue_counts_drops);
	tcase_add_test(tc, pushers_are_called_after_the_put);
	tcase_add_test(tc, give_back_comes_first);
	tcase_add_test(tc, give_backs_keep_id_order);
	tcase_add_test(tc, give_back_leaves_no_marker);
	tcase_add_test(tc, max_clients_is_a_clear_error);
	tcase_add_test(tc, idle_clients_are_reaped);
	tcase_add_test(tc, shutdown_wakes_takers);
	tcase_add_test(tc, resume_recovers_drops_from_the_history);
	tcase_add_test(tc, resume_counts_what_is_gone_exactly);
	tcase_add_test(tc, resume_serves_a_new_client_from_the_history);
	tcase_add_test(tc, resume_give_back_keeps_order);
	suite_add_tcase(s, tc);
	return s;
}
