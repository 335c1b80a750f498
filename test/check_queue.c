/*
 * check_queue.c - queue/queue.h against Python 3.13's queue module, rule by
 * rule (the P* and G* rules of docs/queue-semantics.md).
 */
#include "queue/queue.h"
#include "suites.h"
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

/* Small integers stand in for items: no allocation, easy to compare. */
#define ITEM(n) ((void *)(uintptr_t)(n))
#define NUM(p) ((long)(uintptr_t)(p))

static const double ZERO = 0, NEGATIVE = -1, SHORT = 0.2;

/* ---------------------------------------------------------------- order */

static void
put_all(queue *q, const long *nums, int n)
{
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(queue_put_nowait(q, ITEM(nums[i])), QUEUE_OK);
}

static void
expect_gets(queue *q, const long *nums, int n)
{
	for (int i = 0; i < n; i++) {
		void *item = NULL;
		ck_assert_int_eq(queue_get_nowait(q, &item), QUEUE_OK);
		ck_assert_int_eq(NUM(item), nums[i]);
	}
	void *item = NULL;
	ck_assert_int_eq(queue_get_nowait(q, &item), QUEUE_EMPTY);
}

START_TEST(fifo_order)
{
	queue *q = queue_new(0, NULL);
	put_all(q, (long[]){ 111, 333, 222 }, 3);
	expect_gets(q, (long[]){ 111, 333, 222 }, 3);
	queue_free(q);
}
END_TEST

START_TEST(lifo_order)
{
	queue *q = queue_new_kind(QUEUE_LIFO, 0, NULL, NULL);
	put_all(q, (long[]){ 111, 333, 222 }, 3);
	expect_gets(q, (long[]){ 222, 333, 111 }, 3);
	queue_free(q);
}
END_TEST

static int
cmp_num(const void *a, const void *b)
{
	long x = NUM(a), y = NUM(b);
	return (x > y) - (x < y);
}

START_TEST(priority_order)
{
	queue *q = queue_new_kind(QUEUE_PRIORITY, 0, cmp_num, NULL);
	put_all(q, (long[]){ 111, 333, 222 }, 3);
	expect_gets(q, (long[]){ 111, 222, 333 }, 3);
	ck_assert_ptr_null(queue_new_kind(QUEUE_PRIORITY, 0, NULL, NULL));
	queue_free(q);
}
END_TEST

/* Priority = number / 100: equal priorities must come out in put order. */
static int
cmp_hundreds(const void *a, const void *b)
{
	return cmp_num(ITEM(NUM(a) / 100), ITEM(NUM(b) / 100));
}

START_TEST(priority_is_stable)
{
	queue *q = queue_new_kind(QUEUE_PRIORITY, 0, cmp_hundreds, NULL);
	put_all(q, (long[]){ 305, 101, 302, 104, 301, 103, 200, 102 }, 8);
	expect_gets(q, (long[]){ 101, 104, 103, 102, 200, 305, 302, 301 }, 8);
	queue_free(q);
}
END_TEST

/* The ring wraps around and grows while holding items out of order. */
START_TEST(fifo_wraps_and_grows)
{
	queue *q = queue_new(0, NULL);
	long next_put = 0, next_get = 0;
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < round % 13 + 1; i++)
			ck_assert_int_eq(queue_put_nowait(q, ITEM(next_put++)), QUEUE_OK);
		for (int i = 0; i < round % 7 + 1 && next_get < next_put; i++) {
			void *item;
			ck_assert_int_eq(queue_get_nowait(q, &item), QUEUE_OK);
			ck_assert_int_eq(NUM(item), next_get++);
		}
	}
	ck_assert_uint_eq(queue_qsize(q), (size_t)(next_put - next_get));
	queue_free(q);
}
END_TEST

/* ------------------------------------------------- bounds and sizes */

START_TEST(unbounded_never_full)
{
	for (long maxsize = -3; maxsize <= 0; maxsize += 3) {
		queue *q = queue_new(maxsize, NULL);
		for (int i = 0; i < 5000; i++)
			ck_assert_int_eq(queue_put(q, ITEM(i), true, NULL), QUEUE_OK);
		ck_assert(!queue_full(q));
		ck_assert(!queue_empty(q));
		ck_assert_uint_eq(queue_qsize(q), 5000);
		queue_free(q);
	}
}
END_TEST

