/*
 * server.c - open the server, accept connections, reap idle clients, stop.
 * (The threads and the stop sequence are described in server.h.)
 */
#include "server/core/conn.h"
#include "server/core/file_cache.h"
#include "server/room/channel.h"
#include "server/common/clock.h"
#include "server/common/log.h"
#include "server/common/thread.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_BACKLOG 4096
#define FDS_BESIDES_CONNS 64   /* listener, eventfd, files being served... */

static int set_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fills err (anet style) and returns -1. */
static int
set_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Each connection needs a descriptor: raise the soft limit to fit.
 * Returns the limit now in force (descriptors are below it). */
static int
raise_fd_limit(long max_conns)
{
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
		return 1024;
	rlim_t want = (rlim_t)max_conns + FDS_BESIDES_CONNS;
	if (lim.rlim_cur >= want)
		return lim.rlim_cur < INT_MAX ? (int)lim.rlim_cur : INT_MAX;
	rlim_t old = lim.rlim_cur;
	lim.rlim_cur = want < lim.rlim_max ? want : lim.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur < want)
		srv_log(SRV_LOG_WARN, "open-file limit is %llu (hard limit %llu), below the "
		        "%llu that --max-conns %ld needs; connections past it will fail",
		        (unsigned long long)(lim.rlim_cur > old ? lim.rlim_cur : old),
		        (unsigned long long)lim.rlim_max, (unsigned long long)want, max_conns);
	getrlimit(RLIMIT_NOFILE, &lim);
	return lim.rlim_cur < INT_MAX ? (int)lim.rlim_cur : INT_MAX;
}

/* Binds and listens on host:port.  Returns the socket, or -1 with err set. */
static int
listen_on(const char *host, int port, int *port_out, char *err, size_t errlen)
{
	struct sockaddr_storage addr = { 0 };
	socklen_t addr_len;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		addr_len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		addr_len = sizeof(*v6);
	} else {
		return set_error(err, errlen, "--host %s is not an IPv4 or IPv6 address", host);
	}
	int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return set_error(err, errlen, "socket: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr, addr_len) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		set_error(err, errlen, "cannot listen on %s port %d: %s", host, port, strerror(errno));
		close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)&addr, &addr_len);
	*port_out = ntohs(addr.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
	return fd;
}

int
srv_open(srv *s, const srv_config *cfg, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->listen_fd = s->stop_fd = s->www_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->all_closed, &attr);
	pthread_condattr_destroy(&attr);
	pthread_attr_init(&s->thread_attr);
	pthread_attr_setdetachstate(&s->thread_attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&s->thread_attr, SRV_THREAD_STACK);
	pthread_attr_init(&s->thread_attr_joinable);
	pthread_attr_setstacksize(&s->thread_attr_joinable, SRV_THREAD_STACK);
	s->started = srv_monotonic();

	int max_fds = raise_fd_limit(cfg->max_conns);
	s->listen_fd = listen_on(cfg->host, cfg->port, &s->port, err, errlen);
	if (s->listen_fd < 0) {
		srv_close(s);
		return -1;
	}
	s->www_fd = open(cfg->www, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->www_fd < 0) {
		set_error(err, errlen, "--www %s: %s", cfg->www, strerror(errno));
		srv_close(s);
		return -1;
	}
	s->files = srv_file_cache_new();   /* NULL: every file read each time */
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	s->registry = srv_registry_new(cfg->queue_size, cfg->max_clients, cfg->history);
	if (s->registry != NULL)
		srv_registry_set_channel_limits(s->registry, cfg->max_channels_per_client,
		                                cfg->max_channels);
	s->watch = s->stop_fd < 0 ? NULL : srv_watch_new(max_fds, s->stop_fd);
	if (s->stop_fd < 0 || s->registry == NULL || s->watch == NULL) {
		srv_close(s);
		return set_error(err, errlen, "out of resources at start");
	}
	if (cfg->redis_url[0] != '\0' &&
	    (s->bridge = srv_bridge_new(cfg->redis_url, cfg->redis_key, cfg->redis_history,
	                                s->registry, s->stop_fd)) == NULL) {
		srv_close(s);
		return set_error(err, errlen, "out of memory at start");
	}
	s->presence = (srv_presence){ s->registry, s->bridge, NULL, cfg->poll_timeout,
	                              cfg->presence_events };
	if (s->bridge != NULL && (s->presence.shared = srv_presence_shared_new(s->bridge)) == NULL) {
		srv_close(s);
		return set_error(err, errlen, "out of memory at start");
	}
	return 0;
}

