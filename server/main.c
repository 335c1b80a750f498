/*
 * main.c - pushq's command line: parse the options, put the server together
 * (the core, the routes, the lab) and start its threads, wait for SIGINT or
 * SIGTERM, stop cleanly: the arrows of docs/design.md run backwards.
 *
 * Exit codes: 0 after a clean stop (or --help/--version), 1 when the server
 * cannot start, 2 for bad usage.
 */
#include "http/ws.h"
#include "http/jwt.h"
#include "server/routes.h"
#include "server/core/auth.h"
#include "server/core/server.h"
#include "server/lab/lab.h"
#include "server/room/channel.h"
#include "server/common/log.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Where `make` built us from: the default --www is that tree's www/. */
#ifndef SRV_DEFAULT_WWW
#define SRV_DEFAULT_WWW "www"
#endif

#define STOP_GRACE_SECONDS 1.5

static const char usage_text[] =
	"usage: pushq [options]\n"
	"  -H, --host ADDR         address to bind, IPv4 or IPv6 (default 127.0.0.1)\n"
	"  -p, --port N            port, 0 = any free port (default 8000)\n"
	"      --www DIR           folder of static pages (default: the source tree's www/)\n"
	"      --poll-timeout S    longest wait of one /get_msg, seconds (default 10)\n"
	"      --queue-size N      bound of each client's queue (default 1000)\n"
	"      --client-ttl S      forget a client idle this long, seconds (default 60)\n"
	"      --max-conns N       open connections at most (default 10000)\n"
	"      --max-clients N     registered clients at most (default 100000)\n"
	"      --history N         last messages kept for clients that resume (default 1000)\n"
	"      --max-channels-per-client N  channels one client may be in (default 16, at most 64)\n"
	"      --max-channels N    distinct channels with a subscriber (default 10000)\n"
	"      --presence-events   publish join/leave into a channel as its clients come and go\n"
	"      --token-key FILE    require HS256 tokens signed with this secret (>= 32 bytes)\n"
	"      --api-key FILE      the backend's key: publish anywhere, read /stats, /presence\n"
	"      --allow-origin O    pages from origin O may call the server (repeatable); others 403\n"
	"      --no-lab            turn the queue lab (/lab/...) off\n"
	"      --lab-max-waiting N lab calls waiting at once, server-wide (default 64)\n"
	"      --trust-proxy       log the address in X-Forwarded-For (behind nginx)\n"
	"      --sse-heartbeat S   comment line on a quiet /events stream, seconds (default 15)\n"
	"      --redis URL         share the room with other nodes: redis://HOST:PORT[/DB]\n"
	"      --redis-key NAME    the room's Redis stream (default pushq:room)\n"
	"      --redis-history N   entries the stream keeps, MAXLEN ~ N (default 10000)\n"
	"      --max-body BYTES    largest request body / WebSocket message (default 65536)\n"
	"      --log LEVEL         error, warn, info or debug (default info)\n"
	"  -h, --help              print this help and exit\n"
	"      --version           print the version and exit\n"
	"\n"
	"usage: pushq token --key FILE --sub NAME [--channels A,B] [--pub A,B] [--ttl S]\n"
	"  prints a token for NAME signed with FILE's secret (--ttl: seconds, default 3600)\n";

enum { OPT_WWW = 256, OPT_POLL_TIMEOUT, OPT_QUEUE_SIZE, OPT_CLIENT_TTL,
       OPT_MAX_CONNS, OPT_MAX_CLIENTS, OPT_HISTORY, OPT_SSE_HEARTBEAT, OPT_REDIS, OPT_REDIS_KEY, OPT_REDIS_HISTORY, OPT_MAX_BODY, OPT_LOG, OPT_VERSION,
       OPT_MAX_CHANNELS_PER_CLIENT, OPT_MAX_CHANNELS, OPT_PRESENCE_EVENTS,
       OPT_TOKEN_KEY, OPT_API_KEY, OPT_ALLOW_ORIGIN, OPT_NO_LAB, OPT_LAB_MAX_WAITING, OPT_TRUST_PROXY };