START_TEST(bounded_full_and_empty)
{
	queue *q = queue_new(2, NULL);
	ck_assert(queue_empty(q));
	ck_assert(!queue_full(q));
	put_all(q, (long[]){ 1, 2 }, 2);
	ck_assert(queue_full(q));
	ck_assert_int_eq(queue_put_nowait(q, ITEM(3)), QUEUE_FULL);           /* P3 */
	ck_assert_int_eq(queue_put(q, ITEM(3), false, &NEGATIVE), QUEUE_FULL); /* timeout ignored */
	ck_assert_int_eq(queue_put(q, ITEM(3), true, &ZERO), QUEUE_FULL);     /* P6 at once */
	ck_assert_uint_eq(queue_qsize(q), 2);
	expect_gets(q, (long[]){ 1, 2 }, 2);
	queue_free(q);
}
END_TEST

/* Python's test_shrinking_queue (issue 10110). */
START_TEST(shrinking_maxsize)
{
	queue *q = queue_new(3, NULL);
	put_all(q, (long[]){ 1, 2, 3 }, 3);
	queue_set_maxsize(q, 2);
	ck_assert(queue_full(q));
	ck_assert_int_eq(queue_put_nowait(q, ITEM(4)), QUEUE_FULL);
	queue_set_maxsize(q, 0);
	ck_assert_int_eq(queue_put_nowait(q, ITEM(4)), QUEUE_OK);
	queue_free(q);
}
END_TEST

/* ---------------------------------------------- invalid arguments */

START_TEST(invalid_timeouts)
{
	const double nan_t = NAN, huge = QUEUE_TIMEOUT_MAX * 2, inf = INFINITY;
	queue *bounded = queue_new(2, NULL);
	queue *unbounded = queue_new(0, NULL);
	void *item = ITEM(42);

	/* P5: negative timeout is EINVAL even when there is room ... */
	ck_assert_int_eq(queue_put(bounded, ITEM(1), true, &NEGATIVE), QUEUE_EINVAL);
	ck_assert_int_eq(queue_put(bounded, ITEM(1), true, &nan_t), QUEUE_EINVAL);
	ck_assert_int_eq(queue_put(bounded, ITEM(1), true, &huge), QUEUE_EINVAL);
	ck_assert_int_eq(queue_put(bounded, ITEM(1), true, &inf), QUEUE_EINVAL);
	ck_assert_uint_eq(queue_qsize(bounded), 0);
	/* ... but P2: an unbounded put never looks at the timeout. */
	ck_assert_int_eq(queue_put(unbounded, ITEM(7), true, &NEGATIVE), QUEUE_OK);

	/* G4: EINVAL even with an item there, and the item stays. */
	ck_assert_int_eq(queue_get(unbounded, &item, true, &NEGATIVE), QUEUE_EINVAL);
	ck_assert_int_eq(queue_get(unbounded, &item, true, &nan_t), QUEUE_EINVAL);
	ck_assert_int_eq(NUM(item), 42);           /* untouched on failure */
	ck_assert_uint_eq(queue_qsize(unbounded), 1);
	/* G2: block == false ignores the timeout, even a negative one. */
	ck_assert_int_eq(queue_get(unbounded, &item, false, &NEGATIVE), QUEUE_OK);
	ck_assert_int_eq(NUM(item), 7);
	ck_assert_int_eq(queue_get(unbounded, &item, false, &NEGATIVE), QUEUE_EMPTY);
	queue_free(bounded);
	queue_free(unbounded);
}
END_TEST

START_TEST(null_arguments)
{
	void *item;
	queue *q = queue_new(1, NULL);
	ck_assert_int_eq(queue_put(NULL, ITEM(1), true, NULL), QUEUE_EINVAL);
	ck_assert_int_eq(queue_get(NULL, &item, true, NULL), QUEUE_EINVAL);
	ck_assert_int_eq(queue_get(q, NULL, true, NULL), QUEUE_EINVAL);
	ck_assert_int_eq(queue_put_nowait(NULL, ITEM(1)), QUEUE_EINVAL);
	ck_assert_int_eq(queue_get_nowait(NULL, &item), QUEUE_EINVAL);
	ck_assert_int_eq(queue_task_done(NULL), QUEUE_EINVAL);
	queue_join(NULL);
	queue_shutdown(NULL, true);
	queue_set_maxsize(NULL, 3);
	ck_assert_uint_eq(queue_qsize(NULL), 0);
	ck_assert(queue_empty(NULL));
	ck_assert(!queue_full(NULL));
	ck_assert(!queue_is_shutdown(NULL));
	ck_assert_int_eq(queue_unfinished_tasks(NULL), 0);
	queue_get_stats(q, NULL);
	queue_free(NULL);
	queue_free(q);
	ck_assert_str_eq(queue_rc_name(QUEUE_SHUTDOWN), "SHUTDOWN");
}
END_TEST

