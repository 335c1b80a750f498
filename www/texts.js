// texts.js — every text the pages show, in English and in Chinese, and the
// functions that look a text up and put the page into the chosen language.
'use strict';

// Every text a page shows lives here, in English and in Chinese. An element
// with data-i18n="key" gets the text of that key; data-i18n-placeholder sets
// a placeholder. Pages call pushq.t('key', {name: ...}) for texts they build.
const TEXTS = {
  en: {
    'nav.home': 'Map', 'nav.ajax': 'AJAX', 'nav.short': 'Short polling', 'nav.long': 'Long polling',
    'nav.ws': 'WebSocket', 'nav.sse': 'SSE', 'nav.compare': 'Compare', 'nav.queues': 'Queues',
    'lang.switch': '中文',

    'home.title': 'How a server pushes messages to a browser',
    'home.lead': 'HTTP lets only the browser ask. These pages show the ways around that, from the simplest to real push, each running live against this server. Open two tabs and watch messages travel.',
    'home.ajax.h': 'AJAX', 'home.ajax.p': 'The page sends a request in the background and handles the answer in a callback, without reloading. It is the building block of everything below — but on its own the server still cannot speak first.',
    'home.short.h': 'Short polling', 'home.short.p': 'The page asks “anything new?” every few seconds. Simple, but a message waits up to one interval, and most requests come back empty: wasted work on both sides.',
    'home.long.h': 'Long polling', 'home.long.p': 'The page asks, and the server does not answer until there is a message (or a timeout, then the page asks again). Here each client has its own blocking queue and the request’s thread waits on it: messages arrive almost at once, with few requests.',
    'home.ws.h': 'WebSocket', 'home.ws.p': 'One HTTP request is upgraded into a lasting two-way connection; the server sends each message as a frame the moment it has it. Note: ws:// is plain text like http://; only wss:// is encrypted. Masking is not encryption.',
    'home.sse.h': 'Server-Sent Events', 'home.sse.p': 'One GET that never ends: the server writes each message as an event (id: and data: lines) down a stream the browser keeps open. One direction only, plain HTTP, and the browser reconnects by itself, telling the server the last id it saw — so nothing sent meanwhile is lost.',
    'home.sse.cost': 'one open request (and one thread here) per client',
    'home.cost': 'Cost:', 'home.try': 'Try it',
    'home.ajax.cost': 'one request per action', 'home.short.cost': 'a request every interval, delay up to one interval',
    'home.long.cost': 'one waiting request (and one thread here) per client', 'home.ws.cost': 'one open connection per client, tiny frames',
    'home.more': 'See them side by side on the compare page, the queues themselves on the queues page, and messages for one channel or one person on the channels page.',

    'ajax.title': 'AJAX: a request in the background',
    'ajax.lead': 'The button sends POST /ab_dy with fetch(). The server answers JSON; the page shows the whole exchange, and what type the parsed answer has (the tutorial used alert(typeof args)).',
    'ajax.button': 'Send POST /ab_dy', 'ajax.request': 'Request', 'ajax.response': 'Response',
    'ajax.status': 'Status', 'ajax.headers': 'Headers', 'ajax.body': 'Body', 'ajax.type': 'typeof the parsed body',
    'ajax.none': 'Nothing sent yet.',

    'chat.you': 'You are', 'chat.send': 'Send', 'chat.placeholder': 'Type a message',
    'chat.requests': 'requests', 'chat.dropped.pre': '', 'chat.dropped': 'missed (queue was full)', 'chat.messages': 'messages',
    'chat.empty': 'No messages yet. Open this page in a second tab and say hello.',

    'long.title': 'Long polling: one blocking queue per client',
    'long.lead': 'GET /get_msg waits on your queue on the server for up to {s} s (the server’s --poll-timeout). When someone sends to a channel you are in (or to your name), your queue gets the message and your waiting request answers at once; then the page asks again.',
    'long.waiting': 'waiting — the server thread is blocked on your queue',
    'long.got': 'got a message, asking again', 'long.timeout': 'timed out with nothing, asking again',
    'long.down': 'server unreachable, retrying in {s} s', 'long.rejoin': 'server forgot us (it restarted?): joining again',

    'short.title': 'Short polling: asking again and again',
    'short.lead': 'GET /get_msg?timeout=0 answers at once, message or not. The page asks every interval; watch how many answers are empty and how long a message waits.',
    'short.interval': 'Interval (seconds)', 'short.start': 'Start', 'short.stop': 'Stop',
    'short.requests': 'requests', 'short.empty': 'empty answers', 'short.delay': 'delay',
    'short.delay.unknown': 'delay unknown (sent elsewhere)',

    'ws.title': 'WebSocket: real push',
    'ws.lead': 'One connection stays open. Your messages go up as frames — {"msg":…,"channel":…} or {"msg":…,"to":…} — and reach every client in that channel, long-polling clients too, or that one name; each message for you comes down as a frame the moment it exists.',
    'ws.state.connecting': 'connecting…', 'ws.state.open': 'connected', 'ws.state.closed': 'closed, reconnecting in {s} s',
    'lab.title': 'Handshake and frame lab',
    'lab.hs.h': '1. The handshake', 'lab.hs.p': 'The browser picks 16 random bytes and sends them base64-encoded as Sec-WebSocket-Key. Both sides append the fixed GUID, hash with SHA-1 and encode with base64. Here your browser computes it with SubtleCrypto, and the server answers its own.',
    'lab.hs.button': 'A random key', 'lab.key': 'Sec-WebSocket-Key', 'lab.guid': '+ GUID', 'lab.sha1': 'SHA-1 (hex)',
    'lab.accept': 'base64 → our Sec-WebSocket-Accept', 'lab.server': 'the server’s answer', 'lab.match': 'match', 'lab.nomatch': 'different!',
    'lab.frame.h': '2. A frame, byte by byte', 'lab.frame.p': 'This is what the browser sends for your text: every client frame is masked with 4 random bytes (to protect proxies, not to hide anything).',
    'lab.frame.placeholder': 'Type text to frame', 'lab.byte1': 'byte 1: FIN=1, opcode=1 (text)',
    'lab.byte2': 'byte 2: MASK=1, length code {n}', 'lab.ext16': 'next 2 bytes (16 bits): length {n}', 'lab.ext64': 'next 8 bytes (64 bits): length {n}',
    'lab.mask': 'masking key', 'lab.payload': 'masked payload',
    'lab.decode.h': '3. The tutorial’s decoding steps',
    'lab.step1': 'Low 7 bits of byte 2: {n}.', 'lab.step2.small': '{n} ≤ 125, so that is the length.',
    'lab.step2.16': 'Length code 126, then 16 bits: {n}.', 'lab.step2.64': 'Length code 127, then 64 bits: {n}.',
    'lab.step3': 'The next 4 bytes are the mask: {mask}.', 'lab.step4': 'XOR byte i with mask[i % 4]: {bytes}', 'lab.step5': 'As UTF-8 text: “{text}”',

    'cmp.title': 'Four techniques, one message stream',
    'cmp.lead': 'Start it: this page joins as four clients — one short-polling, one long-polling, one on a WebSocket, one on a Server-Sent Events stream — and sends a message every 2 seconds. Each column counts requests, bytes and how late each message arrived.',
    'cmp.start': 'Start', 'cmp.stop': 'Stop', 'cmp.short': 'Short polling', 'cmp.long': 'Long polling', 'cmp.ws': 'WebSocket',
    'cmp.requests': 'requests', 'cmp.bytes': 'bytes received', 'cmp.delay': 'average delay', 'cmp.chart': 'Delay of each message (ms)',

    'q.title': 'The queues, live',
    'q.lead': 'Every client’s queue on the server, from GET /stats twice a second: how full it is (against --queue-size), whether a thread is blocked waiting on it right now, and how many messages it missed because it was full.',
    'q.name': 'client', 'q.kind': 'kind', 'q.depth': 'queue', 'q.waiting': 'thread waiting', 'q.dropped': 'missed',
    'q.none': 'No clients yet. Open the long-polling or WebSocket chat in another tab.',
    'q.summary': '{clients} clients · {open} open connections · {threads} threads · {sent} sent · {delivered} delivered · {dropped} missed',
    'q.yes': 'yes', 'q.no': 'no',
    'chat.missed': 'lost for good (older than the history)',
    'chat.resumed': 'resumed after #{id}: {n} caught up',
    'long.resume': 'back after an error: asking for everything after #{id}',

    'sse.title': 'Server-Sent Events: a stream the browser keeps open',
    'sse.lead': 'GET /events answers 200 text/event-stream and never ends: each message comes down as an event (id: and data: lines, then a blank line). On the server your stream keeps one thread, but it does not wait on your queue: the thread that sends a message writes the event into your socket itself, as for a WebSocket, and a second thread starts only if you read slower than messages come. The stream’s own thread wakes only for a heartbeat, or when you leave. If the connection drops, the browser reconnects by itself and sends the last id it saw as Last-Event-ID: the server replays what you missed from its history.',
    'sse.state.connecting': 'connecting…', 'sse.state.open': 'streaming', 'sse.state.lost': 'connection lost — the browser reconnects by itself (retry: 2000 ms)',
    'sse.raw': 'The stream as it arrives', 'sse.raw.p': 'Each event rebuilt from the fields the browser parsed (the same bytes the server wrote). Heartbeat comments (“: keep-alive”) are not shown to pages.',
    'sse.reconnect': 'Reconnects', 'sse.reconnect.none': 'No reconnect yet. Stop the server for a moment, or close the connection, and watch the browser come back with Last-Event-ID.',
    'sse.reconnect.item': 'reconnected with Last-Event-ID: {id} — {n} message(s) sent meanwhile replayed (from its queue or the history)',
    'sse.reconnect.missed': ', {k} lost for good',
    'sse.replayed': 'replayed',
    'cmp.sse': 'Server-Sent Events',
  },
  zh: {
    'nav.home': '导览', 'nav.ajax': 'AJAX', 'nav.short': '短轮询', 'nav.long': '长轮询',
    'nav.ws': 'WebSocket', 'nav.sse': 'SSE', 'nav.compare': '对比', 'nav.queues': '队列',
    'lang.switch': 'English',

    'home.title': '服务端如何主动给浏览器推送消息',
    'home.lead': 'HTTP 只允许浏览器先开口。这几个页面演示绕过这一点的几种办法，从最简单的到真正的推送，全部连着这台服务器实时运行。打开两个标签页，看消息怎么走。',
    'home.ajax.h': 'AJAX', 'home.ajax.p': '页面在后台发请求，在回调函数里处理响应，不用刷新整页。下面所有办法都建立在它之上——但光靠它，服务器仍然不能先说话。',
    'home.short.h': '短轮询', 'home.short.p': '页面每隔几秒问一次“有新消息吗？”。简单，但消息最多要等一个间隔，而且大部分请求都是空手而归，两边都在白费力气。',
    'home.long.h': '长轮询', 'home.long.p': '页面发出请求，服务器有消息才回答（或者超时，然后页面马上再问）。这里每个客户端都有自己的阻塞队列，处理请求的线程就在队列上等：消息几乎立刻到达，请求也少得多。',
    'home.ws.h': 'WebSocket', 'home.ws.p': '一次 HTTP 请求升级成一条持久的双向连接；服务器一有消息就作为一个帧发出去。注意：ws:// 和 http:// 一样是明文，只有 wss:// 才加密；掩码不是加密。',
    'home.sse.h': 'Server-Sent Events', 'home.sse.p': '一个永不结束的 GET：服务器把每条消息作为一个事件（id: 行和 data: 行）写进浏览器一直开着的流里。只有一个方向，就是普通的 HTTP；断线后浏览器会自己重连，并告诉服务器它看到的最后一个 id——断开期间发的消息一条也不会丢。',
    'home.sse.cost': '每个客户端一个一直开着的请求（这里还有一个线程）',
    'home.cost': '代价：', 'home.try': '试一试',
    'home.ajax.cost': '每个操作一个请求', 'home.short.cost': '每个间隔一个请求，延迟最多一个间隔',
    'home.long.cost': '每个客户端一个挂起的请求（这里还有一个线程）', 'home.ws.cost': '每个客户端一条连接，帧很小',
    'home.more': '在“对比”页面把它们放在一起看，在“队列”页面看队列本身，在“频道”页面看只发给一个频道或一个人的消息。',

    'ajax.title': 'AJAX：后台发出的请求',
    'ajax.lead': '按钮用 fetch() 发送 POST /ab_dy。服务器返回 JSON；页面展示整个交换过程，以及解析后的结果是什么类型（教程里用的是 alert(typeof args)）。',
    'ajax.button': '发送 POST /ab_dy', 'ajax.request': '请求', 'ajax.response': '响应',
    'ajax.status': '状态码', 'ajax.headers': '响应头', 'ajax.body': '响应体', 'ajax.type': '解析结果的 typeof',
    'ajax.none': '还没有发送。',

    'chat.you': '你是', 'chat.send': '发送', 'chat.placeholder': '输入一条消息',
    'chat.requests': '次请求', 'chat.dropped.pre': '错过', 'chat.dropped': '条（队列已满）', 'chat.messages': '条消息',
    'chat.empty': '还没有消息。在另一个标签页打开这个页面，打个招呼吧。',

    'long.title': '长轮询：每个客户端一个阻塞队列',
    'long.lead': 'GET /get_msg 在服务器上守着你的队列等消息，最多 {s} 秒（服务器的 --poll-timeout）。有人往你所在的频道发消息（或者直接发给你）时，你的队列收到一份，你挂起的请求立刻返回；然后页面再问一次。',
    'long.waiting': '等待中——服务器线程正阻塞在你的队列上',
    'long.got': '收到一条消息，再问一次', 'long.timeout': '超时，没有消息，再问一次',
    'long.down': '连不上服务器，{s} 秒后重试', 'long.rejoin': '服务器不认识我们了（重启了？）：重新加入',

    'short.title': '短轮询：一遍又一遍地问',
    'short.lead': 'GET /get_msg?timeout=0 不管有没有消息都立刻回答。页面每个间隔问一次；看看有多少回答是空的，消息又等了多久。',
    'short.interval': '间隔（秒）', 'short.start': '开始', 'short.stop': '停止',
    'short.requests': '次请求', 'short.empty': '次空响应', 'short.delay': '延迟',
    'short.delay.unknown': '延迟未知（别处发的）',

    'ws.title': 'WebSocket：真正的推送',
    'ws.lead': '连接一直开着。你的消息作为帧发上去——{"msg":…,"channel":…} 或 {"msg":…,"to":…}——送到那个频道里的每个客户端（包括长轮询的），或者只送给那一个名字；给你的每条消息一产生就作为帧推下来。',
    'ws.state.connecting': '连接中…', 'ws.state.open': '已连接', 'ws.state.closed': '已断开，{s} 秒后重连',
    'lab.title': '握手与帧实验室',
    'lab.hs.h': '1. 握手', 'lab.hs.p': '浏览器随机生成 16 个字节，用 base64 编码后放在 Sec-WebSocket-Key 里发出。双方都在后面拼上固定的 GUID，做 SHA-1，再 base64 编码。这里由你的浏览器用 SubtleCrypto 计算，服务器也给出它的结果。',
    'lab.hs.button': '随机生成一个 key', 'lab.key': 'Sec-WebSocket-Key', 'lab.guid': '+ GUID', 'lab.sha1': 'SHA-1（十六进制）',
    'lab.accept': 'base64 → 我们算的 Sec-WebSocket-Accept', 'lab.server': '服务器的回答', 'lab.match': '一致', 'lab.nomatch': '不一致！',
    'lab.frame.h': '2. 逐字节拆解一个帧', 'lab.frame.p': '这就是浏览器为你的文字发出的内容：客户端的每个帧都用 4 个随机字节做掩码（为了保护代理服务器，不是为了隐藏什么）。',
    'lab.frame.placeholder': '输入要封装成帧的文字', 'lab.byte1': '第 1 字节：FIN=1，opcode=1（文本）',
    'lab.byte2': '第 2 字节：MASK=1，长度码 {n}', 'lab.ext16': '接下来 2 字节（16 位）：长度 {n}', 'lab.ext64': '接下来 8 字节（64 位）：长度 {n}',
    'lab.mask': '掩码密钥', 'lab.payload': '掩码后的数据',
    'lab.decode.h': '3. 教程里的解码步骤',
    'lab.step1': '第 2 字节的低 7 位：{n}。', 'lab.step2.small': '{n} ≤ 125，这就是长度。',
    'lab.step2.16': '长度码 126，后面 16 位：{n}。', 'lab.step2.64': '长度码 127，后面 64 位：{n}。',
    'lab.step3': '再后面 4 个字节是掩码：{mask}。', 'lab.step4': '第 i 个字节与 mask[i % 4] 异或：{bytes}', 'lab.step5': '按 UTF-8 解码：“{text}”',

    'cmp.title': '四种技术，同一串消息',
    'cmp.lead': '点开始：这个页面以四个客户端的身份加入——一个短轮询、一个长轮询、一个 WebSocket、一个 Server-Sent Events 流——并每 2 秒发一条消息。每一栏统计请求数、字节数和每条消息晚到了多久。',
    'cmp.start': '开始', 'cmp.stop': '停止', 'cmp.short': '短轮询', 'cmp.long': '长轮询', 'cmp.ws': 'WebSocket',
    'cmp.requests': '次请求', 'cmp.bytes': '收到的字节', 'cmp.delay': '平均延迟', 'cmp.chart': '每条消息的延迟（毫秒）',

    'q.title': '实时查看队列',
    'q.lead': '服务器上每个客户端的队列，每秒从 GET /stats 取两次：有多满（相对 --queue-size），此刻是否有线程阻塞在上面等，以及因为队列满了错过了多少条消息。',
    'q.name': '客户端', 'q.kind': '类型', 'q.depth': '队列', 'q.waiting': '有线程在等', 'q.dropped': '错过',
    'q.none': '还没有客户端。在另一个标签页打开长轮询或 WebSocket 聊天。',
    'q.summary': '{clients} 个客户端 · {open} 个打开的连接 · {threads} 个线程 · 已发送 {sent} · 已投递 {delivered} · 错过 {dropped}',
    'q.yes': '是', 'q.no': '否',
    'chat.missed': '条永久丢失（早于历史记录）',
    'chat.resumed': '从 #{id} 之后续上：补回 {n} 条',
    'long.resume': '出错后恢复：请求 #{id} 之后的所有消息',

    'sse.title': 'Server-Sent Events：浏览器一直开着的流',
    'sse.lead': 'GET /events 回答 200 text/event-stream，而且永不结束：每条消息作为一个事件推下来（id: 行和 data: 行，然后一个空行）。服务器上你的流占一个线程，但它不在你的队列上等：发送消息的那个线程自己把事件写进你的套接字，和 WebSocket 一样；只有你读得比消息来得慢时，才会多起一个线程。流自己的线程只为心跳或你离开而醒来。连接断了，浏览器会自己重连，并把看到的最后一个 id 放在 Last-Event-ID 里发回：服务器从历史记录里补发你错过的消息。',
    'sse.state.connecting': '连接中…', 'sse.state.open': '正在接收', 'sse.state.lost': '连接断了——浏览器会自己重连（retry: 2000 毫秒）',
    'sse.raw': '到达的原始流', 'sse.raw.p': '每个事件按浏览器解析出的字段还原（正是服务器写出的字节）。心跳注释（“: keep-alive”）不会交给页面。',
    'sse.reconnect': '重连', 'sse.reconnect.none': '还没有重连过。让服务器停一会儿，或者断开连接，看浏览器带着 Last-Event-ID 回来。',
    'sse.reconnect.item': '带着 Last-Event-ID: {id} 重连——补发了断开期间的 {n} 条（来自它的队列或历史记录）',
    'sse.reconnect.missed': '，{k} 条永久丢失',
    'sse.replayed': '补发',
    'cmp.sse': 'Server-Sent Events',
  },
};

