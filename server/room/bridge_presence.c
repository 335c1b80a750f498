/*
 * bridge_presence.c - each node's part of presence in Redis (see
 * bridge_presence.h).  Two Lua scripts keep each step atomic: one replaces
 * a node's hash (and lists the node), one reads every other node's rows of
 * a channel (and forgets the nodes whose hash expired).
 */
#include "server/room/bridge_presence.h"
#include "server/room/bridge_link.h"
#include "server/room/message.h"
#include "server/common/clock.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* KEYS: the node's hash, the set of nodes.  ARGV: node id, TTL in ms,
 * then field, value pairs. */
static const char PUT_SCRIPT[] =
	"redis.call('DEL', KEYS[1]) "
	"for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end "
	"redis.call('HSET', KEYS[1], '', '') "     /* an empty node still shows it lives */
	"redis.call('PEXPIRE', KEYS[1], ARGV[2]) "
	"redis.call('SADD', KEYS[2], ARGV[1]) "
	"return 1";

/* KEYS: the set of nodes.  ARGV: the hashes' prefix, this node's id, the
 * channel's field prefix "C<TAB>".  Returns field, value, field, ... */
static const char OTHERS_SCRIPT[] =
	"local out = {} "
	"for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do "
	"  if node ~= ARGV[2] then "
	"    local key = ARGV[1] .. node "
	"    if redis.call('EXISTS', key) == 0 then redis.call('SREM', KEYS[1], node) "
	"    else "
	"      local all = redis.call('HGETALL', key) "
	"      for i = 1, #all, 2 do "
	"        if string.sub(all[i], 1, #ARGV[3]) == ARGV[3] then "
	"          out[#out + 1] = all[i]; out[#out + 1] = all[i + 1] end "
	"      end "
	"    end "
	"  end "
	"end "
	"return out";

struct srv_presence_shared {
	srv_bridge *bridge;
	char node[17];               /* this node's id: 16 hex digits */
	char prefix[300];            /* KEY:presence: (KEY: at most 255 bytes) */
	char hash_key[320];          /* KEY:presence:<node> */
	char nodes_key[320];         /* KEY:presence:nodes */
	uint64_t last_sum;           /* what was written last (0: nothing yet) */
};

srv_presence_shared *
srv_presence_shared_new(srv_bridge *b)
{
	srv_presence_shared *ps = calloc(1, sizeof(*ps));
	if (ps == NULL)
		return NULL;
	unsigned char r[8];
	if (getentropy(r, sizeof(r)) != 0) {   /* no entropy: the clock and pid */
		uint64_t t = srv_wall_clock_ms() ^ ((uint64_t)getpid() << 40);
		memcpy(r, &t, sizeof(r));
	}
	for (int i = 0; i < 8; i++)
		snprintf(ps->node + 2 * i, 3, "%02x", r[i]);
	ps->bridge = b;
	snprintf(ps->prefix, sizeof(ps->prefix), "%s:presence:", srv_bridge_key(b));
	snprintf(ps->hash_key, sizeof(ps->hash_key), "%s%s", ps->prefix, ps->node);
	snprintf(ps->nodes_key, sizeof(ps->nodes_key), "%snodes", ps->prefix);
	return ps;
}

void
srv_presence_shared_free(srv_presence_shared *ps)
{
	free(ps);
}

static const char *
kind_word(srv_client_kind kind)
{
	return kind == SRV_CLIENT_WS ? "ws" : kind == SRV_CLIENT_SSE ? "sse" : "poll";
}

/* A checksum of the rows: whether they changed since the last write. */
static uint64_t
rows_sum(const srv_presence_row *rows, size_t n)
{
	uint64_t sum = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		char line[200];
		snprintf(line, sizeof(line), "%s\t%s\t%d\t%llu", rows[i].channel, rows[i].name,
		         (int)rows[i].kind, (unsigned long long)rows[i].since_ms);
		sum = (sum ^ srv_name_hash(line)) * 1099511628211ULL;
	}
	return sum | 1;              /* never 0: 0 is "nothing written" */
}

