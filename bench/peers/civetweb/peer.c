/*
 * peer.c - the benchmark's civetweb peer: what a C programmer would write
 * with the embedded server instead of pushq, in civetweb's own idiom.
 * Thread-per-connection (civetweb's worker pool, sized to the load), the
 * same static files, the same long-poll API on per-client condition-variable
 * queues, and the same /ws?name= broadcast.  It exists only to be measured
 * against pushq in the same run; it is not part of pushq.
 *
 * usage: civetweb_peer PORT WWW_DIR THREADS
 */
#include <civetweb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_SIZE 1000
#define POLL_TIMEOUT_S 10
#define MAX_CLIENTS 20000
#define MAX_WS 20000

/* One client's queue: a ring of strings under a mutex and a condvar. */
typedef struct {
	char name[65];
	char *items[QUEUE_SIZE];
	int head, count;
	pthread_mutex_t lock;
	pthread_cond_t not_empty;
} client_queue;

static client_queue *clients[MAX_CLIENTS];
static int client_count;
static pthread_mutex_t clients_lock = PTHREAD_MUTEX_INITIALIZER;
static long next_id = 1;

static struct mg_connection *sockets[MAX_WS];
static int socket_count;
static pthread_mutex_t sockets_lock = PTHREAD_MUTEX_INITIALIZER;

static client_queue *
find_client(const char *name, int create)
{
	pthread_mutex_lock(&clients_lock);
	client_queue *found = NULL;
	for (int i = 0; i < client_count && !found; i++)
		if (strcmp(clients[i]->name, name) == 0)
			found = clients[i];
	if (!found && create && client_count < MAX_CLIENTS) {
		found = calloc(1, sizeof(*found));
		snprintf(found->name, sizeof(found->name), "%s", name);
		pthread_mutex_init(&found->lock, NULL);
		pthread_cond_init(&found->not_empty, NULL);
		clients[client_count++] = found;
	}
	pthread_mutex_unlock(&clients_lock);
	return found;
}