long
srv_open_conns(srv *s)
{
	pthread_mutex_lock(&s->lock);
	long n = s->open_conns;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Waits up to `seconds` for stop_fd; true when the server is stopping. */
static bool
wait_for_stop(srv *s, double seconds)
{
	struct pollfd p = { .fd = s->stop_fd, .events = POLLIN };
	return poll(&p, 1, (int)(seconds * 1000)) > 0 || atomic_load(&s->stopping);
}

/* Over --max-conns: a short 503 (without blocking), then close. */
static void
refuse(int fd)
{
	static const char answer[] =
		"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
		"Content-Length: 24\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
		"503 too many connections";
	ssize_t ignored = send(fd, answer, sizeof(answer) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)ignored;
	close(fd);
}

/* The open-connection count: conn_opened when a connection is accepted,
 * srv_conn_closed when it ends, nowhere else. */
static bool
conn_opened(srv *s)
{
	pthread_mutex_lock(&s->lock);
	bool room = s->open_conns < s->cfg.max_conns;
	if (room)
		s->open_conns++;
	pthread_mutex_unlock(&s->lock);
	return room;
}

void
srv_conn_closed(srv *s)
{
	pthread_mutex_lock(&s->lock);
	if (--s->open_conns == 0)
		pthread_cond_broadcast(&s->all_closed);
	pthread_mutex_unlock(&s->lock);
}

/* Starts the thread of a new connection, or refuses it. */
static void
start_connection(srv *s, int fd)
{
	if (!conn_opened(s)) {
		refuse(fd);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* No SO_SNDTIMEO: every write waits in srv_wait_writable (conn.h), which
	 * gives up after SRV_SEND_TIMEOUT seconds or at the server's stop. */

	srv_conn *c = calloc(1, sizeof(*c));
	pthread_t thread;
	if (c != NULL) {
		c->s = s;
		c->fd = fd;
		atomic_fetch_add(&s->total_conns, 1);
		if (pthread_create(&thread, &s->thread_attr, srv_conn_main, c) == 0)
			return;
		free(c);
		srv_log(SRV_LOG_WARN, "cannot start a connection thread: %s", strerror(errno));
	}
	refuse(fd);
	srv_conn_closed(s);
}

void *
srv_accept_main(void *arg)
{
	srv *s = arg;
	srv_block_stop_signals();
	while (!atomic_load(&s->stopping)) {
		struct pollfd p[2] = { { .fd = s->listen_fd, .events = POLLIN },
		                       { .fd = s->stop_fd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0 || p[1].revents)
			continue;
		int fd = accept(s->listen_fd, NULL, NULL);
		if (fd >= 0) {
			start_connection(s, fd);
		} else if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
			srv_log(SRV_LOG_WARN, "accept: %s; pausing 100 ms", strerror(errno));
			wait_for_stop(s, 0.1);   /* no tight loop while out of fds */
		}
	}
	return NULL;
}

void *
srv_reaper_main(void *arg)
{
	srv *s = arg;
	srv_block_stop_signals();
	double period = s->cfg.client_ttl / 4 < 1 ? s->cfg.client_ttl / 4 : 1;
	while (!wait_for_stop(s, period)) {
		srv_presence_sweep(&s->presence);
		size_t removed = srv_registry_reap(s->registry, s->cfg.client_ttl);
		if (removed > 0)
			srv_log(SRV_LOG_DEBUG, "forgot %zu idle client(s)", removed);
	}
	return NULL;
}

bool
srv_stop(srv *s, double seconds)
{
	atomic_store(&s->stopping, true);
	uint64_t one = 1;
	ssize_t ignored = write(s->stop_fd, &one, sizeof(one));
	(void)ignored;
	srv_registry_shutdown(s->registry);

	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)seconds;
	deadline.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	while (s->open_conns > 0)
		if (pthread_cond_timedwait(&s->all_closed, &s->lock, &deadline) != 0)
			break;
	bool all_closed = s->open_conns == 0;
	pthread_mutex_unlock(&s->lock);
	return all_closed;
}

void
srv_close(srv *s)
{
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	if (s->www_fd >= 0)
		close(s->www_fd);
	srv_presence_shared_free(s->presence.shared);
	s->presence.shared = NULL;
	srv_bridge_free(s->bridge);
	srv_registry_free(s->registry);
	srv_watch_free(s->watch);
	srv_file_cache_free(s->files);
	s->files = NULL;
	pthread_attr_destroy(&s->thread_attr);
	pthread_attr_destroy(&s->thread_attr_joinable);
	pthread_cond_destroy(&s->all_closed);
	pthread_mutex_destroy(&s->lock);
	s->listen_fd = s->stop_fd = s->www_fd = -1;
	s->registry = NULL;
	s->watch = NULL;
	s->bridge = NULL;
}
