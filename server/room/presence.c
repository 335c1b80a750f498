/*
 * presence.c - who is online, and the join/leave events (see presence.h).
 *
 * A client's reasons to be online are counters (sessions for WebSockets,
 * sse_open, polls_waiting) and the time its last poll ended.  `online` is
 * what was last told: it turns true at a begin (join), and the sweep turns
 * it back when no reason is left (leave) -- or forward, if a begin and a
 * sweep crossed.  The flag changes by compare-and-swap, so each change is
 * told once.  Events are published after every lock is let go (a publish
 * takes the registry's locks itself).
 */
#include "server/room/presence.h"
#include "server/room/client.h"
#include "server/room/send.h"
#include "server/common/clock.h"

#include <stdlib.h>
#include <string.h>

/* Whether c has a reason to be online now.  Which kind: ws, sse, poll. */
static bool
online_now(const srv_presence *p, const srv_client *c, double now, srv_client_kind *kind)
{
	srv_client_kind k = SRV_CLIENT_POLL;
	bool online = true;
	if (atomic_load(&c->sessions) > 0)
		k = SRV_CLIENT_WS;
	else if (atomic_load(&c->sse_open) > 0)
		k = SRV_CLIENT_SSE;
	else if (atomic_load(&c->polls_waiting) == 0) {
		double ended = atomic_load(&c->last_poll_end);
		online = ended > 0 && now - ended < p->poll_timeout;
	}
	if (kind != NULL)
		*kind = k;
	return online;
}

/* Publishes "join" or "leave" from `name` into each of `channels`. */
static void
announce(const srv_presence *p, const char *name, const srv_channel_list *channels,
         const char *event)
{
	for (size_t i = 0; i < channels->n; i++) {
		srv_target to = { false, channels->names[i] };
		srv_send_message(p->registry, p->bridge, &to, name, "", 0, event, NULL);
	}
}

/* Turns c's flag to `online` if it is not so already; true if it turned. */
static bool
turn(srv_client *c, bool online)
{
	bool was = !online;
	if (atomic_load(&c->online) == online ||          /* the usual case: no write */
	    !atomic_compare_exchange_strong(&c->online, &was, online))
		return false;
	if (online)
		atomic_store(&c->online_since_ms, srv_wall_clock_ms());
	return true;
}

void
srv_presence_begin(const srv_presence *p, srv_client *c, srv_client_kind kind)
{
	if (kind == SRV_CLIENT_SSE)
		atomic_fetch_add(&c->sse_open, 1);
	else if (kind == SRV_CLIENT_POLL)
		atomic_fetch_add(&c->polls_waiting, 1);
	atomic_fetch_add_explicit(&p->registry->started[kind], 1, memory_order_relaxed);
	/* (A WebSocket counts through its pusher: c->sessions.) */
	if (turn(c, true) && p->events) {
		srv_channel_list channels;
		srv_client_channels(p->registry, c, &channels);
		announce(p, c->name, &channels, "join");
	}
}

void
srv_presence_end(const srv_presence *p, srv_client *c, srv_client_kind kind)
{
	(void)p;
	if (kind == SRV_CLIENT_SSE) {
		atomic_fetch_sub(&c->sse_open, 1);
	} else if (kind == SRV_CLIENT_POLL) {
		atomic_store(&c->last_poll_end, srv_monotonic());
		atomic_fetch_sub(&c->polls_waiting, 1);
	}
	/* Going offline is told by the sweep: a poll is still online for
	 * poll_timeout, and a stream that reconnects at once never left. */
}

/* This node's part of presence into Redis: a row per online client and
 * channel. */
static void
share(const srv_presence *p)
{
	srv_registry *r = p->registry;
	double now = srv_monotonic();
	srv_presence_row *rows = NULL;
	size_t n = 0, cap = 0;
	bool complete = true;
	pthread_rwlock_rdlock(&r->table);
	for (size_t i = 0; i < r->bucket_count && complete; i++) {
		for (srv_client *c = r->buckets[i]; c != NULL && complete; c = c->next) {
			srv_client_kind kind;
			if (!online_now(p, c, now, &kind))
				continue;
			for (size_t k = 0; k < c->n_subs; k++) {
				if (n == cap) {
					srv_presence_row *bigger = realloc(rows, (cap = cap ? cap * 2 : 64) * sizeof(*rows));
					if (bigger == NULL) {
						complete = false;    /* out of memory: share nothing now */
						break;
					}
					rows = bigger;
				}
				srv_presence_row *row = &rows[n++];
				memcpy(row->channel, c->subs[k].channel->name, sizeof(row->channel));
				memcpy(row->name, c->name, sizeof(row->name));
				row->kind = kind;
				row->since_ms = atomic_load(&c->online_since_ms);
			}
		}
	}
	pthread_rwlock_unlock(&r->table);
	if (complete)
		srv_presence_shared_put(p->shared, rows, n);
	free(rows);
}

