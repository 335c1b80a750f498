/*
 * bridge.c - the room in a Redis stream (see bridge.h), with hiredis.
 *
 * Connections, each used by one side only:
 *   batch      the sends (srv_bridge_publish): grouped by bridge_batch.h
 *              into batches, one in flight at a time; the batch's leader
 *              appends every send of it (EVALSHA of the append script,
 *              loaded once per connection), writes them in one go and reads
 *              the replies in order -- one round trip for the whole batch.
 *              A failure drops the connection; the next batch reconnects,
 *              but not more often than every RETRY_MIN seconds, so a dead
 *              Redis costs a send nothing but a 503.
 *   side       srv_bridge_run (presence) and the look-up of sends in doubt,
 *              one command at a time under its own lock.
 *   reader     the bridge thread: XREAD BLOCK from the last entry it
 *              delivered, puts each entry into the local queues in stream
 *              order, and on any error reconnects with back-off.
 *
 * A send whose connection broke after it was written and before its reply
 * came is *in doubt*: Redis may have appended it (and every node will
 * deliver it) or not.  It is not answered 503 on a guess: each entry
 * carries a token unique to its send, and the sender looks for it in the
 * stream once Redis answers again (up to INDOUBT_WAIT): there, it is sent
 * (200, its id); not there, it never will be (503).  Only a Redis that
 * stays away longer leaves a send answered 503 that Redis may have written.
 *
 * An entry is {id, from, msg, channel or to, event, tok}: `id` is the room's message id, from the
 * counter KEY:seq that the append script raises in the same atomic step as
 * the XADD, so ids increase in the stream's order on every node.
 */
#include "server/room/bridge.h"
#include "server/room/bridge_batch.h"
#include "server/room/bridge_link.h"
#include "server/room/broadcast.h"
#include "server/room/channel.h"
#include "server/common/clock.h"
#include "server/common/log.h"
#include "server/common/thread.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 300   /* a Redis that does not answer this fast is down */
#define RETRY_MIN 0.1            /* seconds between reconnects, doubling... */
#define RETRY_MAX 2.0            /* ...up to this */
#define XREAD_BLOCK_MS 500       /* how long one XREAD waits (and how soon we see stop) */
#define XREAD_COUNT 256
#define BEHIND_EVERY 0.25        /* seconds between "behind" updates while busy */
#define BATCH_MAX 256            /* sends in one pipelined batch at most */
#define INDOUBT_WAIT 3.0         /* seconds a send in doubt waits for Redis to say */
#define FIND_PAGE 256            /* entries per XRANGE when looking for one in doubt... */
#define FIND_PAGES_MAX 64        /* ...and how many pages at most */

/* A batch of entries in one step: INCRBY the counter by their number and
 * XADD each, so ids follow stream order.  ARGV: MAXLEN, then per entry
 * from, msg, "channel" or "to", its name, event ("" none), the send's
 * token.  Returns {the first entry's id, the last one's stream id}. */
static const char APPEND_SCRIPT[] =
	"local n = (#ARGV - 1) / 6 "
	"local id = redis.call('INCRBY', KEYS[2], n) - n "
	"local sid "
	"for a = 2, #ARGV, 6 do "
	"  id = id + 1 "
	"  sid = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'id', id, "
	"    'from', ARGV[a], 'msg', ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], "
	"    'event', ARGV[a + 4], 'tok', ARGV[a + 5]) "
	"end "
	"return {id - n + 1, sid}";

/* One connection for commands (the batch's, or the side one).  Its fields
 * are under `lock` (the side one) or the batch's leader's alone (batch). */
typedef struct {
	pthread_mutex_t lock;
	redisContext *c;              /* NULL: not connected */
	char script_sha[41];          /* the append script, loaded */
	double retry_at;              /* no reconnect before... */
	unsigned retry_connects;      /* ...unless the bridge thread connected since */
	unsigned epoch;               /* the link's epoch when connected */
} publisher;

