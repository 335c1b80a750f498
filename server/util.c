/* util.c - see util.h. */
#define _GNU_SOURCE /* SCHED_BATCH */

#include "util.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* Written once by main() before threads start, then only read. */
static srv_log_level log_threshold = SRV_LOG_INFO;

double
srv_monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
srv_log_set_level(srv_log_level level)
{
	log_threshold = level;
}

int
srv_log_parse_level(const char *name)
{
	for (int i = 0; i <= SRV_LOG_DEBUG; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

void
srv_log(srv_log_level level, const char *fmt, ...)
{
	if (level > log_threshold)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "pushq: %s: %s\n", level_names[level], line);
}

void
srv_block_stop_signals(void)
{
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
}

void
srv_sched_batch(void)
{
#ifdef SCHED_BATCH
	struct sched_param none = { 0 };
	pthread_setschedparam(pthread_self(), SCHED_BATCH, &none);
#endif
}
