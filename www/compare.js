// compare.js — the compare page (compare.html): joins as four clients, one
// per technique, and a fifth through the client library (www/pushq.js, which
// picks its transport itself), sends a message every few seconds and draws
// what each one cost. On Stop, or when the tab goes, it says goodbye for all
// five (POST /leave): a run leaves no client behind on the server.
'use strict';
pushq.showCode('compare');
const seconds = (id, fallback) => Math.max(0.5, Number(document.getElementById(id).value) || fallback);
const suffix = Math.random().toString(16).slice(2, 6);
// One record per technique: its client name, counters and each message's delay.
const techniques = {
  short: { key: 'cmp.short', name: 'cmp-short-' + suffix, requests: 0, bytes: 0, delays: [] },   // also .threads
  long: { key: 'cmp.long', name: 'cmp-long-' + suffix, requests: 0, bytes: 0, delays: [] },
  ws: { key: 'cmp.ws', name: 'cmp-ws-' + suffix, requests: 0, bytes: 0, delays: [] },
  sse: { key: 'cmp.sse', name: 'cmp-sse-' + suffix, requests: 0, bytes: 0, delays: [] },
  // The library hides its wire, so this column shows what it says instead:
  // the transport it chose, its state and the gaps it reported.
  client: { key: 'cmp.client', name: 'cmp-client-' + suffix, requests: 0, bytes: 0, delays: [],
    transport: null, state: null, gaps: 0 },
};
let running = false, generator = null, shortTimer = null, socket = null, stream = null, library = null, sent = 0;
const timeline = new pushq.Timeline(document.getElementById('timeline'), { span: 30, rows: 12, timeout: 10 });

// --------------------------------------------------------------- the page
function buildColumns() {
  const columns = document.getElementById('columns');
  for (const id of Object.keys(techniques)) {
    const panel = document.createElement('section');
    panel.className = 'panel ' + id;
    panel.id = 'col-' + id;
    panel.innerHTML = '<h3></h3><dl class="steps">' +
      '<dt class="l-requests"></dt><dd class="requests">0</dd>' +
      '<dt class="l-bytes"></dt><dd class="bytes">0</dd>' +
      '<dt class="l-delay"></dt><dd class="delay">—</dd>' +
      '<dt class="l-threads"></dt><dd class="threads">—</dd>' +
      (id === 'client' ? '<dt class="l-transport"></dt><dd class="transport">—</dd>' +
        '<dt class="l-state"></dt><dd class="state">—</dd>' +
        '<dt class="l-gaps"></dt><dd class="gaps">0</dd>' : '') + '</dl>';
    columns.append(panel);
  }
}

function drawCounters() {
  for (const [id, tech] of Object.entries(techniques)) {
    const panel = document.getElementById('col-' + id);
    panel.querySelector('h3').textContent = pushq.t(tech.key);
    panel.querySelector('.l-requests').textContent = pushq.t('cmp.requests');
    panel.querySelector('.l-bytes').textContent = pushq.t('cmp.bytes');
    panel.querySelector('.l-delay').textContent = pushq.t('cmp.delay');
    panel.querySelector('.l-threads').textContent = pushq.t('cmp.threads');
    panel.querySelector('.threads').textContent = tech.threads ?? '—';
    const wire = id !== 'client';                    // the library's wire is its own
    panel.querySelector('.requests').textContent = wire ? tech.requests : '—';
    panel.querySelector('.bytes').textContent = wire ? tech.bytes.toLocaleString() : '—';
    const d = tech.delays;
    panel.querySelector('.delay').textContent =
      d.length ? pushq.t('cmp.ms', { n: Math.round(d.reduce((a, b) => a + b, 0) / d.length) }) : '—';
    if (!wire) drawLibrary(panel, tech);
  }
  document.getElementById('toggle').textContent = pushq.t(running ? 'cmp.stop' : 'cmp.start');
}

function drawLibrary(panel, tech) {
  panel.querySelector('.l-transport').textContent = pushq.t('cmp.transport');
  panel.querySelector('.l-state').textContent = pushq.t('cmp.state');
  panel.querySelector('.l-gaps').textContent = pushq.t('cmp.gaps');
  panel.querySelector('.transport').textContent = tech.transport ? pushq.t('client.t.' + tech.transport) : '—';
  panel.querySelector('.state').textContent = tech.state ? pushq.t('client.s.' + tech.state) : '—';
  panel.querySelector('.gaps').textContent = tech.gaps;
}

