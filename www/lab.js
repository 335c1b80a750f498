// lab.js — the queue lab (lab.html): buttons and guided steps that call a
// real queue on the server, one lane per call, and the same calls in Python and C.
'use strict';
// The playground. Every button is one HTTP request to the lab API
// (docs/api.md, "The queue lab"); the server thread that takes it calls the
// real queue_put / queue_get / queue_join and, if it must, sleeps there. Each
// request gets a lane that shows its thread asleep, with a countdown, and
// how it ended; the code panels show the same call in Python and in C.
const $ = (id) => document.getElementById(id);
let queueId = null, state = null, callNo = 0;
const calls = [];                  // every call made, newest last

// ------------------------------------------------------------ the calls
// Python and C for one call, and for its result.
function pythonOf(c) {
  const item = JSON.stringify(c.item ?? '').replace(/"/g, "'");
  const wait = c.block ? (c.timeout !== undefined ? 'timeout=' + c.timeout : '') : 'block=False';
  switch (c.kind) {
    case 'put': return `q.put(${item}${wait ? ', ' + wait : ''})`;
    case 'get': return `q.get(${wait})`;
    case 'task_done': return 'q.task_done()';
    case 'join': return 'q.join()';
    case 'shutdown': return c.immediate ? 'q.shutdown(immediate=True)' : 'q.shutdown()';
  }
}
function cOf(c) {
  const item = JSON.stringify(c.item ?? '');
  const wait = c.block ? `true, &(double){${c.timeout}}` : 'false, NULL';
  switch (c.kind) {
    case 'put': return `queue_put(q, ${item}, ${wait})`;
    case 'get': return `queue_get(q, &item, ${wait})`;
    case 'task_done': return 'queue_task_done(q)';
    case 'join': return `queue_join_timeout(q, ${c.timeout})`;
    case 'shutdown': return `queue_shutdown(q, ${c.immediate ? 'true' : 'false'})`;
  }
}
const PY_RESULT = { Empty: 'raise queue.Empty', Full: 'raise queue.Full', ShutDown: 'raise queue.ShutDown',
  ValueError: "raise ValueError('task_done() called too many times')" };
const C_RESULT = { ok: 'QUEUE_OK', Empty: 'QUEUE_EMPTY', Full: 'QUEUE_FULL', ShutDown: 'QUEUE_SHUTDOWN',
  ValueError: 'QUEUE_EINVAL', timeout: 'QUEUE_TIMEOUT' };
function pyResult(c) {
  if (c.result === 'ok') return c.kind === 'get' ? JSON.stringify(c.got).replace(/"/g, "'") : 'None';
  if (c.result === 'timeout') return pushq.t('qlab.py.jointimeout');
  return PY_RESULT[c.result] ?? c.result;
}
function cResult(c) {
  const rc = C_RESULT[c.result] ?? c.result;
  return c.kind === 'get' && c.result === 'ok' ? rc + ', item = ' + JSON.stringify(c.got) : rc;
}

// Makes call c (a record: kind, item, block, timeout, immediate) against
// the current queue. Resolves with the record once the answer is in.
async function call(c) {
  if (!queueId) await newQueue();
  c.no = ++callNo;
  c.started = performance.now();
  c.queue = queueId;
  calls.push(c);
  drawLane(c);
  drawCode();
  const params = new URLSearchParams({ q: queueId });
  if (c.kind === 'put') params.set('item', c.item);
  if (c.kind === 'put' || c.kind === 'get') params.set('block', c.block ? '1' : '0');
  if (c.block || c.kind === 'join') params.set('timeout', c.timeout);
  if (c.kind === 'shutdown') params.set('immediate', c.immediate ? '1' : '0');
  try {
    const res = await fetch('/lab/' + c.kind + '?' + params, { method: 'POST' });
    const answer = await res.json();
    if (!res.ok) {
      c.result = 'refused';
      c.error = answer.error;
      if (res.status === 404) gone();
    } else {
      c.result = answer.result;
      c.got = answer.item;
      c.putNo = answer.put;
      c.waited = answer.waited;
      showState(answer.state);
      showError(null);
    }
  } catch (error) {
    c.result = 'refused';
    c.error = pushq.t('qlab.down');
  }
  c.ended = performance.now();
  if (c.error) showError(c.error);
  drawLane(c);
  drawCode();
  drawArrows();
  return c;
}

function fromControls(kind) {
  const c = { kind, block: $('block').checked, timeout: Number($('timeout').value) };
  if (kind === 'put') { c.item = $('item').value || 'x'; nextItem(); }
  if (kind === 'join') c.block = true;
  if (kind === 'task_done' || kind === 'shutdown' || kind === 'shutdown-now') c.block = false;
  if (kind === 'shutdown-now') { c.kind = 'shutdown'; c.immediate = true; }
  return c;
}

// After a put, the next item name: jason, egon, then a, b, c ...
const NAMES = ['jason', 'egon', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
function nextItem() {
  const i = NAMES.indexOf($('item').value);
  $('item').value = NAMES[(i + 1) % NAMES.length];
}

// ------------------------------------------------------------ the queue
async function newQueue() {
  const old = queueId;
  const res = await fetch('/lab/new?maxsize=' + $('maxsize').value, { method: 'POST' });
  const answer = await res.json();
  if (!res.ok) { showError(answer.error); throw new Error(answer.error); }
  queueId = answer.id;
  $('queue-id').textContent = queueId;
  showState(answer);
  showError(null);
  if (old) navigator.sendBeacon('/lab/delete?q=' + old);   // free the old one
  return answer;
}

function gone() {
  queueId = null;
  $('queue-id').textContent = '—';
  showError(pushq.t('qlab.gone'));
}

function showError(text) {
  const el = $('lab-error');
  el.hidden = !text;
  el.className = 'note bad';
  el.textContent = text ?? '';
}

// Draws the slots (maxsize boxes, the items in get order) and the counts.
function showState(s) {
  state = s;
  const slots = [];
  for (let i = 0; i < s.maxsize; i++) {
    const slot = document.createElement('div');
    slot.className = 'slot';
    const it = s.items[i];
    if (it) {
      slot.classList.add('full');
      slot.innerHTML = '<b></b><small></small>';
      slot.querySelector('b').textContent = it.item;
      slot.querySelector('small').textContent = 'put #' + it.put;
    }
    slots.push(slot);
  }
  $('slots').replaceChildren(...slots);
  $('slots').classList.toggle('shut', s.shutdown);
  drawCounts();
}
function drawCounts() {
  if (!state) return;
  $('counts').textContent = pushq.t('qlab.counts', { q: state.qsize, m: state.maxsize, u: state.unfinished,
    g: state.getters, p: state.putters, j: state.joiners }) + (state.shutdown ? pushq.t('qlab.sd') : '');
}

async function refresh() {
  if (queueId && !document.hidden) {
    try {
      const res = await fetch('/lab/state?q=' + queueId);
      if (res.status === 404) gone(); else if (res.ok) showState(await res.json());
    } catch (error) { /* server away: the next call says so */ }
  }
  setTimeout(refresh, 700);
}

// ------------------------------------------------------------ the lanes
// One lane per call: its thread asleep (a bar that fills up to the
// timeout, with a countdown), then how it ended.
function drawLane(c) {
  const lanes = $('lanes');
  lanes.querySelector('.hint')?.remove();
  if (!c.el) {
    c.el = document.createElement('div');
    c.el.className = 'lane';
    c.el.innerHTML = '<span class="call mono"></span><div class="sleep"><i></i></div><span class="what"></span>';
    lanes.append(c.el);
    while (lanes.querySelectorAll('.lane').length > 10) lanes.querySelector('.lane').remove();
  }
  c.el.dataset.call = c.kind;
  c.el.dataset.no = c.no;
  if (c.putNo) c.el.dataset.put = c.putNo;
  c.el.dataset.state = c.ended ? c.result : 'sleeping';
  c.el.querySelector('.call').textContent = '#' + c.no + ' ' + pythonOf(c);
  const now = c.ended ?? performance.now();
  const s = (now - c.started) / 1000;
  const waits = c.block || c.kind === 'join';
  c.el.querySelector('.sleep i').style.width = waits && c.timeout ? Math.min(100, (100 * s) / c.timeout) + '%' : '100%';
  c.el.querySelector('.what').textContent = laneText(c, s);
}
function laneText(c, s) {
  const sec = (c.waited ?? s).toFixed(1);
  if (!c.ended) return pushq.t('qlab.lane.sleep', { call: c.kind, left: Math.max(0, c.timeout - s).toFixed(1) });
  if (c.result === 'refused') return pushq.t('qlab.lane.refused', { text: c.error });
  if (c.result === 'ok' && c.kind === 'get')
    return pushq.t(c.waited > 0.05 ? 'qlab.lane.woken' : 'qlab.lane.took', { n: c.putNo, item: c.got, s: sec });
  if (c.result === 'ok' && c.kind === 'put' && c.waited > 0.05) return pushq.t('qlab.lane.room', { s: sec });
  if (c.result === 'ok') return pushq.t('qlab.lane.ok', { s: sec });
  return pushq.t('qlab.lane.' + c.result, { s: sec });
}
setInterval(() => { for (const c of calls) if (!c.ended && c.el) drawLane(c); }, 100);

// An arrow from each put to the get that received its item.
function drawArrows() {
  const lanes = $('lanes');
  lanes.querySelector('svg.arrows')?.remove();
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'arrows');
  const box = lanes.getBoundingClientRect();
  for (const get of calls) {
    if (get.kind !== 'get' || get.result !== 'ok' || !get.el?.isConnected) continue;
    const put = calls.find((p) => p.kind === 'put' && p.queue === get.queue && p.putNo === get.putNo && p.el?.isConnected);
    if (!put) continue;
    const a = put.el.getBoundingClientRect(), b = get.el.getBoundingClientRect();
    const y1 = a.top - box.top + a.height / 2, y2 = b.top - box.top + b.height / 2;
    const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('d', `M 6 ${y1} C -14 ${y1}, -14 ${y2}, 6 ${y2}`);
    path.setAttribute('class', 'arrow');
    path.dataset.from = put.no;
    path.dataset.to = get.no;
    svg.append(path);
  }
  lanes.append(svg);
}

// ------------------------------------------------------------ the code
// The session so far, as Python and as C: one line per call and one for its
// result; a call still running is highlighted.
function drawCode() {
  const recent = calls.slice(-8);
  const lines = (render, result) => recent.flatMap((c) => {
    const line = document.createElement('span');
    line.className = 'line' + (c.ended ? '' : ' run');
    line.textContent = render(c) + '\n';
    if (!c.ended) return [line];
    const out = document.createElement('span');
    out.className = 'line out' + (c.result === 'ok' ? '' : ' raised');
    out.textContent = '  → ' + (c.result === 'refused' ? c.error : result(c)) + '\n';
    return [line, out];
  });
  $('py').replaceChildren(...lines((c) => '>>> ' + pythonOf(c), pyResult));
  $('c').replaceChildren(...lines((c) => cOf(c) + ';', cResult));
}

// ------------------------------------------------------------ the guide
// The tutorial's queue section, one click per step. Each step's calls are
// the same buttons a learner could press.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const put = (item, more = {}) => call({ kind: 'put', item, block: true, timeout: 3, ...more });
const get = (more = {}) => call({ kind: 'get', block: true, timeout: 3, ...more });
async function drain() {
  while (state && state.qsize > 0) await get({ block: false });
}
const STEPS = [
  ['qlab.s1', async () => { await newQueue(); await put('jason'); await put('egon'); }],
  ['qlab.s2', async () => { await get(); await get(); }],
  ['qlab.s3', async () => { await drain(); await get({ timeout: 3 }); }],
  ['qlab.s4', async () => {
    await drain();
    for (const item of ['a', 'b', 'c'].slice(0, state.maxsize)) await put(item);
    while (state.qsize < state.maxsize) await put('x');
    await put('d', { block: false });
  }],
  ['qlab.s5', async () => {
    await drain();
    const waiting = get({ timeout: 10 });
    await sleep(1500);              // watch it sleep for a moment
    await put('hello');
    await waiting;
  }],
  ['qlab.s6', async () => {
    await newQueue();
    await put('job 1');
    await put('job 2');
    const joining = call({ kind: 'join', timeout: 10 });
    await sleep(800);
    for (let i = 0; i < 2; i++) {
      await get();
      await sleep(500);
      await call({ kind: 'task_done' });
    }
    await joining;
  }],
  ['qlab.s7', async () => {
    await newQueue();
    const waiting = get({ timeout: 10 });
    await sleep(1200);
    await call({ kind: 'shutdown' });
    await waiting;
    await put('late', { block: false });
  }],
];

function buildGuide() {
  $('guide').replaceChildren(...STEPS.map(([key, run], i) => {
    const li = document.createElement('li');
    li.id = 'step-' + (i + 1);
    li.innerHTML = '<div class="row"><b></b><button type="button" class="quiet"></button></div><p></p>';
    li.querySelector('b').dataset.i18n = key + '.h';
    li.querySelector('button').dataset.i18n = 'qlab.step.run';
    li.querySelector('p').dataset.i18n = key + '.p';
    li.querySelector('button').addEventListener('click', async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      li.classList.remove('done');
      li.classList.add('running');
      try { await run(); li.classList.add('done'); } catch (error) { /* shown in #lab-error */ }
      li.classList.remove('running');
      button.disabled = false;
    });
    return li;
  }));
  pushq.translatePage();
}

// ------------------------------------------------------------ start
for (let n = 1; n <= 10; n++) $('maxsize').append(new Option(String(n), String(n), n === 3, n === 3));
$('new-queue').addEventListener('click', () => newQueue().catch(() => {}));
for (const button of document.querySelectorAll('#controls [data-call]'))
  button.addEventListener('click', () => call(fromControls(button.dataset.call)));
document.addEventListener('pushq:lang', () => { drawCounts(); for (const c of calls) if (c.el) drawLane(c); drawCode(); });
addEventListener('pagehide', () => { if (queueId) navigator.sendBeacon('/lab/delete?q=' + queueId); });
addEventListener('resize', drawArrows);
buildGuide();
newQueue().catch(() => {});
refresh();