static const struct option long_options[] = {
	{ "host", required_argument, NULL, 'H' },
	{ "port", required_argument, NULL, 'p' },
	{ "www", required_argument, NULL, OPT_WWW },
	{ "poll-timeout", required_argument, NULL, OPT_POLL_TIMEOUT },
	{ "queue-size", required_argument, NULL, OPT_QUEUE_SIZE },
	{ "client-ttl", required_argument, NULL, OPT_CLIENT_TTL },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "history", required_argument, NULL, OPT_HISTORY },
	{ "sse-heartbeat", required_argument, NULL, OPT_SSE_HEARTBEAT },
	{ "redis", required_argument, NULL, OPT_REDIS },
	{ "redis-key", required_argument, NULL, OPT_REDIS_KEY },
	{ "redis-history", required_argument, NULL, OPT_REDIS_HISTORY },
	{ "max-body", required_argument, NULL, OPT_MAX_BODY },
	{ "max-channels-per-client", required_argument, NULL, OPT_MAX_CHANNELS_PER_CLIENT },
	{ "max-channels", required_argument, NULL, OPT_MAX_CHANNELS },
	{ "presence-events", no_argument, NULL, OPT_PRESENCE_EVENTS },
	{ "token-key", required_argument, NULL, OPT_TOKEN_KEY },
	{ "api-key", required_argument, NULL, OPT_API_KEY },
	{ "allow-origin", required_argument, NULL, OPT_ALLOW_ORIGIN },
	{ "no-lab", no_argument, NULL, OPT_NO_LAB },
	{ "lab-max-waiting", required_argument, NULL, OPT_LAB_MAX_WAITING },
	{ "trust-proxy", no_argument, NULL, OPT_TRUST_PROXY },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* Bad usage: one line on stderr, exit 2. */
static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "pushq: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (try --help)\n");
	va_end(ap);
	exit(2);
}

static long
parse_long(const char *option, const char *text, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
		usage_error("%s wants a whole number from %ld to %ld, not '%s'", option, min, max, text);
	return v;
}

static double
parse_seconds(const char *option, const char *text, double min, double max)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || isnan(v) || v < min || v > max)
		usage_error("%s wants seconds from %g to %g, not '%s'", option, min, max, text);
	return v;
}

/* A key file for `option` into out[cap]: its length; bad usage (exit 2)
 * when it cannot be read, or a token key shorter than 32 bytes. */
static size_t
read_key(const char *option, const char *path, unsigned char *out, size_t cap)
{
	char err[300];
	long n = srv_auth_read_key(path, out, cap, err, sizeof(err));
	if (n < 0)
		usage_error("%s: %s", option, err);
	if (strcmp(option, "--token-key") == 0 && n < 32)
		usage_error("--token-key %s holds %ld bytes: an HS256 secret needs at least 32", path, n);
	return (size_t)n;
}

