/*
 * bridge.c - the room in a Redis stream (see bridge.h), with hiredis.
 *
 * Connections, each used by one side only:
 *   publishers request threads: a small pool (PUBLISHERS), each connection
 *              used by one request at a time (its own lock), so sends from
 *              many connections go to Redis side by side instead of queueing
 *              behind one round trip.  The append script is loaded once per
 *              connection and run by its SHA-1 (EVALSHA).  A failure drops
 *              the connection; the next send reconnects, but not more often
 *              than every RETRY_MIN seconds, so a dead Redis costs a request
 *              nothing but a 503.
 *   reader     the bridge thread: XREAD BLOCK from the last entry it
 *              delivered, puts each entry into the local queues in stream
 *              order, and on any error reconnects with back-off.
 *
 * An entry is {id, from, msg}: `id` is the room's message id, from the
 * counter KEY:seq that the append script raises in the same atomic step as
 * the XADD, so ids increase in the stream's order on every node.
 */
#include "server/room/bridge.h"
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

#define CONNECT_TIMEOUT_MS 300   /* a Redis that does not answer this fast is down */
#define RETRY_MIN 0.1            /* seconds between reconnects, doubling... */
#define RETRY_MAX 2.0            /* ...up to this */
#define XREAD_BLOCK_MS 500       /* how long one XREAD waits (and how soon we see stop) */
#define XREAD_COUNT 256
#define BEHIND_EVERY 0.25        /* seconds between "behind" updates while busy */
#define PUBLISHERS 32            /* publishing connections per node (8: 36k sends/s, 32: 45k, 64: 48k through one local Redis on 2 cores) */

/* INCR the counter and XADD the entry in one step: ids follow stream order.
 * ARGV: from, msg, MAXLEN, "channel" or "to", its name, event ("" none). */
static const char APPEND_SCRIPT[] =
	"local id = redis.call('INCR', KEYS[2]) "
	"redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'id', id, 'from', ARGV[1], "
	"'msg', ARGV[2], ARGV[4], ARGV[5], 'event', ARGV[6]) "
	"return id";

/* One publishing connection. */
typedef struct {
	pthread_mutex_t lock;
	redisContext *c;              /* under lock; NULL: not connected */
	char script_sha[41];          /* under lock: the append script, loaded */
	double retry_at;              /* under lock: no reconnect before */
	unsigned epoch;               /* under lock: the link's epoch when connected */
} publisher;

struct srv_bridge {
	srv_registry *registry;       /* where entries read are delivered */
	int stop_fd;                  /* readable once the server stops */
	char key[256];                /* the room's stream */
	long history;                 /* MAXLEN ~ of the stream */
	char host[256];
	int port, db;
	char seq_key[300];

	publisher pub[PUBLISHERS];
	atomic_uint next_pub;         /* where the next send starts looking */
	atomic_uint epoch;            /* +1 each time the bridge thread connects
	                                 again: older publishing connections may
	                                 lead to a Redis that is gone */

	/* Written by the bridge thread, read by /stats. */
	atomic_bool connected;
	atomic_ullong last_id;        /* the last message id delivered */
	atomic_ullong behind;         /* ids given out that this node has not read */
	atomic_ullong reconnects;
	pthread_mutex_t entry_lock;
	char last_entry[64];          /* the stream id XREAD continues after */
};

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
	for (int i = 0; i < PUBLISHERS; i++)
		pthread_mutex_init(&b->pub[i].lock, NULL);
	pthread_mutex_init(&b->entry_lock, NULL);
	return b;
}

void
srv_bridge_free(srv_bridge *b)
{
	if (b == NULL)
		return;
	for (int i = 0; i < PUBLISHERS; i++) {
		if (b->pub[i].c != NULL)
			redisFree(b->pub[i].c);
		pthread_mutex_destroy(&b->pub[i].lock);
	}
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

/* Connects p and loads the append script.  Caller holds p->lock. */
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
		/* Made before the bridge lost Redis: it may lead nowhere, and a
		 * failed send could not be told from a sent one.  Start afresh. */
		redisFree(p->c);
		p->c = NULL;
		p->retry_at = 0;
	}
	if (p->c == NULL) {
		if (now < p->retry_at)
			return false;        /* it was down a moment ago: do not wait again */
		if (!publisher_connect(b, p)) {
			p->retry_at = now + RETRY_MIN;
			return false;
		}
	}
	return true;
}