/* ------------------------------------------------------------ timing */

START_TEST(get_timeout_is_not_early)
{
	queue *q = queue_new(0, NULL);
	void *item;
	double start = tu_now();
	ck_assert_int_eq(queue_get(q, &item, true, &SHORT), QUEUE_EMPTY);
	double waited = tu_now() - start;
	ck_assert_double_ge(waited, SHORT);
	ck_assert_double_lt(waited, SHORT + tu_slack(1.5));

	start = tu_now();
	ck_assert_int_eq(queue_get(q, &item, true, &ZERO), QUEUE_EMPTY);
	ck_assert_double_lt(tu_now() - start, tu_slack(0.5));
	queue_free(q);
}
END_TEST

START_TEST(put_timeout_is_not_early)
{
	queue *q = queue_new(1, NULL);
	ck_assert_int_eq(queue_put_nowait(q, ITEM(1)), QUEUE_OK);
	double start = tu_now();
	ck_assert_int_eq(queue_put(q, ITEM(2), true, &SHORT), QUEUE_FULL);
	double waited = tu_now() - start;
	ck_assert_double_ge(waited, SHORT);
	ck_assert_double_lt(waited, SHORT + tu_slack(1.5));
	ck_assert_uint_eq(queue_qsize(q), 1);
	queue_free(q);
}
END_TEST

/* ----------------------------------------------------------- threads */

/* One blocking call run in a thread, with its result and when it ended. */
struct call {
	queue *q;
	enum { CALL_GET, CALL_PUT, CALL_JOIN, CALL_JOIN_TIMEOUT, CALL_GET_CANCELLABLE } what;
	atomic_bool cancel;       /* CALL_GET_CANCELLABLE */
	const double *timeout;
	void *item;
	queue_rc rc;
	double ended;
	atomic_bool done;
};

static void *
run_call(void *arg)
{
	struct call *c = arg;
	switch (c->what) {
	case CALL_GET: c->rc = queue_get(c->q, &c->item, true, c->timeout); break;
	case CALL_PUT: c->rc = queue_put(c->q, c->item, true, c->timeout); break;
	case CALL_JOIN: queue_join(c->q); c->rc = QUEUE_OK; break;
	case CALL_JOIN_TIMEOUT: c->rc = queue_join_timeout(c->q, *c->timeout); break;
	case CALL_GET_CANCELLABLE:
		c->rc = queue_get_cancellable(c->q, &c->item, c->timeout, &c->cancel);
		break;
	}
	c->ended = tu_now();
	atomic_store(&c->done, true);
	return NULL;
}

static void
start_calls(pthread_t *threads, struct call *calls, int n)
{
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(pthread_create(&threads[i], NULL, run_call, &calls[i]), 0);
}

