/*
 * check_channels.c - channels, direct messages and resume with channels:
 * the room's API without a network (membership, limits, publish, order,
 * missed counts), then every transport against a real build/pushq
 * (long and short polling, WebSocket, SSE, /send_msg, /subscribe and
 * /unsubscribe).  Presence is in check_presence.c.
 */
#define _GNU_SOURCE /* memmem */

#include "server/room/broadcast.h"
#include "server/room/channel.h"
#include "server/room/delivery.h"
#include "server/room/resume.h"
#include "suites.h"
#include "testutil.h"
#include "wsframe.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ================================================================== */
/* The room's API                                                      */
/* ================================================================== */

static srv_registry *reg;

static void
setup(void)
{
	reg = srv_registry_new(100, 1000, 100);
	ck_assert_ptr_nonnull(reg);
}

static void
teardown(void)
{
	srv_registry_free(reg);
}

/* "a,b,c" as a channel list ("" is the empty list). */
static srv_channel_list
list_of(const char *csv)
{
	srv_channel_list l = { 0 };
	for (const char *p = csv; *p != '\0';) {
		size_t n = strcspn(p, ",");
		ck_assert_uint_le(n, SRV_CHANNEL_MAX);
		memcpy(l.names[l.n], p, n);
		l.names[l.n++][n] = '\0';
		p += n + (p[n] == ',');
	}
	return l;
}

/* c's channels, joined by commas, into out. */
static const char *
channels_of(srv_registry *r, srv_client *c, char *out, size_t cap)
{
	srv_channel_list l;
	srv_client_channels(r, c, &l);
	out[0] = '\0';
	for (size_t i = 0; i < l.n; i++)
		snprintf(out + strlen(out), cap - strlen(out), "%s%s", i > 0 ? "," : "", l.names[i]);
	return out;
}

#define ck_assert_channels(r, c, csv) do { \
	char got_[2048]; \
	ck_assert_str_eq(channels_of(r, c, got_, sizeof(got_)), csv); \
} while (0)

/* Joins name into the channels csv (NULL: none asked for); asserts it did. */
static srv_client *
join_in(srv_registry *r, const char *name, const char *csv)
{
	srv_channel_list l;
	if (csv != NULL)
		l = list_of(csv);
	srv_join_rc why = SRV_JOIN_OK;
	srv_client *c = srv_registry_join_in(r, name, SRV_CLIENT_POLL, csv != NULL ? &l : NULL, &why);
	ck_assert_msg(c != NULL, "join of %s in %s refused (%d)", name, csv ? csv : "-", why);
	return c;
}

static srv_sub_rc
set_channels(srv_registry *r, srv_client *c, const char *csv)
{
	srv_channel_list l = list_of(csv);
	return srv_client_set_channels(r, c, &l);
}

static srv_publish_rc
publish(srv_registry *r, bool direct, const char *name, const char *text, uint64_t *id,
        size_t *receivers)
{
	srv_target to = { direct, name };
	return srv_registry_publish(r, &to, "", text, strlen(text), NULL, id, receivers);
}

/* Publishes to a channel; asserts it worked and had `receivers` (-1: any). */
static uint64_t
to_channel(srv_registry *r, const char *channel, const char *text, long receivers)
{
	uint64_t id = 0;
	size_t n = 0;
	ck_assert_int_eq(publish(r, false, channel, text, &id, &n), SRV_PUBLISH_OK);
	if (receivers >= 0)
		ck_assert_uint_eq(n, (size_t)receivers);
	return id;
}

static uint64_t
to_client(srv_registry *r, const char *name, const char *text, long receivers)
{
	uint64_t id = 0;
	size_t n = 0;
	ck_assert_int_eq(publish(r, true, name, text, &id, &n), SRV_PUBLISH_OK);
	if (receivers >= 0)
		ck_assert_uint_eq(n, (size_t)receivers);
	return id;
}

/* The /get_msg JSON of c's next message (sent_at taken out), or "". */
static const char *
take_json(srv_registry *r, srv_client *c, char *out, size_t cap)
{
	srv_delivery d;
	out[0] = '\0';
	if (srv_client_next(r, c, 0, NULL, SRV_WIRE_JSON, &d) != QUEUE_OK)
		return out;
	http_buf b = { 0 };
	srv_delivery_append(&b, &d);
	snprintf(out, cap, "%.*s", (int)b.len, b.data);
	ck_assert_int_eq(tu_strip_sent_at(out), 1);
	http_buf_free(&b);
	srv_delivery_done(&d);
	return out;
}

#define ck_assert_next_json(r, c, want) do { \
	char json_[1024]; \
	ck_assert_str_eq(take_json(r, c, json_, sizeof(json_)), want); \
} while (0)

/* c's next message without waiting: its id (0: none), its gap in *gap. */
static uint64_t
take_id(srv_registry *r, srv_client *c, srv_gap *gap, srv_msg **keep)
{
	srv_msg *m;
	srv_gap ignored;
	if (srv_client_take(r, c, 0, NULL, &m, gap != NULL ? gap : &ignored) != QUEUE_OK)
		return 0;
	uint64_t id = m->id;
	if (keep != NULL)
		*keep = m;
	else
		srv_msg_release(m);
	return id;
}

/* ------------------------------------------------------------------ */
/* Membership                                                          */
/* ------------------------------------------------------------------ */

START_TEST(channel_names)
{
	ck_assert(srv_channel_name_valid("room", 4));
	ck_assert(srv_channel_name_valid("AZaz09_.:-", 10));
	ck_assert(srv_channel_name_valid("x", 1));
	char long_name[SRV_CHANNEL_MAX + 1];
	memset(long_name, 'c', sizeof(long_name));
	ck_assert(srv_channel_name_valid(long_name, 64));
	ck_assert(!srv_channel_name_valid(long_name, 65));
	ck_assert(!srv_channel_name_valid("", 0));
	const char *bad[] = { "a b", "a,b", "a/b", "a#", "caf\xc3\xa9", "a+b", "%41", "a\"", "a\\" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!srv_channel_name_valid(bad[i], strlen(bad[i])), "%s passed", bad[i]);
	ck_assert(!srv_channel_name_valid("ab\0c", 4));      /* a NUL inside the length */
	ck_assert(srv_channel_name_valid("ab\0c", 2));        /* only the length counts */
}
END_TEST

START_TEST(new_client_is_in_room)
{
	srv_client *a = join_in(reg, "a", NULL);
	ck_assert_channels(reg, a, "room");
	char first[SRV_CHANNEL_MAX + 1] = "";
	ck_assert(srv_client_first_channel(reg, a, first));
	ck_assert_str_eq(first, "room");
	ck_assert_uint_eq(srv_registry_channel_count(reg), 1);
	uint64_t id;
	ck_assert(srv_registry_broadcast(reg, "b", "hi", 2, &id));
	ck_assert_uint_eq(id, 1);
	ck_assert_next_json(reg, a, "{\"status\":true,\"msg\":\"hi\",\"id\":1,\"from\":\"b\","
	                            "\"channel\":\"room\",\"dropped\":0}");
	/* Joining again without a list leaves it as it is. */
	ck_assert_int_eq(srv_client_subscribe(reg, a, "x"), SRV_SUB_OK);
	srv_client *again = join_in(reg, "a", NULL);
	ck_assert_ptr_eq(again, a);
	ck_assert_channels(reg, a, "room,x");
	srv_client_release(reg, again);
	srv_client_release(reg, a);
}
END_TEST

START_TEST(set_channels_exactly)
{
	srv_client *a = join_in(reg, "a", "b,a,b,c,a");
	ck_assert_channels(reg, a, "b,a,c");           /* in order, each once */
	ck_assert_uint_eq(srv_registry_channel_count(reg), 3);   /* not room */
	ck_assert_int_eq(set_channels(reg, a, "z,c"), SRV_SUB_OK);
	ck_assert_channels(reg, a, "z,c");
	ck_assert_uint_eq(srv_registry_channel_count(reg), 2);   /* a and b forgotten */
	/* An existing client joining with a list takes that list. */
	srv_client *again = join_in(reg, "a", "room,q");
	ck_assert_ptr_eq(again, a);
	ck_assert_channels(reg, a, "room,q");
	srv_client_release(reg, again);
	/* A refusal (a bad name anywhere) changes nothing. */
	ck_assert_int_eq(set_channels(reg, a, "ok,bad name"), SRV_SUB_BAD_NAME);
	ck_assert_channels(reg, a, "room,q");
	srv_channel_list l = list_of("fine");
	snprintf(l.names[l.n++], sizeof(l.names[0]), "%s", "");   /* "fine,," */
	ck_assert_int_eq(srv_client_set_channels(reg, a, &l), SRV_SUB_BAD_NAME);
	ck_assert_channels(reg, a, "room,q");
	srv_join_rc why;
	ck_assert_ptr_null(srv_registry_join_in(reg, "a", SRV_CLIENT_POLL, &l, &why));
	ck_assert_int_eq(why, SRV_JOIN_BAD_CHANNELS);
	ck_assert_channels(reg, a, "room,q");
	ck_assert_ptr_null(srv_registry_join_in(reg, "newbie", SRV_CLIENT_POLL, &l, &why));
	ck_assert_int_eq(why, SRV_JOIN_BAD_CHANNELS);
	ck_assert_ptr_null(srv_registry_find(reg, "newbie"));     /* not made */
	/* The empty list: in no channel, still reachable by name. */
	ck_assert_int_eq(set_channels(reg, a, ""), SRV_SUB_OK);
	ck_assert_channels(reg, a, "");
	char first[SRV_CHANNEL_MAX + 1];
	ck_assert(!srv_client_first_channel(reg, a, first));
	ck_assert_uint_eq(srv_registry_channel_count(reg), 0);
	ck_assert_uint_eq(to_channel(reg, "room", "r", 0), 1);
	to_client(reg, "a", "d", 1);
	ck_assert_next_json(reg, a, "{\"status\":true,\"msg\":\"d\",\"id\":2,\"from\":\"\","
	                            "\"to\":\"a\",\"dropped\":0}");
	srv_client_release(reg, a);
}
END_TEST

