/*
 * lab_http.c - the queue lab's HTTP API (docs/api.md, "The queue lab"):
 * one view per queue.h call, each a real call on a real queue in this
 * connection's thread.  A blocking get/put/join sleeps in the queue, here,
 * until it is woken or its timeout runs out -- the thing the playground
 * page draws.
 *
 * The routes, with the Python each mirrors, are the table at the end.
 *
 * A call's answer is 200 with what Python would have done -- "result" is
 * "ok" or the exception's name (Empty, Full, ShutDown, ValueError), or
 * "timeout" for a join still waiting -- plus how long it waited and the
 * queue's state after it.  4xx is for requests the lab refuses: bad
 * parameters (400), an unknown queue (404), a bound reached (429).  Each
 * refusal is {"error":TEXT,"code":CODE}: TEXT is English for a person,
 * CODE a fixed name (docs/api.md) a page maps to a text in its own language.
 */
#include "server/lab/lab_http.h"
#include "server/lab/lab.h"
#include "server/common/clock.h"
#include "server/core/auth.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {"error":TEXT,"code":CODE} with `status`. */
static void
lab_error(srv_conn *c, int status, const char *code, const char *text)
{
	http_buf json = { 0 };
	http_buf_puts(&json, "{\"error\":");
	http_buf_json_string(&json, text, strlen(text));
	http_buf_printf(&json, ",\"code\":\"%s\"}", code);
	srv_respond(c, status, "application/json", json.data, json.len,
	            status == 429 ? "Retry-After: 1\r\n" : NULL);
	http_buf_free(&json);
}

/* A query field into out[cap]: 1 found, 0 absent, -1 malformed or too long. */
static int
query_field(const http_request *req, const char *key, char *out, size_t cap)
{
	long n = http_form_value(req->query, strlen(req->query), key, out, cap);
	if (n == -1)
		return 0;
	return n < 0 || strlen(out) != (size_t)n ? -1 : 1;
}

/* The lab queue ?q= names, referenced; NULL after answering 400/404. */
static srv_lab_queue *
lab_queue_of(srv_conn *c, const http_request *req)
{
	char id[SRV_LAB_ID_SIZE + 1];
	if (query_field(req, "q", id, sizeof(id)) <= 0) {
		lab_error(c, 400, "bad_queue_id", "?q= must name a lab queue (its id from POST /lab/new)");
		return NULL;
	}
	srv_lab_queue *lq = srv_lab_acquire(c->s->lab, id);
	if (lq == NULL) {
		char msg[96];
		snprintf(msg, sizeof(msg), "no such lab queue: it was deleted, or idle for %g minutes",
		         SRV_LAB_TTL / 60);
		lab_error(c, 404, "no_such_queue", msg);
	}
	return lq;
}

/*
 * How a call waits: ?block=0|1 (default 1) and ?timeout=S.  A blocking call
 * must give a timeout of at most SRV_LAB_MAX_TIMEOUT: each holds a server
 * thread while it waits.  False after answering 400.
 */
static bool
wait_params(srv_conn *c, const http_request *req, bool timeout_required,
            bool *block, double *timeout)
{
	char text[32];
	int found = query_field(req, "block", text, sizeof(text));
	*block = found <= 0 || strcmp(text, "0") != 0;
	if (found > 0 && strcmp(text, "0") != 0 && strcmp(text, "1") != 0) {
		lab_error(c, 400, "bad_block", "block must be 0 or 1");
		return false;
	}
	*timeout = 0;
	if (!*block && !timeout_required)
		return true;                       /* Python ignores timeout then */
	found = query_field(req, "timeout", text, sizeof(text));
	char *end = text;
	if (found > 0) {
		errno = 0;
		*timeout = strtod(text, &end);
	}
	if (found <= 0 || errno != 0 || *end != '\0' || !(*timeout >= 0) ||
	    *timeout > SRV_LAB_MAX_TIMEOUT) {
		char msg[160];
		snprintf(msg, sizeof(msg), "a blocking lab call needs ?timeout= from 0 to %g seconds: "
		         "each one holds a server thread while it waits", SRV_LAB_MAX_TIMEOUT);
		lab_error(c, 400, "bad_timeout", msg);
		return false;
	}
	return true;
}

