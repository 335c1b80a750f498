/*
 * longpoll.c - GET /get_msg: one message from the client's queue, waiting
 * for it in this connection's thread (see longpoll.h).
 *
 *   the tutorial                      here
 *   q = q_dict.get(name)              srv_registry_find (404 if none)
 *   q.get(timeout=10)                 srv_client_next: blocks in queue_get
 *   except queue.Empty: status False  {"status":false,"msg":""}
 *
 * While the thread sleeps its socket is parked at the watcher (watch.h),
 * so a client that hangs up gives the thread back at once; a message taken
 * for a client that left, or that could not be written, goes back to the
 * queue (delivery.h): nothing is lost.
 */
#include "server/push/longpoll.h"
#include "server/core/answer.h"
#include "server/core/params.h"
#include "server/core/reader.h"
#include "server/room/delivery.h"
#include "server/room/resume.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ?timeout=S: 1 with *out set, 0 absent, -1 invalid. */
static int
query_timeout(const http_request *req, double *out)
{
	char text[32];
	long n = http_form_value(req->query, strlen(req->query), "timeout", text, sizeof(text));
	if (n == -1)
		return 0;
	if (n <= 0)
		return -1;
	char *end;
	errno = 0;
	double t = strtod(text, &end);
	if (errno != 0 || *end != '\0' || isnan(t) || t < 0)
		return -1;
	*out = t;
	return 1;
}

/* Answers with the message taken for this client, or gives it back. */
static void
deliver(srv_conn *c, srv_client *client, srv_delivery *d)
{
	/* A peer that left while we waited would never see it: keep it. */
	bool sent = !srv_peer_closed(c->fd);
	if (sent) {
		srv_respond_head(c, 200, "application/json", d->len, NULL);
		srv_delivery_append(&c->out, d);
		sent = srv_flush(c);
	}
	if (sent)
		srv_delivery_done(d);
	else
		srv_client_give_back_delivery(c->s->registry, client, d);
}

/*
 * The heart of long polling: block this thread in the client's queue for
 * up to `timeout` seconds -- the tutorial's q.get(timeout=10) -- with the
 * socket parked at the watcher (watch.h), so that a client that hangs up
 * meanwhile gives this thread and its connection back at once.
 */
static void
take_and_answer(srv_conn *c, srv_client *client, double timeout)
{
	srv *s = c->s;
	const atomic_bool *hung_up = timeout > 0 ? srv_watch_park(s->watch, c->fd, client) : NULL;
	srv_delivery d;
	srv_presence_begin(&s->presence, client, SRV_CLIENT_POLL);
	queue_rc rc = srv_client_next(s->registry, client, timeout, hung_up, SRV_WIRE_JSON, &d);
	srv_presence_end(&s->presence, client, SRV_CLIENT_POLL);
	bool gone = hung_up != NULL && srv_watch_unpark(s->watch, c->fd);
	if (gone || rc == QUEUE_CANCELLED) {
		if (rc == QUEUE_OK)              /* taken as the client left: keep it */
			srv_client_give_back_delivery(s->registry, client, &d);
		c->keep_alive = false;           /* nobody to answer: close */
	} else if (rc == QUEUE_OK && !c->head_only) {
		deliver(c, client, &d);
	} else {
		if (rc == QUEUE_OK)              /* HEAD takes nothing away */
			srv_client_give_back_delivery(s->registry, client, &d);
		srv_answer_no_message(c, 200, NULL);
	}
}

/* The client a /get_msg waits on.  A resume (?since=) may bring back a
 * client that was forgotten (or never was): it is registered again, and its
 * backlog comes from the history.  Without since, an unknown name is 404. */
static srv_client *
get_msg_client(srv_conn *c, const http_request *req, const char *name, const uint64_t *since)
{
	srv_who who;
	if (since == NULL)
		return srv_reader_find(c, req, name, &who);
	srv_client *client = srv_reader_join(c, req, name, SRV_CLIENT_POLL, &who);
	if (client != NULL)
		srv_client_resume(c->s->registry, client, *since);
	return client;
}

void
srv_view_get_msg(srv_conn *c, const http_request *req)
{
	char name[SRV_NAME_MAX + 1];
	double timeout = c->s->cfg.poll_timeout;
	uint64_t since;
	int has_timeout = query_timeout(req, &timeout);
	int has_since = srv_query_since(req, &since);
	int found = srv_query_name(req, name);
	if (found <= 0 || has_timeout < 0 || has_since < 0) {
		srv_answer_no_message(c, 400, found <= 0 ? "missing or bad name"
		                            : has_timeout < 0 ? "bad timeout" : "bad since");
		return;
	}
	if (timeout > c->s->cfg.poll_timeout)
		timeout = c->s->cfg.poll_timeout;
	srv_client *client = get_msg_client(c, req, name, has_since > 0 ? &since : NULL);
	if (client == NULL)
		return;
	/* Earlier pipelined answers go out before this thread blocks. */
	if (c->out.len > 0 && !srv_flush(c)) {
		srv_client_release(c->s->registry, client);
		c->keep_alive = false;
		return;
	}
	srv_client_note_poll(client, timeout);
	take_and_answer(c, client, timeout);
	srv_client_release(c->s->registry, client);
}