struct srv_bridge {
	srv_registry *registry;       /* where entries read are delivered */
	int stop_fd;                  /* readable once the server stops */
	char key[256];                /* the room's stream */
	long history;                 /* MAXLEN ~ of the stream */
	char host[256];
	int port, db;
	char seq_key[300];

	srv_batch batch;              /* the sends, grouped (bridge_batch.h) */
	publisher batch_pub;          /* the batch's connection: its leader's only */
	char last_sid[64];            /* the leader's: the stream id it appended last */
	publisher side;               /* srv_bridge_run, and sends in doubt */
	char node[17];                /* this node's part of each token: 16 hex digits */
	atomic_ullong next_token;
	atomic_uint epoch;            /* +1 each time the bridge thread loses
	                                 Redis: older connections may lead to a
	                                 Redis that is gone */
	atomic_uint connects;         /* +1 each time the bridge thread connects:
	                                 Redis is back, try at once */

	/* Written by the bridge thread, read by /stats. */
	atomic_bool connected;
	atomic_ullong last_id;        /* the last message id delivered */
	atomic_ullong behind;         /* ids given out that this node has not read */
	atomic_ullong reconnects;
	pthread_mutex_t entry_lock;
	char last_entry[64];          /* the stream id XREAD continues after */
};

static void send_batch(void *ctx, srv_batch_item *first);
static const redisReply *entry_field(const redisReply *fields, const char *field);
static bool wait_or_stop(srv_bridge *b, double seconds);

/* Decimal digits only (no sign, no space) up to `max`, from p; *end after
 * them.  -1 when there are none or the number is above max. */
static long
parse_digits(const char *p, const char **end, long max)
{
	long n = 0;
	const char *q = p;
	for (; *q >= '0' && *q <= '9'; q++) {
		n = n * 10 + (*q - '0');
		if (n > max) {
			*end = q;
			return -1;
		}
	}
	*end = q;
	return q == p ? -1 : n;
}

/* A host as hiredis takes it: a name or an IPv4 address (letters, digits,
 * '.', '-', '_'), or an IPv6 address (hex digits, ':', '.'). */