/* Renews this node's hash; false when it is gone (expired) or Redis is. */
static bool
renew(srv_presence_shared *ps)
{
	char ttl[16];
	snprintf(ttl, sizeof(ttl), "%d", SRV_PRESENCE_TTL_MS);
	const char *argv[] = { "PEXPIRE", ps->hash_key, ttl };
	redisReply *r = srv_bridge_run(ps->bridge, REDIS_REPLY_INTEGER, 3, argv, NULL);
	bool alive = r != NULL && r->integer == 1;
	if (r != NULL)
		freeReplyObject(r);
	return alive;
}

bool
srv_presence_shared_put(srv_presence_shared *ps, const srv_presence_row *rows, size_t n)
{
	uint64_t sum = rows_sum(rows, n);
	if (sum == ps->last_sum && renew(ps))
		return true;
	size_t argc = 7 + 2 * n;
	const char **argv = malloc(argc * sizeof(*argv));
	char *text = malloc((n > 0 ? n : 1) * 2 * 160);
	if (argv == NULL || text == NULL) {
		free(argv);
		free(text);
		return false;
	}
	char ttl[16];
	snprintf(ttl, sizeof(ttl), "%d", SRV_PRESENCE_TTL_MS);
	const char *head[] = { "EVAL", PUT_SCRIPT, "2", ps->hash_key, ps->nodes_key, ps->node, ttl };
	memcpy(argv, head, sizeof(head));
	for (size_t i = 0; i < n; i++) {
		char *field = text + i * 320, *value = field + 160;
		snprintf(field, 160, "%s\t%s", rows[i].channel, rows[i].name);
		snprintf(value, 160, "%s %llu", kind_word(rows[i].kind),
		         (unsigned long long)rows[i].since_ms);
		argv[7 + 2 * i] = field;
		argv[8 + 2 * i] = value;
	}
	redisReply *r = srv_bridge_run(ps->bridge, REDIS_REPLY_INTEGER, (int)argc, argv, NULL);
	free(argv);
	free(text);
	if (r == NULL)
		return false;
	freeReplyObject(r);
	ps->last_sum = sum;
	return true;
}

/* One "C<TAB>name" -> "kind since" pair as a row; false if malformed. */
static bool
parse_row(const char *field, const char *value, srv_presence_row *row)
{
	const char *tab = strchr(field, '\t');
	char kind[8];
	unsigned long long since;
	if (tab == NULL || (size_t)(tab - field) > SRV_TARGET_MAX || strlen(tab + 1) > SRV_NAME_MAX ||
	    sscanf(value, "%7s %llu", kind, &since) != 2)
		return false;
	memcpy(row->channel, field, (size_t)(tab - field));
	row->channel[tab - field] = '\0';
	snprintf(row->name, sizeof(row->name), "%s", tab + 1);
	row->kind = strcmp(kind, "ws") == 0 ? SRV_CLIENT_WS
	          : strcmp(kind, "sse") == 0 ? SRV_CLIENT_SSE : SRV_CLIENT_POLL;
	row->since_ms = since;
	return true;
}

long
srv_presence_shared_others(srv_presence_shared *ps, const char *channel, srv_presence_row **out)
{
	char field_prefix[SRV_TARGET_MAX + 2];
	snprintf(field_prefix, sizeof(field_prefix), "%s\t", channel);
	const char *argv[] = { "EVAL", OTHERS_SCRIPT, "1", ps->nodes_key, ps->prefix, ps->node,
	                       field_prefix };
	redisReply *r = srv_bridge_run(ps->bridge, REDIS_REPLY_ARRAY, 7, argv, NULL);
	if (r == NULL)
		return -1;
	srv_presence_row *rows = malloc((r->elements / 2 + 1) * sizeof(*rows));
	long n = 0;
	for (size_t i = 0; rows != NULL && i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING && r->element[i + 1]->type == REDIS_REPLY_STRING &&
		    parse_row(r->element[i]->str, r->element[i + 1]->str, &rows[n]))
			n++;
	freeReplyObject(r);
	*out = rows;
	return rows != NULL ? n : -1;
}
