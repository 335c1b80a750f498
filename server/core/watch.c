/*
 * watch.c - the hang-up watcher for waiting long polls (see watch.h).
 */
#include "server/core/watch.h"
#include "server/room/delivery.h"
#include "server/common/thread.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define WATCH_EVENTS_AT_ONCE 256
/* Locks for the table, one per stripe of descriptors (fd % stripes): a
 * thousand polls woken by one broadcast park and unpark at once, and
 * with one lock they would queue behind each other. */
#define WATCH_LOCK_STRIPES 64

typedef struct {
	uint32_t generation;   /* bumped at every park; under w->lock */
	bool parked;           /* under w->lock */
	atomic_bool hung_up;   /* read by the parked poll without the lock */
	srv_client *client;    /* valid while parked */
} watch_entry;

struct srv_watch {
	int epoll_fd;
	int stop_fd;
	int max_fds;
	pthread_mutex_t locks[WATCH_LOCK_STRIPES];
	watch_entry *entries;  /* max_fds of them, indexed by descriptor */
};

/* The lock that guards fd's entry. */
static pthread_mutex_t *
lock_of(srv_watch *w, int fd)
{
	return &w->locks[fd % WATCH_LOCK_STRIPES];
}

/* epoll's 64 bits of user data: the generation above, the fd below. */
static uint64_t
event_key(uint32_t generation, int fd)
{
	return ((uint64_t)generation << 32) | (uint32_t)fd;
}

srv_watch *
srv_watch_new(int max_fds, int stop_fd)
{
	srv_watch *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->entries = calloc((size_t)max_fds, sizeof(*w->entries));
	w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event stop = { .events = EPOLLIN, .data.u64 = UINT64_MAX };
	if (w->entries == NULL || w->epoll_fd < 0 ||
	    epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, stop_fd, &stop) != 0) {
		if (w->epoll_fd >= 0)
			close(w->epoll_fd);
		free(w->entries);
		free(w);
		return NULL;
	}
	w->stop_fd = stop_fd;
	w->max_fds = max_fds;
	for (int i = 0; i < WATCH_LOCK_STRIPES; i++)
		pthread_mutex_init(&w->locks[i], NULL);
	return w;
}

void
srv_watch_free(srv_watch *w)
{
	if (w == NULL)
		return;
	close(w->epoll_fd);
	for (int i = 0; i < WATCH_LOCK_STRIPES; i++)
		pthread_mutex_destroy(&w->locks[i]);
	free(w->entries);
	free(w);
}

/* A hang-up on (generation, fd): tell that poll, if it still waits. */
static void
hung_up(srv_watch *w, uint64_t key)
{
	int fd = (int)(uint32_t)key;
	uint32_t generation = (uint32_t)(key >> 32);
	if (fd < 0 || fd >= w->max_fds)
		return;
	watch_entry *e = &w->entries[fd];
	pthread_mutex_lock(lock_of(w, fd));
	if (e->parked && e->generation == generation) {
		atomic_store(&e->hung_up, true);
		srv_client_wake(e->client);  /* the flag first, then the wake */
	}
	pthread_mutex_unlock(lock_of(w, fd));
}

void *
srv_watch_main(void *arg)
{
	srv_watch *w = arg;
	srv_block_stop_signals();
	struct epoll_event events[WATCH_EVENTS_AT_ONCE];
	for (;;) {
		int n = epoll_wait(w->epoll_fd, events, WATCH_EVENTS_AT_ONCE, -1);
		if (n < 0 && errno != EINTR)
			return NULL;
		for (int i = 0; i < n; i++) {
			if (events[i].data.u64 == UINT64_MAX)
				return NULL;                /* stop_fd: the server stops */
			hung_up(w, events[i].data.u64);
		}
	}
}

const atomic_bool *
srv_watch_park(srv_watch *w, int fd, srv_client *c)
{
	if (w == NULL || fd < 0 || fd >= w->max_fds)
		return NULL;
	watch_entry *e = &w->entries[fd];
	pthread_mutex_lock(lock_of(w, fd));
	uint32_t generation = ++e->generation;
	e->parked = true;
	e->client = c;
	atomic_store(&e->hung_up, false);
	pthread_mutex_unlock(lock_of(w, fd));
	/* One shot: one hang-up is all we need to hear of.  A socket stays in
	 * the set between its polls (unpark does not take it out), so a
	 * keep-alive connection's next poll only re-arms it: one epoll_ctl per
	 * poll.  A new socket is not in the set yet (closing a descriptor takes
	 * it out): MOD says ENOENT, and it is added. */
	struct epoll_event ev = { .events = EPOLLRDHUP | EPOLLONESHOT,
	                          .data.u64 = event_key(generation, fd) };
	if (epoll_ctl(w->epoll_fd, EPOLL_CTL_MOD, fd, &ev) != 0 &&
	    (errno != ENOENT || epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)) {
		srv_watch_unpark(w, fd);
		return NULL;
	}
	return &e->hung_up;
}

bool
srv_watch_unpark(srv_watch *w, int fd)
{
	if (w == NULL || fd < 0 || fd >= w->max_fds)
		return false;
	watch_entry *e = &w->entries[fd];
	pthread_mutex_lock(lock_of(w, fd));
	e->parked = false;
	e->client = NULL;
	bool gone = atomic_load(&e->hung_up);
	pthread_mutex_unlock(lock_of(w, fd));
	/* The socket stays in the set (see park): an event that still comes
	 * names this generation, finds `parked` false and is ignored. */
	return gone;
}