// Texts of the queue lab, the timelines, the code panels and class mode.
Object.assign(TEXTS.en, {
  'title.home': 'pushq — how a server pushes', 'title.ajax': 'pushq — AJAX', 'title.short': 'pushq — short polling',
  'title.long': 'pushq — long polling', 'title.ws': 'pushq — WebSocket', 'title.sse': 'pushq — Server-Sent Events',
  'title.compare': 'pushq — compare', 'title.queues': 'pushq — queues', 'title.lab': 'pushq — queue lab',
  'nav.lab': 'Queue lab',

  'chat.name': 'Your name', 'chat.name.use': 'Use this name',
  'chat.name.hint': 'Kept for every chat page in this browser.',
  'chat.delay': 'delay {ms} ms',
  'inuse.title': 'Someone is already taking messages as “{name}”',
  'inuse.p': 'Another tab or browser takes messages from the same queue on the server. Two getters on one queue are competing consumers: each message goes to whichever asks first, so each of you sees only some of them. That is how a work queue shares jobs among workers — and why a chat needs one queue per person.',
  'inuse.other': 'Take another name', 'inuse.stay': 'Stay, and watch the messages split',
  'send.down': 'The server is unreachable: your message was not sent. It is still in the box — press Send to try again.',
  'send.ws.down': 'Not connected: your message was not sent. It is still in the box — press Send again once connected.',
  'send.refused': 'The server refused the message ({status}): {text}',

  'tl.title': 'Each request, from sent to answered',
  'tl.held': 'held by the server', 'tl.message': 'answered with a message', 'tl.timeout': 'timed out: status:false',
  'tl.empty': 'answered at once, empty', 'tl.error': 'failed: server unreachable',
  'tl.row.held': 'held {s} s · times out in {left} s', 'tl.row.open': 'open {s} s',
  'tl.row.done': '{s} s', 'tl.axis': '{s} s ago', 'tl.now': 'now',

  'long.held': 'held: the server thread sleeps in your queue ({left} s until --poll-timeout)',
  'long.woken': 'woken by a message after {s} s: asking again',
  'long.timeout': 'timed out after {s} s with nothing (status:false): asking again',
  'short.failed': 'failed (server unreachable)', 'short.down': 'server unreachable: trying again next interval',

  'code.title': 'The code that runs', 'code.tutorial': 'The tutorial (Django + jQuery)',
  'code.ours': 'This server (C) and this page (JavaScript)',
  'code.hint': 'The highlighted line is the one running now.',
  'note.recursion': 'getMsg() calls itself from its success callback, and that is not recursion: the call only starts a request and returns at once; the next call comes later, from the event loop, on an empty stack. It can run forever — unlike Python’s def f(): f(), which stops at about 1000 levels.',
  'note.json': 'HttpResponse(json.dumps(d)) sends JSON as plain text, so jQuery needs dataType: \'JSON\' to parse it. JsonResponse(d) also says Content-Type: application/json, and jQuery parses it by itself. This server sends Content-Type: application/json; the page parses the text with JSON.parse.',
  'note.broker': 'Why production puts these queues in Redis or a message broker: here they live in one process’s memory. A restart loses them, and a second server cannot see them. Started with --redis, several pushq servers share one Redis stream (see docs/api.md).',
  'note.upgrade': 'The real handshake: the browser’s request and the server’s 101 answer for the key above.',

  'cmp.threads': 'server threads held', 'cmp.rate': 'A message every (s)', 'cmp.interval': 'Short-poll interval (s)',
  'cmp.axis.x': 'message number', 'cmp.axis.y': 'delay (ms)', 'cmp.down': 'server unreachable: retrying',
  'cmp.threads.note': 'Threads, from /stats: a waiting long poll and an open SSE stream each hold one thread on the server; a WebSocket holds its reader thread; a short poll holds one only while its request is answered.',

  'q.kind.short': 'short poll', 'q.kind.long': 'long poll', 'q.kind.ws': 'WebSocket', 'q.kind.sse': 'SSE',
  'q.peak': 'peak {n}', 'q.idle': 'idle {s} s',
  'q.note': 'A closed tab: its waiting request ends at once (a watcher thread sees the socket close), so “thread waiting” turns to “no” within a moment. The client and its queue stay until --client-ttl of silence, in case the tab comes back. “peak” is the most a queue held in about the last second: a burst that fills and drains between two refreshes still shows.',

  'home.lab.h': 'Queue lab: watch a thread block', 'home.lab.p': 'Start here. Drive a real queue on this server — put, get with a timeout, a full queue, task_done and join, shutdown — and watch each request’s thread sleep in queue_get until a put wakes it or its time runs out. The same steps in Python and in C beside it.',
  'home.lab.cost': 'one thread per waiting call, bounded',
  'qlab.title': 'Queue lab: watch threads block on a real queue',
  'qlab.lead': 'This page makes a small queue on the server — the same C queue the chat uses — and gives you its calls. Each button is one HTTP request; the server thread that takes it calls queue_put, queue_get or queue_join, and sleeps there if it must, until a put wakes it, its timeout runs out, or the queue shuts down. Each request gets a lane: watch its thread sleep.',
  'qlab.maxsize': 'maxsize', 'qlab.new': 'New queue', 'qlab.id': 'queue', 'qlab.item': 'item', 'qlab.block': 'block',
  'qlab.timeout': 'timeout (s)', 'qlab.queue.h': 'The queue', 'qlab.lanes.h': 'Each request, and its thread',
  'qlab.lanes.none': 'No request yet. Try get with a timeout on the empty queue, or follow the steps below.',
  'qlab.counts': 'qsize {q} / maxsize {m} · unfinished tasks {u} · threads waiting in get {g}, in put {p}, in join {j}',
  'qlab.sd': ' · shut down',
  'qlab.lane.sleep': 'thread asleep in queue_{call}: {left} s left', 'qlab.lane.ok': 'returned after {s} s',
  'qlab.lane.woken': 'woken by put #{n} after {s} s: got “{item}”', 'qlab.lane.took': 'got “{item}” (put #{n}) at once',
  'qlab.lane.room': 'woken when a get made room, after {s} s',
  'qlab.lane.Empty': 'no item in {s} s: raised queue.Empty', 'qlab.lane.Full': 'no room in {s} s: raised queue.Full',
  'qlab.lane.ShutDown': 'raised queue.ShutDown after {s} s', 'qlab.lane.ValueError': 'raised ValueError: more task_done() than puts',
  'qlab.lane.timeout': 'tasks still unfinished after {s} s (the lab bounds join)', 'qlab.lane.refused': 'refused: {text}',
  'qlab.py.jointimeout': '(still waiting: Python’s join would wait on)',
  'qlab.code.py': 'Python (the queue module)', 'qlab.code.c': 'C (queue/queue.h, what the server runs)',
  'qlab.down': 'server unreachable', 'qlab.gone': 'This queue is gone (deleted, idle for 10 minutes, or the server restarted): press New queue.',
  'qlab.steps.h': 'Guided steps: the tutorial’s queue section', 'qlab.step.run': 'Do it',
  'qlab.s1.h': '1. put two items', 'qlab.s1.p': 'A new queue with maxsize 3, then q.put("jason") and q.put("egon"): there is room, so both return at once — no thread waits.',
  'qlab.s2.h': '2. get them back, in order', 'qlab.s2.p': 'First in, first out: "jason", then "egon". Nobody slept: there were items.',
  'qlab.s3.h': '3. get on an empty queue, with timeout=3', 'qlab.s3.p': 'The queue is empty, so the thread sleeps in get. Nobody puts: after 3 s it wakes by itself and Python raises queue.Empty (C returns QUEUE_EMPTY). Without a timeout it would sleep forever — which the lab does not allow.',
  'qlab.s4.h': '4. fill it, then put(block=False)', 'qlab.s4.p': 'Three items fill maxsize 3. put(block=False) does not wait for room: it raises queue.Full at once. (pushq’s chat does exactly this, and counts a drop, so that one slow client never stops a send.)',
  'qlab.s5.h': '5. a get woken by a put', 'qlab.s5.p': 'On the empty queue, get(timeout=10) sleeps; 1.5 s later a put arrives and wakes it: the getter returns the item at once (the green arrow). This is a long poll: the put is a message sent, the get is the browser’s waiting request.',
  'qlab.s6.h': '6. task_done and join', 'qlab.s6.p': 'A fresh queue, two jobs. join() sleeps until every item put is marked done: each get takes a job, each task_done() marks one finished, and when no task is left unfinished, join returns.',
  'qlab.s7.h': '7. shutdown (Python 3.13)', 'qlab.s7.p': 'A get sleeps on an empty queue; shutdown() wakes it with queue.ShutDown, and every later put raises ShutDown too. That is how pushq stops: it shuts every queue down, and every waiting long poll answers at once.',

  'lab.hs.use': 'Compute', 'lab.hs.rfc': 'RFC 6455’s key', 'lab.hs.tutorial': 'The tutorial’s key',
  'lab.chars': '({n} characters in all)',
  'lab.server.h': '4. What the server sends', 'lab.server.p': 'Frames from the server are never masked (RFC 6455 5.1): the same text goes down as plain bytes. Pings keep a connection alive; a close ends it with a status code.',
  'lab.server.text': 'the text, server → browser', 'lab.server.ping': 'a ping (the browser answers pong by itself)', 'lab.server.close': 'a close, code 1000 (normal)',
  'lab.byte2.server': 'byte 2: MASK=0, length code {n}', 'lab.payload.plain': 'payload, not masked',
  'lab.ping.byte1': 'byte 1: FIN=1, opcode=9 (ping)', 'lab.close.byte1': 'byte 1: FIN=1, opcode=8 (close)',
  'lab.close.code': 'status code 1000, 16 bits',
  'home.teachers.h': 'For teachers',
  'home.teachers.1': 'Run it for a class on one machine: ./build/pushq --host 0.0.0.0 --port 8000 --queue-size 5 --poll-timeout 10 --max-conns 2000, and give the students http://<this machine>:8000/.',
  'home.teachers.2': '--queue-size 5 makes drops visible: close a tab, send six messages, come back — “missed” counts them. --poll-timeout sets how long a long poll is held: the timelines show it run out.',
  'home.teachers.3': 'Each student types a name on any chat page; two tabs with one name show competing consumers (the page explains it).',
  'home.teachers.4': 'What each page shows: queue lab — blocking and waking; short polling — empty answers and delay; long polling — one held request per client; WebSocket — one connection, frames byte by byte; SSE — a stream that resumes; compare — the costs side by side; queues — every queue on the server, live; channels — a message for a channel or for one name, and who is online.',
  'home.teachers.5': 'The lab is safe to share: at most 64 lab queues, 16 waiting lab calls and 30 s per call; a lab queue idle for 10 minutes goes; nothing in the lab can touch the chat.',
});
Object.assign(TEXTS.zh, {
  'title.home': 'pushq — 服务端如何推送', 'title.ajax': 'pushq — AJAX 后台请求', 'title.short': 'pushq — 短轮询',
  'title.long': 'pushq — 长轮询', 'title.ws': 'pushq — WebSocket 真正的推送', 'title.sse': 'pushq — Server-Sent Events 事件流',
  'title.compare': 'pushq — 对比', 'title.queues': 'pushq — 队列', 'title.lab': 'pushq — 队列实验',
  'nav.lab': '队列实验',

  'chat.name': '你的名字', 'chat.name.use': '用这个名字',
  'chat.name.hint': '这个浏览器里的每个聊天页面都会用它。',
  'chat.delay': '延迟 {ms} 毫秒',
  'inuse.title': '已经有人以“{name}”的身份在取消息',
  'inuse.p': '另一个标签页或浏览器正在从服务器上同一个队列取消息。一个队列上有两个取消息的，就是“竞争消费者”：每条消息只交给先来取的那一个，所以你们每人只能看到一部分。任务队列正是这样把活儿分给多个工人的——这也是聊天必须每人一个队列的原因。',
  'inuse.other': '换一个名字', 'inuse.stay': '留下来，看消息被分走',
  'send.down': '连不上服务器：消息没有发出去。它还在输入框里——按“发送”再试一次。',
  'send.ws.down': '还没连上：消息没有发出去。它还在输入框里——连上后再按一次“发送”。',
  'send.refused': '服务器拒收了这条消息（{status}）：{text}',

  'tl.title': '每个请求，从发出到收到回答',
  'tl.held': '被服务器挂起', 'tl.message': '带着消息返回', 'tl.timeout': '超时：status:false',
  'tl.empty': '立刻返回，没有消息', 'tl.error': '失败：连不上服务器',
  'tl.row.held': '已挂起 {s} 秒 · {left} 秒后超时', 'tl.row.open': '已打开 {s} 秒',
  'tl.row.done': '{s} 秒', 'tl.axis': '{s} 秒前', 'tl.now': '现在',

  'long.held': '挂起中：服务器线程睡在你的队列上（离 --poll-timeout 还有 {left} 秒）',
  'long.woken': '{s} 秒后被一条消息唤醒：再问一次',
  'long.timeout': '{s} 秒内没有消息，超时返回（status:false）：再问一次',
  'short.failed': '次失败（连不上服务器）', 'short.down': '连不上服务器：下个间隔再试',

  'code.title': '正在运行的代码', 'code.tutorial': '教程里的（Django + jQuery）',
  'code.ours': '这台服务器（C）和这个页面（JavaScript）',
  'code.hint': '高亮的那一行就是此刻正在运行的。',
  'note.recursion': 'getMsg() 在 success 回调里调用自己，但这不是递归：这次调用只是发出一个请求就立刻返回；下一次调用稍后才由事件循环发起，调用栈是空的。所以它可以一直运行——不像 Python 的 def f(): f()，大约 1000 层就停了。',
  'note.json': 'HttpResponse(json.dumps(d)) 把 JSON 当普通文本发出，所以 jQuery 需要 dataType: \'JSON\' 才会解析。JsonResponse(d) 还会带上 Content-Type: application/json，jQuery 就自己解析了。这台服务器发送 Content-Type: application/json；页面用 JSON.parse 解析文本。',
  'note.broker': '为什么生产环境把这些队列放进 Redis 或消息中间件：这里的队列只活在一个进程的内存里。一重启就没了，第二台服务器也看不见。用 --redis 启动时，多台 pushq 服务器共享同一个 Redis 流（见 docs/api.md）。',
  'note.upgrade': '真实的握手：浏览器为上面那个 key 发出的请求，以及服务器的 101 回答。',

  'cmp.threads': '占用的服务器线程', 'cmp.rate': '每隔几秒发一条', 'cmp.interval': '短轮询间隔（秒）',
  'cmp.axis.x': '消息序号', 'cmp.axis.y': '延迟（毫秒）', 'cmp.down': '连不上服务器：重试中',
  'cmp.threads.note': '线程数来自 /stats：一个挂起的长轮询和一个打开的 SSE 流各占服务器上一个线程；一个 WebSocket 占一个读线程；短轮询只在请求被处理时才占一个。',

  'q.kind.short': '短轮询', 'q.kind.long': '长轮询', 'q.kind.ws': 'WebSocket', 'q.kind.sse': 'SSE',
  'q.peak': '峰值 {n}', 'q.idle': '空闲 {s} 秒',
  'q.note': '关掉的标签页：它挂起的请求会立刻结束（一个看守线程发现套接字关了），所以“有线程在等”很快就变成“否”。客户端和它的队列会保留到 --client-ttl 时间内都没有动静为止，以防标签页回来。“峰值”是队列在大约最近一秒里最多装过几条：两次刷新之间一下装满又取空的情况也能看到。',

  'home.lab.h': '队列实验：亲眼看线程阻塞', 'home.lab.p': '从这里开始。操作这台服务器上一个真实的队列——put、带超时的 get、满了的队列、task_done 和 join、shutdown——看每个请求的线程睡在 queue_get 里，直到被一次 put 唤醒或者时间用完。旁边是同样步骤的 Python 和 C 代码。',
  'home.lab.cost': '每个在等的调用占一个线程，有上限',
  'qlab.title': '队列实验：看线程在真实的队列上阻塞',
  'qlab.lead': '这个页面在服务器上建一个小队列——就是聊天用的那个 C 队列——把它的各个调用交给你。每个按钮是一次 HTTP 请求；接手它的服务器线程调用 queue_put、queue_get 或 queue_join，必要时就睡在那里，直到被一次 put 唤醒、超时，或者队列被关闭。每个请求一条泳道：看它的线程睡觉。',
  'qlab.maxsize': 'maxsize', 'qlab.new': '新建队列', 'qlab.id': '队列', 'qlab.item': '元素', 'qlab.block': 'block',
  'qlab.timeout': 'timeout（秒）', 'qlab.queue.h': '队列', 'qlab.lanes.h': '每个请求和它的线程',
  'qlab.lanes.none': '还没有请求。在空队列上试一次带超时的 get，或者跟着下面的步骤做。',
  'qlab.counts': 'qsize {q} / maxsize {m} · 未完成任务 {u} · 等在 get 的线程 {g}，等在 put 的 {p}，等在 join 的 {j}',
  'qlab.sd': ' · 已关闭',
  'qlab.lane.sleep': '线程睡在 queue_{call} 里：还剩 {left} 秒', 'qlab.lane.ok': '{s} 秒后返回',
  'qlab.lane.woken': '{s} 秒后被 put #{n} 唤醒：拿到“{item}”', 'qlab.lane.took': '立刻拿到“{item}”（put #{n}）',
  'qlab.lane.room': '{s} 秒后，一次 get 腾出了位置，被唤醒',
  'qlab.lane.Empty': '{s} 秒内没有元素：抛出 queue.Empty', 'qlab.lane.Full': '{s} 秒内没有空位：抛出 queue.Full',
  'qlab.lane.ShutDown': '{s} 秒后抛出 queue.ShutDown', 'qlab.lane.ValueError': '抛出 ValueError：task_done() 比 put 还多',
  'qlab.lane.timeout': '{s} 秒后仍有未完成的任务（实验给 join 设了上限）', 'qlab.lane.refused': '被拒绝：{text}',
  'qlab.py.jointimeout': '（还在等：Python 的 join 会一直等下去）',
  'qlab.code.py': 'Python（queue 模块）', 'qlab.code.c': 'C（queue/queue.h，服务器实际运行的）',
  'qlab.down': '连不上服务器', 'qlab.gone': '这个队列没了（被删除、空闲了 10 分钟，或者服务器重启了）：请按“新建队列”。',
  'qlab.steps.h': '分步练习：教程里讲队列的那一节', 'qlab.step.run': '做一遍',
  'qlab.s1.h': '1. put 两个元素', 'qlab.s1.p': '新建一个 maxsize 为 3 的队列，然后 q.put("jason")、q.put("egon")：有空位，两次都立刻返回——没有线程需要等。',
  'qlab.s2.h': '2. 按顺序取回来', 'qlab.s2.p': '先进先出：先是 "jason"，然后是 "egon"。没有人睡：队列里有元素。',
  'qlab.s3.h': '3. 在空队列上 get，timeout=3', 'qlab.s3.p': '队列是空的，所以线程睡在 get 里。没有人 put：3 秒后它自己醒来，Python 抛出 queue.Empty（C 返回 QUEUE_EMPTY）。不设超时它会永远睡下去——实验里不允许这样。',
  'qlab.s4.h': '4. 装满，然后 put(block=False)', 'qlab.s4.p': '三个元素装满 maxsize 3。put(block=False) 不等空位：立刻抛出 queue.Full。（pushq 的聊天正是这样做的，并记一次丢弃，这样一个慢客户端永远拖不住发送。）',
  'qlab.s5.h': '5. 被 put 唤醒的 get', 'qlab.s5.p': '在空队列上，get(timeout=10) 睡着；1.5 秒后来了一次 put，把它唤醒：取的人立刻拿到元素（绿色箭头）。这就是长轮询：put 是发出的消息，get 是浏览器挂起的请求。',
  'qlab.s6.h': '6. task_done 和 join', 'qlab.s6.p': '一个新队列，两个任务。join() 一直睡到每个 put 进来的元素都被标记为完成：每次 get 取走一个任务，每次 task_done() 标记一个完成，没有未完成的任务时，join 返回。',
  'qlab.s7.h': '7. shutdown（Python 3.13）', 'qlab.s7.p': '一个 get 睡在空队列上；shutdown() 用 queue.ShutDown 把它叫醒，之后的每次 put 也抛出 ShutDown。pushq 就是这样停下来的：关闭每个队列，每个挂起的长轮询立刻返回。',

  'lab.hs.use': '计算', 'lab.hs.rfc': 'RFC 6455 的 key', 'lab.hs.tutorial': '教程里的 key',
  'lab.chars': '（共 {n} 个字符）',
  'lab.server.h': '4. 服务器发出的帧', 'lab.server.p': '服务器发的帧从不加掩码（RFC 6455 5.1）：同样的文字以原始字节发下来。ping 让连接保持活着；close 带着状态码结束连接。',
  'lab.server.text': '文字，服务器 → 浏览器', 'lab.server.ping': '一个 ping（浏览器自己回 pong）', 'lab.server.close': '一个 close，状态码 1000（正常）',
  'lab.byte2.server': '第 2 字节：MASK=0，长度码 {n}', 'lab.payload.plain': '数据，未加掩码',
  'lab.ping.byte1': '第 1 字节：FIN=1，opcode=9（ping）', 'lab.close.byte1': '第 1 字节：FIN=1，opcode=8（close）',
  'lab.close.code': '状态码 1000，16 位',
  'home.teachers.h': '给老师',
  'home.teachers.1': '在一台机器上给全班运行：./build/pushq --host 0.0.0.0 --port 8000 --queue-size 5 --poll-timeout 10 --max-conns 2000，然后把 http://<这台机器>:8000/ 发给学生。',
  'home.teachers.2': '--queue-size 5 让丢消息看得见：关掉一个标签页，发六条消息，再回来——“错过”会计数。--poll-timeout 决定长轮询挂起多久：时间线上能看到它用完。',
  'home.teachers.3': '每个学生在任意聊天页面输入一个名字；两个标签页用同一个名字，就能演示竞争消费者（页面会解释）。',
  'home.teachers.4': '各页面演示什么：队列实验——阻塞与唤醒；短轮询——空响应和延迟；长轮询——每个客户端一个挂起的请求；WebSocket——一条连接，逐字节的帧；SSE——能续传的流；对比——把代价放在一起看；队列——服务器上的每个队列，实时；频道——发给一个频道或一个人，以及谁在线。',
  'home.teachers.5': '实验可以放心共享：最多 64 个实验队列、16 个同时等待的实验调用、每次最多 30 秒；空闲 10 分钟的实验队列会被删除；实验碰不到聊天的队列。',
});

