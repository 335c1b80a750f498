/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <openssl/evp.h>

#include <stdlib.h>
#include <time.h>

double
tu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
tu_slack(double seconds)
{
	const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
	double factor = m != NULL ? atof(m) : 1;
	return seconds * (factor >= 1 ? factor : 1);
}

bool
tu_wait_until(bool (*cond)(void *arg), void *arg, double seconds)
{
	double deadline = tu_now() + seconds;
	struct timespec tick = { 0, 1000000 };
	while (!cond(arg)) {
		if (tu_now() > deadline)
			return false;
		nanosleep(&tick, NULL);
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Server process and HTTP client                                      */
/* ------------------------------------------------------------------ */

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *
pushq_bin(void)
{
	const char *bin = getenv("PUSHQ_BIN");
	return bin ? bin : "build/pushq";
}

/* Reads one line from fd within `seconds` into line[cap]; false on timeout. */
static bool
read_line(int fd, char *line, size_t cap, double seconds)
{
	size_t n = 0;
	double deadline = tu_now() + seconds;
	while (n + 1 < cap) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)((deadline - tu_now()) * 1000);
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return false;
		if (read(fd, line + n, 1) != 1)
			return false;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	return true;
}

/* fork + exec pushq; its stdout (and stderr when err_fd) come back in pipes. */
static pid_t
spawn(const char *const *args, int *out_fd, int *err_fd)
{
	int out[2], err[2];
	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(pipe(err), 0);
	const char *argv[32];
	int argc = 0;
	argv[argc++] = pushq_bin();
	for (int i = 0; args[i] != NULL && argc < 31; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		if (err_fd != NULL)
			dup2(err[1], STDERR_FILENO);
		close(out[0]);
		close(err[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	*out_fd = out[0];
	if (err_fd != NULL)
		*err_fd = err[0];
	else
		close(err[0]);
	return pid;
}

tu_server
tu_server_start(const char *const *extra_args)
{
	const char *www = getenv("PUSHQ_WWW");
	const char *args[32] = { "--port", "0", "--www", www ? www : "www", "--log", "warn" };
	int n = 6;
	for (int i = 0; extra_args != NULL && extra_args[i] != NULL && n < 31; i++)
		args[n++] = extra_args[i];
	args[n] = NULL;
	int out;
	tu_server s = { .pid = spawn(args, &out, NULL) };
	char line[256];
	ck_assert_msg(read_line(out, line, sizeof(line), 5.0), "pushq did not start");
	close(out);
	ck_assert_msg(sscanf(line, "pushq listening on http://127.0.0.1:%d/", &s.port) == 1,
	              "unexpected start line: %s", line);
	return s;
}

int
tu_server_stop(tu_server *s, double seconds)
{
	kill(s->pid, SIGTERM);
	double deadline = tu_now() + seconds;
	struct timespec tick = { 0, 2000000 };
	int status;
	while (waitpid(s->pid, &status, WNOHANG) == 0) {
		if (tu_now() > deadline) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &status, 0);
			return -1;
		}
		nanosleep(&tick, NULL);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int
tu_run_pushq(const char *const *args, char *err, size_t errlen)
{
	int out, err_fd;
	pid_t pid = spawn(args, &out, &err_fd);
	if (!read_line(err_fd, err, errlen, 5.0))
		err[0] = '\0';
	int status;
	waitpid(pid, &status, 0);
	close(out);
	close(err_fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
tu_run_python(const char *script, int port)
{
	char port_text[16];
	snprintf(port_text, sizeof(port_text), "%d", port);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/usr/bin/python3", "python3", script, port_text, (char *)NULL);
		_exit(127);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
tu_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	struct timeval tv = { 20, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

void
tu_send(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;      /* the server may close early on bad input */
		s += n;
		len -= (size_t)n;
	}
}

int
tu_header(const tu_response *r, const char *name, char *out, size_t cap)
{
	size_t len = strlen(name);
	for (const char *line = strstr(r->head, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
		const char *h = line + 2;
		if (strncasecmp(h, name, len) == 0 && h[len] == ':') {
			const char *v = h + len + 1;
			while (*v == ' ')
				v++;
			size_t n = strcspn(v, "\r");
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return 1;
		}
	}
	return 0;
}

tu_response
tu_read_response(int fd, int head_only)
{
	tu_response r = { 0 };
	size_t n = 0;
	/* The head, a byte at a time: slow, simple, never reads past it. */
	while (n + 1 < sizeof(r.head)) {
		if (recv(fd, r.head + n, 1, 0) != 1)
			break;
		n++;
		r.head[n] = '\0';
		if (n >= 4 && memcmp(r.head + n - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	if (sscanf(r.head, "HTTP/1.1 %d", &r.status) != 1)
		r.status = 0;
	char value[32];
	size_t len = tu_header(&r, "Content-Length", value, sizeof(value)) ? strtoul(value, NULL, 10) : 0;
	if (head_only)
		len = 0;
	r.body = calloc(1, len + 1);
	while (r.body_len < len) {
		ssize_t got = recv(fd, r.body + r.body_len, len - r.body_len, 0);
		if (got <= 0)
			break;
		r.body_len += (size_t)got;
	}
	return r;
}

int
tu_strip_sent_at(char *text)
{
	static const char field[] = ",\"sent_at\":";
	int removed = 0;
	char *at;
	while (text != NULL && (at = strstr(text, field)) != NULL) {
		char *end = at + strlen(field);
		while (*end >= '0' && *end <= '9')
			end++;
		memmove(at, end, strlen(end) + 1);
		removed++;
	}
	return removed;
}

void
tu_response_free(tu_response *r)
{
	free(r->body);
	r->body = NULL;
}

tu_response
tu_request(int port, const char *method, const char *target, const char *body)
{
	int fd = tu_connect(port);
	char head[1024];
	if (body != NULL)
		snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
		         "Content-Type: application/x-www-form-urlencoded\r\n"
		         "Content-Length: %zu\r\n\r\n", method, target, strlen(body));
	else
		snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		         method, target);
	tu_send_str(fd, head);
	if (body != NULL)
		tu_send_str(fd, body);
	tu_response r = tu_read_response(fd, strcmp(method, "HEAD") == 0);
	close(fd);
	return r;
}

void
tu_post_numbered(int fd, const char *tag, int i, int pad)
{
	char body[4200], req[4400];
	int n = snprintf(body, sizeof(body), "content=%s-%d-", tag, i);
	ck_assert(pad >= 0 && pad <= 4000);
	memset(body + n, 'x', (size_t)pad);
	body[n + pad] = '\0';
	snprintf(req, sizeof(req), "POST /send_msg HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n"
	         "Content-Type: application/x-www-form-urlencoded\r\n\r\n%s", strlen(body), body);
	tu_send_str(fd, req);
	tu_response r = tu_read_response(fd, 0);
	ck_assert_int_eq(r.status, 200);
	tu_response_free(&r);
}

void
tu_post_messages(int port, const char *tag, int count, int pad)
{
	int fd = tu_connect(port);
	for (int i = 0; i < count; i++)
		tu_post_numbered(fd, tag, i, pad);
	close(fd);
}

long
tu_proc_status(pid_t pid, long tid, const char *field)
{
	char path[96], line[256];
	if (tid > 0)
		snprintf(path, sizeof(path), "/proc/%d/task/%ld/status", (int)pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	long value = -1;
	size_t len = strlen(field);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			value = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return value;
}

typedef struct {
	pid_t pid;
	long threads;
} threads_wanted;

static bool
threads_are(void *arg)
{
	const threads_wanted *w = arg;
	return tu_proc_status(w->pid, 0, "Threads") == w->threads;
}

bool
tu_wait_threads(pid_t pid, long threads, double seconds)
{
	threads_wanted w = { pid, threads };
	return tu_wait_until(threads_are, &w, seconds);
}

void
tu_expect_threads(pid_t pid, long threads)
{
	ck_assert_msg(tu_wait_threads(pid, threads, tu_slack(5)), "%ld threads, not %ld",
	              tu_proc_status(pid, 0, "Threads"), threads);
}

bool
tu_chat_fields(const char *json, long *id, long *dropped, char tag[32])
{
	const char *i = strstr(json, "\"id\":"), *d = strstr(json, "\"dropped\":");
	const char *m = strstr(json, "\"msg\":\"");
	if (i == NULL || d == NULL || m == NULL)
		return false;
	*id = strtol(i + 5, NULL, 10);
	*dropped = strtol(d + 10, NULL, 10);
	tag[0] = '\0';
	sscanf(m + 7, "%31[^\"-]", tag);
	return true;
}

double
tu_wait_readable(int fd, double seconds)
{
	double start = tu_now();
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, (int)(seconds * 1000)) <= 0)
		return -1;
	return tu_now() - start;
}

/* ------------------------------------------------------------------ */
/* JSON answers                                                        */
/* ------------------------------------------------------------------ */

json_t *
tu_get_json(int port, const char *target)
{
	tu_response r = tu_request(port, "GET", target, NULL);
	json_t *j = NULL;
	if (r.status == 200) {
		json_error_t err;
		j = json_loadb(r.body, r.body_len, 0, &err);
		ck_assert_msg(j != NULL, "GET %s: not JSON (%s at %d): %s", target, err.text,
		              err.position, r.body);
	}
	tu_response_free(&r);
	return j;
}

json_t *
tu_json_at(const json_t *j, const char *path)
{
	json_t *at = (json_t *)j;
	while (at != NULL && *path != '\0') {
		size_t n = strcspn(path, ".");
		at = json_object_getn(at, path, n);
		path += n + (path[n] == '.');
	}
	return at;
}

long long
tu_json_int(const json_t *j, const char *path)
{
	json_t *at = tu_json_at(j, path);
	return json_is_integer(at) ? (long long)json_integer_value(at) : -1;
}

json_t *
tu_request_json(int port, const char *method, const char *target, const char *body,
                int *status)
{
	tu_response r = tu_request(port, method, target, body);
	if (status != NULL)
		*status = r.status;
	json_t *j = r.body_len > 0 ? json_loadb(r.body, r.body_len, 0, NULL) : NULL;
	tu_response_free(&r);
	return j;
}

const char *
tu_json_str(const json_t *j, const char *path)
{
	return json_string_value(tu_json_at(j, path));
}

json_t *
tu_stats_client(const json_t *stats, const char *name)
{
	json_t *clients = json_object_get(stats, "clients"), *c;
	size_t i;
	json_array_foreach(clients, i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));
		if (n != NULL && strcmp(n, name) == 0)
			return c;
	}
	return NULL;
}

long long
tu_client_stat(int port, const char *name, const char *field)
{
	json_t *stats = tu_get_json(port, "/stats");
	long long v = tu_json_int(tu_stats_client(stats, name), field);
	json_decref(stats);
	return v;
}

void
tu_b64url(const void *in, size_t len, char *out)
{
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	for (int i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	out[n] = '\0';
}
