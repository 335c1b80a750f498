/*
 * client.h - inside the room: what a client and the registry hold.  Only
 * the room's own files (registry.c, broadcast.c, delivery.c, resume.c)
 * include this; everyone else sees the calls in registry.h, broadcast.h,
 * delivery.h and resume.h.
 *
 * Locks, in the one order they are ever taken:
 *   r->send     one broadcast (or resume) at a time: ids in order
 *   r->table    the table, shared to read, exclusive to change
 *   a queue's own mutex (queue.h)
 * and apart from those: c->push_lock (held while a pusher runs), then
 * whatever the pusher takes; c->replay_lock, alone or under r->send.
 */
#ifndef PUSHQ_CLIENT_H
#define PUSHQ_CLIENT_H

#include "server/room/broadcast.h"
#include "server/room/history.h"
#include "server/room/registry.h"

#include <pthread.h>

struct srv_client {
	srv_client *next;            /* next in the same hash bucket */
	char name[SRV_NAME_MAX + 1];
	srv_client_kind kind;
	queue *q;                    /* of srv_msg *, bounded, in id order */
	atomic_int refs;             /* raised under r->table, lowered without it */
	_Atomic double last_seen;    /* srv_monotonic() of the last request */
	atomic_long dropped_unreported; /* missed since the last delivery */
	atomic_long dropped_total;
	atomic_long missed_unreported;  /* counted by a resume, not yet told */
	uint64_t missed_counted_below;  /* under r->send: every id below it that no
	                                   resume could give was counted once */
	pthread_mutex_t replay_lock; /* guards the replay */
	srv_msg **replay;            /* a resume's backlog, taken before the queue */
	size_t replay_len, replay_pos;
	atomic_bool has_replay;      /* replay_pos < replay_len, read without the lock */
	pthread_mutex_t push_lock;   /* guards pushers, held while one runs */
	srv_pusher *pushers;         /* attached sessions, usually 0 or 1 */
	atomic_bool has_pushers;     /* read by broadcasts under r->table only */
	atomic_int sessions;         /* pushers attached: WebSocket sessions */
	atomic_bool short_polling;   /* its last /get_msg asked timeout=0 */
	_Atomic double peak_window;  /* when the last high-water window began */
	atomic_size_t peak_last;     /* the most it held in that window */
};

struct srv_registry {
	pthread_rwlock_t table;      /* the table: shared to read, exclusive to change */
	pthread_mutex_t send;        /* one broadcast at a time, in id order */
	srv_client **buckets;
	size_t bucket_count;         /* a power of two */
	size_t client_count;
	long max_clients;
	long queue_size;
	bool shut_down;
	uint64_t next_id;            /* under r->send */
	srv_history *history;        /* under r->send: the last messages, for resumes */
	atomic_ullong sent, delivered, dropped, missed;
};

/* Counts one message lost to c for good (a put refused, a give-back that
 * found the queue shut down): it is told as `dropped`. */
void srv_client_count_drops(srv_registry *r, srv_client *c, long n);

/* The resume backlog (resume.c), read by delivery.c: its next message or
 * NULL; and putting back one taken from it (false: it belongs to the
 * queue).  srv_replay_clear releases what is left (c's last user). */
srv_msg *srv_replay_next(srv_client *c);
bool srv_replay_give_back(srv_client *c, srv_msg *m);
void srv_replay_clear(srv_client *c);

#endif