/* A slot for a call that will wait (timeout > 0); false after 429. */
static bool
take_block_slot(srv_conn *c, bool waits)
{
	if (!waits || srv_lab_block(c->s->lab))
		return true;
	char msg[160];
	snprintf(msg, sizeof(msg), "%ld lab calls are waiting already (the most at once, "
	         "--lab-max-waiting): each holds a server thread; try when one has ended",
	         srv_lab_max_waiting(c->s->lab));
	lab_error(c, 429, "too_many_waiting", msg);
	return false;
}

/* Python's name for a result: "ok" or the exception it would raise. */
static const char *
result_name(queue_rc rc)
{
	switch (rc) {
	case QUEUE_OK: return "ok";
	case QUEUE_EMPTY: return "Empty";
	case QUEUE_FULL: return "Full";
	case QUEUE_SHUTDOWN: return "ShutDown";
	case QUEUE_TIMEOUT: return "timeout";
	default: return "ValueError";
	}
}

/* Begins a call's answer: {"call":..,"result":.. (the rest by the caller). */
static void
begin_answer(http_buf *json, const char *call, queue_rc rc)
{
	http_buf_printf(json, "{\"call\":\"%s\",\"result\":\"%s\"", call, result_name(rc));
}

/* Ends it: ,"waited":S,"state":{...}} and sends it. */
static void
end_answer(srv_conn *c, srv_lab_queue *lq, http_buf *json, double started)
{
	http_buf_printf(json, ",\"waited\":%.3f,\"state\":", srv_monotonic() - started);
	srv_lab_state_json(lq, json);
	http_buf_puts(json, "}");
	srv_respond_json(c, 200, json);
	http_buf_free(json);
}

/* ------------------------------------------------------------------ */
/* The views                                                           */
/* ------------------------------------------------------------------ */

static void
view_new(srv_conn *c, const http_request *req)
{
	char text[16];
	long maxsize = 3;
	int found = query_field(req, "maxsize", text, sizeof(text));
	if (found > 0) {
		char *end;
		errno = 0;
		maxsize = strtol(text, &end, 10);
		if (errno != 0 || *end != '\0')
			maxsize = -1;
	}
	char id[SRV_LAB_ID_SIZE];
	srv_lab_rc rc = found < 0 ? SRV_LAB_BAD_SIZE : srv_lab_create(c->s->lab, maxsize, id);
	char msg[160];
	switch (rc) {
	case SRV_LAB_OK: {
		srv_lab_queue *lq = srv_lab_acquire(c->s->lab, id);
		if (lq == NULL) {                    /* deleted at once by someone */
			lab_error(c, 404, "no_such_queue", "the new lab queue is gone already");
			return;
		}
		http_buf json = { 0 };
		srv_lab_state_json(lq, &json);
		srv_lab_release(c->s->lab, lq);
		srv_respond_json(c, 201, &json);
		http_buf_free(&json);
		return;
	}
	case SRV_LAB_BAD_SIZE:
		snprintf(msg, sizeof(msg), "maxsize must be 1 to %d: lab queues are small and bounded",
		         SRV_LAB_MAX_SIZE);
		lab_error(c, 400, "bad_maxsize", msg);
		return;
	case SRV_LAB_TOO_MANY:
		snprintf(msg, sizeof(msg), "%d lab queues exist already (the most at once); "
		         "one idle for %g minutes is removed", SRV_LAB_MAX_QUEUES, SRV_LAB_TTL / 60);
		lab_error(c, 429, "too_many_queues", msg);
		return;
	case SRV_LAB_STOPPING:
		lab_error(c, 503, "stopping", "the server is stopping");
		return;
	case SRV_LAB_NOMEM:
		break;
	}
	lab_error(c, 500, "nomem", "out of memory");
}

static void
view_state(srv_conn *c, const http_request *req)
{
	srv_lab_queue *lq = lab_queue_of(c, req);
	if (lq == NULL)
		return;
	http_buf json = { 0 };
	srv_lab_state_json(lq, &json);
	srv_lab_release(c->s->lab, lq);
	srv_respond_json(c, 200, &json);
	http_buf_free(&json);
}