static void
join_calls(pthread_t *threads, int n)
{
	for (int i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
}

struct waiters { queue *q; unsigned getters, putters, joiners; };

static bool
have_waiters(void *arg)
{
	struct waiters *w = arg;
	queue_stats s;
	queue_get_stats(w->q, &s);
	return s.waiting_getters >= w->getters && s.waiting_putters >= w->putters &&
	       s.waiting_joiners >= w->joiners;
}

/* Waits (with a deadline) until the threads are really blocked in the queue. */
static void
await_blocked(queue *q, unsigned getters, unsigned putters)
{
	struct waiters w = { q, getters, putters, 0 };
	ck_assert_msg(tu_wait_until(have_waiters, &w, 5.0), "threads never blocked");
}

static void
await_joiners(queue *q, unsigned joiners)
{
	struct waiters w = { q, 0, 0, joiners };
	ck_assert_msg(tu_wait_until(have_waiters, &w, 5.0), "joiners never blocked");
}

START_TEST(blocked_get_wakes_on_put)
{
	queue *q = queue_new(0, NULL);
	struct call c = { .q = q, .what = CALL_GET };
	pthread_t t;
	start_calls(&t, &c, 1);
	await_blocked(q, 1, 0);
	ck_assert(!atomic_load(&c.done));
	double put_at = tu_now();
	ck_assert_int_eq(queue_put_nowait(q, ITEM(5)), QUEUE_OK);
	join_calls(&t, 1);
	ck_assert_int_eq(c.rc, QUEUE_OK);
	ck_assert_int_eq(NUM(c.item), 5);
	ck_assert_double_lt(c.ended - put_at, tu_slack(0.1));   /* "as soon as", generously */
	queue_free(q);
}
END_TEST

START_TEST(blocked_timed_get_gets_item)
{
	const double long_wait = 30;
	queue *q = queue_new(0, NULL);
	struct call c = { .q = q, .what = CALL_GET, .timeout = &long_wait };
	pthread_t t;
	start_calls(&t, &c, 1);
	await_blocked(q, 1, 0);
	ck_assert_int_eq(queue_put_nowait(q, ITEM(6)), QUEUE_OK);
	join_calls(&t, 1);
	ck_assert_int_eq(c.rc, QUEUE_OK);
	ck_assert_int_eq(NUM(c.item), 6);
	queue_free(q);
}
END_TEST

START_TEST(blocked_put_wakes_on_get)
{
	queue *q = queue_new(1, NULL);
	ck_assert_int_eq(queue_put_nowait(q, ITEM(1)), QUEUE_OK);
	struct call c = { .q = q, .what = CALL_PUT, .item = ITEM(2) };
	pthread_t t;
	start_calls(&t, &c, 1);
	await_blocked(q, 0, 1);
	void *item;
	ck_assert_int_eq(queue_get_nowait(q, &item), QUEUE_OK);
	ck_assert_int_eq(NUM(item), 1);
	join_calls(&t, 1);
	ck_assert_int_eq(c.rc, QUEUE_OK);
	ck_assert_int_eq(queue_get_nowait(q, &item), QUEUE_OK);
	ck_assert_int_eq(NUM(item), 2);
	queue_free(q);
}
END_TEST

/* ---------------------------------------------------- task_done / join */

START_TEST(task_done_too_many)
{
	queue *q = queue_new(0, NULL);
	ck_assert_int_eq(queue_task_done(q), QUEUE_EINVAL);
	ck_assert_int_eq(queue_put_nowait(q, ITEM(1)), QUEUE_OK);
	ck_assert_int_eq(queue_unfinished_tasks(q), 1);
	void *item;
	ck_assert_int_eq(queue_get_nowait(q, &item), QUEUE_OK);
	ck_assert_int_eq(queue_unfinished_tasks(q), 1);   /* get does not count */
	ck_assert_int_eq(queue_task_done(q), QUEUE_OK);
	ck_assert_int_eq(queue_task_done(q), QUEUE_EINVAL);
	ck_assert_int_eq(queue_unfinished_tasks(q), 0);   /* unchanged */
	queue_join(q);                                    /* returns at once */
	queue_free(q);
}
END_TEST

START_TEST(join_waits_for_every_task)
{
	queue *q = queue_new(0, NULL);
	put_all(q, (long[]){ 1, 2 }, 2);
	struct call joiners[3] = { { .q = q, .what = CALL_JOIN },
		                       { .q = q, .what = CALL_JOIN },
		                       { .q = q, .what = CALL_JOIN } };
	pthread_t t[3];
	start_calls(t, joiners, 3);
	await_joiners(q, 3);                             /* all three really wait */
	void *item;
	ck_assert_int_eq(queue_get_nowait(q, &item), QUEUE_OK);
	ck_assert_int_eq(queue_task_done(q), QUEUE_OK);
	ck_assert_int_eq(queue_get_nowait(q, &item), QUEUE_OK);
	/* One task is still open: task_done woke nobody, all three still wait. */
	queue_stats stats;
	queue_get_stats(q, &stats);
	ck_assert_uint_eq(stats.waiting_joiners, 3);
	for (int i = 0; i < 3; i++)
		ck_assert(!atomic_load(&joiners[i].done));
	ck_assert_int_eq(queue_task_done(q), QUEUE_OK);
	join_calls(t, 3);                                /* all three return */
	queue_free(q);
}
END_TEST

/* ------------------------------------------------------------ shutdown */

START_TEST(shutdown_refuses_puts_and_drains_gets)
{
	queue *q = queue_new(5, NULL);
	put_all(q, (long[]){ 1, 2 }, 2);
	queue_shutdown(q, false);
	ck_assert(queue_is_shutdown(q));
	ck_assert_int_eq(queue_put_nowait(q, ITEM(3)), QUEUE_SHUTDOWN);          /* P1 */
	ck_assert_int_eq(queue_put(q, ITEM(3), true, &NEGATIVE), QUEUE_SHUTDOWN); /* before EINVAL */
	void *item;
	ck_assert_int_eq(queue_get(q, &item, true, NULL), QUEUE_OK);
	ck_assert_int_eq(NUM(item), 1);
	ck_assert_int_eq(queue_get(q, &item, true, &NEGATIVE), QUEUE_EINVAL);    /* not empty yet */
	ck_assert_int_eq(queue_get_nowait(q, &item), QUEUE_OK);
	ck_assert_int_eq(NUM(item), 2);
	/* G1: shut down and empty beats EMPTY and EINVAL. */
	ck_assert_int_eq(queue_get_nowait(q, &item), QUEUE_SHUTDOWN);
	ck_assert_int_eq(queue_get(q, &item, true, NULL), QUEUE_SHUTDOWN);
	ck_assert_int_eq(queue_get(q, &item, true, &NEGATIVE), QUEUE_SHUTDOWN);
	ck_assert_int_eq(queue_unfinished_tasks(q), 2);   /* not settled */
	ck_assert_int_eq(queue_task_done(q), QUEUE_OK);   /* task_done still works */
	queue_free(q);
}
END_TEST

START_TEST(shutdown_wakes_every_waiter)
{
	const double long_wait = 30;
	queue *empty = queue_new(1, NULL);
	queue *full = queue_new(1, NULL);
	ck_assert_int_eq(queue_put_nowait(full, ITEM(1)), QUEUE_OK);
	struct call calls[4] = {
		{ .q = empty, .what = CALL_GET },
		{ .q = empty, .what = CALL_GET, .timeout = &long_wait },
		{ .q = full, .what = CALL_PUT, .item = ITEM(2) },
		{ .q = full, .what = CALL_PUT, .item = ITEM(3), .timeout = &long_wait },
	};
	pthread_t t[4];
	start_calls(t, calls, 4);
	await_blocked(empty, 2, 0);
	await_blocked(full, 0, 2);
	double shut_at = tu_now();
	queue_shutdown(empty, false);
	queue_shutdown(full, false);
	join_calls(t, 4);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(calls[i].rc, QUEUE_SHUTDOWN);
		ck_assert_double_lt(calls[i].ended - shut_at, tu_slack(1.0));
	}
	ck_assert_uint_eq(queue_qsize(full), 1);          /* blocked puts added nothing */
	queue_free(empty);
	queue_free(full);
}
END_TEST