// A hand-drawn SVG chart: x = message number, y = delay in ms, with
// gridlines and labelled axes. Each technique has its own colour, line
// style and marker, so that lines lying on top of each other (long polling
// and WebSocket are both fast) can still be told apart.
const STYLE = {
  short: { color: 'var(--short)', dash: '', marker: 'triangle' },
  long: { color: 'var(--long)', dash: '6 4', marker: 'circle' },
  ws: { color: 'var(--ws)', dash: '', marker: 'square' },
  sse: { color: 'var(--sse)', dash: '2 3', marker: 'diamond' },
  client: { color: 'var(--ink)', dash: '1 4', marker: 'circle' },
};

function drawChart() {
  const svg = document.getElementById('chart');
  const W = 900, H = 280, left = 64, right = 16, bottom = 44, top = 14;
  const all = Object.values(techniques).flatMap((t) => t.delays);
  const step = niceStep(Math.max(100, ...all) / 4);
  const maxDelay = step * Math.ceil(Math.max(100, ...all) / step);
  const count = Math.max(10, ...Object.values(techniques).map((t) => t.delays.length));
  const x = (i) => left + (i / Math.max(1, count - 1)) * (W - left - right);
  const y = (ms) => H - bottom - (ms / maxDelay) * (H - bottom - top);
  const ns = 'http://www.w3.org/2000/svg';
  const make = (tag, attrs, text) => {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    return el;
  };
  const parts = [];
  for (let ms = 0; ms <= maxDelay; ms += step) {                 // y grid + labels
    parts.push(make('line', { class: ms ? 'grid' : 'axis', x1: left, y1: y(ms), x2: W - right, y2: y(ms) }));
    parts.push(make('text', { x: left - 6, y: y(ms) + 4, 'text-anchor': 'end' }, String(ms)));
  }
  const every = Math.max(1, Math.ceil(count / 10));
  for (let i = 0; i < count; i += every) {                         // x ticks
    parts.push(make('line', { class: 'grid', x1: x(i), y1: top, x2: x(i), y2: H - bottom }));
    parts.push(make('text', { x: x(i), y: H - bottom + 16, 'text-anchor': 'middle' }, String(i + 1)));
  }
  parts.push(make('line', { class: 'axis', x1: left, y1: top, x2: left, y2: H - bottom }));
  parts.push(make('text', { x: (left + W) / 2, y: H - 6, 'text-anchor': 'middle', class: 'label' }, pushq.t('cmp.axis.x')));
  parts.push(make('text', { x: 14, y: (top + H - bottom) / 2, 'text-anchor': 'middle', class: 'label',
    transform: `rotate(-90 14 ${(top + H - bottom) / 2})` }, pushq.t('cmp.axis.y')));
  // Fast techniques all sit near 0 ms, on top of each other: each series is
  // drawn a few pixels to the side of the message's tick (a "dodge"), so
  // every marker stays visible.
  const ids = Object.keys(techniques);
  for (const [k, [id, tech]] of Object.entries(techniques).entries()) {
    const st = STYLE[id], dx = (k - (ids.length - 1) / 2) * 5;
    const points = tech.delays.map((d, i) => (x(i) + dx).toFixed(1) + ',' + y(d).toFixed(1)).join(' ');
    parts.push(make('polyline', { points, fill: 'none', stroke: st.color, 'stroke-width': 2, 'stroke-dasharray': st.dash, class: 'series ' + id }));
    tech.delays.forEach((d, i) => parts.push(marker(make, st, x(i) + dx, y(d), id)));
  }
  svg.replaceChildren(...parts);
}

// A round step for gridlines: 1, 2 or 5 times a power of ten.
function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((k) => k * p).find((s) => s >= raw);
}

function marker(make, st, cx, cy, id) {
  const r = 4.5, attrs = { fill: st.color, class: 'point ' + id };
  if (st.marker === 'circle') return make('circle', { ...attrs, cx, cy, r });
  if (st.marker === 'square') return make('rect', { ...attrs, x: cx - r, y: cy - r, width: 2 * r, height: 2 * r });
  const pts = st.marker === 'triangle' ? [[0, -r - 1], [r + 1, r], [-r - 1, r]] : [[0, -r - 1], [r + 1, 0], [0, r + 1], [-r - 1, 0]];
  return make('polygon', { ...attrs, points: pts.map(([dx, dy]) => (cx + dx) + ',' + (cy + dy)).join(' ') });
}