/* ------------------------------------------------------------------ */
/* One call: the steps every queue call takes                          */
/* ------------------------------------------------------------------ */

/* A call's arguments, and what it brought back. */
typedef struct {
	queue *q;                    /* the lab queue's queue.h queue */
	srv_lab_queue *lq;
	bool block;
	double timeout;
	const char *item_text;       /* put: what to put */
	bool immediate;              /* shutdown */
	unsigned long put_no;        /* put: its number */
	srv_lab_item *item;          /* get: what it took (ours to free) */
} lab_call;

typedef queue_rc lab_call_fn(lab_call *call);

/*
 * Finds the queue, takes a waiting slot if the call may block, makes the
 * call in this thread (where it may sleep), and answers with what Python
 * would have done, how long it took and the queue's state after it.
 */
static void
run_call(srv_conn *c, const http_request *req, const char *name, lab_call *call,
         lab_call_fn *fn)
{
	call->lq = lab_queue_of(c, req);
	if (call->lq == NULL)
		return;
	call->q = srv_lab_q(call->lq);
	bool waits = call->block && call->timeout > 0;
	if (take_block_slot(c, waits)) {
		double started = srv_monotonic();
		queue_rc rc = fn(call);                      /* may sleep here */
		if (waits)
			srv_lab_unblock(c->s->lab);
		http_buf json = { 0 };
		begin_answer(&json, name, rc);
		if (call->item != NULL) {
			http_buf_puts(&json, ",\"item\":");
			http_buf_json_string(&json, call->item->text, strlen(call->item->text));
			http_buf_printf(&json, ",\"put\":%lu", call->item->put_no);
			free(call->item);
		} else if (call->put_no > 0) {
			http_buf_printf(&json, ",\"put\":%lu", call->put_no);
		}
		end_answer(c, call->lq, &json, started);
	}
	srv_lab_release(c->s->lab, call->lq);
}

/* The calls, each the queue.h call a Python q.<call>() is. */
static queue_rc
call_put(lab_call *call)
{
	return srv_lab_put(call->lq, call->item_text, call->block, call->timeout, &call->put_no);
}

static queue_rc
call_get(lab_call *call)
{
	void *item = NULL;
	queue_rc rc = queue_get(call->q, &item, call->block, call->block ? &call->timeout : NULL);
	call->item = rc == QUEUE_OK ? item : NULL;
	return rc;
}

static queue_rc
call_task_done(lab_call *call)
{
	return queue_task_done(call->q);
}

static queue_rc
call_join(lab_call *call)
{
	return queue_join_timeout(call->q, call->timeout);
}

static queue_rc
call_shutdown(lab_call *call)
{
	queue_shutdown(call->q, call->immediate);
	return QUEUE_OK;
}

/* ------------------------------------------------------------------ */
/* The views of the calls                                              */
/* ------------------------------------------------------------------ */

static void
view_put(srv_conn *c, const http_request *req)
{
	char item[SRV_LAB_ITEM_MAX + 1];
	lab_call call = { .item_text = item };
	if (query_field(req, "item", item, sizeof(item)) <= 0 || item[0] == '\0') {
		char msg[96];
		snprintf(msg, sizeof(msg), "?item= must be text of 1 to %d bytes", SRV_LAB_ITEM_MAX);
		lab_error(c, 400, "bad_item", msg);
		return;
	}
	if (wait_params(c, req, false, &call.block, &call.timeout))
		run_call(c, req, "put", &call, call_put);
}

static void
view_get(srv_conn *c, const http_request *req)
{
	lab_call call = { 0 };
	if (wait_params(c, req, false, &call.block, &call.timeout))
		run_call(c, req, "get", &call, call_get);
}

static void
view_task_done(srv_conn *c, const http_request *req)
{
	lab_call call = { 0 };
	run_call(c, req, "task_done", &call, call_task_done);
}

