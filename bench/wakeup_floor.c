#define _GNU_SOURCE /* SCHED_BATCH */

/*
 * wakeup_floor.c - the floor of thread-per-connection on this machine:
 * what it costs, at the least, to wake N threads that each sleep on their
 * own condition variable (as N long polls each sleep in their own queue).
 *
 * N waiter threads each block in pthread_cond_wait on a condition variable
 * of their own; one thread wakes them all, one after another, as a
 * broadcast puts into N queues.  For every wake-up: the time from the
 * round's start to the moment that thread runs again (p50, p99), and the
 * time until the last of the N ran; the CPU time of the process per
 * wake-up.  No sockets, no parsing, no JSON: pushq's long-poll delivery at
 * the same N cannot be cheaper than this, so `make bench` prints how far
 * from it pushq is.
 *
 * usage: wakeup_floor N [ROUNDS]
 * The last line is "RESULT n=N p50=MS p99=MS last_p99=MS cpu_us=US".
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>

#define WAITER_STACK (128 * 1024)   /* as pushq's connection threads */

typedef struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	long round;             /* the round this waiter was last woken for */
} waiter;

static waiter *waiters;
static long n_waiters, n_rounds;
static double *woke_at;             /* [round * N + i]: seconds after start */
static double *round_start;

/* Waiters woken in this round: counted without a lock (a lock here would
 * make 10,000 threads queue for it, which is not the floor); the last one
 * tells the waker. */
static atomic_long done_count;
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static bool batch;                  /* --batch: SCHED_BATCH for every thread */

static void
maybe_batch(void)
{
	struct sched_param none = { 0 };
	if (batch)
		pthread_setschedparam(pthread_self(), SCHED_BATCH, &none);
}

static void *
waiter_main(void *arg)
{
	long i = (long)arg;
	maybe_batch();
	waiter *w = &waiters[i];
	for (long r = 1; r <= n_rounds; r++) {
		pthread_mutex_lock(&w->lock);
		while (w->round < r)
			pthread_cond_wait(&w->cond, &w->lock);   /* the long poll's sleep */
		pthread_mutex_unlock(&w->lock);
		woke_at[(r - 1) * n_waiters + i] = now() - round_start[r - 1];
		if (atomic_fetch_add(&done_count, 1) + 1 == n_waiters) {
			pthread_mutex_lock(&done_lock);
			pthread_cond_signal(&done_cond);
			pthread_mutex_unlock(&done_lock);
		}
	}
	return NULL;
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
percentile(double *sorted, long n, double p)
{
	long i = (long)(p * (double)(n - 1));
	return sorted[i];
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: wakeup_floor N [ROUNDS]\n");
		return 2;
	}
	n_waiters = atol(argv[1]);
	n_rounds = argc > 2 ? atol(argv[2]) : 20;
	batch = argc > 3 && strcmp(argv[3], "--batch") == 0;
	maybe_batch();
	if (n_waiters < 1 || n_rounds < 1)
		return 2;
	waiters = calloc((size_t)n_waiters, sizeof(*waiters));
	woke_at = calloc((size_t)(n_waiters * n_rounds), sizeof(*woke_at));
	round_start = calloc((size_t)n_rounds, sizeof(*round_start));
	double *last = calloc((size_t)n_rounds, sizeof(*last));
	pthread_t *threads = calloc((size_t)n_waiters, sizeof(*threads));
	if (!waiters || !woke_at || !round_start || !last || !threads)
		return 1;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WAITER_STACK);
	for (long i = 0; i < n_waiters; i++) {
		pthread_mutex_init(&waiters[i].lock, NULL);
		pthread_cond_init(&waiters[i].cond, NULL);
		if (pthread_create(&threads[i], &attr, waiter_main, (void *)i) != 0) {
			fprintf(stderr, "wakeup_floor: cannot start thread %ld\n", i);
			return 1;
		}
	}
	struct timespec settle = { 0, 200 * 1000 * 1000 };  /* let them all sleep */
	nanosleep(&settle, NULL);

	double cpu0 = cpu_seconds();
	for (long r = 1; r <= n_rounds; r++) {
		atomic_store(&done_count, 0);
		round_start[r - 1] = now();
		for (long i = 0; i < n_waiters; i++) {        /* the broadcast */
			pthread_mutex_lock(&waiters[i].lock);
			waiters[i].round = r;
			pthread_mutex_unlock(&waiters[i].lock);
			/* Signalled after the unlock: a waiter woken under the lock
			 * would at once sleep again on the lock we still hold. */
			pthread_cond_signal(&waiters[i].cond);
		}
		pthread_mutex_lock(&done_lock);
		while (atomic_load(&done_count) < n_waiters)
			pthread_cond_wait(&done_cond, &done_lock);
		pthread_mutex_unlock(&done_lock);
		nanosleep(&settle, NULL);   /* every waiter is asleep again */
	}
	double cpu = cpu_seconds() - cpu0;
	for (long i = 0; i < n_waiters; i++)
		pthread_join(threads[i], NULL);

	long total = n_waiters * n_rounds;
	for (long r = 0; r < n_rounds; r++) {
		for (long i = 0; i < n_waiters; i++)
			if (woke_at[r * n_waiters + i] > last[r])
				last[r] = woke_at[r * n_waiters + i];
	}
	qsort(woke_at, (size_t)total, sizeof(double), compare_double);
	qsort(last, (size_t)n_rounds, sizeof(double), compare_double);
	double p50 = percentile(woke_at, total, 0.50) * 1e3, p99 = percentile(woke_at, total, 0.99) * 1e3;
	double last_p99 = percentile(last, n_rounds, 0.99) * 1e3;
	double cpu_us = cpu / (double)total * 1e6;
	printf("  %ld threads on their own condition variable, woken by one, %ld rounds:\n"
	       "  wake-up p50 %.3f ms, p99 %.3f ms; all %ld awake p99 %.3f ms; CPU %.2f us per wake-up\n",
	       n_waiters, n_rounds, p50, p99, n_waiters, last_p99, cpu_us);
	printf("RESULT n=%ld p50=%.3f p99=%.3f last_p99=%.3f cpu_us=%.2f\n",
	       n_waiters, p50, p99, last_p99, cpu_us);
	return 0;
}