// Texts of channels, direct messages and presence: the chat pages' picker
// and the channels page.
Object.assign(TEXTS.en, {
  'nav.channels': 'Channels', 'title.channels': 'pushq — channels and direct messages',
  'home.ch.h': 'Channels and direct messages',
  'home.ch.p': 'With one queue per client, sending to a channel or to one person is only choosing which queues a message goes into — in the tutorial’s Python, a one-line change. See it in the code, try it with clients the page opens itself, and watch who is online.',
  'home.ch.cost': 'a publish costs its receivers, not all the clients',

  'send.info': 'Sent #{id} into {n} queue(s): {where}.',
  'send.info.ws': 'Sent as one frame, for {where}.',
  'send.info.channel': 'the clients in #{channel}',
  'send.info.to': '{to} only (a direct message: it does not come back to you)',
  'send.refused.ws': 'The server refused the frame: {text}',
  'msg.to.you': 'to you', 'msg.join': 'came online', 'msg.leave': 'went offline',

  'pick.title': 'Channels', 'pick.yours': 'In:', 'pick.placeholder': 'a channel, e.g. maths',
  'pick.join': 'Join', 'pick.leave': 'Leave #{channel}',
  'pick.hint': 'Join is POST /subscribe and leave (×) POST /unsubscribe; the server answers with your list. A message to a channel goes into the queue of every client in it; a name typed in “or only to” makes it a direct message, into that one queue.',
  'pick.sendto': 'Send to', 'pick.or': 'or only to', 'pick.to.placeholder': 'a name (direct message)',
  'pick.down': 'The server is unreachable: your channels did not change.',
  'pick.unknown': 'The server does not know this name yet (not connected?): try again in a moment.',
  'pick.refused': 'Refused: {text}',
  'pick.bad': 'A channel name is 1 to 64 letters, digits or _ . : -',

  'ch.title': 'Channels and direct messages: where one queue per client pays off',
  'ch.lead': 'Every client has its own queue, so choosing who gets a message is only choosing which queues to put it into: all of them (the tutorial), the members of a channel, or one name. This page shows that choice in the code and runs it live.',
  'ch.why.h': 'Why targeting is a one-line change',
  'ch.why.p': 'The tutorial’s send_msg loops over every queue in q_dict. To reach one person, put into that person’s queue instead: q_dict[name].put(content). A channel is the same loop over a shorter list, the names subscribed to it. pushq does just this in C: receivers_of picks the list (one client, or the channel’s members) and put_as puts the message into each queue on it.',
  'ch.why.note': 'With one queue for everybody this would be hard: each message is taken by whichever client asks first (competing consumers), so the server cannot choose who gets it. With a queue each, targeting is free — and a publish costs as many puts as it has receivers, not as many as there are clients.',
  'ch.demo.h': 'Try it: three clients in two channels',
  'ch.demo.p': 'This page has opened three WebSocket clients of its own: {ana} is in {maths}, {ben} in {art}, and {cai} in both. Publish to a channel or to one name and see whose queue got the message: the server answers how many queues it went into (receivers), and each client below says whether its socket received it.',
  'ch.demo.text': 'Message', 'ch.demo.from': 'from', 'ch.demo.tochannel': 'To a channel:', 'ch.demo.toname': 'To one name:',
  'ch.demo.default': 'hello',
  'ch.demo.who': 'receivers: {n} — #{id} went into the queue of {names}.',
  'ch.demo.elsewhere': '(And {k} of clients elsewhere.)',
  'ch.client.empty': 'Nothing yet.',
  'ch.client.got': 'got #{id}: its queue was a receiver',
  'ch.client.not': 'no #{id}: not a receiver, its queue was never touched',
  'ch.tab.h': 'This tab: a client in a channel',
  'ch.tab.p': 'This tab is a client too, with its own name, in one channel. Open this page in more tabs — in the same channel or another — and publish: a channel message reaches only the tabs in that channel, a direct message only its one name. Who is online here comes from GET /presence, asked every second: a tab shows up as it opens and goes as soon as it closes.',
  'ch.tab.channel': 'Channel', 'ch.tab.use': 'Use these',
  'ch.presence.h': 'Online in #{channel}: {n}',
  'ch.presence.p': 'GET /presence?channel=, every second: the subscribers with an open WebSocket or SSE stream, or a long poll that asked within --poll-timeout.',
  'ch.presence.since': 'online {s} s', 'ch.presence.none': 'Nobody is online in this channel.',
  'ch.presence.down': 'Server unreachable: asking again.',
  'list.sep': ', ', 'ch.you': '(you)', 'ch.kind.ws': 'WebSocket', 'ch.kind.sse': 'SSE', 'ch.kind.poll': 'polling',
  'ch.send.h': 'Publish from this tab', 'ch.send.channel': 'Publish to this channel', 'ch.send.to': 'Send to this name only',
  'ch.send.rcv.channel': 'receivers: {n} — #{id} went into the queue of every client in #{channel}, online or not.',
  'ch.send.rcv.to': 'receivers: {n} — #{id} went into {to}’s queue only.',
  'ch.send.unknown': 'There is no client named “{to}” on this server (404): nothing was sent.',
  'ch.send.noname': 'Type the name to send to.',
  'ch.got.h': 'What this tab’s queue got',
  'ch.got.empty': 'Nothing yet. Publish to this channel, or send this tab’s name a direct message from another tab.',
});
Object.assign(TEXTS.zh, {
  'nav.channels': '频道', 'title.channels': 'pushq — 频道和私信',
  'home.ch.h': '频道和私信',
  'home.ch.p': '每个客户端有自己的队列，所以发到一个频道、或者只发给一个人，不过是挑选把消息放进哪些队列——在教程的 Python 里只要改一行。在代码里看清它，用页面自己开的客户端试一试，再看看谁在线。',
  'home.ch.cost': '一次发送的代价看接收者有多少，而不是客户端有多少',

  'send.info': '已发出 #{id}，进了 {n} 个队列：{where}。',
  'send.info.ws': '已作为一个帧发出，目标：{where}。',
  'send.info.channel': '#{channel} 里的客户端',
  'send.info.to': '只有 {to}（私信：不会回到你这里）',
  'send.refused.ws': '服务器拒收了这个帧：{text}',
  'msg.to.you': '私信给你', 'msg.join': '上线了', 'msg.leave': '下线了',

  'pick.title': '频道', 'pick.yours': '已加入：', 'pick.placeholder': '频道名，比如 maths',
  'pick.join': '加入', 'pick.leave': '退出 #{channel}',
  'pick.hint': '加入是 POST /subscribe，退出（×）是 POST /unsubscribe，服务器会回答你现在的频道列表。发到频道的消息进入频道里每个客户端的队列；在“或者只发给”里填一个名字，就成了私信，只进那一个队列。',
  'pick.sendto': '发到', 'pick.or': '或者只发给', 'pick.to.placeholder': '一个名字（私信）',
  'pick.down': '连不上服务器：频道没有变。',
  'pick.unknown': '服务器还不认识这个名字（还没连上？）：稍等一下再试。',
  'pick.refused': '被拒绝：{text}',
  'pick.bad': '频道名是 1 到 64 个字母、数字或 _ . : -',

  'ch.title': '频道和私信：每个客户端一个队列的好处',
  'ch.lead': '每个客户端都有自己的队列，所以决定谁收到一条消息，就只是决定把它放进哪些队列：全部（教程的做法）、某个频道的成员，或者某一个名字。这个页面在代码里展示这个选择，并让它实时跑起来。',
  'ch.why.h': '为什么定向推送只需改一行',
  'ch.why.p': '教程的 send_msg 遍历 q_dict 里的每一个队列。想只发给一个人，就只放进他的队列：q_dict[name].put(content)。频道也是同一个循环，只是列表短一些：订阅了这个频道的那些名字。pushq 的 C 代码正是这样做的：receivers_of 选出列表（一个客户端，或者频道的成员），put_as 把消息放进列表上的每个队列。',
  'ch.why.note': '如果所有人共用一个队列，这就难办了：每条消息被先来取的那个客户端拿走（竞争消费者），服务器没法决定谁收到。每人一个队列，定向就不费吹灰之力——而且一次发送要做几次 put，只看它有几个接收者，不看一共有多少客户端。',
  'ch.demo.h': '试一试：两个频道里的三个客户端',
  'ch.demo.p': '这个页面自己开了三个 WebSocket 客户端：{ana} 在 {maths}，{ben} 在 {art}，{cai} 两个都在。发到一个频道，或者只发给一个名字，看看谁的队列收到了：服务器回答消息进了几个队列（receivers），下面每个客户端也会说它的连接有没有收到。',
  'ch.demo.text': '消息', 'ch.demo.from': '发送者', 'ch.demo.tochannel': '发到频道：', 'ch.demo.toname': '只发给：',
  'ch.demo.default': '你好',
  'ch.demo.who': 'receivers：{n}——#{id} 进了 {names} 的队列。',
  'ch.demo.elsewhere': '（另有 {k} 个在别处的客户端。）',
  'ch.client.empty': '还没有消息。',
  'ch.client.got': '收到了 #{id}：它的队列是接收者之一',
  'ch.client.not': '没有 #{id}：不是接收者，它的队列根本没被碰过',
  'ch.tab.h': '这个标签页：频道里的一个客户端',
  'ch.tab.p': '这个标签页本身也是一个客户端，有自己的名字，在一个频道里。在更多标签页里打开这个页面——同一个频道或者别的频道——然后发消息：发到频道的消息只到那个频道里的标签页，私信只到那一个名字。谁在线来自每秒一次的 GET /presence：标签页一打开就出现，一关掉就消失。',
  'ch.tab.channel': '频道', 'ch.tab.use': '就用这些',
  'ch.presence.h': '#{channel} 在线：{n}',
  'ch.presence.p': '每秒一次 GET /presence?channel=：开着 WebSocket 或 SSE 连接的订阅者，以及在 --poll-timeout 之内问过的长轮询。',
  'ch.presence.since': '在线 {s} 秒', 'ch.presence.none': '这个频道现在没人在线。',
  'ch.presence.down': '连不上服务器：稍后再问。',
  'list.sep': '、', 'ch.you': '（你）', 'ch.kind.ws': 'WebSocket', 'ch.kind.sse': 'SSE', 'ch.kind.poll': '轮询',
  'ch.send.h': '从这个标签页发送', 'ch.send.channel': '发到这个频道', 'ch.send.to': '只发给这个名字',
  'ch.send.rcv.channel': 'receivers：{n}——#{id} 进了 #{channel} 里每个客户端的队列，不管在不在线。',
  'ch.send.rcv.to': 'receivers：{n}——#{id} 只进了 {to} 的队列。',
  'ch.send.unknown': '服务器上没有叫“{to}”的客户端（404）：什么也没发出去。',
  'ch.send.noname': '请填上要发给谁。',
  'ch.got.h': '这个标签页的队列收到的',
  'ch.got.empty': '还没有消息。发到这个频道，或者在另一个标签页给这个名字发一条私信。',
});

