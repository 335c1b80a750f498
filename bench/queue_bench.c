/*
 * queue_bench.c - `make bench-queue`: our queue against Python's queue.Queue
 * in the same run, because shared machines are noisy and only ratios mean
 * much.
 *
 *   1. one producer and one consumer thread move N items through the queue,
 *      bounded (maxsize 1000) and unbounded; the same through Python
 *      (bench/queue_bench.py); items/s of both and the ratio;
 *   2. the uncontended put_nowait + get_nowait pair in one thread, in ns.
 *
 * usage: queue_bench [--python SCRIPT] [--items N]
 */
#include "queue/queue.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAIR_ROUNDS 10000000L

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct producer { queue *q; long n; };

static void *
produce(void *arg)
{
	struct producer *p = arg;
	for (long i = 1; i <= p->n; i++)
		if (queue_put(p->q, (void *)(uintptr_t)i, true, NULL) != QUEUE_OK)
			abort();
	return NULL;
}

/* Items per second through one producer and one consumer thread. */
static double
c_items_per_second(long n, long maxsize)
{
	queue *q = queue_new(maxsize, NULL);
	struct producer p = { q, n };
	pthread_t t;
	double start = now();
	if (q == NULL || pthread_create(&t, NULL, produce, &p) != 0)
		abort();
	uintptr_t expected = 1;
	for (long i = 0; i < n; i++) {
		void *item;
		if (queue_get(q, &item, true, NULL) != QUEUE_OK || (uintptr_t)item != expected++)
			abort();  /* a lost or reordered item is a bug, not a number */
	}
	pthread_join(t, NULL);
	double rate = (double)n / (now() - start);
	queue_free(q);
	return rate;
}

/* The same through Python; 0 when Python cannot be run. */
static double
python_items_per_second(const char *script, long n, long maxsize)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "python3 '%s' %ld %ld", script, n, maxsize);
	FILE *p = popen(cmd, "r");
	if (p == NULL)
		return 0;
	double rate = 0;
	if (fscanf(p, "%lf", &rate) != 1)
		rate = 0;
	pclose(p);
	return rate;
}

static double
pair_ns(void)
{
	queue *q = queue_new(1000, NULL);
	void *item;
	double start = now();
	for (long i = 0; i < PAIR_ROUNDS; i++) {
		queue_put_nowait(q, q);
		queue_get_nowait(q, &item);
	}
	double ns = (now() - start) * 1e9 / PAIR_ROUNDS;
	queue_free(q);
	return ns;
}

int
main(int argc, char **argv)
{
	const char *script = "bench/queue_bench.py";
	long n = 2000000, py_n = 200000;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--python") == 0)
			script = argv[i + 1];
		else if (strcmp(argv[i], "--items") == 0)
			n = atol(argv[i + 1]);
	}
	printf("queue: 1 producer + 1 consumer thread (C: %ld items, Python: %ld items)\n", n, py_n);
	printf("%-12s %16s %16s %8s\n", "maxsize", "pushq items/s", "Python items/s", "ratio");
	const long sizes[] = { 1000, 0 };
	for (int i = 0; i < 2; i++) {
		double c = c_items_per_second(n, sizes[i]);
		double py = python_items_per_second(script, py_n, sizes[i]);
		const char *label = sizes[i] > 0 ? "1000" : "unbounded";
		if (py > 0)
			printf("%-12s %16.0f %16.0f %7.1fx\n", label, c, py, c / py);
		else
			printf("%-12s %16.0f %16s %8s\n", label, c, "(no python3)", "-");
	}
	printf("uncontended put_nowait+get_nowait pair: %.1f ns\n", pair_ns());
	return 0;
}