static atomic_int freed_items;

static void
count_free(void *item)
{
	(void)item;
	atomic_fetch_add(&freed_items, 1);
}

START_TEST(shutdown_immediate_drains_and_settles)
{
	atomic_store(&freed_items, 0);
	queue *q = queue_new(0, count_free);
	put_all(q, (long[]){ 1, 2, 3, 4 }, 4);
	void *item;
	ck_assert_int_eq(queue_get_nowait(q, &item), QUEUE_OK);  /* taken, no task_done */
	queue_shutdown(q, true);
	ck_assert_int_eq(atomic_load(&freed_items), 3);
	ck_assert_uint_eq(queue_qsize(q), 0);
	ck_assert_int_eq(queue_get_nowait(q, &item), QUEUE_SHUTDOWN);
	/* The taken item still counts: join would block until its task_done. */
	ck_assert_int_eq(queue_unfinished_tasks(q), 1);
	struct call joiner = { .q = q, .what = CALL_JOIN };
	pthread_t t;
	start_calls(&t, &joiner, 1);
	await_joiners(q, 1);                 /* it really blocks in join */
	ck_assert(!atomic_load(&joiner.done));
	ck_assert_int_eq(queue_task_done(q), QUEUE_OK);
	join_calls(&t, 1);
	ck_assert_int_eq(queue_task_done(q), QUEUE_EINVAL);
	queue_free(q);
	ck_assert_int_eq(atomic_load(&freed_items), 3);
}
END_TEST

