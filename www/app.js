// app.js — the code every pushq page shares: the two languages, the header,
// and a few small helpers. Plain JavaScript, no build step: read it top to bottom.
'use strict';

// ---------------------------------------------------------------- language
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
    'home.cost': 'Cost', 'home.try': 'Try it',
    'home.ajax.cost': 'one request per action', 'home.short.cost': 'a request every interval, delay up to one interval',
    'home.long.cost': 'one waiting request (and one thread here) per client', 'home.ws.cost': 'one open connection per client, tiny frames',
    'home.more': 'See them side by side on the compare page, and the queues themselves on the queues page.',

    'ajax.title': 'AJAX: a request in the background',
    'ajax.lead': 'The button sends POST /ab_dy with fetch(). The server answers JSON; the page shows the whole exchange, and what type the parsed answer has (the tutorial used alert(typeof args)).',
    'ajax.button': 'Send POST /ab_dy', 'ajax.request': 'Request', 'ajax.response': 'Response',
    'ajax.status': 'Status', 'ajax.headers': 'Headers', 'ajax.body': 'Body', 'ajax.type': 'typeof the parsed body',
    'ajax.none': 'Nothing sent yet.',

    'chat.you': 'You are', 'chat.send': 'Send', 'chat.placeholder': 'Type a message',
    'chat.requests': 'requests', 'chat.dropped': 'missed (queue was full)', 'chat.messages': 'messages',
    'chat.empty': 'No messages yet. Open this page in a second tab and say hello.',

    'long.title': 'Long polling: one blocking queue per client',
    'long.lead': 'GET /get_msg waits on your queue on the server for up to 10 s. When someone sends, every queue gets the message and your waiting request answers at once; then the page asks again.',
    'long.waiting': 'waiting — the server thread is blocked on your queue',
    'long.got': 'got a message, asking again', 'long.timeout': 'timed out with nothing, asking again',
    'long.down': 'server unreachable, retrying in {s} s', 'long.rejoin': 'server forgot us (it restarted?): joining again',

    'short.title': 'Short polling: asking again and again',
    'short.lead': 'GET /get_msg?timeout=0 answers at once, message or not. The page asks every interval; watch how many answers are empty and how long a message waits.',
    'short.interval': 'Interval (seconds)', 'short.start': 'Start', 'short.stop': 'Stop',
    'short.requests': 'requests', 'short.empty': 'empty answers', 'short.delay': 'delay',
    'short.delay.unknown': 'delay unknown (sent elsewhere)',

    'ws.title': 'WebSocket: real push',
    'ws.lead': 'One connection stays open. Your messages go up as frames and are broadcast to everyone — long-polling clients too — and each message for you comes down as a frame the moment it exists.',
    'ws.state.connecting': 'connecting…', 'ws.state.open': 'connected', 'ws.state.closed': 'closed, reconnecting in {s} s',
    'lab.title': 'Handshake and frame lab',
    'lab.hs.h': '1. The handshake', 'lab.hs.p': 'The browser picks 16 random bytes and sends them base64-encoded as Sec-WebSocket-Key. Both sides append the fixed GUID, hash with SHA-1 and encode with base64. Here your browser computes it with SubtleCrypto, and the server answers its own.',
    'lab.hs.button': 'Make a key', 'lab.key': 'Sec-WebSocket-Key', 'lab.guid': '+ GUID', 'lab.sha1': 'SHA-1 (hex)',
    'lab.accept': 'base64 → our Sec-WebSocket-Accept', 'lab.server': 'the server’s answer', 'lab.match': 'match', 'lab.nomatch': 'different!',
    'lab.frame.h': '2. A frame, byte by byte', 'lab.frame.p': 'This is what the browser sends for your text: every client frame is masked with 4 random bytes (to protect proxies, not to hide anything).',
    'lab.frame.placeholder': 'Type text to frame', 'lab.byte1': 'byte 1: FIN=1, opcode=1 (text)',
    'lab.byte2': 'byte 2: MASK=1, length {n}', 'lab.ext16': 'next 2 bytes: length {n}', 'lab.ext64': 'next 8 bytes: length {n}',
    'lab.mask': 'masking key', 'lab.payload': 'masked payload',
    'lab.decode.h': '3. The tutorial’s decoding steps',
    'lab.step1': 'Low 7 bits of byte 2: {n}.', 'lab.step2.small': '{n} ≤ 125, so that is the length.',
    'lab.step2.16': '126 → the length is the next 2 bytes: {n}.', 'lab.step2.64': '127 → the length is the next 8 bytes: {n}.',
    'lab.step3': 'The next 4 bytes are the mask: {mask}.', 'lab.step4': 'XOR byte i with mask[i % 4]: {bytes}', 'lab.step5': 'As UTF-8 text: “{text}”',

    'cmp.title': 'Four techniques, one message stream',
    'cmp.lead': 'Start it: this page joins as four clients — one short-polling, one long-polling, one on a WebSocket, one on a Server-Sent Events stream — and sends a message every 2 seconds. Each column counts requests, bytes and how late each message arrived.',
    'cmp.start': 'Start', 'cmp.stop': 'Stop', 'cmp.short': 'Short polling (every 3 s)', 'cmp.long': 'Long polling', 'cmp.ws': 'WebSocket',
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
    'sse.lead': 'GET /events answers 200 text/event-stream and never ends: each message comes down as an event (id: and data: lines, then a blank line). On the server one thread blocks on your queue between events, exactly like a long poll that never says “nothing”. If the connection drops, the browser reconnects by itself and sends the last id it saw as Last-Event-ID: the server replays what you missed from its history.',
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
    'home.cost': '代价', 'home.try': '试一试',
    'home.ajax.cost': '每个操作一个请求', 'home.short.cost': '每个间隔一个请求，延迟最多一个间隔',
    'home.long.cost': '每个客户端一个挂起的请求（这里还有一个线程）', 'home.ws.cost': '每个客户端一条连接，帧很小',
    'home.more': '在“对比”页面把它们放在一起看，在“队列”页面看队列本身。',

    'ajax.title': 'AJAX：后台发出的请求',
    'ajax.lead': '按钮用 fetch() 发送 POST /ab_dy。服务器返回 JSON；页面展示整个交换过程，以及解析后的结果是什么类型（教程里用的是 alert(typeof args)）。',
    'ajax.button': '发送 POST /ab_dy', 'ajax.request': '请求', 'ajax.response': '响应',
    'ajax.status': '状态码', 'ajax.headers': '响应头', 'ajax.body': '响应体', 'ajax.type': '解析结果的 typeof',
    'ajax.none': '还没有发送。',

    'chat.you': '你是', 'chat.send': '发送', 'chat.placeholder': '输入一条消息',
    'chat.requests': '次请求', 'chat.dropped': '条错过（队列满了）', 'chat.messages': '条消息',
    'chat.empty': '还没有消息。在另一个标签页打开这个页面，打个招呼吧。',

    'long.title': '长轮询：每个客户端一个阻塞队列',
    'long.lead': 'GET /get_msg 在服务器上等你的队列，最多 10 秒。有人发消息时，每个队列都收到一份，你挂起的请求立刻返回；然后页面再问一次。',
    'long.waiting': '等待中——服务器线程正阻塞在你的队列上',
    'long.got': '收到一条消息，再问一次', 'long.timeout': '超时，没有消息，再问一次',
    'long.down': '连不上服务器，{s} 秒后重试', 'long.rejoin': '服务器不认识我们了（重启了？）：重新加入',

    'short.title': '短轮询：一遍又一遍地问',
    'short.lead': 'GET /get_msg?timeout=0 不管有没有消息都立刻回答。页面每个间隔问一次；看看有多少回答是空的，消息又等了多久。',
    'short.interval': '间隔（秒）', 'short.start': '开始', 'short.stop': '停止',
    'short.requests': '次请求', 'short.empty': '次空回答', 'short.delay': '延迟',
    'short.delay.unknown': '延迟未知（别处发的）',

    'ws.title': 'WebSocket：真正的推送',
    'ws.lead': '连接一直开着。你的消息作为帧发上去并广播给所有人——包括长轮询的客户端；给你的每条消息一产生就作为帧推下来。',
    'ws.state.connecting': '连接中…', 'ws.state.open': '已连接', 'ws.state.closed': '已断开，{s} 秒后重连',
    'lab.title': '握手与帧实验室',
    'lab.hs.h': '1. 握手', 'lab.hs.p': '浏览器随机生成 16 个字节，用 base64 编码后放在 Sec-WebSocket-Key 里发出。双方都在后面拼上固定的 GUID，做 SHA-1，再 base64 编码。这里由你的浏览器用 SubtleCrypto 计算，服务器也给出它的结果。',
    'lab.hs.button': '生成一个 key', 'lab.key': 'Sec-WebSocket-Key', 'lab.guid': '+ GUID', 'lab.sha1': 'SHA-1（十六进制）',
    'lab.accept': 'base64 → 我们算的 Sec-WebSocket-Accept', 'lab.server': '服务器的回答', 'lab.match': '一致', 'lab.nomatch': '不一致！',
    'lab.frame.h': '2. 一个帧，逐字节', 'lab.frame.p': '这就是浏览器为你的文字发出的内容：客户端的每个帧都用 4 个随机字节做掩码（为了保护代理服务器，不是为了隐藏什么）。',
    'lab.frame.placeholder': '输入要封装成帧的文字', 'lab.byte1': '第 1 字节：FIN=1，opcode=1（文本）',
    'lab.byte2': '第 2 字节：MASK=1，长度 {n}', 'lab.ext16': '接下来 2 字节：长度 {n}', 'lab.ext64': '接下来 8 字节：长度 {n}',
    'lab.mask': '掩码', 'lab.payload': '掩码后的数据',
    'lab.decode.h': '3. 教程里的解码步骤',
    'lab.step1': '第 2 字节的低 7 位：{n}。', 'lab.step2.small': '{n} ≤ 125，这就是长度。',
    'lab.step2.16': '126 → 长度是后面 2 个字节：{n}。', 'lab.step2.64': '127 → 长度是后面 8 个字节：{n}。',
    'lab.step3': '再后面 4 个字节是掩码：{mask}。', 'lab.step4': '第 i 个字节与 mask[i % 4] 异或：{bytes}', 'lab.step5': '按 UTF-8 解码：“{text}”',

    'cmp.title': '四种技术，同一串消息',
    'cmp.lead': '点开始：这个页面以四个客户端的身份加入——一个短轮询、一个长轮询、一个 WebSocket、一个 Server-Sent Events 流——并每 2 秒发一条消息。每一栏统计请求数、字节数和每条消息晚到了多久。',
    'cmp.start': '开始', 'cmp.stop': '停止', 'cmp.short': '短轮询（每 3 秒）', 'cmp.long': '长轮询', 'cmp.ws': 'WebSocket',
    'cmp.requests': '次请求', 'cmp.bytes': '收到的字节', 'cmp.delay': '平均延迟', 'cmp.chart': '每条消息的延迟（毫秒）',

    'q.title': '队列，实时',
    'q.lead': '服务器上每个客户端的队列，每秒从 GET /stats 取两次：有多满（相对 --queue-size），此刻是否有线程阻塞在上面等，以及因为队列满了错过了多少条消息。',
    'q.name': '客户端', 'q.kind': '类型', 'q.depth': '队列', 'q.waiting': '有线程在等', 'q.dropped': '错过',
    'q.none': '还没有客户端。在另一个标签页打开长轮询或 WebSocket 聊天。',
    'q.summary': '{clients} 个客户端 · {open} 个打开的连接 · {threads} 个线程 · 已发送 {sent} · 已投递 {delivered} · 错过 {dropped}',
    'q.yes': '是', 'q.no': '否',
    'chat.missed': '条永久丢失（早于历史记录）',
    'chat.resumed': '从 #{id} 之后续上：补回 {n} 条',
    'long.resume': '出错后恢复：请求 #{id} 之后的所有消息',

    'sse.title': 'Server-Sent Events：浏览器一直开着的流',
    'sse.lead': 'GET /events 回答 200 text/event-stream，而且永不结束：每条消息作为一个事件推下来（id: 行和 data: 行，然后一个空行）。服务器上有一个线程在两个事件之间阻塞在你的队列上，就像一个从不回答“没有消息”的长轮询。连接断了，浏览器会自己重连，并把看到的最后一个 id 放在 Last-Event-ID 里发回：服务器从历史记录里补发你错过的消息。',
    'sse.state.connecting': '连接中…', 'sse.state.open': '正在接收', 'sse.state.lost': '连接断了——浏览器会自己重连（retry: 2000 毫秒）',
    'sse.raw': '到达的原始流', 'sse.raw.p': '每个事件按浏览器解析出的字段还原（正是服务器写出的字节）。心跳注释（“: keep-alive”）不会交给页面。',
    'sse.reconnect': '重连', 'sse.reconnect.none': '还没有重连过。让服务器停一会儿，或者断开连接，看浏览器带着 Last-Event-ID 回来。',
    'sse.reconnect.item': '带着 Last-Event-ID: {id} 重连——补发了断开期间的 {n} 条（来自它的队列或历史记录）',
    'sse.reconnect.missed': '，{k} 条永久丢失',
    'sse.replayed': '补发',
    'cmp.sse': 'Server-Sent Events',
  },
};