// The legend, in HTML so that it wraps on a phone instead of squashing.
function drawLegend() {
  document.getElementById('legend').replaceChildren(...Object.entries(techniques).map(([id, tech]) => {
    const item = document.createElement('span');
    item.className = 'legend-item ' + id;
    const swatch = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    swatch.setAttribute('viewBox', '0 0 30 12');
    swatch.setAttribute('width', '30');
    swatch.setAttribute('height', '12');
    const st = STYLE[id];
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'line');
    for (const [k, v] of Object.entries({ x1: 0, y1: 6, x2: 30, y2: 6, stroke: st.color, 'stroke-width': 2, 'stroke-dasharray': st.dash }))
      line.setAttribute(k, v);
    swatch.append(line, marker((tag, attrs) => {
      const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
      for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
      return el;
    }, st, 15, 6, id));
    item.append(swatch, ' ' + pushq.t(tech.key));
    return item;
  }));
}

function redraw() { drawCounters(); drawChart(); drawLegend(); }
document.addEventListener('pushq:lang', redraw);

// ------------------------------------------------------------ measuring
// Bytes of an HTTP answer: status line + headers + body, as they travelled.
async function answerBytes(res) {
  const body = new TextEncoder().encode(await res.clone().text()).length;
  let head = ('HTTP/1.1 ' + res.status + ' ' + res.statusText + '\r\n').length + 2;
  for (const [k, v] of res.headers) head += k.length + v.length + 4;
  return head + body;
}