START_TEST(shutdown_transitions)
{
	atomic_store(&freed_items, 0);
	queue *q = queue_new(0, count_free);
	put_all(q, (long[]){ 1, 2 }, 2);
	queue_shutdown(q, false);
	queue_shutdown(q, false);                    /* idempotent */
	ck_assert_uint_eq(queue_qsize(q), 2);
	queue_shutdown(q, true);                     /* soft -> immediate drains */
	ck_assert_int_eq(atomic_load(&freed_items), 2);
	ck_assert_int_eq(queue_unfinished_tasks(q), 0);
	queue_join(q);
	queue_shutdown(q, false);                    /* immediate -> soft: no-op */
	ck_assert(queue_is_shutdown(q));
	queue_free(q);
}
END_TEST

START_TEST(free_hands_items_to_destructor)
{
	atomic_store(&freed_items, 0);
	queue *q = queue_new_kind(QUEUE_PRIORITY, 0, cmp_num, count_free);
	put_all(q, (long[]){ 5, 4, 3 }, 3);
	queue_free(q);
	ck_assert_int_eq(atomic_load(&freed_items), 3);
}
END_TEST

/* -------------------------------------------------------------- stress */

#define STRESS_ITEMS 1000000
#define STRESS_PRODUCERS 4
#define STRESS_CONSUMERS 4

struct stress {
	queue *q;
	int producer;               /* which slice of the items to put */
	atomic_uchar *seen;         /* how often each item was got */
	long got;
};

static void *
stress_produce(void *arg)
{
	struct stress *s = arg;
	for (long i = s->producer; i < STRESS_ITEMS; i += STRESS_PRODUCERS)
		if (queue_put(s->q, ITEM(i + 1), true, NULL) != QUEUE_OK)
			abort();
	return NULL;
}

/* Gets until the queue is shut down and empty: the way a worker drains. */
static void *
stress_consume(void *arg)
{
	struct stress *s = arg;
	void *item;
	while (queue_get(s->q, &item, true, NULL) == QUEUE_OK) {
		atomic_fetch_add(&s->seen[NUM(item) - 1], 1);
		s->got++;
	}
	return NULL;
}