START_TEST(subscribe_appends_unsubscribe_removes)
{
	srv_client *a = join_in(reg, "a", NULL);
	ck_assert_int_eq(srv_client_subscribe(reg, a, "x"), SRV_SUB_OK);
	ck_assert_channels(reg, a, "room,x");
	ck_assert_int_eq(srv_client_subscribe(reg, a, "room"), SRV_SUB_OK);   /* there already */
	ck_assert_int_eq(srv_client_subscribe(reg, a, "x"), SRV_SUB_OK);
	ck_assert_channels(reg, a, "room,x");
	ck_assert_int_eq(srv_client_subscribe(reg, a, "y"), SRV_SUB_OK);
	ck_assert_channels(reg, a, "room,x,y");
	ck_assert_int_eq(srv_client_unsubscribe(reg, a, "x"), SRV_SUB_OK);
	ck_assert_channels(reg, a, "room,y");
	ck_assert_int_eq(srv_client_unsubscribe(reg, a, "never"), SRV_SUB_OK);   /* not there */
	ck_assert_channels(reg, a, "room,y");
	ck_assert_int_eq(srv_client_subscribe(reg, a, "x"), SRV_SUB_OK);    /* at the end again */
	ck_assert_channels(reg, a, "room,y,x");
	ck_assert_int_eq(srv_client_unsubscribe(reg, a, "room"), SRV_SUB_OK);
	ck_assert_channels(reg, a, "y,x");
	char first[SRV_CHANNEL_MAX + 1];
	ck_assert(srv_client_first_channel(reg, a, first));
	ck_assert_str_eq(first, "y");
	/* Bad names are refused and change nothing. */
	char long_name[SRV_CHANNEL_MAX + 2];
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	const char *bad[] = { "", "a b", "a,b", long_name, "caf\xc3\xa9" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(srv_client_subscribe(reg, a, bad[i]), SRV_SUB_BAD_NAME);
		ck_assert_int_eq(srv_client_unsubscribe(reg, a, bad[i]), SRV_SUB_BAD_NAME);
	}
	long_name[SRV_CHANNEL_MAX] = '\0';                         /* 64 bytes: fine */
	ck_assert_int_eq(srv_client_subscribe(reg, a, long_name), SRV_SUB_OK);
	ck_assert_int_eq(srv_client_unsubscribe(reg, a, long_name), SRV_SUB_OK);
	ck_assert_channels(reg, a, "y,x");
	/* Membership is what a publish reaches. */
	srv_client *b = join_in(reg, "b", "x");
	to_channel(reg, "x", "m", 2);
	to_channel(reg, "y", "m", 1);
	to_channel(reg, "room", "m", 0);
	srv_client_release(reg, a);
	srv_client_release(reg, b);
}
END_TEST

START_TEST(per_client_limit)
{
	srv_registry *r = srv_registry_new(10, 100, 10);
	srv_registry_set_channel_limits(r, 3, 100);
	srv_join_rc why;
	srv_channel_list four = list_of("p,q,r,s");
	ck_assert_ptr_null(srv_registry_join_in(r, "a", SRV_CLIENT_POLL, &four, &why));
	ck_assert_int_eq(why, SRV_JOIN_BAD_CHANNELS);
	ck_assert_ptr_null(srv_registry_find(r, "a"));
	srv_client *a = join_in(r, "a", "p,q,r");
	ck_assert_int_eq(set_channels(r, a, "p,q,r,s"), SRV_SUB_TOO_MANY);
	ck_assert_channels(r, a, "p,q,r");
	ck_assert_ptr_null(srv_registry_join_in(r, "a", SRV_CLIENT_POLL, &four, &why));
	ck_assert_int_eq(why, SRV_JOIN_BAD_CHANNELS);
	ck_assert_channels(r, a, "p,q,r");
	ck_assert_int_eq(srv_client_subscribe(r, a, "s"), SRV_SUB_TOO_MANY);
	ck_assert_channels(r, a, "p,q,r");
	ck_assert_int_eq(srv_client_subscribe(r, a, "q"), SRV_SUB_OK);   /* in it: no change */
	ck_assert_int_eq(set_channels(r, a, "s,p,s"), SRV_SUB_OK);          /* 2 distinct */
	ck_assert_channels(r, a, "s,p");
	ck_assert_int_eq(srv_client_subscribe(r, a, "q"), SRV_SUB_OK);
	ck_assert_channels(r, a, "s,p,q");
	ck_assert_int_eq(srv_client_unsubscribe(r, a, "p"), SRV_SUB_OK);
	ck_assert_int_eq(srv_client_subscribe(r, a, "t"), SRV_SUB_OK);
	ck_assert_channels(r, a, "s,q,t");
	srv_client_release(r, a);
	srv_registry_free(r);
}
END_TEST

/* Reaps everything idle for 10 ms; true when the registry has no client. */
static srv_registry *reap_reg;

static bool
reaped_all(void *arg)
{
	(void)arg;
	srv_registry_reap(reap_reg, 0.01);
	srv_registry_counts counts;
	srv_registry_counts_get(reap_reg, &counts);
	return counts.clients == 0;
}

START_TEST(max_channels_counts_channels_with_subscribers)
{
	srv_registry *r = srv_registry_new(10, 100, 10);
	srv_registry_set_channel_limits(r, 16, 3);
	srv_client *a = join_in(r, "a", "c1,c2");
	srv_client *b = join_in(r, "b", "c2");
	ck_assert_uint_eq(srv_registry_channel_count(r), 2);
	srv_client *c = join_in(r, "c", NULL);                     /* room: the third */
	ck_assert_uint_eq(srv_registry_channel_count(r), 3);
	/* Past max-channels: refused, and nothing changed. */
	srv_join_rc why;
	srv_channel_list l = list_of("c4");
	ck_assert_ptr_null(srv_registry_join_in(r, "d", SRV_CLIENT_POLL, &l, &why));
	ck_assert_int_eq(why, SRV_JOIN_NO_CHANNEL_ROOM);
	ck_assert_ptr_null(srv_registry_find(r, "d"));
	ck_assert_int_eq(srv_client_subscribe(r, c, "c5"), SRV_SUB_NO_ROOM);
	ck_assert_channels(r, c, "room");
	ck_assert_int_eq(set_channels(r, a, "c1,c2,c6"), SRV_SUB_NO_ROOM);
	ck_assert_channels(r, a, "c1,c2");
	l = list_of("c1,c2,c4");
	ck_assert_ptr_null(srv_registry_join_in(r, "a", SRV_CLIENT_POLL, &l, &why));
	ck_assert_int_eq(why, SRV_JOIN_NO_CHANNEL_ROOM);
	ck_assert_channels(r, a, "c1,c2");
	ck_assert_uint_eq(srv_registry_channel_count(r), 3);
	/* Channels that exist can always be joined (room too: a new client). */
	srv_client *d = join_in(r, "d", NULL);
	ck_assert_channels(r, d, "room");
	ck_assert_int_eq(srv_client_subscribe(r, c, "c2"), SRV_SUB_OK);
	ck_assert_channels(r, c, "room,c2");
	/* c1 has only a: when a leaves it, it is forgotten and makes room. */
	ck_assert_int_eq(srv_client_unsubscribe(r, a, "c1"), SRV_SUB_OK);
	ck_assert_uint_eq(srv_registry_channel_count(r), 2);
	to_channel(r, "c1", "gone", 0);
	ck_assert_int_eq(srv_client_subscribe(r, c, "c5"), SRV_SUB_OK);
	ck_assert_channels(r, c, "room,c2,c5");
	ck_assert_uint_eq(srv_registry_channel_count(r), 3);
	/* c2 keeps its other members when b leaves it: still 3. */
	ck_assert_int_eq(srv_client_unsubscribe(r, b, "c2"), SRV_SUB_OK);
	ck_assert_uint_eq(srv_registry_channel_count(r), 3);
	ck_assert_int_eq(srv_client_subscribe(r, b, "c8"), SRV_SUB_NO_ROOM);
	ck_assert_channels(r, b, "");
	/* A new list may use the room its own old channels leave: c is alone
	 * in c5 (d is in room), so c5 -> c7 fits. */
	ck_assert_int_eq(set_channels(r, c, "room,c2,c7"), SRV_SUB_OK);
	ck_assert_channels(r, c, "room,c2,c7");
	ck_assert_uint_eq(srv_registry_channel_count(r), 3);
	to_channel(r, "c5", "gone", 0);
	to_channel(r, "c7", "here", 1);
	to_channel(r, "c2", "here", 2);
	srv_client_release(r, a);
	srv_client_release(r, b);
	srv_client_release(r, c);
	srv_client_release(r, d);
	srv_registry_free(r);
}
END_TEST

START_TEST(default_limits)
{
	/* 16 per client, 10000 channels with a subscriber. */
	srv_registry *r = srv_registry_new(1, 1000, 1);
	srv_client *a = join_in(r, "a", NULL);
	char csv[2048] = "", name[64];
	for (int i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "%sk%d", i > 0 ? "," : "", i);
		strcat(csv, name);
	}
	ck_assert_int_eq(set_channels(r, a, csv), SRV_SUB_OK);
	ck_assert_int_eq(srv_client_subscribe(r, a, "k16"), SRV_SUB_TOO_MANY);
	strcat(csv, ",k16");
	ck_assert_int_eq(set_channels(r, a, csv), SRV_SUB_TOO_MANY);
	srv_client_release(r, a);
	/* a holds k0..k15; 624 more clients of 16 new channels each: 10000. */
	srv_client *held[625];
	held[0] = NULL;
	for (int c = 1; c < 625; c++) {
		csv[0] = '\0';
		for (int i = 0; i < 16; i++) {
			snprintf(name, sizeof(name), "%sc%d.%d", i > 0 ? "," : "", c, i);
			strcat(csv, name);
		}
		snprintf(name, sizeof(name), "client%d", c);
		held[c] = join_in(r, name, csv);
	}
	ck_assert_uint_eq(srv_registry_channel_count(r), 10000);
	srv_join_rc why;
	srv_channel_list l = list_of("one-more");
	ck_assert_ptr_null(srv_registry_join_in(r, "late", SRV_CLIENT_POLL, &l, &why));
	ck_assert_int_eq(why, SRV_JOIN_NO_CHANNEL_ROOM);
	srv_client *b = join_in(r, "b", "k0");
	ck_assert_int_eq(srv_client_subscribe(r, b, "one-more"), SRV_SUB_NO_ROOM);
	ck_assert_int_eq(srv_client_subscribe(r, b, "c9.9"), SRV_SUB_OK);
	ck_assert_channels(r, b, "k0,c9.9");
	srv_client_release(r, b);
	for (int c = 1; c < 625; c++)
		srv_client_release(r, held[c]);
	srv_registry_free(r);
}
END_TEST

START_TEST(forgotten_clients_leave_their_channels)
{
	srv_registry *r = srv_registry_new(10, 100, 10);
	srv_registry_set_channel_limits(r, 16, 2);
	srv_client *a = join_in(r, "a", "x,y");
	ck_assert_uint_eq(srv_registry_channel_count(r), 2);
	srv_client_release(r, a);
	reap_reg = r;
	ck_assert(tu_wait_until(reaped_all, NULL, tu_slack(5)));
	ck_assert_uint_eq(srv_registry_channel_count(r), 0);
	to_channel(r, "x", "nobody", 0);
	srv_client *b = join_in(r, "b", "p,q");               /* the room is free again */
	ck_assert_channels(r, b, "p,q");
	srv_client_release(r, b);
	srv_registry_free(r);
}
END_TEST