/* Escapes text for a JSON string (quotes, backslashes, control bytes). */
static void
json_escape(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	for (; *in && o + 7 < cap; in++) {
		unsigned char ch = (unsigned char)*in;
		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
}

static void
broadcast(const char *from, const char *text)
{
	static __thread char esc_text[8192], json[8600];
	char esc_from[200];
	json_escape(text, esc_text, sizeof(esc_text));
	json_escape(from, esc_from, sizeof(esc_from));
	pthread_mutex_lock(&clients_lock);
	int len = snprintf(json, sizeof(json),
	                   "{\"status\":true,\"msg\":\"%s\",\"id\":%ld,\"from\":\"%s\",\"dropped\":0}",
	                   esc_text, next_id++, esc_from);
	for (int i = 0; i < client_count; i++) {
		client_queue *q = clients[i];
		pthread_mutex_lock(&q->lock);
		if (q->count < QUEUE_SIZE) {
			q->items[(q->head + q->count) % QUEUE_SIZE] = strdup(json);
			q->count++;
			pthread_cond_signal(&q->not_empty);
		}
		pthread_mutex_unlock(&q->lock);
	}
	pthread_mutex_unlock(&clients_lock);
	/* WebSocket chat clients get the frame directly. */
	pthread_mutex_lock(&sockets_lock);
	for (int i = 0; i < socket_count; i++)
		mg_websocket_write(sockets[i], MG_WEBSOCKET_OPCODE_TEXT, json, (size_t)len);
	pthread_mutex_unlock(&sockets_lock);
}

static int
reply(struct mg_connection *conn, const char *type, const char *body)
{
	mg_printf(conn, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	          "Connection: keep-alive\r\n\r\n%s", type, strlen(body), body);
	return 200;
}

static int
query_name(struct mg_connection *conn, char *name, size_t cap)
{
	const char *qs = mg_get_request_info(conn)->query_string;
	return qs ? mg_get_var(qs, strlen(qs), "name", name, cap) : -1;
}

static int
ab_b1(struct mg_connection *conn, void *data)
{
	(void)data;
	char name[65];
	if (query_name(conn, name, sizeof(name)) <= 0)
		return 0;
	find_client(name, 1);
	mg_send_file(conn, "www/ab_b1.html");
	return 200;
}

static int
send_msg(struct mg_connection *conn, void *data)
{
	(void)data;
	/* On the heap: civetweb's worker stacks are small. */
	char *body = malloc(65536), *content = malloc(16384), from[65] = "";
	int len = mg_read(conn, body, 65535);
	if (len < 0)
		len = 0;
	body[len] = '\0';
	int status = 200;
	if (mg_get_var(body, (size_t)len, "content", content, 16384) <= 0) {
		mg_printf(conn, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
		status = 400;
	} else {
		mg_get_var(body, (size_t)len, "name", from, sizeof(from));
		broadcast(from, content);
		reply(conn, "text/plain", "ok");
	}
	free(body);
	free(content);
	return status;
}

static int
get_msg(struct mg_connection *conn, void *data)
{
	(void)data;
	char name[65];
	client_queue *q = query_name(conn, name, sizeof(name)) > 0 ? find_client(name, 0) : NULL;
	if (q == NULL) {
		mg_printf(conn, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
		return 404;
	}
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += POLL_TIMEOUT_S;
	char *item = NULL;
	pthread_mutex_lock(&q->lock);
	while (q->count == 0)
		if (pthread_cond_timedwait(&q->not_empty, &q->lock, &deadline) != 0)
			break;
	if (q->count > 0) {
		item = q->items[q->head];
		q->head = (q->head + 1) % QUEUE_SIZE;
		q->count--;
	}
	pthread_mutex_unlock(&q->lock);
	reply(conn, "application/json", item ? item : "{\"status\":false,\"msg\":\"\"}");
	free(item);
	return 200;
}

static int
ws_connect(const struct mg_connection *conn, void *data)
{
	(void)data;
	char name[65];
	const char *qs = mg_get_request_info(conn)->query_string;
	return !(qs && mg_get_var(qs, strlen(qs), "name", name, sizeof(name)) > 0);
}

static void
ws_ready(struct mg_connection *conn, void *data)
{
	(void)data;
	char *name = calloc(1, 65);
	const char *qs = mg_get_request_info(conn)->query_string;
	mg_get_var(qs, strlen(qs), "name", name, 65);
	mg_set_user_connection_data(conn, name);
	pthread_mutex_lock(&sockets_lock);
	if (socket_count < MAX_WS)
		sockets[socket_count++] = conn;
	pthread_mutex_unlock(&sockets_lock);
}

static int
ws_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cb)
{
	(void)cb;
	if ((bits & 0x0f) == MG_WEBSOCKET_OPCODE_TEXT) {
		char *text = strndup(data, len);
		broadcast((const char *)mg_get_user_connection_data(conn), text);
		free(text);
	}
	return (bits & 0x0f) != MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE;
}

static void
ws_close(const struct mg_connection *conn, void *data)
{
	(void)data;
	pthread_mutex_lock(&sockets_lock);
	for (int i = 0; i < socket_count; i++)
		if (sockets[i] == conn) {
			sockets[i] = sockets[--socket_count];
			break;
		}
	pthread_mutex_unlock(&sockets_lock);
	free(mg_get_user_connection_data(conn));
}

int
main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: civetweb_peer PORT WWW_DIR THREADS\n");
		return 2;
	}
	char ports[64];
	snprintf(ports, sizeof(ports), "127.0.0.1:%s", argv[1]);
	const char *options[] = {
		"listening_ports", ports, "document_root", argv[2], "num_threads", argv[3],
		"enable_keep_alive", "yes", "request_timeout_ms", "60000",
		"websocket_timeout_ms", "3600000", "listen_backlog", "4096", "tcp_nodelay", "1", NULL,
	};
	mg_init_library(MG_FEATURES_WEBSOCKET);
	struct mg_callbacks callbacks;
	memset(&callbacks, 0, sizeof(callbacks));
	struct mg_context *ctx = mg_start(&callbacks, NULL, options);
	if (ctx == NULL) {
		fprintf(stderr, "civetweb_peer: cannot start\n");
		return 1;
	}
	mg_set_request_handler(ctx, "/ab_b1", ab_b1, NULL);
	mg_set_request_handler(ctx, "/send_msg", send_msg, NULL);
	mg_set_request_handler(ctx, "/get_msg", get_msg, NULL);
	mg_set_websocket_handler(ctx, "/ws", ws_connect, ws_ready, ws_data, ws_close, NULL);
	printf("civetweb peer listening on http://127.0.0.1:%s/\n", argv[1]);
	fflush(stdout);
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	int sig;
	sigwait(&stop, &sig);
	mg_stop(ctx);
	return 0;
}
