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

void srv_log(srv_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