/* Runs one command on p: its reply, of the wanted type, or NULL (and the
 * connection dropped: maybe done, maybe not -- it is not to be trusted;
 * a Redis restarted meanwhile also forgot the script: NOSCRIPT).  Caller
 * holds p->lock. */
static redisReply *
run_on(srv_bridge *b, publisher *p, int type, int argc, const char **argv, const size_t *lens)
{
	double now = srv_monotonic();
	if (!publisher_ready(b, p, now))
		return NULL;
	redisReply *r = command_argv(p->c, type, argc, argv, lens);
	if (r == NULL) {
		redisFree(p->c);
		p->c = NULL;
		p->retry_at = now + RETRY_MIN;
	}
	return r;
}

/* Appends one entry through p; its id in *id_out.  Caller holds p->lock. */
static bool
append_entry(srv_bridge *b, publisher *p, const srv_target *to, const char *from,
             const char *text, size_t len, const char *event, uint64_t *id_out)
{
	char max[24];
	snprintf(max, sizeof(max), "%ld", b->history);
	const char *kind = to->direct ? "to" : "channel";
	if (event == NULL)
		event = "";
	/* The script's SHA is known once p is connected: run_on connects. */
	if (!publisher_ready(b, p, srv_monotonic()))
		return false;
	const char *argv[] = { "EVALSHA", p->script_sha, "2", b->key, b->seq_key,
	                       from, text, max, kind, to->name, event };
	size_t lens[] = { 7, 40, 1, strlen(b->key), strlen(b->seq_key),
	                  strlen(from), len, strlen(max), strlen(kind), strlen(to->name),
	                  strlen(event) };
	redisReply *r = run_on(b, p, REDIS_REPLY_INTEGER, 11, argv, lens);
	if (r == NULL)
		return false;
	*id_out = (uint64_t)r->integer;
	freeReplyObject(r);
	return true;
}

/* A publisher for this send: the first free one from a rotating start, or
 * (all busy) the start one, waited for.  Returned locked. */
static publisher *
take_publisher(srv_bridge *b)
{
	unsigned start = atomic_fetch_add(&b->next_pub, 1) % PUBLISHERS;
	for (unsigned i = 0; i < PUBLISHERS; i++) {
		publisher *p = &b->pub[(start + i) % PUBLISHERS];
		if (pthread_mutex_trylock(&p->lock) == 0)
			return p;
	}
	pthread_mutex_lock(&b->pub[start].lock);
	return &b->pub[start];
}

bool
srv_bridge_publish(srv_bridge *b, const srv_target *to, const char *from, const char *text,
                   size_t len, const char *event, uint64_t *id_out)
{
	publisher *p = take_publisher(b);
	bool ok = append_entry(b, p, to, from, text, len, event, id_out);
	pthread_mutex_unlock(&p->lock);
	return ok;
}

void *
srv_bridge_run(srv_bridge *b, int type, int argc, const char **argv, const size_t *lens)
{
	publisher *p = take_publisher(b);
	redisReply *r = run_on(b, p, type, argc, argv, lens);
	pthread_mutex_unlock(&p->lock);
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

/* Delivers the entries of one XREAD reply; false when it is malformed. */
static bool
deliver_entries(srv_bridge *b, const redisReply *reply)
{
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1)
		return false;
	const redisReply *stream = reply->element[0];
	if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2)
		return false;
	const redisReply *entries = stream->element[1];
	for (size_t i = 0; i < entries->elements; i++) {
		const redisReply *e = entries->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
			return false;
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
			                          ev, sent_at))
				return false;    /* out of memory: read it again */
			atomic_store(&b->last_id, n);
		}
		set_last_entry(b, e->element[0]->str);
	}
	return true;
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
