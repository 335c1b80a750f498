/*
 * server.h - the pushq server (server.c): open, accept, reap, stop.
 * One listener, one thread per connection.  This is the one server state
 * (`srv`), and what every request's code is handed (conn.h: c->s).
 *
 * DESIGN
 *   main thread      parses options, opens the server, then reads
 *                    SIGINT/SIGTERM from a signalfd and stops it (main.c);
 *   acceptor thread  accepts connections and starts one detached thread for
 *                    each (srv_conn_main), or answers 503 over --max-conns;
 *   reaper thread    forgets clients idle past --client-ttl, and sweeps
 *                    presence once a second (room/presence.h);
 *   watcher thread   notices a waiting long poll's client hang up (watch.h);
 *   bridge thread    with --redis: reads the room's stream into the local
 *                    queues (room/bridge.h);
 *   lab reaper       removes lab queues idle past SRV_LAB_TTL (lab/lab.h);
 *   connection       reads requests, answers them in order; a /get_msg
 *   threads          blocks the thread in its client's queue (the design
 *                    card's heart); a WebSocket keeps its thread.
 *
 * Stopping: main.c stops the lab (every waiting lab call answers at once),
 * then srv_stop() sets `stopping`, makes the `stop_fd` eventfd readable
 * (every thread polls it next to its socket, so all of them wake at once),
 * and shuts every client queue down (every waiting /get_msg answers).
 * It then waits, with a deadline, until the last connection thread is gone.
 *
 * The one server state is `srv`: made by main(), passed to every thread, and
 * written after start only through its atomics and under its lock.
 * Signals: SIGINT/SIGTERM are blocked in every thread and read by main;
 * SIGPIPE is ignored, and sends use MSG_NOSIGNAL.
 */
#ifndef PUSHQ_SERVER_H
#define PUSHQ_SERVER_H

#include "http/http.h"
#include "server/core/watch.h"
#include "server/room/bridge.h"
#include "server/room/presence.h"
#include "server/room/registry.h"

#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define SRV_VERSION "0.1.0"

/* Connection timing, in seconds: a request must arrive whole within
 * SRV_REQUEST_TIMEOUT of its first byte, and a keep-alive connection may sit
 * idle for SRV_IDLE_TIMEOUT; past either, 408 and close (slow-loris). */
#define SRV_REQUEST_TIMEOUT 5.0
#define SRV_IDLE_TIMEOUT 15.0
#define SRV_SEND_TIMEOUT 10    /* a peer that reads nothing for this long */

/* Connection threads need little stack: buffers live on the heap.
 * Sanitizers need more (red zones), so they get more. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SRV_THREAD_STACK (1024 * 1024)
#else
#define SRV_THREAD_STACK (128 * 1024)
#endif

#define SRV_ORIGINS_MAX 16
#define SRV_ROUTE_SLOTS 32         /* routes counted by /metrics (routes.c) */
#define SRV_STATUS_SLOTS 24        /* statuses counted (route.h: srv_status_slot) */

typedef struct {
	char host[INET6_ADDRSTRLEN];
	int port;
	char www[PATH_MAX];
	double poll_timeout;
	long queue_size;
	double client_ttl;
	long max_conns;
	long max_clients;
	long history;                 /* messages kept for resumes */
	char redis_url[512];          /* --redis, or "" for one node alone */
	char redis_key[256];          /* --redis-key: the room's stream */
	long redis_history;           /* --redis-history: MAXLEN ~ of the stream */
	double sse_heartbeat;         /* seconds between comments on a quiet stream */
	size_t max_body;
	long max_channels_per_client; /* --max-channels-per-client */
	long max_channels;            /* --max-channels: distinct, with a subscriber */
	bool presence_events;         /* --presence-events: join/leave as messages */
	/* Tokens and origins (auth.h); lengths 0: not set. */
	unsigned char token_key[1024];  /* --token-key FILE: the HS256 secret */
	size_t token_key_len;
	unsigned char api_key[1024];    /* --api-key FILE: the backend's key */
	size_t api_key_len;
	char allow_origins[SRV_ORIGINS_MAX][256];   /* --allow-origin, repeatable */
	int allow_origin_count;
	bool no_lab;                  /* --no-lab: the queue lab's routes are 404 */
	long lab_max_waiting;         /* --lab-max-waiting: lab calls waiting at once */
	bool trust_proxy;             /* --trust-proxy: logs name X-Forwarded-For's address */
} srv_config;

struct srv_conn;                        /* conn.h: one connection */
struct srv_lab;                         /* lab/lab.h: made by main.c */

/* Who answers a request: the route table (routes.c, above this layer),
 * given to the server by main, so that the core knows no view. */
typedef void srv_route_fn(struct srv_conn *c, const http_request *req);

typedef struct {
	srv_config cfg;
	int listen_fd;
	int stop_fd;                  /* eventfd: readable once stopping */
	int www_fd;                   /* the --www directory, for openat() */
	struct srv_file_cache *files; /* small files under it, in memory (file_cache.h) */
	int port;                     /* the real port (--port 0) */
	srv_registry *registry;
	srv_watch *watch;             /* hang-ups of waiting long polls */
	srv_bridge *bridge;           /* with --redis: the room is a Redis stream */
	srv_presence presence;        /* who is online (room/presence.h) */
	struct srv_lab *lab;          /* the playground's queues (lab/lab.h) */
	srv_route_fn *route;          /* set by main before the acceptor starts */
	double started;               /* srv_monotonic() at start */
	pthread_attr_t thread_attr;   /* detached, SRV_THREAD_STACK */
	pthread_attr_t thread_attr_joinable; /* the same, joinable (WebSocket writers) */

	atomic_bool stopping;
	atomic_ullong total_conns;
	atomic_ullong ws_writers_started;   /* WebSocket writer threads (back-pressure) */
	atomic_ullong requests[SRV_ROUTE_SLOTS][SRV_STATUS_SLOTS];   /* by route, status */

	pthread_mutex_t lock;
	pthread_cond_t all_closed;    /* signalled when open_conns reaches 0 */
	long open_conns;              /* under lock; +1 when a connection is
	                                 accepted, -1 by srv_conn_closed */
} srv;

/*
 * Opens the server: binds and listens, raises the open-file limit for
 * --max-conns.  Returns 0, or -1 with a reason in err[errlen].
 */
int srv_open(srv *s, const srv_config *cfg, char *err, size_t errlen);

/* The acceptor and reaper loops, each run in its own thread until stop
 * (and srv_watch_main(s->watch), the watcher; with --redis,
 * srv_bridge_main(s->bridge)). */
void *srv_accept_main(void *srv);
void *srv_reaper_main(void *srv);

/* Stops accepting, wakes every thread and waits up to `seconds` for the
 * connection threads to end.  Returns true when they all did. */
bool srv_stop(srv *s, double seconds);

/* Frees what srv_open made (after srv_stop returned true). */
void srv_close(srv *s);

/* Open connections now (for /stats). */
long srv_open_conns(srv *s);

/* Counts a connection out (the pair of the count made when it was
 * accepted); the last one wakes srv_stop.  Called once per connection. */
void srv_conn_closed(srv *s);

#endif