const LANG_KEY = 'pushq.lang';

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
  const toggle = document.getElementById('lang-toggle');
  if (toggle) toggle.textContent = t('lang.switch');
  document.dispatchEvent(new Event('pushq:lang'));   // pages redraw what they built
}

function switchLang() {
  localStorage.setItem(LANG_KEY, currentLang() === 'en' ? 'zh' : 'en');
  translatePage();
}

// ------------------------------------------------------------------ header
const PAGES = [
  ['/', 'nav.home'], ['/ab_dy', 'nav.ajax'], ['/polling.html', 'nav.short'],
  ['/ab_b1', 'nav.long'], ['/ws.html', 'nav.ws'], ['/sse.html', 'nav.sse'], ['/compare.html', 'nav.compare'],
  ['/queues.html', 'nav.queues'],
];

function buildHeader() {
  const header = document.getElementById('top');
  if (!header) return;
  const nav = document.createElement('nav');
  const brand = document.createElement('a');
  brand.href = '/';
  brand.className = 'brand';
  brand.textContent = 'pushq';
  nav.append(brand);
  for (const [href, key] of PAGES) {
    const a = document.createElement('a');
    a.href = href;
    a.dataset.i18n = key;
    if (href === location.pathname || (href !== '/' && location.pathname.startsWith(href))) a.className = 'here';
    nav.append(a);
  }
  const toggle = document.createElement('button');
  toggle.id = 'lang-toggle';
  toggle.type = 'button';
  toggle.addEventListener('click', switchLang);
  nav.append(toggle);
  header.append(nav);
}