// Texts of tokens (--token-key): what a chat page says when the server
// refuses its token.
Object.assign(TEXTS.en, {
  'token.refused': 'The server refused this page ({status}: {error}): this page’s token is missing, expired or not for the name “{name}”.',
  'token.none': 'This server wants a token: open the page with ?name={name}&token=… (a token made for {name}).',
  'token.fix': 'Open the page with a new token made for {name}: ?name={name}&token=….',
  'token.expired': 'The token expired: the server closed the WebSocket (1008). Open the page with a new token (?token=…) to go on.',
  'token.state': 'refused: no valid token for this name', 'token.state.expired': 'closed: the token expired',
  'send.token': 'The server refused the message ({status}): this page’s token is missing, expired or may not publish there — {text}',
  'pick.token': 'Refused ({status}): {text} — this page’s token does not allow it.',
  'ch.presence.token': 'The server refused to say who is online ({status}): this tab’s token is missing or not for this channel.',
  'cmp.token': 'This server wants tokens (--token-key): the four clients of this page are made-up names with none, so the comparison cannot run here. Run it on a server without --token-key.',
});
Object.assign(TEXTS.zh, {
  'token.refused': '服务器拒绝了这个页面（{status}：{error}）：这个页面的令牌缺失、已过期，或者不是给“{name}”这个名字的。',
  'token.none': '这个服务器要令牌：用 ?name={name}&token=…（为 {name} 生成的令牌）打开这个页面。',
  'token.fix': '用为 {name} 新生成的令牌打开这个页面：?name={name}&token=…。',
  'token.expired': '令牌过期了：服务器关闭了 WebSocket（1008）。用新的令牌（?token=…）重新打开页面，就能接着收。',
  'token.state': '被拒绝：没有这个名字的有效令牌', 'token.state.expired': '已关闭：令牌过期了',
  'send.token': '服务器拒收了这条消息（{status}）：这个页面的令牌缺失、已过期，或者不能发到那里——{text}',
  'pick.token': '被拒绝（{status}）：{text}——这个页面的令牌不允许。',
  'ch.presence.token': '服务器不肯说谁在线（{status}）：这个标签页的令牌缺失，或者不是给这个频道的。',
  'cmp.token': '这个服务器要令牌（--token-key）：这个页面的四个客户端是随手起的名字，都没有令牌，所以这里没法对比。请在不带 --token-key 的服务器上运行。',
});

