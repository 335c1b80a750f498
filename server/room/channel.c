/*
 * channel.c - channel names, the channel table and who is subscribed (see
 * channel.h).
 *
 * DESIGN
 * Channels live in a hash table of their own (name -> channel), under the
 * registry's table lock: a publish reads it shared, like a broadcast reads
 * the clients; subscribing takes it exclusively, like a join.  Each channel
 * holds its members in an array; each client holds its subscriptions, each
 * with the client's slot in that array, so that leaving a channel is one
 * swap with the last member.  A channel whose last member leaves is freed:
 * only channels with a subscriber count towards max-channels.
 */
#include "server/room/channel.h"
#include "server/room/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHANNEL_INITIAL_BUCKETS 64

bool
srv_channel_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > SRV_CHANNEL_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '.' || ch == ':' || ch == '-'))
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

bool
srv_channels_init(srv_registry *r)
{
	r->chan_buckets = calloc(CHANNEL_INITIAL_BUCKETS, sizeof(*r->chan_buckets));
	r->chan_bucket_count = CHANNEL_INITIAL_BUCKETS;
	if (r->per_client == 0)
		r->per_client = 16;
	if (r->max_channels == 0)
		r->max_channels = 10000;
	return r->chan_buckets != NULL;
}

void
srv_channels_free(srv_registry *r)
{
	for (size_t i = 0; i < r->chan_bucket_count; i++) {
		for (srv_channel *ch = r->chan_buckets[i], *next; ch != NULL; ch = next) {
			next = ch->next;
			free(ch->members);
			free(ch);
		}
	}
	free(r->chan_buckets);
}

static srv_channel **
chan_bucket(srv_registry *r, uint64_t hash)
{
	return &r->chan_buckets[hash & (r->chan_bucket_count - 1)];
}

srv_channel *
srv_channel_find(srv_registry *r, const char *name)
{
	uint64_t hash = srv_name_hash(name);
	for (srv_channel *ch = *chan_bucket(r, hash); ch != NULL; ch = ch->next)
		if (ch->hash == hash && strcmp(ch->name, name) == 0)
			return ch;
	return NULL;
}

/* Doubles the buckets once there are more channels than buckets. */
static void
chan_table_grow(srv_registry *r)
{
	size_t count = r->chan_bucket_count * 2;
	srv_channel **buckets = calloc(count, sizeof(*buckets));
	if (buckets == NULL)
		return;              /* longer chains, still correct */
	for (size_t i = 0; i < r->chan_bucket_count; i++) {
		for (srv_channel *ch = r->chan_buckets[i], *next; ch != NULL; ch = next) {
			next = ch->next;
			srv_channel **b = &buckets[ch->hash & (count - 1)];
			ch->next = *b;
			*b = ch;
		}
	}
	free(r->chan_buckets);
	r->chan_buckets = buckets;
	r->chan_bucket_count = count;
}

/* The channel called name, made if it is new; NULL past max-channels
 * (*why NO_ROOM) or out of memory (NOMEM). */
static srv_channel *
channel_get(srv_registry *r, const char *name, srv_sub_rc *why)
{
	srv_channel *ch = srv_channel_find(r, name);
	if (ch != NULL)
		return ch;
	if ((long)r->channel_count >= r->max_channels) {
		*why = SRV_SUB_NO_ROOM;
		return NULL;
	}
	ch = calloc(1, sizeof(*ch));
	if (ch == NULL) {
		*why = SRV_SUB_NOMEM;
		return NULL;
	}
	snprintf(ch->name, sizeof(ch->name), "%s", name);
	ch->hash = srv_name_hash(name);
	srv_channel **b = chan_bucket(r, ch->hash);
	ch->next = *b;
	*b = ch;
	if (++r->channel_count > r->chan_bucket_count)
		chan_table_grow(r);
	return ch;
}

/* Forgets ch, which has no member left. */
static void
channel_drop(srv_registry *r, srv_channel *ch)
{
	for (srv_channel **link = chan_bucket(r, ch->hash); *link != NULL; link = &(*link)->next) {
		if (*link == ch) {
			*link = ch->next;
			break;
		}
	}
	r->channel_count--;
	free(ch->members);
	free(ch);
}

/* ------------------------------------------------------------------ */
/* Membership                                                          */
/* ------------------------------------------------------------------ */

/* c's subscription to ch, or NULL. */
static srv_sub *
sub_of(const srv_client *c, const srv_channel *ch)
{
	for (size_t i = 0; i < c->n_subs; i++)
		if (c->subs[i].channel == ch)
			return &c->subs[i];
	return NULL;
}