// ----------------------------------------------------------------- helpers

// The ?name= of this page, or a new random one (put back into the URL, so a
// reload keeps it). URLSearchParams encodes spaces and non-ASCII properly.
function pageName(prefix) {
  const params = new URLSearchParams(location.search);
  let name = params.get('name');
  if (!name) {
    name = prefix + '-' + Math.random().toString(16).slice(2, 8);
    params.set('name', name);
    history.replaceState(null, '', location.pathname + '?' + params);
  }
  return name;
}

// Registers a long-polling client (GET /ab_b1?name=, as the seed's page load did).
async function register(name) {
  const res = await fetch('/ab_b1?name=' + encodeURIComponent(name));
  if (!res.ok) throw new Error('register: ' + res.status);
}

// POST /send_msg with a form body, as the seed's jQuery did.
function sendMessage(content, from) {
  return fetch('/send_msg', { method: 'POST', body: new URLSearchParams({ content, name: from }) });
}

// Appends one chat message to `list` — always as text, never as HTML.
function showMessage(list, msg, extra) {
  const item = document.createElement('li');
  const who = document.createElement('span');
  who.className = 'from';
  who.textContent = msg.from || '—';
  const text = document.createElement('span');
  text.className = 'text';
  text.dir = 'auto';                       // right-to-left text reads right
  text.textContent = msg.msg;
  const id = document.createElement('span');
  id.className = 'id';
  id.textContent = '#' + msg.id + (extra ? ' · ' + extra : '');
  item.append(who, text, id);
  list.append(item);
  item.scrollIntoView({ block: 'nearest' });
  return item;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

window.pushq = { t, translatePage, currentLang, pageName, register, sendMessage, showMessage, sleep };

document.addEventListener('DOMContentLoaded', () => {
  buildHeader();
  translatePage();
});
