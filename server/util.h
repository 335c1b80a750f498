/*
 * util.h - the server's clock and its log.
 *
 * The log writes one line per call to stderr ("pushq: warn: ...").  Its
 * level is the one piece of global state outside the server struct: it is
 * set once by main() before any thread starts and only read afterwards.
 */
#ifndef PUSHQ_UTIL_H
#define PUSHQ_UTIL_H

typedef enum { SRV_LOG_ERROR, SRV_LOG_WARN, SRV_LOG_INFO, SRV_LOG_DEBUG } srv_log_level;

/* Seconds on CLOCK_MONOTONIC: for deadlines and ages, never for dates. */
double srv_monotonic(void);

/* Sets the most detailed level that is printed.  Call before threads start. */
void srv_log_set_level(srv_log_level level);

/* Parses "error", "warn", "info" or "debug"; -1 for anything else. */
int srv_log_parse_level(const char *name);

/*
 * Blocks SIGINT and SIGTERM in the calling thread.  Every thread the server
 * starts calls it first thing (they also inherit the mask from main, but
 * saying it where the thread starts is clearer, and valgrind needs it), so
 * only main's signalfd ever sees a stop signal.
 */
void srv_block_stop_signals(void);

/*
 * Puts the calling thread under SCHED_BATCH (Linux): the scheduler stops
 * letting a thread that was just woken preempt the one that woke it.  A
 * broadcast wakes hundreds of connection threads; without this each wake-up
 * can switch away from the broadcaster at once, and back.  Measured on the
 * long-poll fan-out (bench/fanout lp, N=1,000, five runs each): CPU per
 * delivery 27.5 -> 23.0 us.  Threads keep their priority (nice) and every
 * thread still runs; only the preemption on wake-up changes.  Does nothing
 * where SCHED_BATCH is missing.
 */
void srv_sched_batch(void);

void srv_log(srv_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
