/*
 * outbox.h - a push connection's sending side, shared by the WebSocket
 * chat (ws_chat.c) and Server-Sent Events (sse.c): the socket's write lock,
 * and the client's queued messages written by whichever thread is there.
 *
 * DESIGN
 *   sender  a broadcast puts its message into the client's queue, like a
 *           long poll's, then calls the outbox's pusher (broadcast.h).  If
 *           nobody holds the socket's lock, the pusher asks the room for
 *           the client's next delivery (srv_client_next, rendered as a
 *           WebSocket frame or an SSE event) and writes it with one
 *           non-blocking sendmsg.  No thread is woken for a delivery.
 *   writer  only when the socket's send buffer is full (the peer reads
 *           slower than messages come) does a second thread take over: a
 *           delivery that did not leave at all goes back into the queue (if
 *           part of it left, the rest waits in `unsent`), the outbox is
 *           `backlogged`, and the writer thread waits until the socket can
 *           take more and drains the queue.  Meanwhile broadcasts only put:
 *           the queue fills and, past its bound, counts drops, so a slow
 *           reader never holds up the sender or anyone else.  The writer is
 *           started on the first back-pressure, not with the connection:
 *           most clients never need it, and a thread costs memory.
 *   drain   a broadcast only *tries* the lock: if somebody holds it, it
 *           sets `drain_wanted`, and whoever holds the lock drains as they
 *           let it go (outbox_unlock), so no message is left in the queue.
 *
 * Other bytes -- a WebSocket's pong, ping and close frames, an SSE comment
 * -- go out with outbox_send_locked, which may wait for room (srv_send_all),
 * always after what is left in `unsent`, so they never land inside a
 * delivery.
 *
 * Life: outbox_init, then (for a client's messages) outbox_attach ...
 * outbox_detach, then outbox_free.  An outbox that is never attached is
 * only a write lock (the echo session).
 *
 * Thread-safety: outbox_lock/unlock and outbox_send_locked from any thread;
 * the fields marked "under lock" only with the lock held.  The caller of
 * outbox_attach holds a reference to the client until outbox_detach.
 */
#ifndef PUSHQ_OUTBOX_H
#define PUSHQ_OUTBOX_H

#include "server/core/conn.h"
#include "server/room/broadcast.h"
#include "server/room/message.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct outbox {
	srv *s;
	int fd;                      /* the socket */
	pthread_mutex_t lock;        /* the socket's sending side */
	/* Under lock: */
	bool closed;                 /* nothing more may be sent (a close frame went) */
	bool broken;                 /* a send failed: the connection ends */
	http_buf unsent;             /* the rest of a delivery partly sent */
	double last_write;           /* srv_monotonic() when bytes last left */
	bool backlogged;             /* the socket is full: the writer thread drains */
	bool writer_started;
	pthread_t writer;
	int writer_wake;             /* eventfd that wakes the writer thread */
	/* Set by outbox_attach: */
	srv_client *client;          /* whose queue it drains (NULL: none) */
	srv_wire wire;               /* how a delivery is framed */
	srv_pusher pusher;           /* how broadcasts reach it */
	atomic_ullong *writers_started;  /* counted when a writer starts (may be NULL) */
	atomic_bool drain_wanted;    /* a message was put while somebody held the lock */
	atomic_bool detached;        /* nothing more is drained; the writer ends */
} outbox;

/* An outbox for socket fd of server s: a lock, nothing attached. */
void outbox_init(outbox *o, srv *s, int fd);

/* Frees it (after outbox_detach, if it was attached). */
void outbox_free(outbox *o);

/* The socket's lock.  outbox_unlock then writes what broadcasts put into
 * the queue while the lock was held. */
void outbox_lock(outbox *o);
void outbox_unlock(outbox *o);

/*
 * Sends len bytes that may wait for room, after what is left in unsent;
 * the caller holds the lock.  False (nothing sent) when the outbox is
 * closed or broken, or when the send fails (it is then broken).
 */
bool outbox_send_locked(outbox *o, const void *data, size_t len);

/* A send failed for good: the outbox is broken and the socket shut down
 * both ways, so the connection's thread, in poll() on it, ends at once.
 * The caller holds the lock. */
void outbox_mark_broken(outbox *o);

/*
 * From now on broadcasts that put a message into c's queue write it on
 * the socket, framed as `wire`, and what is queued already is written now.
 * kind: which transport attaches (a WebSocket counts in the client's
 * sessions, broadcast.h).  writers_started (may be NULL) is counted each
 * time a writer thread starts.
 */
void outbox_attach(outbox *o, srv_client *c, srv_wire wire, srv_client_kind kind,
                   atomic_ullong *writers_started);

/* No more broadcasts reach it and nothing more is drained (what is still
 * queued stays for a reconnect); the writer thread, if any, has ended
 * when this returns. */
void outbox_detach(outbox *o);

#endif
