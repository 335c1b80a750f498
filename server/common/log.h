/*
 * log.h - the server's log: one line per call on stderr ("pushq: warn: ...").
 *
 * Its level is the one piece of global state outside the server struct: it
 * is set once by main() before any thread starts and only read afterwards.
 * Thread-safety: srv_log from any thread (one fprintf per line).
 */
#ifndef PUSHQ_LOG_H
#define PUSHQ_LOG_H

typedef enum { SRV_LOG_ERROR, SRV_LOG_WARN, SRV_LOG_INFO, SRV_LOG_DEBUG } srv_log_level;

/* Sets the most detailed level that is printed.  Call before threads start. */
void srv_log_set_level(srv_log_level level);

/* Parses "error", "warn", "info" or "debug"; -1 for anything else. */
int srv_log_parse_level(const char *name);

void srv_log(srv_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
