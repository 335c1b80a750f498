// code.js — the code shown beside each demo: the tutorial's (Django views
// and jQuery, as it wrote them) and ours (short excerpts of server/*.c and
// of the page's own script). A line ending in ⟦key⟧ is the one a page
// highlights while that step runs (pushq.runLine('key')); the marker itself
// is not shown. Excerpts leave out error handling ("…"); the files named in
// each title hold the whole code.
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
      { title: 'server/router.c', code: `static void
view_ab_dy(srv_conn *c, const http_request *req)
{
	if (req->method == HTTP_POST) {
		const char *json = "{\\"username\\":\\"tony\\"}";
		srv_respond(c, 200, "application/json", json, strlen(json), NULL);   ⟦answer⟧
	} else {
		srv_serve_file(c, "ab_dy.html");
	}
}` },
      { title: 'ab_dy.html (fetch)', code: `button.addEventListener('click', async () => {
  const res = await fetch('/ab_dy', { method: 'POST' });   ⟦send⟧
  const text = await res.text();                           ⟦callback⟧
  show(typeof JSON.parse(text));   // "object", like JsonResponse + jQuery
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
      { title: 'polling.html', code: `async function pollOnce() {
  for (;;) {
    const res = await fetch('/get_msg?timeout=0&name=' + name);   ⟦ask⟧
    const data = await res.json();
    if (!data.status) break;            // empty: stop asking for now   ⟦empty⟧
    show(data);                         // a message: there may be more   ⟦message⟧
  }
  timer = setTimeout(pollOnce, interval * 1000);   ⟦wait⟧
}` },
      { title: 'server/registry.c — srv_client_take', code: `queue_rc rc = timeout_s == 0
    ? queue_get_nowait(c->q, &item)      /* short poll: never waits */   ⟦ask⟧
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
      { title: 'server/router.c — take_and_answer', code: `/* The heart of long polling: block this thread in the client's queue
 * for up to timeout seconds -- the tutorial's q.get(timeout=10). */
hung_up = srv_watch_park(s->watch, c->fd, client);   /* a closed tab wakes us */
rc = srv_client_take(s->registry, client, timeout, hung_up, &m, &gap);   ⟦held⟧
…
if (rc == QUEUE_OK)
	deliver(c, client, m, gap);          /* {"status":true,"msg":...} */   ⟦message⟧
else
	respond_no_message(c, 200, NULL);    /* {"status":false,"msg":""} */   ⟦timeout⟧` },
      { title: 'ab_b1.html — pollForever', code: `for (;;) {
  const res = await fetch('/get_msg?name=' + name + since);   ⟦held⟧
  const data = await res.json();
  if (data.status) show(data);   ⟦message⟧
  // then round the loop: ask again at once   ⟦again⟧
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
      { title: 'http/ws.c — ws_accept_key', code: `memcpy(joined, key, key_len);
memcpy(joined + key_len, WS_GUID, sizeof(WS_GUID) - 1);
EVP_Digest(joined, key_len + 36, sha1, &sha1_len, EVP_sha1(), NULL);   ⟦open⟧
EVP_EncodeBlock((unsigned char *)accept, sha1, 20);   /* 28 characters */` },
      { title: 'http/ws.c — reading a frame header', code: `uint64_t len = h[1] & 0x7f;           /* the 7-bit length code */
if (len == 126) len = 16-bit big-endian from h[2..3];
else if (len == 127) len = 64-bit big-endian from h[2..9];
…
dst[i] = data[i] ^ d->mask[(d->payload_pos + i) & 3];   ⟦frame⟧` },
      { title: 'ws.html', code: `socket = new WebSocket('ws://' + location.host + '/ws?name=' + name);   ⟦open⟧
socket.addEventListener('message', (event) => {
  show(JSON.parse(event.data));        // one frame = one message   ⟦frame⟧
});
socket.send(text);                     // one masked text frame up   ⟦send⟧` },
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
      { title: 'server/sse.c — srv_sse_serve', code: `client = srv_registry_join(s->registry, name, SRV_CLIENT_SSE, &why);
if (since != NULL)                     /* Last-Event-ID: resume */
	missed = srv_client_resume(s->registry, client, *since);   ⟦resume⟧
start_stream(c, name, missed);         /* 200 text/event-stream, retry: 2000 */   ⟦open⟧
stream(c, client, hung_up);            /* block in the queue, write "id:/data:" */   ⟦event⟧` },
      { title: 'sse.html', code: `const source = new EventSource('/events?name=' + name);   ⟦open⟧
source.addEventListener('message', (event) => {
  show(JSON.parse(event.data));        // event.lastEventId is its id:   ⟦event⟧
});
// On a drop the browser reconnects by itself,
// sending Last-Event-ID: the last id it saw.   ⟦resume⟧` },
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
      { title: 'compare.html — the four clients', code: `fetch('/get_msg?timeout=0&name=' + a)     // short: every interval   ⟦short⟧
fetch('/get_msg?timeout=10&name=' + b)    // long: held until a message   ⟦long⟧
new WebSocket('ws://…/ws?name=' + c)      // one connection, frames   ⟦ws⟧
new EventSource('/events?name=' + d)      // one stream, events   ⟦sse⟧
// delay = Date.now() - message.sent_at   (the server's send time)` },
    ],
  },

  queues: {
    tutorial: [
      { title: 'the tutorial', code: `q_dict = {}     # {'name': queue.Queue(), ...}
# unbounded: a queue nobody reads grows forever;
# a repeated name replaced the queue (messages lost).` },
    ],
    ours: [
      { title: 'queue/queue.c — queue_get_stats', code: `pthread_mutex_lock(&q->mutex);
out->qsize = q->count;                 /* the bar */   ⟦refresh⟧
out->maxsize = q->maxsize;             /* --queue-size */
out->waiting_getters = q->waiting_getters;   /* "thread waiting" */
out->high_water = q->high_water;       /* "peak" */
pthread_mutex_unlock(&q->mutex);` },
    ],
  },
};

window.pushqCode = CODE;