bool
srv_client_in_channel(const srv_client *c, uint64_t hash, const char *name)
{
	for (size_t i = 0; i < c->n_subs; i++) {
		const srv_channel *ch = c->subs[i].channel;
		if (ch->hash == hash && (name == NULL || strcmp(ch->name, name) == 0))
			return true;
	}
	return false;
}

/* Room for one more in each array; false when out of memory. */
static bool
reserve(void **array, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t cap2 = *cap == 0 ? 1 : *cap * 2;
	while (cap2 < need)
		cap2 *= 2;
	void *bigger = realloc(*array, cap2 * size);
	if (bigger == NULL)
		return false;
	*array = bigger;
	*cap = cap2;
	return true;
}

/* Adds c to ch, at the end of c's list.  False when out of memory. */
static bool
join_channel(srv_client *c, srv_channel *ch)
{
	if (!reserve((void **)&ch->members, &ch->cap, ch->count + 1, sizeof(*ch->members)) ||
	    !reserve((void **)&c->subs, &c->cap_subs, c->n_subs + 1, sizeof(*c->subs)))
		return false;
	c->subs[c->n_subs++] = (srv_sub){ ch, ch->count, 0 };
	ch->members[ch->count++] = c;
	return true;
}

/* Takes c out of the channel of its subscription number i. */
static void
leave_channel(srv_registry *r, srv_client *c, size_t i)
{
	srv_channel *ch = c->subs[i].channel;
	size_t slot = c->subs[i].slot;
	srv_client *last = ch->members[--ch->count];
	if (last != c) {                       /* the last member takes c's slot */
		ch->members[slot] = last;
		sub_of(last, ch)->slot = slot;
	}
	memmove(&c->subs[i], &c->subs[i + 1], (c->n_subs - i - 1) * sizeof(*c->subs));
	c->n_subs--;
	if (ch->count == 0)
		channel_drop(r, ch);
}

void
srv_client_leave_all(srv_registry *r, srv_client *c)
{
	while (c->n_subs > 0)
		leave_channel(r, c, c->n_subs - 1);
	free(c->subs);
	c->subs = NULL;
	c->cap_subs = 0;
}

/* Whether name is in list before position `before`. */
static bool
listed_before(const srv_channel_list *list, size_t before, const char *name)
{
	for (size_t i = 0; i < before; i++)
		if (strcmp(list->names[i], name) == 0)
			return true;
	return false;
}

/* Whether c's list is `list` already (in order, each name once).  Caller
 * holds r->table. */
static bool
list_is(const srv_client *c, const srv_channel_list *list)
{
	size_t distinct = 0;
	for (size_t i = 0; i < list->n; i++) {
		if (listed_before(list, i, list->names[i]))
			continue;
		if (distinct >= c->n_subs || strcmp(c->subs[distinct].channel->name, list->names[i]) != 0)
			return false;
		distinct++;
	}
	return distinct == c->n_subs;
}

srv_sub_rc
srv_client_set_channels_locked(srv_registry *r, srv_client *c, const srv_channel_list *list)
{
	static const srv_channel_list default_list = { 1, { SRV_DEFAULT_CHANNEL } };
	if (list == NULL)
		list = &default_list;
	if (list_is(c, list))
		return SRV_SUB_OK;          /* nothing to change (names were valid then) */
	size_t distinct = 0;
	for (size_t i = 0; i < list->n; i++) {
		if (!srv_channel_name_valid(list->names[i], strlen(list->names[i])))
			return SRV_SUB_BAD_NAME;
		distinct += !listed_before(list, i, list->names[i]);
	}
	if ((long)distinct > r->per_client)
		return SRV_SUB_TOO_MANY;
	/* The old list goes, the new one comes in order.  The channels to make
	 * are checked first, so a refusal changes nothing. */
	size_t to_make = 0;
	for (size_t i = 0; i < list->n; i++)
		if (!listed_before(list, i, list->names[i]) && srv_channel_find(r, list->names[i]) == NULL)
			to_make++;
	if ((long)(r->channel_count + to_make) > r->max_channels) {
		/* Leaving old channels may make room: count those c alone is in. */
		size_t freed = 0;
		for (size_t i = 0; i < c->n_subs; i++) {
			bool kept = false;
			for (size_t j = 0; j < list->n && !kept; j++)
				kept = strcmp(list->names[j], c->subs[i].channel->name) == 0;
			freed += !kept && c->subs[i].channel->count == 1;
		}
		if ((long)(r->channel_count - freed + to_make) > r->max_channels)
			return SRV_SUB_NO_ROOM;
	}
	while (c->n_subs > 0)
		leave_channel(r, c, c->n_subs - 1);
	for (size_t i = 0; i < list->n; i++) {
		if (listed_before(list, i, list->names[i]))
			continue;
		srv_sub_rc why = SRV_SUB_NOMEM;
		srv_channel *ch = channel_get(r, list->names[i], &why);
		if (ch == NULL || !join_channel(c, ch)) {
			if (ch != NULL && ch->count == 0)
				channel_drop(r, ch);
			return why;              /* out of memory: a shorter list */
		}
	}
	return SRV_SUB_OK;
}