// A message this page sent ("compare #n"): its delay is now minus the
// server's send time (sent_at).
function arrived(tech, data) {
  if (/^compare #\d+$/.test(data.msg) && data.sent_at) tech.delays.push(pushq.delayOf(data));
  redraw();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function getMsg(tech, timeout, label) {
  tech.requests++;
  const bar = timeline.start(label, timeout || null);
  pushq.runLine(timeout ? 'long' : 'short');
  try {
    const res = await fetch('/get_msg?timeout=' + timeout + '&name=' + encodeURIComponent(tech.name));
    tech.bytes += await answerBytes(res);
    if (pushq.tokenRefusal(res.status)) { bar.end('error'); refusedByTokens(); return null; }
    if (res.status === 404) { bar.end('error'); await pushq.register(tech.name); return null; }
    const data = await res.json();
    bar.end(data.status ? 'message' : timeout ? 'timeout' : 'empty');
    return data;
  } catch (error) {
    bar.end('error');
    throw error;
  }
}

// ------------------------------------------------------------ techniques
async function shortPoll() {
  const tech = techniques.short;
  try {
    for (let data = await getMsg(tech, 0, 'short'); running && data && data.status; data = await getMsg(tech, 0, 'short'))
      arrived(tech, data);
  } catch (error) { /* the next tick asks again */ }
  redraw();
  scheduleShort();
}

// A new interval applies at once: the waiting tick is replaced.
function scheduleShort() {
  clearTimeout(shortTimer);
  if (running) shortTimer = setTimeout(shortPoll, seconds('interval', 3) * 1000);
}
document.getElementById('interval').addEventListener('change', scheduleShort);

async function longPoll() {
  const tech = techniques.long;
  while (running) {
    try {
      const data = await getMsg(tech, 10, 'long');
      if (data && data.status) arrived(tech, data);
      redraw();
    } catch (error) { await sleep(1000); }      // server away: ask again soon
  }
}

// The socket reconnects by itself (after a server restart too).
function openSocket() {
  const tech = techniques.ws;
  tech.requests++;                                  // the one upgrade request
  pushq.runLine('ws');
  const bar = timeline.start('ws', null);
  socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws?name=' + encodeURIComponent(tech.name));
  socket.addEventListener('close', () => {
    bar.end('error');
    if (running) setTimeout(() => { if (running) openSocket(); }, 1000);
  });
  socket.addEventListener('message', (event) => {
    const payload = new TextEncoder().encode(event.data).length;
    tech.bytes += payload + (payload < 126 ? 2 : 4);  // the frame header
    arrived(tech, JSON.parse(event.data));
  });
}

// One GET /events that stays open; each event is "id: N\ndata: JSON\n\n".
function openStream() {
  const tech = techniques.sse;
  tech.requests++;                                  // the one request (and its reconnects)
  stream = new EventSource('/events?name=' + encodeURIComponent(tech.name));
  let bar = timeline.start('sse', null);
  stream.addEventListener('error', () => { bar.end('error'); if (running) { tech.requests++; bar = timeline.start('sse', null); } });
  stream.addEventListener('message', (event) => {
    tech.bytes += new TextEncoder().encode('id: ' + event.lastEventId + '\ndata: ' + event.data + '\n\n').length;
    arrived(tech, JSON.parse(event.data));
  });
}

// The fifth client: www/pushq.js, loaded as a module, with every transport
// allowed. It registers, reconnects and resumes by itself; only loading the
// module is this page's to retry (the server may be away right then).
// (A module that failed to load may be remembered as failed: a retry asks
// for it under another URL.)
async function openLibrary(tries = 0) {
  const tech = techniques.client;
  let connect;
  try {
    ({ connect } = await import(tries ? '/pushq.js?try=' + tries : '/pushq.js'));
  } catch (error) {
    if (running) setTimeout(() => openLibrary(tries + 1), 1000);
    return;
  }
  if (!running || library) return;
  library = connect({ name: tech.name });
  library.on('transport', (t) => { tech.transport = t.name; drawCounters(); });
  library.on('state', (st) => { tech.state = st; drawCounters(); });
  library.on('gap', (g) => { tech.gaps += g.dropped + g.missed; drawCounters(); });
  library.on('message', (m) => arrived(tech, m));
}

// Goodbye for every client of this run: forgotten now, not after
// --client-ttl. On a closing tab only a beacon still leaves.
function leaveAll(beacon) {
  for (const tech of Object.values(techniques)) {
    const body = new URLSearchParams({ name: tech.name });
    if (beacon) navigator.sendBeacon('/leave', body);
    else fetch('/leave', { method: 'POST', body }).catch(() => { /* server away: the ttl does it */ });
  }
}
addEventListener('pagehide', () => { if (running) { stop(false); leaveAll(true); } });

// One message every `rate` seconds. A send that fails (server away) is
// said once and tried again at the next tick; nothing throws.
async function sendOne() {
  const note = document.getElementById('cmp-note');
  try {
    const res = await pushq.sendMessage('compare #' + (sent + 1), 'compare');
    if (res.ok) { sent++; pushq.setNote(note, null); }
    else if (pushq.tokenRefusal(res.status)) refusedByTokens();
  } catch (error) {
    pushq.setNote(note, 'cmp.down');
  }
}
// A server with --token-key refuses this page's made-up names (and its
// sender): say so once, and stop.
function refusedByTokens() {
  pushq.setNote(document.getElementById('cmp-note'), 'cmp.token');
  if (running) stop();
}
function scheduleSends() {
  clearInterval(generator);
  if (running) generator = setInterval(sendOne, seconds('rate', 2) * 1000);
}
document.getElementById('rate').addEventListener('change', scheduleSends);

// The threads each technique holds on the server, from /stats.
async function countThreads() {
  if (!running) return;
  try {
    const stats = await (await fetch('/stats')).json();
    for (const tech of Object.values(techniques)) {
      const c = stats.clients.find((client) => client.name === tech.name);
      tech.threads = c ? c.waiting + c.sessions : 0;
    }
    drawCounters();
  } catch (error) { /* server away */ }
  setTimeout(countThreads, 1000);
}

async function start() {
  running = true;
  try {
    await Promise.all([pushq.register(techniques.short.name), pushq.register(techniques.long.name)]);
  } catch (error) { /* the loops register again on 404 */ }
  openSocket();
  openStream();
  openLibrary();
  scheduleSends();
  shortPoll();
  longPoll();
  countThreads();
  redraw();
}

// leave: also say goodbye for the five clients (not when the tab is going:
// pagehide sends beacons instead, since a fetch may not outlive the page).
function stop(leave = true) {
  running = false;
  clearInterval(generator);
  clearTimeout(shortTimer);
  pushq.runLine(null);
  socket?.close();
  stream?.close();
  library?.close();
  library = null;
  redraw();
  if (leave) leaveAll(false);
}

document.getElementById('toggle').addEventListener('click', () => (running ? stop() : start()));
buildColumns();
redraw();