/* Leaving: forgotten now when nobody holds the client; held, once it is
 * let go (and not by a reaper that waits for the ttl); joining again
 * before that keeps it. */
START_TEST(a_client_leaves)
{
	srv_registry *r = srv_registry_new(10, 100, 10);
	srv_registry_counts counts;
	srv_client *a = join_in(r, "a", "x");
	srv_client_release(r, a);
	ck_assert_int_eq(srv_registry_leave(r, "a"), SRV_LEFT);
	ck_assert_ptr_null(srv_registry_find(r, "a"));
	ck_assert_uint_eq(srv_registry_channel_count(r), 0);
	ck_assert_int_eq(srv_registry_leave(r, "a"), SRV_LEAVE_UNKNOWN);
	ck_assert_int_eq(srv_registry_leave(r, "ghost"), SRV_LEAVE_UNKNOWN);

	srv_client *b = join_in(r, "b", "x");                   /* held: a stream, say */
	ck_assert_int_eq(srv_registry_leave(r, "b"), SRV_LEAVING);
	ck_assert_uint_eq(srv_registry_reap(r, 3600), 0);       /* still held */
	srv_client_release(r, b);
	ck_assert_uint_eq(srv_registry_reap(r, 3600), 1);       /* let go: gone, ttl or not */
	ck_assert_ptr_null(srv_registry_find(r, "b"));

	srv_client *c = join_in(r, "c", "x");
	ck_assert_int_eq(srv_registry_leave(r, "c"), SRV_LEAVING);
	srv_client *again = join_in(r, "c", "x");               /* came back first */
	srv_client_release(r, again);
	srv_client_release(r, c);
	ck_assert_uint_eq(srv_registry_reap(r, 3600), 0);
	srv_registry_counts_get(r, &counts);
	ck_assert_uint_eq(counts.clients, 1);
	srv_registry_free(r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Publish                                                             */
/* ------------------------------------------------------------------ */

START_TEST(publish_to_a_channel)
{
	srv_client *a = join_in(reg, "a", "x");
	srv_client *b = join_in(reg, "b", "y,x");
	srv_client *c = join_in(reg, "c", "y");
	srv_client *d = join_in(reg, "d", NULL);
	srv_target x = { false, "x" };
	uint64_t id = 0;
	size_t n = 99;
	ck_assert_int_eq(srv_registry_publish(reg, &x, "a", "hi", 2, NULL, &id, &n), SRV_PUBLISH_OK);
	ck_assert_uint_eq(id, 1);
	ck_assert_uint_eq(n, 2);
	const char *want = "{\"status\":true,\"msg\":\"hi\",\"id\":1,\"from\":\"a\",\"channel\":\"x\",\"dropped\":0}";
	ck_assert_next_json(reg, a, want);
	ck_assert_next_json(reg, b, want);
	ck_assert_next_json(reg, c, "");
	ck_assert_next_json(reg, d, "");
	/* Nobody in it: fine, 0 receivers, and the id is used. */
	ck_assert_uint_eq(to_channel(reg, "empty", "void", 0), 2);
	ck_assert_uint_eq(to_channel(reg, "y", "why", 2), 3);
	ck_assert_next_json(reg, b, "{\"status\":true,\"msg\":\"why\",\"id\":3,\"from\":\"\",\"channel\":\"y\",\"dropped\":0}");
	ck_assert_next_json(reg, c, "{\"status\":true,\"msg\":\"why\",\"id\":3,\"from\":\"\",\"channel\":\"y\",\"dropped\":0}");
	ck_assert_next_json(reg, a, "");
	ck_assert_next_json(reg, d, "");
	srv_registry_counts counts;
	srv_registry_counts_get(reg, &counts);
	ck_assert_uint_eq(counts.last_id, 3);
	/* A presence event carries its kind. */
	ck_assert_int_eq(srv_registry_publish(reg, &x, "c", "", 0, "join", &id, &n), SRV_PUBLISH_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_next_json(reg, a, "{\"status\":true,\"msg\":\"\",\"id\":4,\"from\":\"c\",\"channel\":\"x\","
	                            "\"event\":\"join\",\"dropped\":0}");
	srv_client_release(reg, a);
	srv_client_release(reg, b);
	srv_client_release(reg, c);
	srv_client_release(reg, d);
}
END_TEST

START_TEST(publish_to_a_name)
{
	srv_client *a = join_in(reg, "a", "x");
	srv_client *b = join_in(reg, "b", "x");
	uint64_t id = 0;
	size_t n = 0;
	ck_assert_int_eq(publish(reg, true, "a", "psst", &id, &n), SRV_PUBLISH_OK);
	ck_assert_uint_eq(id, 1);
	ck_assert_uint_eq(n, 1);
	ck_assert_next_json(reg, a, "{\"status\":true,\"msg\":\"psst\",\"id\":1,\"from\":\"\",\"to\":\"a\",\"dropped\":0}");
	ck_assert_next_json(reg, b, "");                  /* b shares a's channel: no matter */
	/* An unknown name: refused, and no id is used up. */
	id = 77;
	ck_assert_int_eq(publish(reg, true, "ghost", "boo", &id, &n), SRV_PUBLISH_UNKNOWN);
	srv_registry_counts counts;
	srv_registry_counts_get(reg, &counts);
	ck_assert_uint_eq(counts.last_id, 1);
	ck_assert_uint_eq(to_client(reg, "b", "next", 1), 2);
	ck_assert_next_json(reg, b, "{\"status\":true,\"msg\":\"next\",\"id\":2,\"from\":\"\",\"to\":\"b\",\"dropped\":0}");
	/* Whatever the client's channels: none at all, or not the default. */
	ck_assert_int_eq(set_channels(reg, b, ""), SRV_SUB_OK);
	ck_assert_uint_eq(to_client(reg, "b", "still", 1), 3);
	ck_assert_next_json(reg, b, "{\"status\":true,\"msg\":\"still\",\"id\":3,\"from\":\"\",\"to\":\"b\",\"dropped\":0}");
	/* A name is not a channel, nor a channel a name. */
	ck_assert_uint_eq(to_channel(reg, "a", "chan", 0), 4);
	ck_assert_int_eq(publish(reg, true, "x", "boo", &id, &n), SRV_PUBLISH_UNKNOWN);
	ck_assert_next_json(reg, a, "");
	srv_client_release(reg, a);
	srv_client_release(reg, b);
}
END_TEST

START_TEST(full_queue_is_not_a_receiver)
{
	srv_registry *r = srv_registry_new(2, 10, 10);
	srv_client *a = join_in(r, "a", "x");
	srv_client *b = join_in(r, "b", "x");
	to_client(r, "a", "1", 1);
	to_client(r, "a", "2", 1);
	to_channel(r, "x", "3", 1);           /* a is full: only b */
	to_client(r, "a", "4", 0);
	srv_gap gap;
	ck_assert_uint_eq(take_id(r, a, &gap, NULL), 1);
	ck_assert_int_eq(gap.dropped, 2);
	ck_assert_uint_eq(take_id(r, a, &gap, NULL), 2);
	ck_assert_int_eq(gap.dropped, 0);
	ck_assert_uint_eq(take_id(r, b, &gap, NULL), 3);
	ck_assert_int_eq(gap.dropped, 0);
	srv_client_release(r, a);
	srv_client_release(r, b);
	srv_registry_free(r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Order                                                               */
/* ------------------------------------------------------------------ */

/* Whether m was for c: one of the channels in csv, or c's name. */
static bool
for_client(const srv_msg *m, const char *name, const char *csv)
{
	if (m->direct)
		return strcmp(m->target, name) == 0;
	srv_channel_list l = list_of(csv);
	for (size_t i = 0; i < l.n; i++)
		if (strcmp(l.names[i], m->target) == 0)
			return true;
	return false;
}

START_TEST(one_queue_in_id_order)
{
	srv_client *a = join_in(reg, "a", "ca,cb");
	srv_client *o = join_in(reg, "o", "cc");
	/* What goes where, and which of them are a's. */
	const char *where[] = { "ca", "@a", "cc", "cb", "@o", "ca", "@a", "cb", "cc", "@a",
	                        "cb", "ca", "@o", "room", "@a", "ca" };
	uint64_t want[16];
	size_t n_want = 0;
	for (size_t i = 0; i < 16; i++) {
		bool direct = where[i][0] == '@';
		uint64_t id = direct ? to_client(reg, where[i] + 1, where[i], -1)
		                     : to_channel(reg, where[i], where[i], -1);
		ck_assert_uint_eq(id, i + 1);
		if ((direct && strcmp(where[i] + 1, "a") == 0) ||
		    strcmp(where[i], "ca") == 0 || strcmp(where[i], "cb") == 0)
			want[n_want++] = id;
	}
	for (size_t i = 0; i < n_want; i++) {
		srv_msg *m = NULL;
		ck_assert_uint_eq(take_id(reg, a, NULL, &m), want[i]);
		ck_assert(for_client(m, "a", "ca,cb"));
		ck_assert_str_eq(m->target, where[want[i] - 1] + (m->direct ? 1 : 0));
		ck_assert_int_eq(m->direct, where[want[i] - 1][0] == '@');
		srv_msg_release(m);
	}
	ck_assert_uint_eq(take_id(reg, a, NULL, NULL), 0);
	srv_client_release(reg, a);
	srv_client_release(reg, o);
}
END_TEST

/* Publishers on several threads, one reader: still one id order. */
#define ORDER_PER_THREAD 2000

typedef struct {
	srv_registry *r;
	int kind;          /* 0: channel ca, 1: cb, 2: to a, 3: cc (not a's) */
} publisher;

static void *
publish_many(void *arg)
{
	publisher *p = arg;
	for (int i = 0; i < ORDER_PER_THREAD; i++) {
		srv_target to = { p->kind == 2, p->kind == 0 ? "ca" : p->kind == 1 ? "cb"
		                              : p->kind == 2 ? "a" : "cc" };
		srv_registry_publish(p->r, &to, "", "m", 1, NULL, NULL, NULL);
	}
	return NULL;
}

START_TEST(one_queue_in_id_order_under_threads)
{
	srv_registry *r = srv_registry_new(4 * ORDER_PER_THREAD, 10, 10);
	srv_client *a = join_in(r, "a", "ca,cb");
	srv_client *o = join_in(r, "o", "cc");
	pthread_t threads[4];
	publisher pubs[4];
	for (int k = 0; k < 4; k++) {
		pubs[k] = (publisher){ r, k };
		pthread_create(&threads[k], NULL, publish_many, &pubs[k]);
	}
	/* Take while they publish. */
	uint64_t last = 0;
	int got = 0, direct = 0;
	double deadline = tu_now() + tu_slack(20);
	while (got < 3 * ORDER_PER_THREAD && tu_now() < deadline) {
		srv_msg *m;
		srv_gap gap;
		if (srv_client_take(r, a, 0.1, NULL, &m, &gap) != QUEUE_OK)
			continue;
		ck_assert_uint_gt(m->id, last);
		ck_assert(for_client(m, "a", "ca,cb"));
		ck_assert_int_eq(gap.dropped, 0);
		last = m->id;
		direct += m->direct;
		got++;
		srv_msg_release(m);
	}
	for (int k = 0; k < 4; k++)
		pthread_join(threads[k], NULL);
	ck_assert_int_eq(got, 3 * ORDER_PER_THREAD);
	ck_assert_int_eq(direct, ORDER_PER_THREAD);
	ck_assert_uint_eq(take_id(r, a, NULL, NULL), 0);
	srv_registry_counts counts;
	srv_registry_counts_get(r, &counts);
	ck_assert_uint_eq(counts.last_id, 4 * ORDER_PER_THREAD);
	srv_client_release(r, a);
	srv_client_release(r, o);
	srv_registry_free(r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Resume with channels                                                */
/* ------------------------------------------------------------------ */

/* Publishes one message per entry of `where` ("chan" or "@name"; an
 * unknown name is skipped, as it takes no id).  Returns how many ids. */
static int
publish_all(srv_registry *r, const char *const *where, int n)
{
	int ids = 0;
	for (int i = 0; i < n; i++) {
		bool direct = where[i][0] == '@';
		srv_target to = { direct, where[i] + direct };
		uint64_t id;
		ck_assert_int_eq(srv_registry_publish(r, &to, "", where[i], strlen(where[i]), NULL,
		                                      &id, NULL), SRV_PUBLISH_OK);
		ck_assert_uint_eq(id, (uint64_t)++ids);
	}
	return ids;
}

/* Everything c can take now: its ids in order into ids[], and the sum of
 * the gaps.  Checks each is for c (name, channels csv) and in id order. */
typedef struct {
	uint64_t ids[256];
	int n;
	long missed, dropped;
	long first_missed;      /* the first message's missed (where it is told) */
} drained;

static drained
drain(srv_registry *r, srv_client *c, const char *name, const char *csv)
{
	drained d = { .first_missed = -1 };
	srv_msg *m;
	srv_gap gap;
	while (d.n < 256 && srv_client_take(r, c, 0, NULL, &m, &gap) == QUEUE_OK) {
		ck_assert_msg(for_client(m, name, csv), "id %llu (%s) is not for %s",
		              (unsigned long long)m->id, m->target, name);
		if (d.n > 0)
			ck_assert_uint_gt(m->id, d.ids[d.n - 1]);
		if (d.n == 0)
			d.first_missed = gap.missed;
		d.ids[d.n++] = m->id;
		d.missed += gap.missed;
		d.dropped += gap.dropped;
		srv_msg_release(m);
	}
	return d;
}

/* Ids 1..n of `where` that were for name / csv and above since. */
static int
count_for(const char *const *where, int n, const char *name, const char *csv, int since)
{
	int count = 0;
	srv_channel_list l = list_of(csv);
	for (int i = since; i < n; i++) {
		bool direct = where[i][0] == '@';
		bool mine = direct && strcmp(where[i] + 1, name) == 0;
		for (size_t k = 0; !direct && k < l.n; k++)
			mine |= strcmp(l.names[k], where[i]) == 0;
		count += mine;
	}
	return count;
}

#define ck_assert_ids(d, ...) do { \
	const uint64_t want_[] = { __VA_ARGS__ }; \
	size_t n_ = sizeof(want_) / sizeof(want_[0]); \
	ck_assert_int_eq((d).n, (int)n_); \
	for (size_t i_ = 0; i_ < n_; i_++) \
		ck_assert_uint_eq((d).ids[i_], want_[i_]); \
} while (0)

/* The contract's example: history 3, 10 messages of which 6 were for the
 * client and 3 are still held: missed is 3, not 7. */
START_TEST(resume_spec_example)
{
	srv_registry *r = srv_registry_new(100, 10, 3);
	const char *where[] = { "x", "y", "x", "y", "x", "y", "y", "x", "x", "x" };
	publish_all(r, where, 10);
	ck_assert_int_eq(count_for(where, 10, "late", "x", 0), 6);
	srv_client *c = join_in(r, "late", "x");
	ck_assert_int_eq(srv_client_resume(r, c, 0), 3);
	drained d = drain(r, c, "late", "x");
	ck_assert_ids(d, 8, 9, 10);
	ck_assert_int_eq(d.first_missed, 3);
	ck_assert_int_eq(d.missed, 3);
	ck_assert_int_eq(d.dropped, 0);
	ck_assert_int_eq(d.n + d.missed + d.dropped, 6);
	srv_registry_counts counts;
	srv_registry_counts_get(r, &counts);
	ck_assert_uint_eq(counts.missed, 3);
	srv_client_release(r, c);
	srv_registry_free(r);
}
END_TEST

/* since in the middle: only what is above it counts. */
START_TEST(resume_since_in_the_middle)
{
	srv_registry *r = srv_registry_new(100, 10, 4);
	const char *where[] = { "x", "x", "y", "x", "z", "y", "x", "x", "y", "z", "x", "y" };
	publish_all(r, where, 12);                    /* history: 9..12 */
	srv_client *c = join_in(r, "late", "x,z");
	/* Above 5: 7 8 (x) gone, 10 (z) 11 (x) held. */
	ck_assert_int_eq(srv_client_resume(r, c, 5), 2);
	drained d = drain(r, c, "late", "x,z");
	ck_assert_ids(d, 10, 11);
	ck_assert_int_eq(d.first_missed, 2);
	ck_assert_int_eq(d.missed, 2);
	ck_assert_int_eq(d.dropped, 0);
	ck_assert_int_eq(d.n + d.missed + d.dropped, count_for(where, 12, "late", "x,z", 5));
	/* Above 9: what the history holds, nothing missed. */
	ck_assert_int_eq(srv_client_resume(r, c, 9), 0);
	d = drain(r, c, "late", "x,z");
	ck_assert_ids(d, 10, 11);
	ck_assert_int_eq(d.missed + d.dropped, 0);
	/* At the last id: nothing at all. */
	ck_assert_int_eq(srv_client_resume(r, c, 12), 0);
	d = drain(r, c, "late", "x,z");
	ck_assert_int_eq(d.n, 0);
	srv_client_release(r, c);
	srv_registry_free(r);
}
END_TEST

/* A client that was here with a small queue: some were dropped, some of
 * those the history still has, direct messages among them, and another
 * client's and another channel's never count. */
START_TEST(resume_after_drops_with_direct_messages)
{
	srv_registry *r = srv_registry_new(3, 10, 4);
	srv_client *a = join_in(r, "a", "x");
	srv_client *b = join_in(r, "b", "y");
	const char *where[] = { "x", "y", "@a", "@b", "x", "x", "y", "@a", "x", "@b",
	                        "y", "@a", "x", "y" };
	/* a's: 1 3 5 | 6 8 9 12 13 -- its queue took 1 3 5, dropped 6 8 9 12 13;
	 * history: 11..14, so 12 and 13 come back and 6 8 9 are gone. */
	publish_all(r, where, 14);
	ck_assert_int_eq(srv_client_resume(r, a, 0), 3);
	drained d = drain(r, a, "a", "x");
	ck_assert_ids(d, 1, 3, 5, 12, 13);
	ck_assert_int_eq(d.first_missed, 3);
	ck_assert_int_eq(d.missed, 3);
	ck_assert_int_eq(d.dropped, 0);                /* counted once: as missed */
	ck_assert_int_eq(d.n + d.missed + d.dropped, count_for(where, 14, "a", "x", 0));
	/* b never resumed: its queue (3) took 2 4 7, dropped 10 11 14. */
	d = drain(r, b, "b", "y");
	ck_assert_ids(d, 2, 4, 7);
	ck_assert_int_eq(d.dropped, 3);
	ck_assert_int_eq(d.missed, 0);
	ck_assert_int_eq(d.n + d.missed + d.dropped, count_for(where, 14, "b", "y", 0));
	srv_client_release(r, a);
	srv_client_release(r, b);
	srv_registry_free(r);
}
END_TEST

/* A resume from the middle of what the queue holds, then drops after it. */
START_TEST(resume_then_drops)
{
	srv_registry *r = srv_registry_new(3, 10, 2);
	srv_client *a = join_in(r, "a", "x");
	const char *where[] = { "x", "@a", "y", "x", "x", "y", "@a", "x" };
	/* a's: 1 2 4 | 5 7 8: the queue took 1 2 4; history 7 8. */
	publish_all(r, where, 8);
	ck_assert_int_eq(srv_client_resume(r, a, 2), 1);       /* 5 is gone */
	drained d = drain(r, a, "a", "x");
	ck_assert_ids(d, 4, 7, 8);
	ck_assert_int_eq(d.first_missed, 1);
	ck_assert_int_eq(d.missed + d.dropped, 1);
	ck_assert_int_eq(d.n + d.missed + d.dropped, count_for(where, 8, "a", "x", 2));
	/* Now 5 more for a into a queue of 3, and 2 for others. */
	const char *more[] = { "x", "y", "@a", "x", "@b", "x", "x" };
	srv_client *b = join_in(r, "b", "y");
	for (int i = 0; i < 7; i++) {
		bool direct = more[i][0] == '@';
		srv_target to = { direct, more[i] + direct };
		ck_assert_int_eq(srv_registry_publish(r, &to, "", "m", 1, NULL, NULL, NULL), SRV_PUBLISH_OK);
	}
	d = drain(r, a, "a", "x");
	ck_assert_ids(d, 9, 11, 12);
	ck_assert_int_eq(d.dropped, 2);
	ck_assert_int_eq(d.missed, 0);
	ck_assert_int_eq(d.n + d.missed + d.dropped, 5);
	srv_client_release(r, a);
	srv_client_release(r, b);
	srv_registry_free(r);
}
END_TEST

/* Another channel's messages are never counted as missed, however many. */
START_TEST(resume_never_counts_other_channels)
{
	srv_registry *r = srv_registry_new(100, 10, 3);
	srv_client *a = join_in(r, "a", "x");
	to_channel(r, "x", "one", 1);
	ck_assert_uint_eq(take_id(r, a, NULL, NULL), 1);
	for (int i = 0; i < 20; i++)
		to_channel(r, "y", "other", 0);
	to_channel(r, "z", "third", 0);
	ck_assert_int_eq(srv_client_resume(r, a, 1), 0);
	drained d = drain(r, a, "a", "x");
	ck_assert_int_eq(d.n, 0);
	/* A new client in x: only x's one message, gone from the history. */
	srv_client *late = join_in(r, "late", "x");
	ck_assert_int_eq(srv_client_resume(r, late, 0), 1);
	to_channel(r, "x", "two", 2);
	d = drain(r, late, "late", "x");
	ck_assert_ids(d, 23);
	ck_assert_int_eq(d.first_missed, 1);
	/* Its channels now count, not those it had: in y since, y's are its.
	 * The history holds 21 (y), 22 (z), 23 (x): 2..20 of y are gone. */
	srv_client *mover = join_in(r, "mover", "x");
	ck_assert_int_eq(set_channels(r, mover, "y"), SRV_SUB_OK);
	ck_assert_int_eq(srv_client_resume(r, mover, 0), 19);
	d = drain(r, mover, "mover", "y");
	ck_assert_ids(d, 21);
	ck_assert_int_eq(d.first_missed, 19);
	ck_assert_int_eq(d.dropped, 0);
	to_channel(r, "y", "now", 1);
	d = drain(r, mover, "mover", "y");
	ck_assert_ids(d, 24);
	ck_assert_int_eq(d.missed + d.dropped, 0);
	srv_client_release(r, a);
	srv_client_release(r, late);
	srv_client_release(r, mover);
	srv_registry_free(r);
}
END_TEST

/* Resumed once in x, then moved to y and resumed again from the start:
 * y's lost messages were never counted, so now they must be. */
START_TEST(resume_after_a_channel_change)
{
	srv_registry *r = srv_registry_new(100, 10, 2);
	const char *where[] = { "x", "y", "y", "x", "z", "z" };
	publish_all(r, where, 6);                                /* history: 5 6 */
	srv_client *c = join_in(r, "c", "x");
	ck_assert_int_eq(srv_client_resume(r, c, 0), 2);         /* 1 and 4 */
	to_channel(r, "x", "x7", 1);
	drained d = drain(r, c, "c", "x");
	ck_assert_ids(d, 7);
	ck_assert_int_eq(d.first_missed, 2);
	/* Now in y: 2 and 3 were for it, and are gone. */
	ck_assert_int_eq(set_channels(r, c, "y"), SRV_SUB_OK);
	long missed = srv_client_resume(r, c, 0);
	to_channel(r, "y", "y8", 1);
	d = drain(r, c, "c", "y");
	ck_assert_ids(d, 8);
	ck_assert_msg(missed == 2 && d.first_missed == 2,
	              "in y now, 2 and 3 are gone: missed should be 2, is %ld (told %ld)",
	              missed, d.first_missed);
	srv_client_release(r, c);
	srv_registry_free(r);
}
END_TEST

/* More messages than the history's tags reach (65536, history.h): the
 * count of missed ones is still exact -- "missed counts exactly those
 * that neither its queue nor the history still holds". */
START_TEST(resume_counts_exactly_past_many_messages)
{
	srv_registry *r = srv_registry_new(100, 10, 3);
	to_channel(r, "x", "old", 0);                        /* id 1: x's, lost */
	for (int i = 0; i < 70000; i++)                       /* past 65536 tags */
		to_channel(r, "y", "other", 0);
	to_channel(r, "x", "new", 0);
	srv_client *late = join_in(r, "late", "x");
	long missed = srv_client_resume(r, late, 0);
	drained d = drain(r, late, "late", "x");
	ck_assert_int_eq(d.n, 1);                             /* "new", from the history */
	ck_assert_msg(missed == 1 && d.first_missed == 1,
	              "x had 2 messages, 1 still held: missed should be 1, is %ld (told %ld)",
	              missed, d.first_missed);
	srv_client_release(r, late);
	srv_registry_free(r);
}
END_TEST

/* ================================================================== */
/* Over real sockets                                                   */
/* ================================================================== */

static tu_server server;

static void
stop(void)
{
	ck_assert_int_eq(tu_server_stop(&server, 3.0), 0);
}

/* A request answered `status` with a JSON body: the body (json_decref it). */
static json_t *
expect_json(const char *method, const char *target, const char *body, int status)
{
	int got = 0;
	json_t *j = tu_request_json(server.port, method, target, body, &got);
	ck_assert_msg(got == status, "%s %s [%s] answered %d, not %d", method, target,
	              body != NULL ? body : "", got, status);
	ck_assert_msg(j != NULL, "%s %s [%s]: the %d is not JSON", method, target,
	              body != NULL ? body : "", got);
	return j;
}

/* An answer {"status":false,"error":E} with `status` (error NULL: any). */
static void
expect_error(const char *method, const char *target, const char *body, int status,
             const char *error)
{
	json_t *j = expect_json(method, target, body, status);
	ck_assert(json_is_false(json_object_get(j, "status")));
	const char *e = tu_json_str(j, "error");
	ck_assert_msg(e != NULL, "%s %s: no error text", method, target);
	if (error != NULL)
		ck_assert_str_eq(e, error);
	json_decref(j);
}

/* POST /send_msg body: 200 {"status":true,"id":N,"receivers":K}, K ==
 * receivers.  Returns N. */
static long
sent(const char *body, long receivers)
{
	json_t *j = expect_json("POST", "/send_msg", body, 200);
	ck_assert(json_is_true(json_object_get(j, "status")));
	long id = (long)tu_json_int(j, "id");
	ck_assert_int_gt(id, 0);
	ck_assert_msg(tu_json_int(j, "receivers") == receivers, "send %s: receivers %lld, not %ld",
	              body, tu_json_int(j, "receivers"), receivers);
	json_decref(j);
	return id;
}

/* One delivered message: its msg, from, and exactly one of "channel" (when
 * channel) or "to" (when to), with sent_at and dropped.  Returns its id. */
static long
check_msg(const json_t *m, const char *msg, const char *from, const char *channel,
          const char *to)
{
	ck_assert_ptr_nonnull(m);
	char *text = json_dumps(m, JSON_COMPACT);
	ck_assert_msg(json_is_true(json_object_get(m, "status")), "%s", text);
	ck_assert_msg(tu_json_str(m, "msg") != NULL && strcmp(tu_json_str(m, "msg"), msg) == 0,
	              "%s: msg is not %s", text, msg);
	ck_assert_msg(tu_json_str(m, "from") != NULL && strcmp(tu_json_str(m, "from"), from) == 0,
	              "%s: from is not %s", text, from);
	const char *ch = tu_json_str(m, "channel"), *name = tu_json_str(m, "to");
	if (channel != NULL) {
		ck_assert_msg(ch != NULL && strcmp(ch, channel) == 0, "%s: channel is not %s", text, channel);
		ck_assert_msg(json_object_get(m, "to") == NULL, "%s: both channel and to", text);
	} else {
		ck_assert_msg(name != NULL && strcmp(name, to) == 0, "%s: to is not %s", text, to);
		ck_assert_msg(json_object_get(m, "channel") == NULL, "%s: both channel and to", text);
	}
	ck_assert_msg(tu_json_int(m, "sent_at") > 0, "%s: no sent_at", text);
	ck_assert_msg(tu_json_int(m, "dropped") >= 0, "%s: no dropped", text);
	ck_assert_msg(json_object_get(m, "missed") == NULL || tu_json_int(m, "missed") > 0,
	              "%s: missed only when non-zero", text);
	ck_assert_msg(tu_json_int(m, "id") > 0, "%s: no id", text);
	free(text);
	return (long)tu_json_int(m, "id");
}

/* GET /ab_b1?QUERY: 200 (the page). */
static void
register_client(const char *query)
{
	char target[512];
	snprintf(target, sizeof(target), "/ab_b1?%s", query);
	tu_response r = tu_request(server.port, "GET", target, NULL);
	ck_assert_msg(r.status == 200, "%s answered %d", target, r.status);
	tu_response_free(&r);
}

/* GET /get_msg?QUERY (add timeout=0 for a short poll): the 200's JSON. */
static json_t *
get_msg(const char *query)
{
	char target[512];
	snprintf(target, sizeof(target), "/get_msg?%s", query);
	return expect_json("GET", target, NULL, 200);
}

/* A short poll that must find nothing. */
static void
get_nothing(const char *query)
{
	json_t *j = get_msg(query);
	ck_assert(json_is_false(json_object_get(j, "status")));
	ck_assert_str_eq(tu_json_str(j, "msg"), "");
	json_decref(j);
}

/* /stats says `name` has a long poll waiting. */
static bool
poll_waits(void *name)
{
	return tu_client_stat(server.port, name, "waiting") == 1;
}

/* A long poll on its own connection: the request is sent; read later. */
static int
long_poll_start(const char *query)
{
	int fd = tu_connect(server.port);
	char req[512];
	snprintf(req, sizeof(req), "GET /get_msg?%s HTTP/1.1\r\nHost: t\r\n\r\n", query);
	tu_send_str(fd, req);
	return fd;
}

static json_t *
long_poll_answer(int fd)
{
	ck_assert_msg(tu_wait_readable(fd, tu_slack(5)) >= 0, "the long poll did not answer");
	tu_response r = tu_read_response(fd, 0);
	ck_assert_int_eq(r.status, 200);
	json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
	ck_assert_msg(j != NULL, "not JSON: %s", r.body);
	tu_response_free(&r);
	close(fd);
	return j;
}

/* ------------------------------------------------------------------ */
/* /send_msg                                                           */
/* ------------------------------------------------------------------ */

START_TEST(send_msg_answers)
{
	server = tu_server_start((const char *[]){ "--queue-size", "1", NULL });
	register_client("name=a&channels=x,y");
	register_client("name=b&channels=x");
	register_client("name=c");                       /* room */
	long id = sent("content=one&channel=x", 2);
	ck_assert_int_eq(sent("content=two&channel=nobody-here", 0), id + 1);  /* an id all the same */
	ck_assert_int_eq(sent("content=three", 1), id + 2);                     /* room: c */
	/* A full queue is not a receiver. */
	ck_assert_int_eq(sent("content=four&to=c&name=a", 0), id + 3);          /* c holds "three" */
	ck_assert_int_eq(sent("content=five&channel=y", 0), id + 4);           /* a is full too */
	/* Refusals send nothing and use no id. */
	expect_error("POST", "/send_msg", "content=x&to=ghost", 404, "unknown client");
	expect_error("POST", "/send_msg", "content=x&channel=x&to=a", 400, NULL);
	expect_error("POST", "/send_msg", "content=x&to=a&channel=x", 400, NULL);
	expect_error("POST", "/send_msg", "content=x&channel=bad%20name", 400, "bad channel name");
	expect_error("POST", "/send_msg", "content=x&channel=a,b", 400, "bad channel name");
	expect_error("POST", "/send_msg", "content=x&channel=", 400, "bad channel name");
	expect_error("POST", "/send_msg", "content=x&channel=caf%C3%A9", 400, "bad channel name");
	char body[256];
	char long_name[SRV_CHANNEL_MAX + 2];
	memset(long_name, 'L', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	snprintf(body, sizeof(body), "content=x&channel=%s", long_name);
	expect_error("POST", "/send_msg", body, 400, "bad channel name");
	long_name[SRV_CHANNEL_MAX] = '\0';
	snprintf(body, sizeof(body), "content=x&channel=%s", long_name);
	ck_assert_int_eq(sent(body, 0), id + 5);        /* 64 bytes is a name */
	ck_assert_int_eq(sent("content=six&channel=A-Z_a.z:0-9", 0), id + 6);
	/* What arrived, with its channel or to. */
	json_t *m = get_msg("name=b&timeout=0");
	check_msg(m, "one", "", "x", NULL);
	json_decref(m);
	m = get_msg("name=c&timeout=0");
	ck_assert_int_eq(check_msg(m, "three", "", "room", NULL), id + 2);
	ck_assert_int_eq(tu_json_int(m, "dropped"), 1);          /* "four" */
	json_decref(m);
	get_nothing("name=c&timeout=0");
	m = get_msg("name=a&timeout=0");
	check_msg(m, "one", "", "x", NULL);
	ck_assert_int_eq(tu_json_int(m, "dropped"), 1);          /* "five": not after, counted */
	json_decref(m);
	get_nothing("name=a&timeout=0");
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Long and short polling                                              */
/* ------------------------------------------------------------------ */

START_TEST(polls_get_their_channels_and_names)
{
	server = tu_server_start(NULL);
	register_client("name=lp&channels=news,sport");
	register_client("name=other&channels=weather");
	long n1 = sent("content=n1&channel=news", 1);
	sent("content=w1&channel=weather", 1);
	sent("content=r1", 0);                               /* room: nobody */
	long s1 = sent("content=s1&channel=sport&name=bob", 1);
	long d1 = sent("content=d1&to=lp&name=bob", 1);
	sent("content=d2&to=other", 1);
	/* Short polls (timeout=0): lp's, in id order, and nothing else. */
	json_t *m = get_msg("name=lp&timeout=0");
	ck_assert_int_eq(check_msg(m, "n1", "", "news", NULL), n1);
	json_decref(m);
	m = get_msg("name=lp&timeout=0");
	ck_assert_int_eq(check_msg(m, "s1", "bob", "sport", NULL), s1);
	json_decref(m);
	m = get_msg("name=lp&timeout=0");
	ck_assert_int_eq(check_msg(m, "d1", "bob", NULL, "lp"), d1);
	json_decref(m);
	get_nothing("name=lp&timeout=0");
	m = get_msg("name=other&timeout=0");
	check_msg(m, "w1", "", "weather", NULL);
	json_decref(m);
	m = get_msg("name=other&timeout=0");
	check_msg(m, "d2", "", NULL, "other");
	json_decref(m);
	get_nothing("name=other&timeout=0");
	/* A long poll waits through another channel's message for its own. */
	int fd = long_poll_start("name=lp&timeout=5");
	ck_assert(tu_wait_until(poll_waits, "lp", tu_slack(5)));
	sent("content=w2&channel=weather", 1);
	sent("content=n2&channel=news", 1);
	m = long_poll_answer(fd);
	check_msg(m, "n2", "", "news", NULL);
	json_decref(m);
	fd = long_poll_start("name=lp&timeout=5");
	ck_assert(tu_wait_until(poll_waits, "lp", tu_slack(5)));
	sent("content=d3&to=other", 1);
	sent("content=d4&to=lp&name=x", 1);
	m = long_poll_answer(fd);
	check_msg(m, "d4", "x", NULL, "lp");
	json_decref(m);
	/* channels= on /get_msg makes the list exactly that. */
	get_nothing("name=lp&channels=weather,extra&timeout=0");
	sent("content=n3&channel=news", 0);
	sent("content=w3&channel=weather", 2);
	fd = long_poll_start("name=lp&timeout=5");
	m = long_poll_answer(fd);
	check_msg(m, "w3", "", "weather", NULL);
	json_decref(m);
	fd = long_poll_start("name=lp&channels=sport&timeout=5");
	ck_assert(tu_wait_until(poll_waits, "lp", tu_slack(5)));
	sent("content=w4&channel=weather", 1);
	sent("content=s4&channel=sport", 1);                  /* in effect while it waits */
	m = long_poll_answer(fd);
	check_msg(m, "s4", "", "sport", NULL);
	json_decref(m);
	/* Bad lists: 400 and the list stays; an unknown name: 404. */
	expect_error("GET", "/get_msg?name=lp&channels=a,,b&timeout=0", NULL, 400, "bad channel name");
	expect_error("GET", "/get_msg?name=lp&channels=&timeout=0", NULL, 400, "bad channel name");
	expect_error("GET", "/get_msg?name=lp&channels=a%20b&timeout=0", NULL, 400, "bad channel name");
	expect_error("GET", "/get_msg?name=lp&channels=a,&timeout=0", NULL, 400, "bad channel name");
	expect_error("GET", "/get_msg?name=nobody&channels=a&timeout=0", NULL, 404, "unknown client");
	expect_error("GET", "/ab_b1?name=lp&channels=ok,bad!", NULL, 400, "bad channel name");
	sent("content=s5&channel=sport", 1);
	m = get_msg("name=lp&timeout=0");
	check_msg(m, "s5", "", "sport", NULL);
	json_decref(m);
	/* /ab_b1 without channels= leaves them; with it, sets them. */
	register_client("name=lp");
	sent("content=s6&channel=sport", 1);
	register_client("name=lp&channels=room");
	sent("content=s7&channel=sport", 0);
	sent("content=r7", 1);
	stop();
}
END_TEST

START_TEST(per_client_limit_on_every_transport)
{
	server = tu_server_start((const char *[]){ "--max-channels-per-client", "2", NULL });
	register_client("name=a&channels=p,q");
	expect_error("GET", "/ab_b1?name=b&channels=p,q,r", NULL, 400, NULL);
	expect_error("GET", "/ab_b1?name=a&channels=p,q,r", NULL, 400, NULL);
	expect_error("GET", "/get_msg?name=a&channels=p,q,r&timeout=0", NULL, 400, NULL);
	expect_error("GET", "/events?name=a&channels=p,q,r", NULL, 400, NULL);
	sent("content=m&channel=p", 1);                   /* a's list is as it was */
	sent("content=m&channel=q", 1);
	sent("content=m&channel=r", 0);
	expect_error("GET", "/get_msg?name=b&timeout=0", NULL, 404, NULL);   /* b was not made */
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* /subscribe and /unsubscribe                                         */
/* ------------------------------------------------------------------ */

/* POST path body: 200 {"status":true,"channels":[...]} holding csv. */
static void
expect_channels_answer(const char *path, const char *body, const char *csv)
{
	json_t *j = expect_json("POST", path, body, 200);
	ck_assert(json_is_true(json_object_get(j, "status")));
	json_t *list = json_object_get(j, "channels"), *v;
	ck_assert(json_is_array(list));
	char got[1024] = "";
	size_t i;
	json_array_foreach(list, i, v) {
		ck_assert(json_is_string(v));
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i > 0 ? "," : "",
		         json_string_value(v));
	}
	ck_assert_msg(strcmp(got, csv) == 0, "%s %s: [%s], not [%s]", path, body, got, csv);
	json_decref(j);
}

START_TEST(subscribe_and_unsubscribe)
{
	server = tu_server_start((const char *[]){ "--max-channels-per-client", "3",
	                                           "--max-channels", "4", NULL });
	register_client("name=u");
	expect_channels_answer("/subscribe", "name=u&channel=a", "room,a");
	expect_channels_answer("/subscribe", "name=u&channel=a", "room,a");      /* once */
	expect_channels_answer("/subscribe", "channel=b&name=u", "room,a,b");
	sent("content=to-a&channel=a", 1);
	json_t *m = get_msg("name=u&timeout=0");
	check_msg(m, "to-a", "", "a", NULL);
	json_decref(m);
	/* Past the per-client limit: 400, the list as it was. */
	expect_error("POST", "/subscribe", "name=u&channel=c", 400, NULL);
	expect_channels_answer("/unsubscribe", "name=u&channel=c", "room,a,b");   /* not in it */
	expect_channels_answer("/unsubscribe", "name=u&channel=room", "a,b");
	expect_channels_answer("/unsubscribe", "name=u&channel=room", "a,b");
	sent("content=to-room", 0);
	expect_channels_answer("/subscribe", "name=u&channel=room", "a,b,room");  /* at the end */
	/* Unknown client, bad or missing channel, missing name. */
	expect_error("POST", "/subscribe", "name=ghost&channel=a", 404, "unknown client");
	expect_error("POST", "/unsubscribe", "name=ghost&channel=a", 404, "unknown client");
	expect_error("POST", "/subscribe", "name=u&channel=bad%2Fname", 400, "bad channel name");
	expect_error("POST", "/unsubscribe", "name=u&channel=bad%2Fname", 400, "bad channel name");
	expect_error("POST", "/subscribe", "name=u&channel=", 400, "bad channel name");
	expect_error("POST", "/subscribe", "name=u", 400, NULL);
	expect_error("POST", "/subscribe", "channel=a", 400, NULL);
	/* Past max-channels (4: a, b, room, and one more). */
	register_client("name=v");                                          /* room */
	expect_channels_answer("/subscribe", "name=v&channel=c", "room,c");
	expect_error("POST", "/subscribe", "name=v&channel=d", 503, "too many channels");
	expect_error("GET", "/ab_b1?name=w&channels=d", NULL, 503, "too many channels");
	expect_error("GET", "/get_msg?name=v&channels=room,c,d&timeout=0", NULL, 503, "too many channels");
	expect_channels_answer("/unsubscribe", "name=v&channel=d", "room,c");    /* unchanged */
	/* An empty channel is forgotten: room for d. */
	expect_channels_answer("/unsubscribe", "name=v&channel=c", "room");
	expect_channels_answer("/subscribe", "name=v&channel=d", "room,d");
	sent("content=to-d&channel=d", 1);
	sent("content=to-c&channel=c", 0);
	/* Only POST. */
	tu_response r = tu_request(server.port, "GET", "/subscribe?name=u&channel=a", NULL);
	ck_assert_int_eq(r.status, 405);
	tu_response_free(&r);
	stop();
}
END_TEST


/* ------------------------------------------------------------------ */
/* WebSocket                                                           */
/* ------------------------------------------------------------------ */

/* The next text frame of a chat WebSocket, parsed (pings answered). */
static json_t *
ws_next(int fd)
{
	for (;;) {
		ck_assert_msg(tu_wait_readable(fd, tu_slack(5)) >= 0, "no frame in time");
		uint8_t *p;
		size_t len;
		int op = wsf_read(fd, &p, &len);
		if (op == 0x9) {
			wsf_send(fd, &(wsf_frame){ .fin = true, .opcode = 0xA, .payload = p, .len = len,
			                           .mask = { 1, 2, 3, 4 } });
			free(p);
			continue;
		}
		ck_assert_msg(op == 0x1, "a frame of opcode %d, not text", op);
		json_t *j = json_loadb((const char *)p, len, 0, NULL);
		ck_assert_msg(j != NULL, "a frame that is not JSON: %s", p);
		free(p);
		return j;
	}
}

/* The next frame is a chat message; returns its id. */
static long
ws_expect(int fd, const char *msg, const char *from, const char *channel, const char *to)
{
	json_t *m = ws_next(fd);
	long id = check_msg(m, msg, from, channel, to);
	json_decref(m);
	return id;
}

/* The next frame is an error {"status":false,"error":E} (E NULL: any). */
static void
ws_expect_error(int fd, const char *error)
{
	json_t *j = ws_next(fd);
	char *text = json_dumps(j, JSON_COMPACT);
	ck_assert_msg(json_is_false(json_object_get(j, "status")), "not an error frame: %s", text);
	ck_assert_msg(tu_json_str(j, "error") != NULL, "no error text: %s", text);
	ck_assert_msg(json_object_get(j, "id") == NULL, "an error frame with an id: %s", text);
	if (error != NULL)
		ck_assert_str_eq(tu_json_str(j, "error"), error);
	free(text);
	json_decref(j);
}

static void
ws_text(int fd, const char *text)
{
	wsf_send_message(fd, 0x1, text, strlen(text));
}

/* An upgrade of target that must be refused: its answer. */
static tu_response
ws_upgrade(const char *target)
{
	int fd = tu_connect(server.port);
	char req[512];
	snprintf(req, sizeof(req),
	         "GET %s HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
	         target);
	tu_send_str(fd, req);
	tu_response r = tu_read_response(fd, 0);
	close(fd);
	return r;
}

static void
ws_refused(const char *target, const char *error)
{
	tu_response r = ws_upgrade(target);
	ck_assert_msg(r.status == 400, "%s answered %d, not 400", target, r.status);
	ck_assert_ptr_null(strstr(r.head, "101"));
	ck_assert_ptr_null(strstr(r.head, "Sec-WebSocket-Accept"));
	json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
	ck_assert_msg(j != NULL, "%s: not JSON: %s", target, r.body);
	ck_assert(json_is_false(json_object_get(j, "status")));
	if (error != NULL)
		ck_assert_str_eq(tu_json_str(j, "error"), error);
	json_decref(j);
	tu_response_free(&r);
}

/* Closes a WebSocket cleanly: close frame, the server's answer, EOF. */
static void
ws_close(int fd)
{
	wsf_send(fd, &(wsf_frame){ .fin = true, .opcode = 0x8,
	                           .payload = (const uint8_t *)"\x03\xe8", .len = 2 });
	ck_assert_int_eq(wsf_read_close_code(fd), 1000);
	close(fd);
}

START_TEST(ws_channels_and_names)
{
	server = tu_server_start(NULL);
	register_client("name=p&channels=alpha");
	int w = wsf_connect(server.port, "/ws?name=w1&channels=alpha,beta");
	/* In effect once the 101 is out. */
	long a1 = sent("content=a1&channel=alpha", 2);
	ck_assert_int_eq(ws_expect(w, "a1", "", "alpha", NULL), a1);
	sent("content=g1&channel=gamma", 0);
	sent("content=r1", 0);
	sent("content=b1&channel=beta", 1);
	ws_expect(w, "b1", "", "beta", NULL);                 /* not g1, not r1 */
	sent("content=d1&to=w1&name=p", 1);
	ws_expect(w, "d1", "p", NULL, "w1");
	/* JSON frames: to a channel (w1 is in it too), to a name. */
	ws_text(w, "{\"msg\":\"hey\",\"channel\":\"alpha\"}");
	ws_expect(w, "hey", "w1", "alpha", NULL);
	ws_text(w, "{\"to\":\"p\",\"msg\":\"psst\"}");
	ws_text(w, "{\"msg\":\"beta-only\",\"channel\":\"beta\"}");
	ws_expect(w, "beta-only", "w1", "beta", NULL);       /* and not psst */
	/* Plain text, and JSON without a string msg: as text, to alpha. */
	ws_text(w, "plain text");
	ws_expect(w, "plain text", "w1", "alpha", NULL);
	const char *not_addressed = "{\"msg\":5,\"channel\":\"beta\"}";
	ws_text(w, not_addressed);
	ws_expect(w, not_addressed, "w1", "alpha", NULL);
	ws_text(w, "[\"msg\",\"channel\"]");
	ws_expect(w, "[\"msg\",\"channel\"]", "w1", "alpha", NULL);
	const char *no_target = "{\"msg\":\"only\"}";          /* neither channel nor to */
	ws_text(w, no_target);
	ws_expect(w, no_target, "w1", "alpha", NULL);
	/* Errors come back as frames; nothing is sent; the session goes on. */
	ws_text(w, "{\"msg\":\"both\",\"channel\":\"alpha\",\"to\":\"p\"}");
	ws_expect_error(w, NULL);
	ws_text(w, "{\"msg\":\"lost\",\"to\":\"nobody\"}");
	ws_expect_error(w, "unknown client");
	ws_text(w, "{\"msg\":\"bad\",\"channel\":\"bad name\"}");
	ws_expect_error(w, "bad channel name");
	ws_text(w, "{\"msg\":\"bad\",\"channel\":\"\"}");
	ws_expect_error(w, "bad channel name");
	long end = sent("content=end&channel=alpha", 2);
	ck_assert_int_eq(ws_expect(w, "end", "", "alpha", NULL), end);
	/* What p saw: alpha's and its own, in order, none of the refused. */
	const char *p_saw[][4] = {
		{ "a1", "", "alpha", NULL }, { "hey", "w1", "alpha", NULL },
		{ "psst", "w1", NULL, "p" }, { "plain text", "w1", "alpha", NULL },
		{ not_addressed, "w1", "alpha", NULL }, { "[\"msg\",\"channel\"]", "w1", "alpha", NULL },
		{ no_target, "w1", "alpha", NULL },
		{ "end", "", "alpha", NULL },
	};
	long last = 0;
	for (size_t i = 0; i < sizeof(p_saw) / sizeof(p_saw[0]); i++) {
		json_t *m = get_msg("name=p&timeout=0");
		long id = check_msg(m, p_saw[i][0], p_saw[i][1], p_saw[i][2], p_saw[i][3]);
		ck_assert_int_gt(id, last);
		last = id;
		json_decref(m);
	}
	get_nothing("name=p&timeout=0");
	/* Refused in the handshake: 400, no 101. */
	ws_refused("/ws?name=w2&channels=bad!name", "bad channel name");
	ws_refused("/ws?name=w2&channels=room,,x", "bad channel name");
	ws_refused("/ws?name=w2&channels=", "bad channel name");
	ws_refused("/ws?name=w1&channels=ok,%2F", "bad channel name");
	sent("content=b2&channel=beta", 1);                   /* w1's list is as it was */
	ws_expect(w, "b2", "", "beta", NULL);
	ws_close(w);
	/* A WebSocket in the default channel: plain text goes to room. */
	int d = wsf_connect(server.port, "/ws?name=dflt");
	register_client("name=r");
	ws_text(d, "to the room");
	ws_expect(d, "to the room", "dflt", "room", NULL);
	json_t *m = get_msg("name=r&timeout=0");
	check_msg(m, "to the room", "dflt", "room", NULL);
	json_decref(m);
	ws_close(d);
	stop();
}
END_TEST

/* A name never seen that resumes on /ws is made with its channels= and
 * served from the history: its channels' messages only. */
START_TEST(ws_new_name_resumes_in_its_channels)
{
	server = tu_server_start(NULL);
	long h1 = sent("content=h1&channel=hist", 0);
	sent("content=o1&channel=other", 0);
	sent("content=r1", 0);
	long h2 = sent("content=h2&channel=hist", 0);
	int w = wsf_connect(server.port, "/ws?name=fresh&channels=hist,more&since=0");
	json_t *m = ws_next(w);
	ck_assert_int_eq(check_msg(m, "h1", "", "hist", NULL), h1);
	ck_assert_ptr_null(json_object_get(m, "missed"));
	json_decref(m);
	ck_assert_int_eq(ws_expect(w, "h2", "", "hist", NULL), h2);
	sent("content=o2&channel=other", 0);
	sent("content=m3&channel=more", 1);
	ws_expect(w, "m3", "", "more", NULL);
	ws_close(w);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Server-Sent Events                                                  */
/* ------------------------------------------------------------------ */

typedef struct {
	int fd;
	char buf[16384];
	size_t len;
} sse;

static bool
sse_fill(sse *s, double seconds)
{
	if (seconds <= 0 || tu_wait_readable(s->fd, seconds) < 0 || s->len == sizeof(s->buf))
		return false;
	ssize_t n = recv(s->fd, s->buf + s->len, sizeof(s->buf) - s->len, 0);
	if (n <= 0)
		return false;
	s->len += (size_t)n;
	return true;
}

/* Opens /events (target): 200 text/event-stream, and its head read. */
static sse *
sse_open(const char *target)
{
	sse *s = calloc(1, sizeof(*s));
	s->fd = tu_connect(server.port);
	char req[512];
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n",
	         target);
	tu_send_str(s->fd, req);
	char *end;
	double deadline = tu_now() + tu_slack(5);
	while ((end = memmem(s->buf, s->len, "\r\n\r\n", 4)) == NULL)
		ck_assert_msg(sse_fill(s, deadline - tu_now()), "no response head for %s", target);
	*end = '\0';
	ck_assert_msg(strncmp(s->buf, "HTTP/1.1 200 ", 13) == 0, "%s: %s", target, s->buf);
	ck_assert_ptr_nonnull(strstr(s->buf, "text/event-stream"));
	size_t head = (size_t)(end + 4 - s->buf);
	memmove(s->buf, s->buf + head, s->len - head);
	s->len -= head;
	return s;
}

static void
sse_close(sse *s)
{
	close(s->fd);
	free(s);
}

/* The next event's JSON (comments and the retry line skipped); checks
 * its id line is its JSON's id. */
static json_t *
sse_next(sse *s)
{
	double deadline = tu_now() + tu_slack(5);
	for (;;) {
		char *end;
		while ((end = memmem(s->buf, s->len, "\n\n", 2)) == NULL)
			ck_assert_msg(sse_fill(s, deadline - tu_now()), "no SSE event in time");
		size_t n = (size_t)(end + 2 - s->buf);
		char block[8192];
		ck_assert_uint_lt(n, sizeof(block));
		memcpy(block, s->buf, n);
		block[n] = '\0';
		memmove(s->buf, s->buf + n, s->len - n);
		s->len -= n;
		long id;
		if (sscanf(block, "id: %ld\n", &id) != 1)
			continue;                  /* retry:, a comment, a heartbeat */
		char *data = strstr(block, "\ndata: ");
		ck_assert_msg(data != NULL, "an event without data: %s", block);
		data += 7;
		json_t *j = json_loadb(data, strcspn(data, "\n"), 0, NULL);
		ck_assert_msg(j != NULL, "data that is not JSON: %s", block);
		ck_assert_int_eq(tu_json_int(j, "id"), id);
		return j;
	}
}

static long
sse_expect(sse *s, const char *msg, const char *from, const char *channel, const char *to)
{
	json_t *m = sse_next(s);
	long id = check_msg(m, msg, from, channel, to);
	json_decref(m);
	return id;
}

START_TEST(sse_channels_and_names)
{
	server = tu_server_start(NULL);
	sse *s = sse_open("/events?name=s1&channels=c1,c2");
	long c1 = sent("content=one&channel=c1", 1);         /* in effect with the head */
	sent("content=three&channel=c3", 0);
	long d = sent("content=psst&to=s1&name=boss", 1);
	sent("content=room", 0);
	long c2 = sent("content=two&channel=c2", 1);
	ck_assert_int_eq(sse_expect(s, "one", "", "c1", NULL), c1);
	ck_assert_int_eq(sse_expect(s, "psst", "boss", NULL, "s1"), d);
	ck_assert_int_eq(sse_expect(s, "two", "", "c2", NULL), c2);
	sent("content=again&channel=c3", 0);
	sent("content=mark&channel=c1", 1);
	sse_expect(s, "mark", "", "c1", NULL);
	sse_close(s);
	/* A new stream with channels= makes its list exactly that. */
	s = sse_open("/events?name=s1&channels=c3");
	sent("content=c1-now&channel=c1", 0);
	sent("content=c3-now&channel=c3", 1);
	sse_expect(s, "c3-now", "", "c3", NULL);
	sse_close(s);
	/* Without channels= it stays. */
	s = sse_open("/events?name=s1");
	sent("content=c3-still&channel=c3", 1);
	sse_expect(s, "c3-still", "", "c3", NULL);
	sse_close(s);
	/* A name never seen that resumes: made in its channels, from the history. */
	s = sse_open("/events?name=fresh&channels=c1,c2&since=0");
	const char *fresh_saw[][2] = { { "one", "c1" }, { "two", "c2" }, { "mark", "c1" },
	                               { "c1-now", "c1" } };
	for (size_t i = 0; i < 4; i++)
		sse_expect(s, fresh_saw[i][0], "", fresh_saw[i][1], NULL);
	sent("content=live&channel=c2", 1);
	sse_expect(s, "live", "", "c2", NULL);
	sse_close(s);
	/* A bad list: 400, no stream. */
	expect_error("GET", "/events?name=s2&channels=bad!", NULL, 400, "bad channel name");
	expect_error("GET", "/events?name=s2&channels=a,,b", NULL, 400, "bad channel name");
	stop();
}
END_TEST

/* How many clients /stats counts now. */
static long
client_count(void)
{
	json_t *j = tu_get_json(server.port, "/stats");
	ck_assert_ptr_nonnull(j);
	long n = (long)tu_json_int(j, "client_count");
	json_decref(j);
	return n;
}

static bool
no_clients(void *arg)
{
	(void)arg;
	return client_count() == 0;
}

/* POST /leave: 200 now, or after the stream that holds it ends; 404, 400,
 * 405 otherwise. */
START_TEST(leave_over_http)
{
	server = tu_server_start(NULL);
	register_client("name=u");
	ck_assert_int_eq(client_count(), 1);
	json_t *j = expect_json("POST", "/leave", "name=u", 200);
	ck_assert(json_is_true(json_object_get(j, "status")));
	ck_assert_str_eq(tu_json_str(j, "left"), "now");
	json_decref(j);
	ck_assert_int_eq(client_count(), 0);
	sent("content=nobody", 0);
	expect_error("POST", "/leave", "name=u", 404, "unknown client");
	expect_error("POST", "/leave", "", 400, "missing or bad name");
	tu_response r = tu_request(server.port, "GET", "/leave?name=u", NULL);
	ck_assert_int_eq(r.status, 405);
	tu_response_free(&r);

	sse *s = sse_open("/events?name=s1");
	j = expect_json("POST", "/leave", "name=s1", 200);
	ck_assert_str_eq(tu_json_str(j, "left"), "after its connections");
	json_decref(j);
	long id = sent("content=still-here", 1);               /* the stream still gets it */
	ck_assert_int_eq(sse_expect(s, "still-here", "", "room", NULL), id);
	sse_close(s);
	ck_assert(tu_wait_until(no_clients, NULL, tu_slack(5)));  /* the reaper, within a second */
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Limits on every way in                                              */
/* ------------------------------------------------------------------ */

START_TEST(limits_refuse_streams)
{
	server = tu_server_start((const char *[]){ "--max-channels-per-client", "2",
	                                           "--max-channels", "3", NULL });
	register_client("name=a&channels=c1,c2");
	int w = wsf_connect(server.port, "/ws?name=a");           /* keeps c1,c2 */
	/* Per client: 400 on every transport, before any 101 or stream. */
	ws_refused("/ws?name=b&channels=c1,c2,c3", NULL);
	expect_error("GET", "/events?name=b&channels=c1,c2,c3", NULL, 400, NULL);
	/* Past max-channels (c1, c2 and one more): 503, no 101, no stream. */
	register_client("name=b&channels=c3");
	tu_response r = ws_upgrade("/ws?name=c&channels=c4");
	ck_assert_int_eq(r.status, 503);
	ck_assert_ptr_null(strstr(r.head, "Sec-WebSocket-Accept"));
	json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(tu_json_str(j, "error"), "too many channels");
	json_decref(j);
	tu_response_free(&r);
	expect_error("GET", "/events?name=c&channels=c1,c4", NULL, 503, "too many channels");
	expect_error("GET", "/ab_b1?name=c&channels=c4", NULL, 503, "too many channels");
	sent("content=m&channel=c1", 1);
	ws_expect(w, "m", "", "c1", NULL);
	sent("content=m&channel=c4", 0);
	ws_close(w);
	stop();
}
END_TEST

/* The defaults: 16 channels per client, 10000 channels with a subscriber. */
START_TEST(default_limits_over_http)
{
	server = tu_server_start(NULL);
	char query[2048];
	int fd = tu_connect(server.port);
	for (int c = 0; c < 625; c++) {
		snprintf(query, sizeof(query), "GET /ab_b1?name=c%d&channels=", c);
		for (int i = 0; i < 16; i++)
			snprintf(query + strlen(query), sizeof(query) - strlen(query), "%sk%d.%d",
			         i > 0 ? "," : "", c, i);
		strcat(query, " HTTP/1.1\r\nHost: t\r\n\r\n");
		tu_send_str(fd, query);
		tu_response r = tu_read_response(fd, 0);
		ck_assert_msg(r.status == 200, "client %d of 16 channels: %d %s", c, r.status, r.body);
		tu_response_free(&r);
	}
	close(fd);
	/* 10000 now (room has nobody). */
	expect_error("GET", "/ab_b1?name=one-more&channels=new", NULL, 503, "too many channels");
	register_client("name=one-more&channels=k1.1");
	expect_error("POST", "/subscribe", "name=one-more&channel=new", 503, "too many channels");
	/* 17 for one client: 400. */
	strcpy(query, "/ab_b1?name=c0&channels=k0.0");
	for (int i = 1; i < 16; i++)
		snprintf(query + strlen(query), sizeof(query) - strlen(query), ",k0.%d", i);
	strcat(query, ",k1.0");                                  /* 17 distinct, all there */
	expect_error("GET", query, NULL, 400, NULL);
	for (int i = 0; i < 15; i++) {
		char body[64];
		snprintf(body, sizeof(body), "name=one-more&channel=k2.%d", i);
		json_t *ok = expect_json("POST", "/subscribe", body, 200);
		json_decref(ok);
	}
	expect_error("POST", "/subscribe", "name=one-more&channel=k3.0", 400, NULL);
	sent("content=m&channel=k1.1", 2);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* The suite                                                           */
/* ------------------------------------------------------------------ */

Suite *
channels_suite(void)
{
	Suite *s = suite_create("channels");
	TCase *room = tcase_create("room");
	tcase_add_checked_fixture(room, setup, teardown);
	tcase_set_timeout(room, 20);
	tcase_add_test(room, channel_names);
	tcase_add_test(room, new_client_is_in_room);
	tcase_add_test(room, set_channels_exactly);
	tcase_add_test(room, subscribe_appends_unsubscribe_removes);
	tcase_add_test(room, per_client_limit);
	tcase_add_test(room, max_channels_counts_channels_with_subscribers);
	tcase_add_test(room, default_limits);
	tcase_add_test(room, forgotten_clients_leave_their_channels);
	tcase_add_test(room, publish_to_a_channel);
	tcase_add_test(room, publish_to_a_name);
	tcase_add_test(room, full_queue_is_not_a_receiver);
	tcase_add_test(room, one_queue_in_id_order);
	tcase_add_test(room, one_queue_in_id_order_under_threads);
	tcase_add_test(room, resume_spec_example);
	tcase_add_test(room, resume_since_in_the_middle);
	tcase_add_test(room, resume_after_drops_with_direct_messages);
	tcase_add_test(room, resume_then_drops);
	tcase_add_test(room, resume_never_counts_other_channels);
	tcase_add_test(room, a_client_leaves);
	tcase_add_test(room, resume_after_a_channel_change);
	tcase_add_test(room, resume_counts_exactly_past_many_messages);
	suite_add_tcase(s, room);
	TCase *net = tcase_create("transports");
	tcase_set_timeout(net, 30);
	tcase_add_test(net, send_msg_answers);
	tcase_add_test(net, polls_get_their_channels_and_names);
	tcase_add_test(net, per_client_limit_on_every_transport);
	tcase_add_test(net, subscribe_and_unsubscribe);
	tcase_add_test(net, leave_over_http);
	tcase_add_test(net, ws_channels_and_names);
	tcase_add_test(net, ws_new_name_resumes_in_its_channels);
	tcase_add_test(net, sse_channels_and_names);
	tcase_add_test(net, limits_refuse_streams);
	tcase_add_test(net, default_limits_over_http);
	suite_add_tcase(s, net);
	suite_add_tcase(s, presence_tcase());
	return s;
}
