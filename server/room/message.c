/*
 * message.c - a message's JSON, made once, and the per-client bytes around
 * it (see message.h).
 */
#include "server/room/message.h"
#include "http/ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

srv_msg *
srv_msg_new(uint64_t id, const srv_target *to, const char *from, const char *text,
            size_t text_len, const char *event, uint64_t sent_at_ms)
{
	http_buf json = { 0 };
	http_buf_puts(&json, "{\"status\":true,\"msg\":");
	http_buf_json_string(&json, text, text_len);
	http_buf_printf(&json, ",\"id\":%llu,\"from\":", (unsigned long long)id);
	http_buf_json_string(&json, from, strlen(from));
	http_buf_puts(&json, to->direct ? ",\"to\":" : ",\"channel\":");
	http_buf_json_string(&json, to->name, strlen(to->name));
	if (event != NULL)
		http_buf_printf(&json, ",\"event\":\"%s\"", event);
	http_buf_printf(&json, ",\"sent_at\":%llu", (unsigned long long)sent_at_ms);
	srv_msg *m = json.failed || strlen(to->name) > SRV_TARGET_MAX
	           ? NULL : malloc(sizeof(*m) + json.len);
	if (m != NULL) {
		atomic_init(&m->refs, 0);
		m->id = id;
		m->direct = to->direct;
		m->sent_at_ms = sent_at_ms;
		snprintf(m->target, sizeof(m->target), "%s", to->name);
		m->json_len = json.len;
		memcpy(m->json, json.data, json.len);
	}
	http_buf_free(&json);
	return m;
}

uint64_t
srv_name_hash(const char *name)
{
	uint64_t h = 14695981039346656037ULL;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = (h ^ *c) * 1099511628211ULL;
	return h;
}

void
srv_msg_release(srv_msg *m)
{
	if (m != NULL && atomic_fetch_sub(&m->refs, 1) == 1)
		free(m);
}

/* The end of the JSON that differs per client: [,"missed":K],"dropped":K}
 * and, for an event, the blank line that dispatches it. */
static size_t
render_tail(char tail[SRV_DELIVERY_TAIL_MAX], const srv_gap *gap, srv_wire wire)
{
	const char *end = wire == SRV_WIRE_SSE ? "\n\n" : "";
	int n = gap->missed > 0
		? snprintf(tail, SRV_DELIVERY_TAIL_MAX, ",\"missed\":%ld,\"dropped\":%ld}%s",
		           gap->missed, gap->dropped, end)
		: snprintf(tail, SRV_DELIVERY_TAIL_MAX, ",\"dropped\":%ld}%s", gap->dropped, end);
	return n > 0 ? (size_t)n : 0;
}

/* The bytes before the JSON.  The JSON holds no line break (every control
 * character is escaped), so an event is one "data:" line. */
static size_t
render_head(uint8_t head[SRV_DELIVERY_HEAD_MAX], srv_wire wire, uint64_t id,
            size_t payload_len)
{
	if (wire == SRV_WIRE_WS)
		return ws_frame_header(head, WS_OP_TEXT, payload_len);
	if (wire == SRV_WIRE_SSE) {
		int n = snprintf((char *)head, SRV_DELIVERY_HEAD_MAX, "id: %llu\ndata: ",
		                 (unsigned long long)id);
		return n > 0 ? (size_t)n : 0;
	}
	return 0;
}

void
srv_delivery_render(srv_delivery *d, srv_wire wire)
{
	size_t tail_len = render_tail(d->tail, &d->gap, wire);
	/* A frame's header counts the payload: the JSON and its tail. */
	size_t head_len = render_head(d->head, wire, d->msg->id, d->msg->json_len + tail_len);
	d->parts[0] = (struct iovec){ d->head, head_len };
	d->parts[1] = (struct iovec){ d->msg->json, d->msg->json_len };
	d->parts[2] = (struct iovec){ d->tail, tail_len };
	d->len = head_len + d->msg->json_len + tail_len;
}

void
srv_delivery_append(http_buf *b, const srv_delivery *d)
{
	for (int i = 0; i < 3; i++)
		http_buf_append(b, d->parts[i].iov_base, d->parts[i].iov_len);
}