/* ------------------------------------------------------------------ */
/* Public calls                                                        */
/* ------------------------------------------------------------------ */

void
srv_registry_set_channel_limits(srv_registry *r, long per_client, long max_channels)
{
	pthread_rwlock_wrlock(&r->table);
	r->per_client = per_client < 1 ? 1 : per_client > SRV_CHANNELS_PER_CLIENT_MAX
	              ? SRV_CHANNELS_PER_CLIENT_MAX : per_client;
	r->max_channels = max_channels < 1 ? 1 : max_channels;
	pthread_rwlock_unlock(&r->table);
}

srv_sub_rc
srv_client_set_channels(srv_registry *r, srv_client *c, const srv_channel_list *list)
{
	/* A long poll that repeats its channels= on every request changes
	 * nothing: seen under the shared lock, it costs no exclusive one. */
	pthread_rwlock_rdlock(&r->table);
	bool same = list_is(c, list);
	pthread_rwlock_unlock(&r->table);
	if (same)
		return SRV_SUB_OK;
	pthread_rwlock_wrlock(&r->table);
	srv_sub_rc rc = srv_client_set_channels_locked(r, c, list);
	pthread_rwlock_unlock(&r->table);
	return rc;
}

/* c's list as a srv_channel_list.  Caller holds r->table. */
static void
list_of(const srv_client *c, srv_channel_list *out)
{
	out->n = 0;
	for (size_t i = 0; i < c->n_subs && i < SRV_CHANNELS_PER_CLIENT_MAX; i++)
		snprintf(out->names[out->n++], sizeof(out->names[0]), "%s", c->subs[i].channel->name);
}

srv_sub_rc
srv_client_subscribe(srv_registry *r, srv_client *c, const char *channel)
{
	if (!srv_channel_name_valid(channel, strlen(channel)))
		return SRV_SUB_BAD_NAME;
	pthread_rwlock_wrlock(&r->table);
	srv_sub_rc rc = SRV_SUB_OK;
	srv_channel *ch = srv_channel_find(r, channel);
	if (ch == NULL || sub_of(c, ch) == NULL) {
		if ((long)c->n_subs >= r->per_client) {
			rc = SRV_SUB_TOO_MANY;
		} else if ((ch = channel_get(r, channel, &rc)) != NULL && !join_channel(c, ch)) {
			if (ch->count == 0)
				channel_drop(r, ch);
			rc = SRV_SUB_NOMEM;
		}
	}
	pthread_rwlock_unlock(&r->table);
	return rc;
}

srv_sub_rc
srv_client_unsubscribe(srv_registry *r, srv_client *c, const char *channel)
{
	if (!srv_channel_name_valid(channel, strlen(channel)))
		return SRV_SUB_BAD_NAME;
	pthread_rwlock_wrlock(&r->table);
	srv_channel *ch = srv_channel_find(r, channel);
	for (size_t i = 0; ch != NULL && i < c->n_subs; i++) {
		if (c->subs[i].channel == ch) {
			leave_channel(r, c, i);
			break;
		}
	}
	pthread_rwlock_unlock(&r->table);
	return SRV_SUB_OK;
}

void
srv_client_channels(srv_registry *r, srv_client *c, srv_channel_list *out)
{
	pthread_rwlock_rdlock(&r->table);
	list_of(c, out);
	pthread_rwlock_unlock(&r->table);
}

bool
srv_client_first_channel(srv_registry *r, srv_client *c, char *out)
{
	pthread_rwlock_rdlock(&r->table);
	bool any = c->n_subs > 0;
	if (any)
		snprintf(out, SRV_CHANNEL_MAX + 1, "%s", c->subs[0].channel->name);
	pthread_rwlock_unlock(&r->table);
	return any;
}

size_t
srv_registry_channel_count(srv_registry *r)
{
	pthread_rwlock_rdlock(&r->table);
	size_t n = r->channel_count;
	pthread_rwlock_unlock(&r->table);
	return n;
}