/* A change the sweep found, told after the locks. */
typedef struct {
	char name[SRV_NAME_MAX + 1];
	bool online;
	srv_channel_list channels;
} change;

void
srv_presence_sweep(const srv_presence *p)
{
	srv_registry *r = p->registry;
	double now = srv_monotonic();
	change *changes = NULL;
	size_t n = 0, cap = 0;
	pthread_rwlock_rdlock(&r->table);
	for (size_t i = 0; i < r->bucket_count; i++) {
		for (srv_client *c = r->buckets[i]; c != NULL; c = c->next) {
			bool online = online_now(p, c, now, NULL);
			if (online == atomic_load(&c->online) || !turn(c, online) || !p->events)
				continue;
			if (n == cap) {
				change *bigger = realloc(changes, (cap = cap ? cap * 2 : 16) * sizeof(*changes));
				if (bigger == NULL)
					continue;           /* out of memory: this event is not told */
				changes = bigger;
			}
			change *ch = &changes[n++];
			memcpy(ch->name, c->name, sizeof(ch->name));
			ch->online = online;
			ch->channels.n = 0;
			for (size_t k = 0; k < c->n_subs && k < SRV_CHANNELS_PER_CLIENT_MAX; k++)
				memcpy(ch->channels.names[ch->channels.n++], c->subs[k].channel->name,
				       SRV_CHANNEL_MAX + 1);
		}
	}
	pthread_rwlock_unlock(&r->table);
	for (size_t i = 0; i < n; i++)
		announce(p, changes[i].name, &changes[i].channels, changes[i].online ? "join" : "leave");
	free(changes);
	if (p->shared != NULL)
		share(p);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const srv_presence_entry *)a)->name, ((const srv_presence_entry *)b)->name);
}

/* The other nodes' rows of `channel` appended to all[*n] (grown); false
 * when they cannot be read. */
static bool
add_others(const srv_presence *p, const char *channel, srv_presence_entry **all, size_t *n)
{
	srv_presence_row *rows;
	long others = srv_presence_shared_others(p->shared, channel, &rows);
	if (others < 0)
		return false;
	srv_presence_entry *bigger = realloc(*all, (*n + (size_t)others + 1) * sizeof(**all));
	if (bigger == NULL) {
		free(rows);
		return false;
	}
	*all = bigger;
	for (long i = 0; i < others; i++) {
		srv_presence_entry *e = &(*all)[(*n)++];
		memcpy(e->name, rows[i].name, sizeof(e->name));
		e->kind = rows[i].kind;
		e->since_ms = rows[i].since_ms;
	}
	free(rows);
	return true;
}

/* Sorted entries, each name once: ws over sse over poll, the earliest since. */
static size_t
merge_names(srv_presence_entry *all, size_t n)
{
	qsort(all, n, sizeof(*all), by_name);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		srv_presence_entry *last = kept > 0 ? &all[kept - 1] : NULL;
		if (last == NULL || strcmp(last->name, all[i].name) != 0) {
			all[kept++] = all[i];
			continue;
		}
		if (all[i].kind == SRV_CLIENT_WS || (all[i].kind == SRV_CLIENT_SSE && last->kind == SRV_CLIENT_POLL))
			last->kind = all[i].kind;
		if (all[i].since_ms < last->since_ms)
			last->since_ms = all[i].since_ms;
	}
	return kept;
}

long
srv_presence_list(const srv_presence *p, const char *channel, srv_presence_entry *out,
                  size_t max)
{
	srv_registry *r = p->registry;
	double now = srv_monotonic();
	size_t total = 0;
	srv_presence_entry *all = NULL;
	pthread_rwlock_rdlock(&r->table);
	srv_channel *ch = srv_channel_find(r, channel);
	all = malloc(((ch != NULL ? ch->count : 0) + 1) * sizeof(*all));
	for (size_t i = 0; all != NULL && ch != NULL && i < ch->count; i++) {
		srv_client *c = ch->members[i];
		srv_client_kind kind;
		if (!online_now(p, c, now, &kind))
			continue;
		srv_presence_entry *e = &all[total++];
		memcpy(e->name, c->name, sizeof(e->name));
		e->kind = kind;
		e->since_ms = atomic_load(&c->online_since_ms);
	}
	pthread_rwlock_unlock(&r->table);
	if (all == NULL || (p->shared != NULL && !add_others(p, channel, &all, &total))) {
		free(all);
		return -1;
	}
	total = merge_names(all, total);
	memcpy(out, all, (total < max ? total : max) * sizeof(*out));
	free(all);
	return (long)total;
}