static void
parse_options(int argc, char **argv, srv_config *cfg)
{
	*cfg = (srv_config){ .host = "127.0.0.1", .port = 8000, .poll_timeout = 10,
	                     .queue_size = 1000, .client_ttl = 60, .max_conns = 10000,
	                     .max_clients = 100000, .history = 1000, .sse_heartbeat = 15,
	                     .redis_key = "pushq:room", .redis_history = 10000,
	                     .max_body = 65536, .max_channels_per_client = 16,
	                     .max_channels = 10000, .lab_max_waiting = SRV_LAB_MAX_WAITING };
	cfg->www[0] = '\0';                  /* not given: default_www() */
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, ":H:p:h", long_options, NULL)) != -1) {
		switch (opt) {
		case 'H':
			if (strlen(optarg) >= sizeof(cfg->host))
				usage_error("--host '%s' is too long", optarg);
			snprintf(cfg->host, sizeof(cfg->host), "%s", optarg);
			break;
		case 'p': cfg->port = (int)parse_long("--port", optarg, 0, 65535); break;
		case OPT_WWW:
			if (strlen(optarg) >= sizeof(cfg->www))
				usage_error("--www '%s' is too long", optarg);
			snprintf(cfg->www, sizeof(cfg->www), "%s", optarg);
			break;
		case OPT_POLL_TIMEOUT:
			cfg->poll_timeout = parse_seconds("--poll-timeout", optarg, 0, 86400);
			break;
		case OPT_QUEUE_SIZE:
			cfg->queue_size = parse_long("--queue-size", optarg, 1, 100000000);
			break;
		case OPT_CLIENT_TTL:
			cfg->client_ttl = parse_seconds("--client-ttl", optarg, 0.001, 31536000);
			break;
		case OPT_MAX_CONNS:
			cfg->max_conns = parse_long("--max-conns", optarg, 1, 10000000);
			break;
		case OPT_MAX_CLIENTS:
			cfg->max_clients = parse_long("--max-clients", optarg, 1, 100000000);
			break;
		case OPT_HISTORY:
			cfg->history = parse_long("--history", optarg, 0, 10000000);
			break;
		case OPT_REDIS: {
			char host[256], err[600];
			int port, db;
			if (strlen(optarg) >= sizeof(cfg->redis_url) ||
			    !srv_bridge_parse_url(optarg, host, sizeof(host), &port, &db, err, sizeof(err)))
				usage_error("%s", strlen(optarg) >= sizeof(cfg->redis_url) ? "--redis: too long" : err);
			snprintf(cfg->redis_url, sizeof(cfg->redis_url), "%s", optarg);
			break;
		}
		case OPT_REDIS_KEY:
			if (optarg[0] == '\0' || strlen(optarg) >= sizeof(cfg->redis_key))
				usage_error("--redis-key wants a name of 1 to %zu bytes", sizeof(cfg->redis_key) - 1);
			snprintf(cfg->redis_key, sizeof(cfg->redis_key), "%s", optarg);
			break;
		case OPT_REDIS_HISTORY:
			cfg->redis_history = parse_long("--redis-history", optarg, 1, 100000000);
			break;
		case OPT_SSE_HEARTBEAT:
			cfg->sse_heartbeat = parse_seconds("--sse-heartbeat", optarg, 0.01, 86400);
			break;
		case OPT_MAX_CHANNELS_PER_CLIENT:
			cfg->max_channels_per_client = parse_long("--max-channels-per-client", optarg, 1,
			                                          SRV_CHANNELS_PER_CLIENT_MAX);
			break;
		case OPT_MAX_CHANNELS:
			cfg->max_channels = parse_long("--max-channels", optarg, 1, 10000000);
			break;
		case OPT_PRESENCE_EVENTS: cfg->presence_events = true; break;
		case OPT_NO_LAB: cfg->no_lab = true; break;
		case OPT_LAB_MAX_WAITING:
			cfg->lab_max_waiting = parse_long("--lab-max-waiting", optarg, 1, SRV_LAB_MAX_WAITING_MAX);
			break;
		case OPT_TRUST_PROXY: cfg->trust_proxy = true; break;
		case OPT_TOKEN_KEY:
			cfg->token_key_len = read_key("--token-key", optarg, cfg->token_key,
			                              sizeof(cfg->token_key));
			break;
		case OPT_API_KEY:
			cfg->api_key_len = read_key("--api-key", optarg, cfg->api_key, sizeof(cfg->api_key));
			if (cfg->api_key_len == 0)
				usage_error("--api-key %s is empty", optarg);
			break;
		case OPT_ALLOW_ORIGIN:
			if (cfg->allow_origin_count == SRV_ORIGINS_MAX)
				usage_error("--allow-origin: at most %d origins", SRV_ORIGINS_MAX);
			if (optarg[0] == '\0' || strlen(optarg) >= sizeof(cfg->allow_origins[0]) ||
			    strpbrk(optarg, "\r\n ,") != NULL)
				usage_error("--allow-origin wants one origin like https://example.org, not '%s'",
				            optarg);
			snprintf(cfg->allow_origins[cfg->allow_origin_count++], sizeof(cfg->allow_origins[0]),
			         "%s", optarg);
			break;
		case OPT_MAX_BODY:
			cfg->max_body = (size_t)parse_long("--max-body", optarg, 1, 1L << 30);
			break;
		case OPT_LOG: {
			int level = srv_log_parse_level(optarg);
			if (level < 0)
				usage_error("--log wants error, warn, info or debug, not '%s'", optarg);
			srv_log_set_level((srv_log_level)level);
			break;
		}
		case 'h': fputs(usage_text, stdout); exit(0);
		case OPT_VERSION: printf("pushq %s\n", SRV_VERSION); exit(0);
		case ':': usage_error("%s needs a value", argv[optind - 1]);
		default: usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

static bool
is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The pages when --www is not given: where `make` (or `make install`)
 * put them, else beside the binary as an installed tree lays them out
 * (bin/pushq, share/pushq/www), so a staged or moved install still works. */
static void
default_www(char *out, size_t cap)
{
	snprintf(out, cap, "%s", SRV_DEFAULT_WWW);
	if (is_dir(out))
		return;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash != NULL) {
		*slash = '\0';
		char beside[PATH_MAX + 32];
		snprintf(beside, sizeof(beside), "%s/../share/pushq/www", exe);
		size_t len = strlen(beside);
		if (is_dir(beside) && len < cap)
			memcpy(out, beside, len + 1);
	}
}

/* --www must be a directory; it is kept as an absolute, resolved path. */
static bool
resolve_www(srv_config *cfg)
{
	if (cfg->www[0] == '\0')
		default_www(cfg->www, sizeof(cfg->www));
	char real[PATH_MAX];
	struct stat st;
	if (realpath(cfg->www, real) == NULL || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "pushq: cannot start: --www %s is not a readable directory\n", cfg->www);
		return false;
	}
	snprintf(cfg->www, sizeof(cfg->www), "%s", real);
	return true;
}