// Texts of the client library's page (client.html, www/pushq.js).
Object.assign(TEXTS.en, {
  'nav.client': 'Client library', 'title.client': 'pushq — the client library',
  'client.title': 'pushq.js: one client, three transports',
  'client.lead': 'This page runs through www/pushq.js, one small module an application imports. It tries a WebSocket, falls back to Server-Sent Events, then to long polling, and says which one it uses and why; it reconnects with back-off and jitter, resumes from the last id it delivered, and hands each message to the page once, in order — or reports it in a gap.',
  'client.transport': 'Transport', 'client.state': 'State', 'client.because': 'Why: {why}.',
  'client.t.ws': 'WebSocket', 'client.t.sse': 'Server-Sent Events', 'client.t.longpoll': 'long polling',
  'client.s.connecting': 'connecting…', 'client.s.open': 'connected', 'client.s.reconnecting': 'reconnecting (back-off with jitter)…',
  'client.s.refused': 'refused: the server does not take this token', 'client.s.closed': 'disconnected',
  'client.why.start': 'the first transport allowed', 'client.why.upgrade': 'asked to upgrade',
  'client.why.upgrade-refused': 'the WebSocket upgrade failed twice while the server answers HTTP (a proxy that does not pass upgrades?)',
  'client.why.no-frame': 'no frame came back on the WebSocket within a few seconds',
  'client.why.buffered': 'the event stream is buffered: not one byte within a few seconds, though the server sends one at once',
  'client.why.refused': 'the event stream was refused (HTTP {status})',
  'client.allowed': 'Transports allowed:', 'client.upgrade': 'Try the best one again', 'client.close': 'Disconnect', 'client.open': 'Connect',
  'client.target.channel': 'to channel', 'client.target.to': 'to name',
  'client.sent': 'sent as #{id}, into {n} queue(s)', 'client.send.failed': 'not sent ({status}): {error}',
  'client.sub': 'Subscribe', 'client.sub.placeholder': 'a channel to join', 'client.channels': 'channels: {list}', 'client.channels.default': 'the server’s default (room, or the token’s)',
  'client.last': 'last id delivered',
  'client.gaps': 'Gaps', 'client.gaps.none': 'No gap: every message for this name arrived.',
  'client.gap': 'reported with #{id}: {dropped} dropped (the queue was full), {missed} missed (older than the history)',
  'client.log': 'What the client did',
  'client.log.transport': 'now on {name}: {why}', 'client.log.state': '{state}',
  'client.log.restart': 'the server started again: ids begin anew (#{id})', 'client.log.error': 'error {status}: {error}',
  'client.code': 'The same in your own page', 'client.code.p': 'Copy www/pushq.js next to your page (or load it from this server) and this is all the code a page needs; docs/client.md has the whole API and the rules of the fallback.',
});
Object.assign(TEXTS.zh, {
  'nav.client': '客户端库', 'title.client': 'pushq — 客户端库',
  'client.title': 'pushq.js：一个客户端，三种传输方式',
  'client.lead': '这个页面通过 www/pushq.js 运行——一个应用直接 import 的小模块。它先试 WebSocket，不行就退到 Server-Sent Events，再不行就用长轮询，并说明用的是哪一种、为什么；断了会带着退避和抖动重连，从它交付的最后一个 id 接着收，每条消息按顺序只交给页面一次——否则就在“缺口”里报出来。',
  'client.transport': '传输方式', 'client.state': '状态', 'client.because': '原因：{why}。',
  'client.t.ws': 'WebSocket', 'client.t.sse': 'Server-Sent Events 事件流', 'client.t.longpoll': '长轮询',
  'client.s.connecting': '连接中…', 'client.s.open': '已连接', 'client.s.reconnecting': '重连中（退避加抖动）…',
  'client.s.refused': '被拒绝：服务器不接受这个令牌', 'client.s.closed': '已断开',
  'client.why.start': '允许的第一种传输方式', 'client.why.upgrade': '按要求升级',
  'client.why.upgrade-refused': 'WebSocket 升级连续失败两次，可服务器照样应答 HTTP（中间的代理不转发升级？）',
  'client.why.no-frame': 'WebSocket 打开了，几秒内却一帧也没收到',
  'client.why.buffered': '事件流被缓冲了：几秒内一个字节也没到，而服务器一开始就会发一个',
  'client.why.refused': '事件流被拒绝（HTTP {status}）',
  'client.allowed': '允许的传输方式：', 'client.upgrade': '再试最好的那种', 'client.close': '断开', 'client.open': '连接',
  'client.target.channel': '发到频道', 'client.target.to': '发给名字',
  'client.sent': '已发出，编号 #{id}，进了 {n} 个队列', 'client.send.failed': '没发出去（{status}）：{error}',
  'client.sub': '订阅', 'client.sub.placeholder': '要加入的频道', 'client.channels': '频道：{list}', 'client.channels.default': '服务器的默认值（room，或令牌里的）',
  'client.last': '最后交付的编号',
  'client.gaps': '缺口', 'client.gaps.none': '没有缺口：发给这个名字的每条消息都到了。',
  'client.gap': '随 #{id} 报告：{dropped} 条被丢弃（队列满了），{missed} 条错过（比历史记录还旧）',
  'client.log': '客户端做了什么',
  'client.log.transport': '改用{name}：{why}', 'client.log.state': '{state}',
  'client.log.restart': '服务器重启了：编号从头开始（#{id}）', 'client.log.error': '错误 {status}：{error}',
  'client.code': '在你自己的页面里也一样', 'client.code.p': '把 www/pushq.js 放在你的页面旁边（或者从这个服务器加载），页面需要的代码就这么多；完整的 API 和退回规则见 docs/client.md。',
});

// ---------------------------------------------------------------- lookup
const LANG_KEY = 'pushq.lang';   // the chosen language, kept in localStorage

// 'en' or 'zh': the one chosen with the toggle, else the browser's own.
function currentLang() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved === 'en' || saved === 'zh') return saved;
  return navigator.language.startsWith('zh') ? 'zh' : 'en';
}

// The text of `key` in the current language, with {name} replaced from vars.
function t(key, vars = {}) {
  const text = TEXTS[currentLang()][key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

// Puts every data-i18n text of the page into the current language.
function translatePage() {
  document.documentElement.lang = currentLang() === 'zh' ? 'zh-CN' : 'en';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll('.note[data-key]')) el.textContent = t(el.dataset.key);
  const toggle = document.getElementById('lang-toggle');
  if (toggle) toggle.textContent = t('lang.switch');
  document.dispatchEvent(new Event('pushq:lang'));   // pages redraw what they built
}

// The language toggle: the other language, remembered in this browser.
function switchLang() {
  localStorage.setItem(LANG_KEY, currentLang() === 'en' ? 'zh' : 'en');
  translatePage();
}

window.pushq = Object.assign(window.pushq || {}, { t, currentLang, translatePage, switchLang });