START_TEST(stress_every_item_exactly_once)
{
	queue *q = queue_new(16, NULL);
	atomic_uchar *seen = calloc(STRESS_ITEMS, sizeof(*seen));
	ck_assert_ptr_nonnull(seen);
	struct stress producers[STRESS_PRODUCERS], consumers[STRESS_CONSUMERS];
	pthread_t pt[STRESS_PRODUCERS], ct[STRESS_CONSUMERS];
	for (int i = 0; i < STRESS_CONSUMERS; i++) {
		consumers[i] = (struct stress){ .q = q, .seen = seen };
		ck_assert_int_eq(pthread_create(&ct[i], NULL, stress_consume, &consumers[i]), 0);
	}
	for (int i = 0; i < STRESS_PRODUCERS; i++) {
		producers[i] = (struct stress){ .q = q, .producer = i, .seen = seen };
		ck_assert_int_eq(pthread_create(&pt[i], NULL, stress_produce, &producers[i]), 0);
	}
	for (int i = 0; i < STRESS_PRODUCERS; i++)
		pthread_join(pt[i], NULL);
	queue_shutdown(q, false);       /* consumers drain what is left, then stop */
	long total = 0;
	for (int i = 0; i < STRESS_CONSUMERS; i++) {
		pthread_join(ct[i], NULL);
		total += consumers[i].got;
	}
	ck_assert_int_eq(total, STRESS_ITEMS);
	for (long i = 0; i < STRESS_ITEMS; i++)
		if (atomic_load(&seen[i]) != 1)
			ck_abort_msg("item %ld delivered %d times", i + 1, (int)atomic_load(&seen[i]));
	free(seen);
	queue_free(q);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Beyond Python: give back, cancellable gets                          */
/* ------------------------------------------------------------------ */

START_TEST(give_back_goes_where_its_order_says)
{
	/* FIFO: to the front, past the bound (the room was its own). */
	queue *q = queue_new(2, NULL);
	put_all(q, (long[]){ 1, 2 }, 2);
	void *item;
	ck_assert_int_eq(queue_get_nowait(q, &item), QUEUE_OK);
	ck_assert_int_eq(queue_put_nowait(q, ITEM(3)), QUEUE_OK);      /* full again */
	ck_assert_int_eq(queue_give_back(q, item), QUEUE_OK);
	ck_assert_uint_eq(queue_qsize(q), 3);
	ck_assert_int_eq(queue_unfinished_tasks(q), 3);                /* not counted twice */
	expect_gets(q, (long[]){ 1, 2, 3 }, 3);
	queue_shutdown(q, false);
	ck_assert_int_eq(queue_give_back(q, ITEM(9)), QUEUE_SHUTDOWN);
	queue_free(q);

	/* PRIORITY: items given back in any order leave in order. */
	q = queue_new_kind(QUEUE_PRIORITY, 4, cmp_num, NULL);
	put_all(q, (long[]){ 1, 2, 3, 4 }, 4);
	void *taken[4];
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(queue_get_nowait(q, &taken[i]), QUEUE_OK);
	put_all(q, (long[]){ 5 }, 1);
	int back[] = { 2, 0, 3, 1 };
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(queue_give_back(q, taken[back[i]]), QUEUE_OK);
	expect_gets(q, (long[]){ 1, 2, 3, 4, 5 }, 5);
	queue_free(q);
}
END_TEST

START_TEST(cancelled_get_returns_cancelled)
{
	queue *q = queue_new(0, NULL);
	static const double long_wait = 30;
	struct call c = { .q = q, .what = CALL_GET_CANCELLABLE, .timeout = &long_wait };
	struct call other = { .q = q, .what = CALL_GET_CANCELLABLE, .timeout = &long_wait };
	pthread_t t[2];
	start_calls(&t[0], &c, 1);
	start_calls(&t[1], &other, 1);
	await_blocked(q, 2, 0);
	double cancelled_at = tu_now();
	atomic_store(&c.cancel, true);
	queue_wake_getters(q);
	pthread_join(t[0], NULL);
	ck_assert_int_eq(c.rc, QUEUE_CANCELLED);
	ck_assert_double_lt(c.ended - cancelled_at, tu_slack(0.5));
	/* The other getter woke too, saw its flag false and waits on. */
	await_blocked(q, 1, 0);
	ck_assert_int_eq(queue_put_nowait(q, ITEM(7)), QUEUE_OK);
	pthread_join(t[1], NULL);
	ck_assert_int_eq(other.rc, QUEUE_OK);
	ck_assert_int_eq(NUM(other.item), 7);
	/* Cancelled before it starts: no wait; an item there is still returned. */
	atomic_bool yes = true;
	void *item;
	ck_assert_int_eq(queue_get_cancellable(q, &item, &long_wait, &yes), QUEUE_CANCELLED);
	ck_assert_int_eq(queue_put_nowait(q, ITEM(8)), QUEUE_OK);
	ck_assert_int_eq(queue_get_cancellable(q, &item, &long_wait, &yes), QUEUE_OK);
	ck_assert_int_eq(NUM(item), 8);
	queue_free(q);
}
END_TEST

START_TEST(join_timeout_times_out_or_joins)
{
	queue *q = queue_new(0, NULL);
	ck_assert_int_eq(queue_join_timeout(q, 0), QUEUE_OK);        /* nothing open */
	ck_assert_int_eq(queue_join_timeout(q, -1), QUEUE_EINVAL);
	ck_assert_int_eq(queue_join_timeout(NULL, 1), QUEUE_EINVAL);
	put_all(q, (long[]){ 1 }, 1);
	double started = tu_now();
	ck_assert_int_eq(queue_join_timeout(q, SHORT), QUEUE_TIMEOUT);
	ck_assert_double_ge(tu_now() - started, SHORT);              /* not early */
	/* A waiting joiner returns QUEUE_OK as soon as the last task is done. */
	static const double long_wait = 30;
	struct call joiner = { .q = q, .what = CALL_JOIN_TIMEOUT, .timeout = &long_wait };
	pthread_t t;
	start_calls(&t, &joiner, 1);
	await_joiners(q, 1);
	void *item;
	ck_assert_int_eq(queue_get_nowait(q, &item), QUEUE_OK);
	double done_at = tu_now();
	ck_assert_int_eq(queue_task_done(q), QUEUE_OK);
	pthread_join(t, NULL);
	ck_assert_int_eq(joiner.rc, QUEUE_OK);
	ck_assert_double_lt(joiner.ended - done_at, tu_slack(0.5));
	queue_free(q);
}
END_TEST

START_TEST(high_water_sees_a_burst)
{
	queue *q = queue_new(5, NULL);
	ck_assert_uint_eq(queue_take_high_water(q), 0);
	put_all(q, (long[]){ 1, 2, 3 }, 3);
	expect_gets(q, (long[]){ 1, 2, 3 }, 3);                      /* empty again */
	queue_stats stats;
	queue_get_stats(q, &stats);
	ck_assert_uint_eq(stats.qsize, 0);
	ck_assert_uint_eq(stats.high_water, 3);
	ck_assert_uint_eq(queue_take_high_water(q), 3);
	ck_assert_uint_eq(queue_take_high_water(q), 0);              /* counts again */
	put_all(q, (long[]){ 4 }, 1);
	ck_assert_uint_eq(queue_take_high_water(q), 1);
	ck_assert_uint_eq(queue_take_high_water(q), 1);              /* from what is held */
	queue_free(q);
}
END_TEST

static void
collect(void *item, void *ctx)
{
	long *seen = ctx;
	seen[++seen[0]] = NUM(item);
}

START_TEST(visit_sees_items_in_get_order)
{
	queue *q = queue_new(0, NULL);
	long seen[8] = { 0 };
	queue_visit(q, collect, seen);
	ck_assert_int_eq(seen[0], 0);
	/* Wrap the ring: put 4, take 2, put 3 more. */
	put_all(q, (long[]){ 1, 2, 3, 4 }, 4);
	void *item;
	ck_assert_int_eq(queue_get_nowait(q, &item), QUEUE_OK);
	ck_assert_int_eq(queue_get_nowait(q, &item), QUEUE_OK);
	put_all(q, (long[]){ 5, 6, 7 }, 3);
	queue_visit(q, collect, seen);
	ck_assert_int_eq(seen[0], 5);
	for (int i = 1; i <= 5; i++)
		ck_assert_int_eq(seen[i], i + 2);
	queue_visit(NULL, collect, seen);                             /* no-ops */
	queue_visit(q, NULL, seen);
	queue_free(q);
}
END_TEST

Suite *
queue_suite(void)
{
	Suite *s = suite_create("queue");

	TCase *order = tcase_create("order");
	tcase_add_test(order, fifo_order);
	tcase_add_test(order, lifo_order);
	tcase_add_test(order, priority_order);
	tcase_add_test(order, priority_is_stable);
	tcase_add_test(order, fifo_wraps_and_grows);
	suite_add_tcase(s, order);

	TCase *rules = tcase_create("rules");
	tcase_add_test(rules, unbounded_never_full);
	tcase_add_test(rules, bounded_full_and_empty);
	tcase_add_test(rules, shrinking_maxsize);
	tcase_add_test(rules, invalid_timeouts);
	tcase_add_test(rules, null_arguments);
	tcase_add_test(rules, task_done_too_many);
	tcase_add_test(rules, shutdown_refuses_puts_and_drains_gets);
	tcase_add_test(rules, shutdown_transitions);
	tcase_add_test(rules, free_hands_items_to_destructor);
	suite_add_tcase(s, rules);

	TCase *blocking = tcase_create("blocking");
	tcase_set_timeout(blocking, 10);
	tcase_add_test(blocking, get_timeout_is_not_early);
	tcase_add_test(blocking, put_timeout_is_not_early);
	tcase_add_test(blocking, blocked_get_wakes_on_put);
	tcase_add_test(blocking, blocked_timed_get_gets_item);
	tcase_add_test(blocking, blocked_put_wakes_on_get);
	tcase_add_test(blocking, join_waits_for_every_task);
	tcase_add_test(blocking, shutdown_wakes_every_waiter);
	tcase_add_test(blocking, shutdown_immediate_drains_and_settles);
	suite_add_tcase(s, blocking);

	TCase *beyond = tcase_create("beyond_python");
	tcase_add_test(beyond, give_back_goes_where_its_order_says);
	tcase_add_test(beyond, cancelled_get_returns_cancelled);
	tcase_add_test(beyond, join_timeout_times_out_or_joins);
	tcase_add_test(beyond, high_water_sees_a_burst);
	tcase_add_test(beyond, visit_sees_items_in_get_order);
	suite_add_tcase(s, beyond);

	TCase *stress = tcase_create("stress");
	tcase_set_timeout(stress, 60);
	tcase_add_test(stress, stress_every_item_exactly_once);
	suite_add_tcase(s, stress);
	return s;
}