static bool
host_valid(const char *host, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char ch = host[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		          (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_' || ch == ':';
		if (!ok)
			return false;
	}
	return len > 0;
}

bool
srv_bridge_parse_url(const char *url, char *host, size_t host_len, int *port, int *db,
                     char *err, size_t errlen)
{
	if (strncmp(url, "redis://", 8) != 0) {
		snprintf(err, errlen, "--redis wants redis://HOST:PORT[/DB], not '%s'", url);
		return false;
	}
	const char *p = url + 8;
	if (strchr(p, '@') != NULL) {
		snprintf(err, errlen, "--redis: no user or password in the URL (not supported), "
		         "not '%s'", url);
		return false;
	}
	/* The host: [IPv6] in brackets, or everything up to the last ':'. */
	const char *host_start = p, *host_end, *colon;
	if (*p == '[') {
		host_start = p + 1;
		host_end = strchr(host_start, ']');
		colon = host_end != NULL && host_end[1] == ':' ? host_end + 1 : NULL;
	} else {
		const char *slash = strchr(p, '/');
		colon = strrchr(p, ':');
		if (colon != NULL && slash != NULL && slash < colon)
			colon = NULL;
		host_end = colon;
	}
	if (colon == NULL || host_end == host_start) {
		snprintf(err, errlen, "--redis wants redis://HOST:PORT[/DB], not '%s'", url);
		return false;
	}
	size_t len = (size_t)(host_end - host_start);
	if (!host_valid(host_start, len) || len >= host_len) {
		snprintf(err, errlen, "--redis: bad host in '%s'", url);
		return false;
	}
	const char *end;
	long n = parse_digits(colon + 1, &end, 65535);
	if (n < 1 || (*end != '\0' && *end != '/')) {
		snprintf(err, errlen, "--redis: bad port in '%s'", url);
		return false;
	}
	long d = 0;
	if (*end == '/') {
		d = parse_digits(end + 1, &end, 1000000);
		if (d < 0 || *end != '\0') {
			snprintf(err, errlen, "--redis: bad database number in '%s'", url);
			return false;
		}
	}
	memcpy(host, host_start, len);     /* only now: a refusal leaves it alone */
	host[len] = '\0';
	*port = (int)n;
	*db = (int)d;
	return true;
}

srv_bridge *
srv_bridge_new(const char *url, const char *key, long history, srv_registry *r, int stop_fd)
{
	srv_bridge *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	b->registry = r;
	b->stop_fd = stop_fd;
	b->history = history;
	char err[256];
	if (strlen(key) >= sizeof(b->key) ||
	    !srv_bridge_parse_url(url, b->host, sizeof(b->host), &b->port, &b->db, err, sizeof(err))) {
		free(b);
		return NULL;
	}
	snprintf(b->key, sizeof(b->key), "%s", key);
	snprintf(b->seq_key, sizeof(b->seq_key), "%s:seq", key);
	snprintf(b->last_entry, sizeof(b->last_entry), "$");
	unsigned char rnd[8];
	if (getentropy(rnd, sizeof(rnd)) != 0) {   /* no entropy: the clock and pid */
		uint64_t t = srv_wall_clock_ms() ^ ((uint64_t)getpid() << 40);
		memcpy(rnd, &t, sizeof(rnd));
	}
	for (int i = 0; i < 8; i++)
		snprintf(b->node + 2 * i, 3, "%02x", rnd[i]);
	srv_batch_init(&b->batch, BATCH_MAX, send_batch, b);
	pthread_mutex_init(&b->batch_pub.lock, NULL);
	pthread_mutex_init(&b->side.lock, NULL);
	pthread_mutex_init(&b->entry_lock, NULL);
	return b;
}

void
srv_bridge_free(srv_bridge *b)
{
	if (b == NULL)
		return;
	publisher *conns[] = { &b->batch_pub, &b->side };
	for (size_t i = 0; i < 2; i++) {
		if (conns[i]->c != NULL)
			redisFree(conns[i]->c);
		pthread_mutex_destroy(&conns[i]->lock);
	}
	srv_batch_destroy(&b->batch);
	pthread_mutex_destroy(&b->entry_lock);
	free(b);
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

static struct timeval
ms_to_timeval(int ms)
{
	return (struct timeval){ ms / 1000, (ms % 1000) * 1000 };
}

/* A reply of the wanted type, or NULL (and the reply freed). */
static redisReply *
command_argv(redisContext *c, int type, int argc, const char **argv, const size_t *lens)
{
	redisReply *r = redisCommandArgv(c, argc, argv, lens);
	if (r != NULL && r->type != type) {
		if (r->type == REDIS_REPLY_ERROR)
			srv_log(SRV_LOG_WARN, "redis: %s", r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* A connected context (SELECTed), or NULL. read_timeout_ms bounds every
 * command on it. */
static redisContext *
connect_redis(srv_bridge *b, int read_timeout_ms)
{
	redisContext *c = redisConnectWithTimeout(b->host, b->port, ms_to_timeval(CONNECT_TIMEOUT_MS));
	if (c == NULL || c->err) {
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, ms_to_timeval(read_timeout_ms));
	if (b->db != 0) {
		char db[16];
		snprintf(db, sizeof(db), "%d", b->db);
		const char *argv[] = { "SELECT", db };
		redisReply *r = command_argv(c, REDIS_REPLY_STATUS, 2, argv, NULL);
		if (r == NULL) {
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	return c;
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

/* Connects p and loads the append script.  Caller holds p->lock (or is
 * the batch's leader, for batch_pub). */
static bool
publisher_connect(srv_bridge *b, publisher *p)
{
	p->c = connect_redis(b, 1000);
	if (p->c == NULL)
		return false;
	const char *argv[] = { "SCRIPT", "LOAD", APPEND_SCRIPT };
	redisReply *r = command_argv(p->c, REDIS_REPLY_STRING, 3, argv, NULL);
	if (r == NULL || r->len != 40) {
		if (r != NULL)
			freeReplyObject(r);
		redisFree(p->c);
		p->c = NULL;
		return false;
	}
	memcpy(p->script_sha, r->str, 41);
	freeReplyObject(r);
	p->epoch = atomic_load(&b->epoch);
	return true;
}

/* p connected (again, if its link is older than the bridge's last
 * reconnect).  Caller holds p->lock.  False when Redis is unreachable. */
static bool
publisher_ready(srv_bridge *b, publisher *p, double now)
{
	if (p->c != NULL && p->epoch != atomic_load(&b->epoch)) {
		/* Made before the bridge lost Redis: it may lead nowhere (a send
		 * on it would wait for a timeout, then be in doubt).  Start afresh. */
		redisFree(p->c);
		p->c = NULL;
		p->retry_at = 0;
	}
	if (p->c == NULL) {
		if (now < p->retry_at && p->retry_connects == atomic_load(&b->connects))
			return false;        /* it was down a moment ago: do not wait again */
		if (!publisher_connect(b, p)) {
			p->retry_at = now + RETRY_MIN;
			p->retry_connects = atomic_load(&b->connects);
			return false;
		}
	}
	return true;
}

/* Drops p's connection after a failure (the next use reconnects, not
 * before RETRY_MIN). */
static void
publisher_drop(srv_bridge *b, publisher *p, double now)
{
	redisFree(p->c);
	p->c = NULL;
	p->retry_at = now + RETRY_MIN;
	p->retry_connects = atomic_load(&b->connects);
}

/* Runs one command on p: its reply, of the wanted type, or NULL (and the
 * connection dropped: maybe done, maybe not).  Caller holds p->lock. */
static redisReply *
run_on(srv_bridge *b, publisher *p, int type, int argc, const char **argv, const size_t *lens)
{
	double now = srv_monotonic();
	if (!publisher_ready(b, p, now))
		return NULL;
	redisReply *r = command_argv(p->c, type, argc, argv, lens);
	if (r == NULL)
		publisher_drop(b, p, now);
	return r;
}

/*
 * One send on its way (srv_bridge_publish's, on its thread's stack).  The
 * batch's leader appends it, reads its reply and sets the result:
 *   SEND_OK        Redis appended it: id is its id
 *   SEND_REFUSED   it is not in the stream (never sent, or Redis said no)
 *   SEND_IN_DOUBT  sent, but the connection broke before its reply: it may
 *                  be in the stream (and read by every node), or not;
 *                  resolve_in_doubt finds out
 */
typedef enum { SEND_OK, SEND_REFUSED, SEND_IN_DOUBT } send_result;

typedef struct {
	srv_batch_item item;          /* first: the batch hands back &item */
	const srv_target *to;
	const char *from, *text, *event;
	size_t len;
	char token[40];               /* unique to this send: "<node>-<n>" */
	send_result result;
	uint64_t id;
	char since[64];               /* IN_DOUBT: the last entry appended before it ("": none) */
} pending_send;

#define HEAD_ARGS 6               /* EVALSHA sha 2 key seq_key MAXLEN */
#define ENTRY_ARGS 6              /* from msg kind name event token */

/* s's six arguments of the append script into argv and lens. */
static void
entry_args(const pending_send *s, const char **argv, size_t *lens)
{
	const char *kind = s->to->direct ? "to" : "channel";
	const char *event = s->event != NULL ? s->event : "";
	const char *args[ENTRY_ARGS] = { s->from, s->text, kind, s->to->name, event, s->token };
	for (int i = 0; i < ENTRY_ARGS; i++) {
		argv[i] = args[i];
		lens[i] = i == 1 ? s->len : strlen(args[i]);
	}
}

/* The batch's one EVALSHA in p's output buffer (nothing is written yet);
 * false if out of memory. */
static bool
append_batch(srv_bridge *b, publisher *p, srv_batch_item *first, size_t n)
{
	size_t argc = HEAD_ARGS + ENTRY_ARGS * n;
	const char **argv = malloc(argc * sizeof(*argv));
	size_t *lens = malloc(argc * sizeof(*lens));
	bool ok = argv != NULL && lens != NULL;
	if (ok) {
		char max[24];
		snprintf(max, sizeof(max), "%ld", b->history);
		const char *head[HEAD_ARGS] = { "EVALSHA", p->script_sha, "2", b->key, b->seq_key, max };
		for (int i = 0; i < HEAD_ARGS; i++) {
			argv[i] = head[i];
			lens[i] = strlen(head[i]);
		}
		size_t at = HEAD_ARGS;
		for (srv_batch_item *it = first; it != NULL; it = it->next, at += ENTRY_ARGS)
			entry_args((pending_send *)it, argv + at, lens + at);
		ok = redisAppendCommandArgv(p->c, (int)argc, argv, lens) == REDIS_OK;
	}
	free(argv);
	free(lens);
	return ok;
}

/* Gives every send of the batch its result, from the script's reply r
 * ({first id, last stream id}; NULL: none came). */
static void
take_reply(srv_bridge *b, srv_batch_item *first, const redisReply *r)
{
	bool ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	          r->element[0]->type == REDIS_REPLY_INTEGER &&
	          r->element[1]->type == REDIS_REPLY_STRING;
	if (r != NULL && r->type == REDIS_REPLY_ERROR)
		srv_log(SRV_LOG_WARN, "redis: %s", r->str);
	uint64_t id = ok ? (uint64_t)r->element[0]->integer : 0;
	for (srv_batch_item *it = first; it != NULL; it = it->next) {
		pending_send *s = (pending_send *)it;
		if (r == NULL) {
			s->result = SEND_IN_DOUBT;
		} else if (ok) {
			s->result = SEND_OK;
			s->id = id++;
		} else {
			s->result = SEND_REFUSED;      /* an error: the script appended nothing */
		}
	}
	if (ok)
		snprintf(b->last_sid, sizeof(b->last_sid), "%s", r->element[1]->str);
}

/*
 * The batch's send (bridge_batch.h): the whole batch in one EVALSHA of the
 * append script on the batch connection -- one round trip, and one script
 * run in Redis, for every send in it (a script per send cost Redis about
 * as much CPU as the rest of the send together).  The script is atomic: the
 * batch is in the stream whole, in order, or not at all.  Runs in the
 * leader's thread only.
 */
static void
send_batch(void *ctx, srv_batch_item *first)
{
	srv_bridge *b = ctx;
	publisher *p = &b->batch_pub;
	double now = srv_monotonic();
	size_t n = 0;
	for (srv_batch_item *it = first; it != NULL; it = it->next) {
		pending_send *s = (pending_send *)it;
		snprintf(s->since, sizeof(s->since), "%s", b->last_sid);
		s->result = SEND_REFUSED;          /* until it is known to have left */
		n++;
	}
	if (!publisher_ready(b, p, now) || !append_batch(b, p, first, n))
		return;                            /* nothing left this process */
	redisReply *r;
	if (redisGetReply(p->c, (void **)&r) != REDIS_OK)
		r = NULL;
	take_reply(b, first, r);
	/* No reply: the connection is broken.  NOSCRIPT: a Redis restarted
	 * (and forgot the script): connect again, and load it. */
	bool drop = r == NULL || (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0);
	if (r != NULL)
		freeReplyObject(r);
	if (drop)
		publisher_drop(b, p, now);
}

/*
 * Whether an append in doubt is in the stream: one look for its token
 * after the last entry appended before it, on the side connection.  1: it
 * is (*id_out its id); 0: it is not, and will not be (the Redis that answers
 * has no trace of it -- unless it was not gone but stalled past the read
 * timeout, with the batch still unread in its socket: the one case this
 * cannot tell); -1: unknown (no answer, or too far to look).
 */
static int
find_token(srv_bridge *b, const pending_send *s, uint64_t *id_out)
{
	char start[72], count[16];
	snprintf(start, sizeof(start), s->since[0] != '\0' ? "(%s" : "-", s->since);
	snprintf(count, sizeof(count), "%d", FIND_PAGE);
	for (int page = 0; page < FIND_PAGES_MAX; page++) {
		const char *argv[] = { "XRANGE", b->key, start, "+", "COUNT", count };
		pthread_mutex_lock(&b->side.lock);
		redisReply *r = run_on(b, &b->side, REDIS_REPLY_ARRAY, 6, argv, NULL);
		pthread_mutex_unlock(&b->side.lock);
		if (r == NULL)
			return -1;
		int found = 0;
		for (size_t i = 0; i < r->elements && found == 0; i++) {
			const redisReply *e = r->element[i];
			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
				continue;
			const redisReply *tok = entry_field(e->element[1], "tok");
			const redisReply *id = entry_field(e->element[1], "id");
			if (tok != NULL && id != NULL && strcmp(tok->str, s->token) == 0) {
				*id_out = strtoull(id->str, NULL, 10);
				found = 1;
			}
			snprintf(start, sizeof(start), "(%s", e->element[0]->str);
		}
		bool last_page = r->elements < (size_t)FIND_PAGE;
		freeReplyObject(r);
		if (found || last_page)
			return found;
	}
	return -1;
}

/* Looks for an append in doubt until Redis answers, up to INDOUBT_WAIT:
 * true when it is in the stream (s->id its id), false when it is not or
 * Redis stayed away (then answered 503, though Redis may hold it). */
static bool
resolve_in_doubt(srv_bridge *b, pending_send *s)
{
	double deadline = srv_monotonic() + INDOUBT_WAIT;
	for (;;) {
		int found = find_token(b, s, &s->id);
		if (found >= 0) {
			srv_log(SRV_LOG_INFO, "redis: a send in doubt is %s the stream (token %s)",
			        found ? "in" : "not in", s->token);
			return found == 1;
		}
		if (srv_monotonic() >= deadline || !wait_or_stop(b, RETRY_MIN)) {
			srv_log(SRV_LOG_WARN, "redis: a send in flight when Redis went away is answered "
			        "503; if Redis wrote it, it may still be delivered (token %s)", s->token);
			return false;
		}
	}
}

bool
srv_bridge_publish(srv_bridge *b, const srv_target *to, const char *from, const char *text,
                   size_t len, const char *event, uint64_t *id_out)
{
	pending_send s = { .to = to, .from = from, .text = text, .event = event, .len = len };
	snprintf(s.token, sizeof(s.token), "%s-%llu", b->node,
	         (unsigned long long)atomic_fetch_add(&b->next_token, 1));
	srv_batch_submit(&b->batch, &s.item);
	bool ok = s.result == SEND_OK || (s.result == SEND_IN_DOUBT && resolve_in_doubt(b, &s));
	if (ok)
		*id_out = s.id;
	return ok;
}

void *
srv_bridge_run(srv_bridge *b, int type, int argc, const char **argv, const size_t *lens)
{
	pthread_mutex_lock(&b->side.lock);
	redisReply *r = run_on(b, &b->side, type, argc, argv, lens);
	pthread_mutex_unlock(&b->side.lock);
	return r;
}

const char *
srv_bridge_key(const srv_bridge *b)
{
	return b->key;
}

/* ------------------------------------------------------------------ */
/* Reading: the bridge thread                                          */
/* ------------------------------------------------------------------ */

/* The value of `field` in a stream entry's field list, or NULL. */
static const redisReply *
entry_field(const redisReply *fields, const char *field)
{
	if (fields->type != REDIS_REPLY_ARRAY)
		return NULL;             /* an entry deleted since: no fields */
	for (size_t i = 0; i + 1 < fields->elements; i += 2)
		if (fields->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(fields->element[i]->str, field) == 0)
			return fields->element[i + 1];
	return NULL;
}

static void
set_last_entry(srv_bridge *b, const char *entry)
{
	pthread_mutex_lock(&b->entry_lock);
	snprintf(b->last_entry, sizeof(b->last_entry), "%s", entry);
	pthread_mutex_unlock(&b->entry_lock);
}

/* Delivers the entries of one XREAD reply; false when it is malformed.
 * XREAD goes on after the last entry delivered (set once per reply, not
 * per entry: a lock and a copy each). */
static bool
deliver_entries(srv_bridge *b, const redisReply *reply)
{
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1)
		return false;
	const redisReply *stream = reply->element[0];
	if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2)
		return false;
	const redisReply *entries = stream->element[1];
	const char *last = NULL;
	bool ok = true;
	for (size_t i = 0; i < entries->elements; i++) {
		const redisReply *e = entries->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING) {
			ok = false;
			break;
		}
		const redisReply *id = entry_field(e->element[1], "id");
		const redisReply *from = entry_field(e->element[1], "from");
		const redisReply *msg = entry_field(e->element[1], "msg");
		const redisReply *channel = entry_field(e->element[1], "channel");
		const redisReply *to = entry_field(e->element[1], "to");
		const redisReply *event = entry_field(e->element[1], "event");
		if (id != NULL && from != NULL && msg != NULL) {
			uint64_t n = strtoull(id->str, NULL, 10);
			/* A stream entry's id is "<ms>-<seq>": the ms is when XADD ran. */
			uint64_t sent_at = strtoull(e->element[0]->str, NULL, 10);
			/* An entry from before channels is for the default channel. */
			srv_target target = { to != NULL, to != NULL ? to->str
			                    : channel != NULL ? channel->str : SRV_DEFAULT_CHANNEL };
			const char *ev = event != NULL && event->len > 0 ? event->str : NULL;
			if (!srv_registry_deliver(b->registry, n, &target, from->str, msg->str, msg->len,
			                          ev, sent_at)) {
				ok = false;      /* out of memory: read it again */
				break;
			}
			atomic_store(&b->last_id, n);
		}
		last = e->element[0]->str;
	}
	if (last != NULL)
		set_last_entry(b, last);
	return ok;
}

/*
 * Where a node starts on a connection it has never read from: after the
 * stream's last entry (what was sent before this node existed is not its
 * clients'), with local ids continuing from the room's counter.
 */
static bool
find_start(srv_bridge *b, redisContext *c)
{
	const char *argv[] = { "XREVRANGE", b->key, "+", "-", "COUNT", "1" };
	redisReply *r = command_argv(c, REDIS_REPLY_ARRAY, 6, argv, NULL);
	if (r == NULL)
		return false;
	if (r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements == 2) {
		const redisReply *id = entry_field(r->element[0]->element[1], "id");
		if (id != NULL) {
			uint64_t n = strtoull(id->str, NULL, 10);
			srv_registry_start_after(b->registry, n);
			atomic_store(&b->last_id, n);
		}
		set_last_entry(b, r->element[0]->element[0]->str);
	} else {
		set_last_entry(b, "0-0");      /* an empty stream: read it all */
	}
	freeReplyObject(r);
	return true;
}

/* How many ids the room has given out that this node has not read. */
static void
update_behind(srv_bridge *b, redisContext *c)
{
	const char *argv[] = { "GET", b->seq_key };
	redisReply *r = redisCommandArgv(c, 2, argv, NULL);
	if (r != NULL && r->type == REDIS_REPLY_STRING) {
		uint64_t given = strtoull(r->str, NULL, 10), read = atomic_load(&b->last_id);
		atomic_store(&b->behind, given > read ? given - read : 0);
	}
	if (r != NULL)
		freeReplyObject(r);
}

/* True once the server stops (its stop_fd is readable). */
static bool
stop_requested(srv_bridge *b)
{
	struct pollfd p = { .fd = b->stop_fd, .events = POLLIN };
	return poll(&p, 1, 0) > 0;
}

/* Reads the stream on c until an error or stop. */
static void
read_stream(srv_bridge *b, redisContext *c)
{
	char block[16], count[16], after[64];
	double next_behind = 0;
	snprintf(block, sizeof(block), "%d", XREAD_BLOCK_MS);
	snprintf(count, sizeof(count), "%d", XREAD_COUNT);
	while (!stop_requested(b)) {
		pthread_mutex_lock(&b->entry_lock);
		snprintf(after, sizeof(after), "%s", b->last_entry);
		pthread_mutex_unlock(&b->entry_lock);
		const char *argv[] = { "XREAD", "COUNT", count, "BLOCK", block, "STREAMS",
		                       b->key, after };
		redisReply *r = redisCommandArgv(c, 8, argv, NULL);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			if (r != NULL) {
				srv_log(SRV_LOG_WARN, "redis: XREAD: %s", r->str);
				freeReplyObject(r);
			}
			return;                    /* the connection is gone */
		}
		bool idle = r->type == REDIS_REPLY_NIL;
		bool ok = idle || deliver_entries(b, r);
		freeReplyObject(r);
		if (!ok)
			return;
		/* How far behind: measured when idle or every BEHIND_EVERY seconds,
		 * not between two batches (a round trip in the delivery path). */
		double now = srv_monotonic();
		if (idle || now >= next_behind) {
			update_behind(b, c);
			next_behind = now + BEHIND_EVERY;
		}
	}
}

/* Sleeps up to `seconds`, or until the server stops.  False on stop. */
static bool
wait_or_stop(srv_bridge *b, double seconds)
{
	struct pollfd p = { .fd = b->stop_fd, .events = POLLIN };
	int ready = poll(&p, 1, (int)(seconds * 1000));
	return !(ready > 0 || (ready < 0 && errno != EINTR));
}

void *
srv_bridge_main(void *arg)
{
	srv_bridge *b = arg;
	srv_block_stop_signals();
	double backoff = RETRY_MIN;
	bool started = false, warned = false;
	while (!stop_requested(b)) {
		redisContext *c = connect_redis(b, XREAD_BLOCK_MS + 2000);
		if (c != NULL && (started || find_start(b, c))) {
			started = true;
			atomic_store(&b->connected, true);
			atomic_fetch_add(&b->connects, 1);
			srv_log(SRV_LOG_INFO, "redis: connected to %s:%d, reading %s after %s", b->host,
			        b->port, b->key, b->last_entry);
			warned = false;
			backoff = RETRY_MIN;
			read_stream(b, c);
			atomic_store(&b->connected, false);
			atomic_fetch_add(&b->epoch, 1);
			atomic_fetch_add(&b->reconnects, 1);
		}
		if (c != NULL)
			redisFree(c);
		if (stop_requested(b))
			break;
		if (!warned)
			srv_log(SRV_LOG_WARN, "redis: %s:%d unreachable; retrying (sends answer 503 meanwhile)",
			        b->host, b->port);
		warned = true;
		if (!wait_or_stop(b, backoff))
			break;
		backoff = backoff * 2 < RETRY_MAX ? backoff * 2 : RETRY_MAX;
	}
	return NULL;
}

void
srv_bridge_state_get(srv_bridge *b, srv_bridge_state *out)
{
	out->connected = atomic_load(&b->connected);
	out->key = b->key;
	out->last_id = atomic_load(&b->last_id);
	out->reconnects = atomic_load(&b->reconnects);
	out->behind = atomic_load(&b->behind);
	pthread_mutex_lock(&b->entry_lock);
	snprintf(out->last_entry, sizeof(out->last_entry), "%s", b->last_entry);
	pthread_mutex_unlock(&b->entry_lock);
}
