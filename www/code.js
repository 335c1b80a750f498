// code.js — the code shown beside each demo: the tutorial's (Django views
// and jQuery, as it wrote them) and ours (short excerpts of this repo's C
// and of the page scripts). A line ending in ⟦key⟧ is the one a page
// highlights while that step runs (pushq.runLine('key')); the marker itself
// is not shown. A line that is only "…" stands for lines left out. Each of
// ours is titled with the path of the file it quotes, from the repo root,
// and quotes it exactly: test/e2e/excerpts.test.mjs checks that it does.
'use strict';

const CODE = {
  ajax: {
    tutorial: [
      { title: 'views.py', code: `def ab_dy(request):
    if request.method == 'POST':        # the tutorial wrote 'post': never true
        back_dic = {'username': 'tony'}
        # return HttpResponse(json.dumps(back_dic))  # then the page needs dataType:'JSON'
        return JsonResponse(back_dic)   ⟦answer⟧
    return render(request, 'ab_dy.html')` },
      { title: 'ab_dy.html (jQuery)', code: `$('#d1').click(function () {
    $.ajax({                              ⟦send⟧
        url: '', type: 'post', data: {},
        // dataType: 'JSON',  only needed for HttpResponse
        success: function (args) {        ⟦callback⟧
            alert(typeof args)            // "object": already parsed
        }
    })
})` },
    ],
    ours: [
      { title: 'server/views.c — srv_view_ab_dy', code: `void
srv_view_ab_dy(srv_conn *c, const http_request *req)
{
	if (req->method == HTTP_POST) {
		const char *json = "{\\"username\\":\\"tony\\"}";
		srv_respond(c, 200, "application/json", json, strlen(json), NULL);   ⟦answer⟧
	} else {
		srv_serve_file(c, "ab_dy.html");
	}
}` },
      { title: 'www/ab_dy.js — the click', code: `document.getElementById('d1').addEventListener('click', async () => {
  …
  const res = await fetch('/ab_dy', { method: 'POST' });   ⟦send⟧
  const text = await res.text();                           // the callback: the answer is here   ⟦callback⟧
  …
  // Like JsonResponse + jQuery: the JSON text becomes an object.
  document.getElementById('response-type').textContent = typeof JSON.parse(text);
});` },
    ],
  },

  short: {
    tutorial: [
      { title: 'the tutorial, in words', code: `# Short polling: the browser sends an AJAX request
# every few seconds (e.g. every 5 s).
# - a message waits up to one interval
# - most answers are empty: wasted work
# - far too many requests
setInterval(function () { $.ajax({url: '/get_msg/', ...}) }, 5000)   ⟦wait⟧` },
    ],
    ours: [
      { title: 'www/polling.js — pollOnce', code: `async function pollOnce() {
  …
    for (;;) {
      …
        const res = await fetch(pushq.withToken('/get_msg?timeout=0&name=' + encodeURIComponent(name)));   ⟦ask⟧
        …
      if (!data.status) {
        …
        break;                          // empty: stop asking for now   ⟦empty⟧
      }
      …
      pushq.showMessage(list, data);    // a message: there may be more   ⟦message⟧
      …
  schedule();                           // then wait one interval
}
…
  timer = setTimeout(pollOnce, seconds * 1000);   ⟦wait⟧` },
      { title: 'server/room/delivery.c — srv_client_take', code: `	void *item = srv_replay_next(c);
	queue_rc rc = item != NULL ? QUEUE_OK
	            : timeout_s == 0 ? queue_get_nowait(c->q, &item)   /* no clock needed */   ⟦ask⟧
	            : queue_get_cancellable(c->q, &item, &timeout_s, cancel);` },
    ],
  },

  long: {
    tutorial: [
      { title: 'views.py', code: `q_dict = {}                          # name -> queue.Queue()

def get_msg(request):
    name = request.GET.get('name')
    q = q_dict.get(name)
    back_dic = {'status': True, 'msg': ''}
    try:
        data = q.get(timeout=10)         # the thread sleeps here   ⟦held⟧
        back_dic['msg'] = data           ⟦message⟧
    except queue.Empty as e:
        back_dic['status'] = False       ⟦timeout⟧
    return JsonResponse(back_dic)` },
      { title: 'ab_b1.html (jQuery)', code: `function getMsg() {
    $.ajax({
        url: '/get_msg/', type: 'get', data: {'name': '{{ name }}'},   ⟦ask⟧
        success: function (args) {
            if (args.status) {
                var pEle = $('<p>');
                pEle.text(args.msg);     // text, never HTML
                $('#content').append(pEle)   ⟦message⟧
            }
            getMsg()                     // ask again: not recursion   ⟦again⟧
        }
    })
}
$(function () { getMsg() })` },
    ],
    ours: [
      { title: 'server/push/longpoll.c — take_and_answer', code: `	const atomic_bool *hung_up = timeout > 0 ? srv_watch_park(s->watch, c->fd, client) : NULL;
	srv_delivery d;
	srv_presence_begin(&s->presence, client, SRV_CLIENT_POLL);
	queue_rc rc = srv_client_next(s->registry, client, timeout, hung_up, SRV_WIRE_JSON, &d);
	…
	} else if (rc == QUEUE_OK && !c->head_only) {
		deliver(c, client, &d);   ⟦message⟧
	} else {
		…
		srv_answer_no_message(c, 200, NULL);   ⟦timeout⟧
	}` },
      { title: 'server/room/delivery.c — srv_client_next', code: `queue_rc
srv_client_next(srv_registry *r, srv_client *c, double timeout_s,
                const atomic_bool *cancel, srv_wire wire, srv_delivery *d)
{
	queue_rc rc = srv_client_take(r, c, timeout_s, cancel, &d->msg, &d->gap);   ⟦held⟧` },
      { title: 'server/room/delivery.c — srv_client_take: the queue_get of q.get(timeout=10)', code: `	void *item = srv_replay_next(c);
	queue_rc rc = item != NULL ? QUEUE_OK
	            : timeout_s == 0 ? queue_get_nowait(c->q, &item)   /* no clock needed */
	            : queue_get_cancellable(c->q, &item, &timeout_s, cancel);   ⟦held⟧` },
      { title: 'queue/queue.c — get_wait_for_item: where the request\u2019s thread sleeps', code: `	while (q->count == 0) {
		if (timeout_s != NULL && deadline_passed(&deadline))
			return QUEUE_EMPTY;          /* G5 */   ⟦timeout⟧
		…
		q->waiting_getters++;
		wait_on(q, &q->not_empty, timeout_s ? &deadline : NULL);   ⟦held⟧
		q->waiting_getters--;` },
      { title: 'www/ab_b1.js — pollForever', code: `  for (;;) {
    …
      const res = await fetch(pushq.withToken('/get_msg?name=' + encodeURIComponent(name) + since + channels));   ⟦held⟧
      …
      const data = await res.json();
      …
      if (data.status) {
        …
        pushq.showMessage(list, data);   ⟦message⟧
        …
      } else {
        bar.end('timeout');   ⟦timeout⟧
        …
    // Round the loop: ask again at once.   ⟦again⟧
  }` },
    ],
  },

  ws: {
    tutorial: [
      { title: 'the tutorial, in words', code: `# 1. Handshake: the browser sends a random
#    Sec-WebSocket-Key: ePW8kp1XqLNWbJxE/Q38SA==
#    both sides: base64(sha1(key + magic string))   ⟦open⟧
# 2. Data: read the low 7 bits of byte 2:
#    127 -> the next 8 bytes are the length
#    126 -> the next 2 bytes are the length
#    <= 125 -> that is the length
#    then 4 bytes of masking key; byte i ^= key[i % 4]   ⟦frame⟧` },
    ],
    ours: [
      { title: 'http/ws.c — ws_accept_key', code: `	memcpy(joined, key, key_len);
	memcpy(joined + key_len, WS_GUID, sizeof(WS_GUID) - 1);
	unsigned char sha1[EVP_MAX_MD_SIZE];
	unsigned int sha1_len = 0;
	if (EVP_Digest(joined, key_len + sizeof(WS_GUID) - 1, sha1, &sha1_len, EVP_sha1(), NULL) != 1 ||   ⟦open⟧
	    sha1_len != 20)
		return false;
	/* 20 bytes -> 28 base64 characters + NUL. */
	return EVP_EncodeBlock((unsigned char *)accept, sha1, 20) == 28;` },
      { title: 'http/ws.c — start_payload, take_payload: reading a frame', code: `	uint64_t len = h[1] & 0x7f;
	size_t at = 2;
	if (len == 126) {                 /* 16-bit length, network order */
		len = ((uint64_t)h[2] << 8) | h[3];
		at = 4;
	} else if (len == 127) {          /* 64-bit length, network order */
	…
	memcpy(d->mask, h + at, 4);
	…
		dst[i] = data[i] ^ d->mask[(d->payload_pos + i) & 3];   ⟦frame⟧` },
      { title: 'www/ws.js — connect, and the send form', code: `  return '/ws?name=' + encodeURIComponent(name) + pushq.channelsParam(picker.list);
  …
  socket = new WebSocket(scheme + location.host + pushq.withToken(wsPath() + since));   ⟦open⟧
  …
  socket.addEventListener('message', (event) => {
    const data = JSON.parse(event.data);    // the same JSON as /get_msg   ⟦frame⟧
    …
  const target = picker.target();          // { channel } or { to }
  socket.send(JSON.stringify({ msg: box.value, ...target }));   // one text frame   ⟦send⟧` },
    ],
  },

  sse: {
    tutorial: [
      { title: 'the tutorial', code: `# Server-Sent Events are not in the tutorial:
# it goes from long polling straight to WebSocket.
# SSE is long polling that never says "nothing":
# one GET stays open, and each message is written
# down it as an event.` },
    ],
    ours: [
      { title: 'server/push/sse.c — serve_stream', code: `	srv_client *client = srv_reader_join(c, req, name, SRV_CLIENT_SSE, &who);
	…
	long missed = since != NULL ? srv_client_resume(s->registry, client, *since) : 0;   ⟦resume⟧
	…
	if (start_stream(c, name, missed)) {   ⟦open⟧
		outbox out;
		outbox_init(&out, s, c->fd);
		outbox_attach(&out, client, SRV_WIRE_SSE, SRV_CLIENT_SSE, NULL);   ⟦event⟧
		srv_presence_begin(&s->presence, client, SRV_CLIENT_SSE);
		watch_stream(c, &out, srv_auth_expires(&who));` },
      { title: 'www/sse.js — the EventSource', code: `// EventSource does the whole protocol: it sends GET /events, parses the
// stream, and on a cut waits \`retry\` ms and reconnects with Last-Event-ID.   ⟦resume⟧
…
function openStream(since = '') {
  source = new EventSource(pushq.withToken(streamPath + (since ? '&since=' + since : '')));   ⟦open⟧
…
function onMessage(event) {
  const data = JSON.parse(event.data);          // the same JSON as /get_msg   ⟦event⟧
  …
  lastSeen = event.lastEventId;                  // what a reconnect will send` },
    ],
  },

  compare: {
    tutorial: [
      { title: 'the tutorial’s verdict', code: `# short polling: delay up to the interval, many requests
# long polling:  "basically no delay", far fewer requests
#                (web QQ and web WeChat work this way)
# WebSocket:     the server really sends first` },
    ],
    ours: [
      { title: 'www/compare.js — the four clients', code: `    const res = await fetch('/get_msg?timeout=' + timeout + '&name=' + encodeURIComponent(tech.name));
…
    for (let data = await getMsg(tech, 0, 'short'); running && data && data.status; data = await getMsg(tech, 0, 'short'))   ⟦short⟧
…
      const data = await getMsg(tech, 10, 'long');   ⟦long⟧
…
  socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws?name=' + encodeURIComponent(tech.name));   ⟦ws⟧
…
  stream = new EventSource('/events?name=' + encodeURIComponent(tech.name));   ⟦sse⟧` },
      { title: 'www/chat.js — delayOf', code: `// The delay of a message: now minus the server's send time (sent_at, ms
// since 1970). Both clocks are this machine's when the page and the server
// share it; across machines their difference counts too.
function delayOf(msg) {
  return msg.sent_at ? Math.max(0, Date.now() - msg.sent_at) : null;
}` },
    ],
  },

  queues: {
    tutorial: [
      { title: 'the tutorial', code: `q_dict = {}     # {'name': queue.Queue(), ...}
# unbounded: a queue nobody reads grows forever;
# a repeated name replaced the queue (messages lost).` },
    ],
    ours: [
      { title: 'queue/queue.c — queue_get_stats', code: `	pthread_mutex_lock(&q->mutex);
	out->qsize = q->count;   ⟦refresh⟧
	out->maxsize = q->maxsize;
	…
	out->waiting_getters = q->waiting_getters;
	…
	out->high_water = q->high_water;
	pthread_mutex_unlock(&q->mutex);` },
    ],
  },

  // The queue lab's "why it blocks": the same wait loop in Python and in C.
  // ⟦wait⟧ is lit while a get sleeps, ⟦notify⟧ on the put that wakes it,
  // ⟦empty⟧ when a timeout ends the wait (lab.js, whyLines).
  lab: {
    tutorial: [
      { title: 'Lib/queue.py — Queue.get, Queue.put (CPython 3.13)', code: `def get(self, block=True, timeout=None):
    with self.not_empty:                    # take the lock
        ...
        else:
            endtime = time() + timeout
            while not self._qsize():        # nothing there: wait
                remaining = endtime - time()
                if remaining <= 0.0:
                    raise Empty             ⟦empty⟧
                self.not_empty.wait(remaining)   # sleeps, lock let go   ⟦wait⟧
                if self.is_shutdown and not self._qsize():
                    raise ShutDown
        item = self._get()
        self.not_full.notify()
        return item

def put(self, item, block=True, timeout=None):
    with self.not_full:
        ...
        self._put(item)
        self.unfinished_tasks += 1
        self.not_empty.notify()             # wakes one sleeping get   ⟦notify⟧` },
    ],
    ours: [
      { title: 'queue/queue.c — get_wait_for_item', code: `	while (q->count == 0) {
		if (timeout_s != NULL && deadline_passed(&deadline))
			return QUEUE_EMPTY;          /* G5 */   ⟦empty⟧
		if (cancel != NULL && atomic_load(cancel))
			return QUEUE_CANCELLED;      /* called off (not in Python) */
		q->waiting_getters++;
		wait_on(q, &q->not_empty, timeout_s ? &deadline : NULL);   ⟦wait⟧
		q->waiting_getters--;
		if (q->is_shutdown && q->count == 0)
			return QUEUE_SHUTDOWN;       /* G3/G5 */
	}` },
      { title: 'queue/queue.c — wait_on', code: `	if (deadline == NULL)
		pthread_cond_wait(cond, &q->mutex);
	else
		pthread_cond_timedwait(cond, &q->mutex, deadline);   ⟦wait⟧` },
      { title: 'queue/queue.c — queue_put', code: `			wake_getter = q->waiting_getters > 0;  /* nobody waiting: nobody to wake */
		…
	pthread_mutex_unlock(&q->mutex);
	if (wake_getter)          /* after unlocking: see "Waking" at the top */
		pthread_cond_signal(&q->not_empty);   ⟦notify⟧` },
    ],
  },

  channels: {
    tutorial: [
      { title: 'views.py — send_msg: into every queue', code: `def send_msg(request):
    if request.method == 'POST':    # the tutorial: 'post'
        content = request.POST.get('content')
        for q in q_dict.values():   # every queue   ⟦all⟧
            q.put(content)
        return HttpResponse('ok')` },
      { title: 'to one name: the one-line change', code: `        q_dict[name].put(content)   # one queue   ⟦direct⟧` },
      { title: 'to a channel: the same loop, over fewer queues', code: `        # members = {'maths': ['ana', 'cai'], ...}
        for name in members[channel]:   ⟦channel⟧
            q_dict[name].put(content)   ⟦channel⟧` },
    ],
    ours: [
      { title: 'server/room/broadcast.c — receivers_of', code: `	if (to->direct) {
		*one = srv_table_find(r, to->name);   ⟦direct⟧
		if (*one == NULL)
			return false;
		*list = one;
		*n = 1;
	} else {
		srv_channel *ch = srv_channel_find(r, to->name);   ⟦channel⟧
		if (ch != NULL) {
			*list = ch->members;
			*n = ch->count;
			…
		}
	}` },
      { title: 'server/room/broadcast.c — put_as', code: `	if (!receivers_of(r, to, &members, &n, &one) && !known_id) {
	…
	for (size_t i = 0; i < n; i++)
		put_into(r, members[i], m, p);   ⟦put⟧` },
      { title: 'www/channels.js — publish', code: `  const res = await fetch('/send_msg', { method: 'POST', body });   ⟦post⟧
  const answer = await res.json();          // {"status":true,"id":N,"receivers":K}` },
    ],
  },
};

window.pushqCode = CODE;
