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
#include "server/room/channel.h"
#include "server/room/delay.h"
#include "server/room/history.h"
#include "server/room/registry.h"

#include <pthread.h>

/* A channel with at least one subscriber (channel.c). */
typedef struct srv_channel srv_channel;
struct srv_channel {
	srv_channel *next;           /* next in the same hash bucket */
	char name[SRV_CHANNEL_MAX + 1];
	uint64_t hash;
	srv_client **members;        /* its subscribers, in no order */
	size_t count, cap;
	atomic_ullong published;     /* messages published to it */
};

/* One of a client's subscriptions: the channel, and where the client
 * stands in its members (so leaving is one swap, not a search). */
typedef struct {
	srv_channel *channel;
	size_t slot;
	uint64_t missed_counted_below;  /* as the client's, for this channel's messages */
} srv_sub;

struct srv_client {
	srv_client *next;            /* next in the same hash bucket */
	char name[SRV_NAME_MAX + 1];
	uint64_t name_hash;          /* srv_name_hash(name): direct messages' tags */
	srv_client_kind kind;
	srv_sub *subs;               /* under r->table: its channels, in order */
	size_t n_subs, cap_subs;
	queue *q;                    /* of srv_msg *, bounded, in id order */
	atomic_int refs;             /* raised under r->table, lowered without it */
	_Atomic double last_seen;    /* srv_monotonic() of the last request */
	atomic_bool leaving;         /* said goodbye (srv_registry_leave): forgotten
	                                as soon as nobody holds it, not after ttl */
	atomic_long dropped_unreported; /* missed since the last delivery */
	atomic_long dropped_total;
	atomic_long missed_unreported;  /* counted by a resume, not yet told */
	uint64_t missed_counted_below;  /* under r->send: every direct message below
	                                   it that no resume could give was counted
	                                   once (each channel: its srv_sub's) */
	pthread_mutex_t replay_lock; /* guards the replay */
	srv_msg **replay;            /* a resume's backlog, taken before the queue */
	size_t replay_len, replay_pos;
	atomic_bool has_replay;      /* replay_pos < replay_len, read without the lock */
	pthread_mutex_t push_lock;   /* guards pushers, held while one runs */
	srv_pusher *pushers;         /* attached WebSockets and SSE streams, usually 0 or 1 */
	atomic_bool has_pushers;     /* read by broadcasts under r->table only */
	atomic_int sessions;         /* WebSocket pushers attached: its sessions */
	atomic_bool short_polling;   /* its last /get_msg asked timeout=0 */
	_Atomic double peak_window;  /* when the last high-water window began */
	atomic_size_t peak_last;     /* the most it held in that window */
	/* Presence (presence.c): */
	atomic_int sse_open;         /* SSE streams open now */
	atomic_int polls_waiting;    /* long polls waiting now */
	_Atomic double last_poll_end;   /* srv_monotonic() when one last ended, 0: never */
	atomic_bool online;          /* as last told (join/leave events) */
	_Atomic uint64_t online_since_ms;
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
	atomic_ullong started[3];    /* connections begun, by srv_client_kind (presence.c) */
	srv_delay delay;             /* sent -> written, every delivery */
	srv_channel **chan_buckets;  /* under r->table: name -> channel */
	size_t chan_bucket_count;    /* a power of two */
	size_t channel_count;
	long max_channels, per_client;
};

/* channel.c, for the rest of the room.  Each needs r->table (exclusive to
 * change, shared to read). */
bool srv_channels_init(srv_registry *r);
void srv_channels_free(srv_registry *r);
srv_channel *srv_channel_find(srv_registry *r, const char *name);
/* c's list becomes `list` (NULL: the default channel), or stays as it was. */
srv_sub_rc srv_client_set_channels_locked(srv_registry *r, srv_client *c,
                                          const srv_channel_list *list);
void srv_client_leave_all(srv_registry *r, srv_client *c);
/* Whether c is subscribed to the channel whose name hashes to `hash` (or
 * is called `name`, when not NULL). */
bool srv_client_in_channel(const srv_client *c, uint64_t hash, const char *name);

/* Client `name` in the table, or NULL.  Caller holds r->table. */
srv_client *srv_table_find(srv_registry *r, const char *name);

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
