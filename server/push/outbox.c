/*
 * outbox.c - a push connection's sending side (see outbox.h): the sender
 * writes, a writer thread only under back-pressure.
 */
#include "server/push/outbox.h"
#include "server/room/delivery.h"
#include "server/common/clock.h"
#include "server/common/thread.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

void
outbox_init(outbox *o, srv *s, int fd)
{
	*o = (outbox){ .s = s, .fd = fd, .writer_wake = -1, .last_write = srv_monotonic() };
	pthread_mutex_init(&o->lock, NULL);
}

void
outbox_free(outbox *o)
{
	http_buf_free(&o->unsent);
	pthread_mutex_destroy(&o->lock);
}

void
outbox_mark_broken(outbox *o)
{
	o->broken = true;
	shutdown(o->fd, SHUT_RDWR);
}

/* ------------------------------------------------------------------ */
/* Writing without waiting (a delivery)                                */
/* ------------------------------------------------------------------ */

typedef enum { SENT, WOULD_BLOCK, SEND_FAILED } send_result;

/* One non-blocking sendmsg of iov (total bytes); *written: how many left. */
static send_result
send_nowait(outbox *o, const struct iovec *iov, int iovcnt, size_t total, size_t *written)
{
	struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	ssize_t n;
	do
		n = sendmsg(o->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	*written = n > 0 ? (size_t)n : 0;
	if (n > 0)
		o->last_write = srv_monotonic();
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? WOULD_BLOCK : SEND_FAILED;
	return (size_t)n == total ? SENT : WOULD_BLOCK;
}

/* Writes what is left of a partly written delivery.  True when all is gone. */
static bool
send_unsent(outbox *o)
{
	struct iovec iov = { o->unsent.data, o->unsent.len };
	size_t written;
	if (send_nowait(o, &iov, 1, o->unsent.len, &written) == SEND_FAILED) {
		outbox_mark_broken(o);
		return false;
	}
	memmove(o->unsent.data, o->unsent.data + written, o->unsent.len - written);
	o->unsent.len -= written;
	return o->unsent.len == 0;
}

/* Keeps the bytes of iov that did not leave (from `written` on) in unsent. */
static void
keep_unsent(outbox *o, const struct iovec *iov, int iovcnt, size_t written)
{
	for (int i = 0; i < iovcnt; i++) {
		size_t skip = written < iov[i].iov_len ? written : iov[i].iov_len;
		written -= skip;
		http_buf_append(&o->unsent, (const char *)iov[i].iov_base + skip, iov[i].iov_len - skip);
	}
	if (o->unsent.failed)
		outbox_mark_broken(o);     /* out of memory mid-delivery: the stream is torn */
}

/*
 * Writes one delivery straight from the shared message (head, JSON, the
 * client's own tail: no copy).  One that did not leave at all goes back
 * into the queue; one that partly left is done, its rest in unsent.
 */
static send_result
send_delivery(outbox *o, srv_delivery *d)
{
	size_t written;
	send_result r = send_nowait(o, d->parts, 3, d->len, &written);
	if (r == SENT) {
		srv_delivery_done(d);
	} else if (written > 0) {
		keep_unsent(o, d->parts, 3, written);      /* part is on its way */
		srv_delivery_done(d);
	} else {
		srv_client_give_back_delivery(o->s->registry, o->client, d);  /* not lost */
		if (r == SEND_FAILED)
			outbox_mark_broken(o);
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* Bytes that may wait                                                 */
/* ------------------------------------------------------------------ */

bool
outbox_send_locked(outbox *o, const void *data, size_t len)
{
	if (o->closed || o->broken)
		return false;
	bool ok = true;
	if (o->unsent.len > 0) {
		ok = srv_send_all(o->s, o->fd, o->unsent.data, o->unsent.len);
		o->unsent.len = 0;
	}
	if (ok)
		ok = srv_send_all(o->s, o->fd, data, len);
	if (ok)
		o->last_write = srv_monotonic();
	else
		outbox_mark_broken(o);
	return ok;
}

/* ------------------------------------------------------------------ */
/* Draining the client's queue                                         */
/* ------------------------------------------------------------------ */

static void *writer_main(void *arg);

static void
wake_writer(outbox *o)
{
	uint64_t one = 1;
	if (write(o->writer_wake, &one, sizeof(one)) < 0) {
		/* EAGAIN: it is readable already, which is all we want */
	}
}

/* The socket is full: the writer thread takes over (started now, the first
 * time).  Caller holds the lock. */
static void
hand_to_writer(outbox *o)
{
	o->backlogged = true;
	if (!o->writer_started) {
		o->writer_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (o->writer_wake < 0) {
			outbox_mark_broken(o);
			return;
		}
		if (pthread_create(&o->writer, &o->s->thread_attr_joinable, writer_main, o) != 0) {
			close(o->writer_wake);
			o->writer_wake = -1;
			outbox_mark_broken(o);   /* no thread: end the connection, keep the queue */
			return;
		}
		o->writer_started = true;
		if (o->writers_started != NULL)
			atomic_fetch_add(o->writers_started, 1);
	}
	if (!pthread_equal(pthread_self(), o->writer))
		wake_writer(o);
}

/*
 * Writes the client's queued messages until the queue is empty or the
 * socket is full (then the writer thread takes over).  Caller holds the
 * lock.
 */
static void
drain_locked(outbox *o)
{
	if (o->closed || o->broken)
		return;
	if (o->unsent.len > 0 && !send_unsent(o)) {
		if (!o->broken)
			hand_to_writer(o);
		return;
	}
	for (;;) {
		srv_delivery d;
		if (srv_client_next(o->s->registry, o->client, 0, NULL, o->wire, &d) != QUEUE_OK) {
			o->backlogged = false;     /* all written */
			return;
		}
		send_result r = send_delivery(o, &d);
		if (r == WOULD_BLOCK)
			hand_to_writer(o);
		if (r != SENT)
			return;
	}
}

/* Drains now if nobody holds the lock; if somebody does, they see
 * drain_wanted when they let it go.  A backlogged socket is the writer's. */
static void
drain_when_free(outbox *o)
{
	while (atomic_load(&o->drain_wanted) && !atomic_load(&o->detached) &&
	       pthread_mutex_trylock(&o->lock) == 0) {
		atomic_store(&o->drain_wanted, false);
		if (!o->backlogged)
			drain_locked(o);
		pthread_mutex_unlock(&o->lock);
	}
}

/* The pusher: called by a broadcast that put a message into the queue. */
static void
pushed(void *ctx)
{
	outbox *o = ctx;
	atomic_store(&o->drain_wanted, true);
	drain_when_free(o);
}

void
outbox_lock(outbox *o)
{
	pthread_mutex_lock(&o->lock);
}

void
outbox_unlock(outbox *o)
{
	pthread_mutex_unlock(&o->lock);
	drain_when_free(o);
}

/* ------------------------------------------------------------------ */
/* The writer thread: only for a socket that filled up                 */
/* ------------------------------------------------------------------ */

/* Waits until the socket can take more (or we are woken, or stop).
 * Returns false when the writer should end. */
static bool
wait_writable(outbox *o, bool backlogged)
{
	struct pollfd p[3] = { { .fd = o->writer_wake, .events = POLLIN },
	                       { .fd = o->s->stop_fd, .events = POLLIN },
	                       { .fd = backlogged ? o->fd : -1, .events = POLLOUT } };
	while (poll(p, 3, -1) < 0)
		if (errno != EINTR)
			return false;
	if (p[0].revents & POLLIN) {
		uint64_t count;
		if (read(o->writer_wake, &count, sizeof(count)) < 0) {
			/* EAGAIN: someone else emptied it */
		}
	}
	return !(p[1].revents & POLLIN) && !atomic_load(&o->detached);
}

static void *
writer_main(void *arg)
{
	outbox *o = arg;
	srv_block_stop_signals();
	for (;;) {
		outbox_lock(o);
		bool backlogged = o->backlogged;
		bool over = o->closed || o->broken;
		outbox_unlock(o);
		if (over || !wait_writable(o, backlogged))
			break;
		outbox_lock(o);
		if (o->backlogged)
			drain_locked(o);    /* may clear `backlogged`: idle again */
		outbox_unlock(o);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Attaching to a client                                               */
/* ------------------------------------------------------------------ */

void
outbox_attach(outbox *o, srv_client *c, srv_wire wire, srv_client_kind kind,
              atomic_ullong *writers_started)
{
	o->client = c;
	o->wire = wire;
	o->writers_started = writers_started;
	o->pusher = (srv_pusher){ .push = pushed, .ctx = o, .kind = kind };
	srv_client_attach_pusher(c, &o->pusher);
	pushed(o);          /* what was queued before we came */
}

void
outbox_detach(outbox *o)
{
	atomic_store(&o->detached, true);
	srv_client_detach_pusher(o->client, &o->pusher);  /* no more pushes */
	outbox_lock(o);
	bool writer_started = o->writer_started;
	if (writer_started)
		wake_writer(o);      /* it sees `detached` and ends */
	outbox_unlock(o);        /* detached: drains nothing */
	if (writer_started) {
		pthread_join(o->writer, NULL);
		close(o->writer_wake);
		o->writer_wake = -1;
	}
}
