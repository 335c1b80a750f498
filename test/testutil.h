/*
 * testutil.h - small helpers shared by the test suites.
 * Tests never sleep and hope: they wait for a condition with a deadline.
 */
#ifndef PUSHQ_TEST_UTIL_H
#define PUSHQ_TEST_UTIL_H

#include <stdbool.h>

/* Seconds on CLOCK_MONOTONIC. */
double tu_now(void);

/* An upper time bound for an assertion, stretched like Check's own
 * timeouts by CK_TIMEOUT_MULTIPLIER (sanitizer builds run slower). */
double tu_slack(double seconds);

/* Polls cond(arg) every millisecond until it is true (returns true) or
 * `seconds` have passed (returns false). */
bool tu_wait_until(bool (*cond)(void *arg), void *arg, double seconds);

/* ------------------------------------------------------------------ */
/* A real pushq process, and a tiny HTTP client, for integration tests. */
/* ------------------------------------------------------------------ */
#ifndef PUSHQ_TEST_UTIL_SERVER
#define PUSHQ_TEST_UTIL_SERVER

#include <stddef.h>
#include <string.h>
#include <sys/types.h>

typedef struct {
	pid_t pid;
	int port;
} tu_server;

/*
 * Starts $PUSHQ_BIN (default build/pushq) with --port 0 --www $PUSHQ_WWW
 * and the NULL-terminated extra arguments, and reads its start line.
 * Fails the test if it does not start within 5 s.
 */
tu_server tu_server_start(const char *const *extra_args);

/* SIGTERM, then waits up to `seconds`; returns the exit status, or -1 if it
 * did not exit in time (it is then killed). */
int tu_server_stop(tu_server *s, double seconds);

/* Runs $PUSHQ_BIN with args (NULL-terminated) to its end; returns its exit
 * status and puts the first line of its stderr in err[errlen]. */
int tu_run_pushq(const char *const *args, char *err, size_t errlen);

/* Runs Debian's /usr/bin/python3 (where python3-websockets is installed,
 * whatever python3 is first on PATH) on `script` with the port as its one
 * argument, to its end; returns its exit status (-1 if it did not exit). */
int tu_run_python(const char *script, int port);

/* A TCP connection to 127.0.0.1:port, with a 20 s receive timeout. */
int tu_connect(int port);

/* Sends all of s (len bytes). */
void tu_send(int fd, const char *s, size_t len);
#define tu_send_str(fd, s) tu_send(fd, s, strlen(s))

typedef struct {
	int status;          /* 0 when no response could be read */
	char head[8192];     /* status line and headers */
	char *body;          /* NUL-terminated, malloc'd (free with tu_response_free) */
	size_t body_len;
} tu_response;

/* Reads one response (Content-Length framed; no body when head_only). */
tu_response tu_read_response(int fd, int head_only);
void tu_response_free(tu_response *r);

/* The value of header `name` in r (case-insensitive) into out; false if none. */
int tu_header(const tu_response *r, const char *name, char *out, size_t cap);

/* One request on a new connection (closed after): method, target, body. */
/*
 * Every chat message carries ,"sent_at":MS -- when it was sent, which no
 * test can know in advance.  Removes each such field from text, in place,
 * so that a message compares byte for byte; returns how many it removed.
 */
int tu_strip_sent_at(char *text);

tu_response tu_request(int port, const char *method, const char *target, const char *body);

/* POSTs message "TAG-i-" plus `pad` bytes of padding (at most 4,000) to
 * /send_msg on the keep-alive connection fd; it must be answered 200. */
void tu_post_numbered(int fd, const char *tag, int i, int pad);

/* POSTs `count` messages "TAG-i-" (and `pad` bytes each) on one
 * keep-alive connection. */
void tu_post_messages(int port, const char *tag, int count, int pad);

/* A number in /proc/PID/status, or /proc/PID/task/TID/status when tid > 0
 * ("Threads", "voluntary_ctxt_switches"); -1 if it is not there. */
long tu_proc_status(pid_t pid, long tid, const char *field);

/* Waits until process pid has `threads` threads (connections just closed
 * may take a moment to end theirs); false after `seconds`. */
bool tu_wait_threads(pid_t pid, long threads, double seconds);

/* The same within tu_slack(5) seconds, or the test fails saying how many. */
void tu_expect_threads(pid_t pid, long threads);

/* A chat message's JSON: its "id", "dropped", and the tag its "msg" begins
 * with ("TAG-i-...", at most 31 bytes).  False if one is missing. */
bool tu_chat_fields(const char *json, long *id, long *dropped, char tag[32]);

/* Seconds waited until fd had data or was closed (<0 on timeout). */
double tu_wait_readable(int fd, double seconds);

/* ------------------------------------------------------------------ */
/* JSON answers (/stats), read with jansson rather than by strstr.     */
/* ------------------------------------------------------------------ */

#include <jansson.h>

/* GET target on a new connection: the body parsed, when the answer is
 * 200 (json_decref it), else NULL.  A 200 whose body is not JSON fails the
 * test. */
json_t *tu_get_json(int port, const char *target);

/* The member at a dotted path ("messages.sent", "redis.connected") of
 * objects inside j, borrowed; NULL if any step is missing. */
json_t *tu_json_at(const json_t *j, const char *path);

/* The integer at a dotted path; -1 if it is missing or not an integer. */
long long tu_json_int(const json_t *j, const char *path);

/* One request (tu_request) whatever its status: the status into *status
 * (may be NULL), the body parsed as JSON (json_decref it), or NULL when
 * the body is not JSON. */
json_t *tu_request_json(int port, const char *method, const char *target, const char *body,
                        int *status);

/* The string at a dotted path; NULL if it is missing or not a string. */
const char *tu_json_str(const json_t *j, const char *path);

/* The entry of client `name` in a /stats answer's "clients", borrowed;
 * NULL if there is none. */
json_t *tu_stats_client(const json_t *stats, const char *name);

/* A number of client `name` in the server's /stats ("queue", "waiting",
 * ...); -1 if /stats did not answer 200, the client is not listed, or the
 * field is missing. */
long long tu_client_stat(int port, const char *name, const char *field);

#endif
/* base64url (no padding) of in[0..len) into out, which needs
 * (len + 2) / 3 * 4 + 1 bytes: how tests write JWT parts by hand. */
void tu_b64url(const void *in, size_t len, char *out);

#endif