static void
view_join(srv_conn *c, const http_request *req)
{
	lab_call call = { 0 };
	if (wait_params(c, req, true, &call.block, &call.timeout)) {
		call.block = true;           /* join always waits, for its timeout */
		run_call(c, req, "join", &call, call_join);
	}
}

static void
view_shutdown(srv_conn *c, const http_request *req)
{
	char text[8];
	int found = query_field(req, "immediate", text, sizeof(text));
	if (found < 0 || (found > 0 && strcmp(text, "0") != 0 && strcmp(text, "1") != 0)) {
		lab_error(c, 400, "bad_immediate", "immediate must be 0 or 1");
		return;
	}
	lab_call call = { .immediate = found > 0 && text[0] == '1' };
	run_call(c, req, "shutdown", &call, call_shutdown);
}

static void
view_delete(srv_conn *c, const http_request *req)
{
	char id[SRV_LAB_ID_SIZE + 1];
	if (query_field(req, "q", id, sizeof(id)) <= 0) {
		lab_error(c, 400, "bad_queue_id", "?q= must name a lab queue");
		return;
	}
	if (!srv_lab_delete(c->s->lab, id)) {
		lab_error(c, 404, "no_such_queue", "no such lab queue");
		return;
	}
	const char *json = "{\"call\":\"delete\",\"result\":\"ok\"}";
	srv_respond(c, 200, "application/json", json, strlen(json), NULL);
}

/* ------------------------------------------------------------------ */
/* The teacher's view                                                  */
/* ------------------------------------------------------------------ */

/* Whether the asker may see or purge every lab queue: anyone when the
 * server has no --api-key (a classroom's own server), else only the key.
 * False after answering 401. */
static bool
teacher_may(srv_conn *c, const http_request *req)
{
	if (c->s->cfg.api_key_len == 0)
		return true;
	srv_who who;
	if (!srv_auth_identify(c, req, &who))
		return false;
	if (who.api_key)
		return true;
	lab_error(c, 401, "api_key_needed", "the teacher's view needs the API key (--api-key)");
	return false;
}

static void
view_list(srv_conn *c, const http_request *req)
{
	if (!teacher_may(c, req))
		return;
	http_buf json = { 0 };
	srv_lab_list_json(c->s->lab, &json);
	srv_respond_json(c, 200, &json);
	http_buf_free(&json);
}

static void
view_purge(srv_conn *c, const http_request *req)
{
	if (!teacher_may(c, req))
		return;
	size_t removed = srv_lab_purge(c->s->lab);
	http_buf json = { 0 };
	http_buf_printf(&json, "{\"call\":\"purge\",\"result\":\"ok\",\"removed\":%zu}", removed);
	srv_respond_json(c, 200, &json);
	http_buf_free(&json);
}

/* ------------------------------------------------------------------ */
/* The lab's routes                                                    */
/* ------------------------------------------------------------------ */

const srv_route srv_lab_routes[] = {
	{ "/lab/new",       SRV_M_POST,             view_new },      /* queue.Queue(maxsize=N) */
	{ "/lab/state",     SRV_M_GET | SRV_M_HEAD, view_state },    /* what it holds, who waits */
	{ "/lab/put",       SRV_M_POST,             view_put },      /* q.put(X, block, timeout) */
	{ "/lab/get",       SRV_M_POST,             view_get },      /* q.get(block, timeout) */
	{ "/lab/task_done", SRV_M_POST,             view_task_done },/* q.task_done() */
	{ "/lab/join",      SRV_M_POST,             view_join },     /* q.join(), bounded by ?timeout */
	{ "/lab/shutdown",  SRV_M_POST,             view_shutdown }, /* q.shutdown(immediate) */
	{ "/lab/delete",    SRV_M_POST,             view_delete },   /* removes it; its waiters return */
	{ "/lab/list",      SRV_M_GET | SRV_M_HEAD, view_list },     /* the teacher's view: every queue */
	{ "/lab/purge",     SRV_M_POST,             view_purge },    /* the teacher's: removes them all */
};

const size_t srv_lab_route_count = sizeof(srv_lab_routes) / sizeof(srv_lab_routes[0]);