/* A comma-separated list of names into list; bad usage if malformed. */
static void
parse_list(const char *option, const char *text, jwt_list *list)
{
	list->n = 0;
	for (const char *p = text;; p++) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (!srv_channel_name_valid(p, len) || list->n == JWT_LIST_MAX)
			usage_error("%s wants channel names separated by commas, not '%s'", option, text);
		memcpy(list->names[list->n], p, len);
		list->names[list->n++][len] = '\0';
		if (comma == NULL)
			return;
		p = comma;
	}
}

/* pushq token --key FILE --sub NAME [--channels A,B] [--pub A] [--ttl S]:
 * prints a token, for a teacher, a test or a quick start. */
static int
make_token(int argc, char **argv)
{
	static const struct option options[] = {
		{ "key", required_argument, NULL, 'k' }, { "sub", required_argument, NULL, 's' },
		{ "channels", required_argument, NULL, 'c' }, { "pub", required_argument, NULL, 'p' },
		{ "ttl", required_argument, NULL, 't' }, { NULL, 0, NULL, 0 },
	};
	static unsigned char key[1024];
	size_t key_len = 0;
	double ttl = 3600;
	static jwt_claims claims;
	opterr = 0;
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		switch (opt) {
		case 'k': key_len = read_key("--token-key", optarg, key, sizeof(key)); break;
		case 's':
			if (optarg[0] == '\0' || strlen(optarg) > JWT_NAME_MAX)
				usage_error("token --sub wants a name of 1 to %d bytes", JWT_NAME_MAX);
			snprintf(claims.sub, sizeof(claims.sub), "%s", optarg);
			break;
		case 'c': parse_list("--channels", optarg, &claims.channels); claims.has_channels = true; break;
		case 'p': parse_list("--pub", optarg, &claims.pub); break;
		case 't': ttl = parse_seconds("--ttl", optarg, 1, 315360000); break;
		case ':': usage_error("%s needs a value", argv[optind - 1]);
		default: usage_error("token: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (key_len == 0 || claims.sub[0] == '\0')
		usage_error("token needs --key FILE and --sub NAME");
	if (!claims.has_channels) {                  /* the default, said out loud */
		claims.has_channels = true;
		claims.channels.n = 1;
		snprintf(claims.channels.names[0], sizeof(claims.channels.names[0]), "%s",
		         SRV_DEFAULT_CHANNEL);
	}
	claims.exp = (double)time(NULL) + ttl;
	static char token[JWT_MAX_LEN];
	if (!jwt_sign(&claims, key, key_len, token, sizeof(token))) {
		fprintf(stderr, "pushq: cannot make the token\n");
		return 1;
	}
	printf("%s\n", token);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "token") == 0)
		return make_token(argc - 1, argv + 1);
	srv_config cfg;
	parse_options(argc, argv, &cfg);
	if (!resolve_www(&cfg))
		return 1;

	/* Before the signal mask below and before any thread exists. */
	if (!ws_init()) {
		fprintf(stderr, "pushq: cannot start: libcrypto's SHA-1 does not work\n");
		return 1;
	}

	/* SIGINT/SIGTERM are blocked in every thread (the ones started below
	 * inherit the mask) and read by this one from a signalfd: a plain
	 * blocking read, no handler, nothing async-signal-unsafe.  (sigwait()
	 * would do too, but valgrind does not deliver to it.) */
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	int signal_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC);
	if (signal_fd < 0) {
		perror("pushq: cannot start: signalfd");
		return 1;
	}

	static srv server;   /* the one server state; see core/server.h */
	char err[256];
	if (srv_open(&server, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "pushq: cannot start: %s\n", err);
		return 1;
	}
	server.route = srv_route_request;           /* who answers requests: routes.c */
	server.lab = srv_lab_new(cfg.lab_max_waiting);          /* the playground's own queues */
	if (server.lab == NULL) {
		fprintf(stderr, "pushq: cannot start: out of memory\n");
		return 1;
	}
	pthread_t acceptor, reaper, watcher, bridge, lab_reaper;
	if (pthread_create(&acceptor, NULL, srv_accept_main, &server) != 0 ||
	    pthread_create(&reaper, NULL, srv_reaper_main, &server) != 0 ||
	    pthread_create(&watcher, NULL, srv_watch_main, server.watch) != 0 ||
	    pthread_create(&lab_reaper, NULL, srv_lab_reaper_main, server.lab) != 0 ||
	    (server.bridge != NULL &&
	     pthread_create(&bridge, NULL, srv_bridge_main, server.bridge) != 0)) {
		fprintf(stderr, "pushq: cannot start: no threads\n");
		return 1;
	}
	bool v6 = strchr(cfg.host, ':') != NULL;
	printf("pushq listening on http://%s%s%s:%d/\n", v6 ? "[" : "", cfg.host, v6 ? "]" : "",
	       server.port);
	fflush(stdout);

	struct signalfd_siginfo got;
	while (read(signal_fd, &got, sizeof(got)) != (ssize_t)sizeof(got))
		;                    /* EINTR: read again */
	close(signal_fd);
	srv_log(SRV_LOG_INFO, "%s: stopping", got.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
	srv_lab_stop(server.lab);            /* every waiting lab call answers */
	bool all_closed = srv_stop(&server, STOP_GRACE_SECONDS);
	pthread_join(acceptor, NULL);
	pthread_join(reaper, NULL);
	pthread_join(watcher, NULL);
	pthread_join(lab_reaper, NULL);
	if (server.bridge != NULL)
		pthread_join(bridge, NULL);
	if (all_closed) {
		srv_close(&server);
		srv_lab_free(server.lab);
	} else
		srv_log(SRV_LOG_WARN, "%ld connection(s) still closing; exiting anyway",
		        srv_open_conns(&server));
	return 0;
}
