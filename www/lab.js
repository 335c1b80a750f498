// lab.js — the queue lab (lab.html): buttons and guided steps that call a
// real queue on the server, one lane per call, the threads drawn at the
// queue, the wait loop that makes a call block, and the same calls in
// Python and C.
'use strict';
// The playground. Every button is one HTTP request to the lab API
// (docs/api.md, "The queue lab"); the server thread that takes it calls the
// real queue_put / queue_get / queue_join and, if it must, sleeps there. Each
// request gets a lane that shows its thread asleep, with a countdown, and
// how it ended; the threads still waiting stand at the queue (getters at
// its head, putters at its tail, joiners below); the wait loop of Python's
// Queue.get and of queue/queue.c is lit where the thread is.
//
// One numbering: every call is "call #N", in the order made, refused or
// not. The server numbers puts itself (an item carries its put's number);
// the page turns that number back into the call that made the put.
const $ = (id) => document.getElementById(id);
let queueId = null, state = null, callNo = 0;
const calls = [];                  // every call made on the current queue, oldest first
const putCalls = new Map();        // the server's put number -> the call that made it
let notifyUntil = 0;               // the notify line stays lit until then (performance.now)
const MAX_LANES = 8;

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

// A call that can never wait: block=False, task_done, shutdown.
const neverWaits = (c) => !c.block && c.kind !== 'join';
// The call that made the item with the server's put number n, if this page made it.
const putCallOf = (n) => putCalls.get(n);

// The text of a refusal in the page's language: the server's code, mapped
// (texts.js, qlab.err.CODE); the server's English text only for a code
// the page does not know.
function refusalText(code, text) {
  const key = 'qlab.err.' + code;
  const mine = pushq.t(key);
  return mine !== key ? mine : text;
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
  drawWaiters();
  const params = new URLSearchParams({ q: queueId });
  if (c.kind === 'put') params.set('item', c.item);
  if (c.kind === 'put' || c.kind === 'get') params.set('block', c.block ? '1' : '0');
  if (c.block || c.kind === 'join') params.set('timeout', c.timeout);
  if (c.kind === 'shutdown') params.set('immediate', c.immediate ? '1' : '0');
  const wakes = c.kind === 'put' && calls.some((g) => g.kind === 'get' && !g.ended && g.queue === c.queue && g !== c);
  try {
    const res = await fetch('/lab/' + c.kind + '?' + params, { method: 'POST' });
    const answer = await res.json();
    if (!res.ok) {
      c.result = 'refused';
      c.code = answer.code;
      c.serverText = answer.error;
      if (res.status === 404) gone();
    } else {
      c.result = answer.result;
      c.got = answer.item;
      c.putNo = answer.put;
      c.waited = answer.waited;
      if (c.kind === 'put' && c.putNo && c.queue === queueId) putCalls.set(c.putNo, c);
      if (c.queue === queueId) showState(answer.state);
      showError(null);
    }
  } catch (error) {
    c.result = 'refused';
    c.code = 'down';
  }
  c.ended = performance.now();
  if (wakes && c.result === 'ok') notifyUntil = performance.now() + 2500;
  if (c.result === 'refused') showError(c.code, c.serverText);
  redraw();
  return c;
}

// The controls' call, or null (after saying why) when a field is wrong.
function fromControls(kind) {
  const c = { kind, block: $('block').checked };
  if (kind === 'join') c.block = true;
  if (kind === 'task_done' || kind === 'shutdown' || kind === 'shutdown-now') c.block = false;
  if (kind === 'shutdown-now') { c.kind = 'shutdown'; c.immediate = true; }
  if (c.block) {
    // An empty field is not timeout=0 (a call that never waits): say so.
    const text = $('timeout').value.trim();
    if (text === '' || !Number.isFinite(Number(text))) { showError('timeout_empty'); $('timeout').focus(); return null; }
    c.timeout = Number(text);
  }
  if (kind === 'put') { c.item = $('item').value || 'x'; nextItem(); }
  return c;
}

// After a put, the next item name: jason, egon, then a, b, c ...
const NAMES = ['jason', 'egon', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
function nextItem() {
  const i = NAMES.indexOf($('item').value);
  $('item').value = NAMES[(i + 1) % NAMES.length];
}

// ------------------------------------------------------------ the queue
// A new queue of `maxsize` (the dropdown's when not given). The old one is
// deleted, and its lanes go with it: they were about another queue.
async function newQueue(maxsize) {
  if (maxsize !== undefined) $('maxsize').value = String(maxsize);
  const old = queueId;
  const res = await fetch('/lab/new?maxsize=' + $('maxsize').value, { method: 'POST' });
  const answer = await res.json();
  if (!res.ok) { showError(answer.code, answer.error); throw new Error(answer.error); }
  queueId = answer.id;
  $('queue-id').textContent = queueId;
  clearLanes();
  showState(answer);
  showError(null);
  if (old) navigator.sendBeacon('/lab/delete?q=' + old);   // free the old one
  return answer;
}

function clearLanes() {
  for (const c of calls) c.el = null;
  calls.length = 0;
  callNo = 0;                      // a new queue, a new count: call #1 is its first call
  putCalls.clear();
  const hint = document.createElement('p');
  hint.className = 'muted hint';
  hint.dataset.i18n = 'qlab.lanes.none';
  hint.textContent = pushq.t('qlab.lanes.none');
  $('lanes').replaceChildren(hint);
  drawCode();
  drawWaiters();
}

function gone() {
  queueId = null;
  $('queue-id').textContent = '—';
  showError('gone');
}

// Shows the error `code` in the page's language (or hides the box for null).
let shownError = null;
function showError(code, serverText) {
  shownError = code ? { code, serverText } : null;
  const el = $('lab-error');
  el.hidden = !code;
  el.className = 'note bad';
  el.textContent = code ? refusalText(code, serverText) : '';
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
      const maker = putCallOf(it.put);
      slot.querySelector('small').textContent = maker ? pushq.t('qlab.slot.from', { n: maker.no }) : '';
      if (maker) slot.dataset.call = maker.no;
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
      const asked = queueId;
      const res = await fetch('/lab/state?q=' + asked);
      const answer = res.ok ? await res.json() : null;
      if (asked === queueId) {                     // else a new queue meanwhile: this state is old
        if (res.status === 404) gone(); else if (answer) showState(answer);
      }
    } catch (error) { /* server away: the next call says so */ }
  }
  setTimeout(refresh, 700);
}

// ------------------------------------------------------------ the threads at the queue
// The calls still waiting, drawn where they wait: gets at the head (where
// the next item leaves), puts at the tail (where it would go in), joins below.
function drawWaiters() {
  const now = performance.now();
  const chip = (c) => {
    const el = document.createElement('span');
    el.className = 'waiter mono';
    el.dataset.no = c.no;
    const left = Math.max(0, c.timeout - (now - c.started) / 1000);
    el.textContent = pushq.t('qlab.waiter', { n: c.no, call: c.kind, left: left.toFixed(1) });
    return el;
  };
  const waiting = calls.filter((c) => !c.ended && c.queue === queueId && !neverWaits(c));
  $('getters').replaceChildren(...waiting.filter((c) => c.kind === 'get').map(chip));
  $('putters').replaceChildren(...waiting.filter((c) => c.kind === 'put').map(chip));
  $('joiners').replaceChildren(...waiting.filter((c) => c.kind === 'join').map(chip));
  // The big countdown (projector mode): the call waiting longest.
  const first = waiting[0];
  $('big-countdown').hidden = !first;
  if (first) $('big-countdown').textContent = chip(first).textContent;
}

// ------------------------------------------------------------ the lanes
// One lane per call, the newest on top: a bar for a call that may wait
// (it fills up to the timeout, with a countdown), a dot for one that
// never waits; then how it ended.
function drawLane(c) {
  const lanes = $('lanes');
  if (c.queue !== queueId) return;
  lanes.querySelector('.hint')?.remove();
  if (!c.el) {
    c.el = document.createElement('div');
    c.el.className = 'lane';
    c.el.innerHTML = '<span class="call mono"></span><div class="sleep"><i></i></div><span class="what"></span>';
    lanes.prepend(c.el);
    const all = lanes.querySelectorAll('.lane');
    for (let i = MAX_LANES; i < all.length; i++) all[i].remove();
  }
  const now = c.ended ?? performance.now();
  const s = (now - c.started) / 1000;
  const waited = c.waited ?? s;
  c.el.dataset.call = c.kind;
  c.el.dataset.no = c.no;
  if (c.putNo) c.el.dataset.put = c.putNo;
  c.el.dataset.state = c.ended ? c.result : 'sleeping';
  // A dot: the call never waits, or it ended without waiting (then it did not sleep).
  const dot = neverWaits(c) || c.result === 'refused' || (c.ended !== undefined && waited < 0.05);
  c.el.classList.toggle('instant', dot);
  c.el.querySelector('.call').textContent = pushq.t('qlab.lane.call', { n: c.no }) + ' ' + pythonOf(c);
  c.el.querySelector('.sleep i').style.width = dot ? '' : Math.min(100, (100 * Math.min(s, waited)) / c.timeout) + '%';
  c.el.querySelector('.what').textContent = laneText(c, s);
}

// What happened to call c, in words: "returned at once" only when it did.
function laneText(c, s) {
  const sec = (c.waited ?? s).toFixed(1);
  const atOnce = c.ended && (c.waited ?? 0) < 0.05;
  if (!c.ended) return pushq.t('qlab.lane.sleep', { call: c.kind, left: Math.max(0, c.timeout - s).toFixed(1) });
  if (c.result === 'refused') return pushq.t('qlab.lane.refused', { text: refusalText(c.code, c.serverText) });
  if (c.result === 'ok' && c.kind === 'get') {
    const maker = putCallOf(c.putNo);
    const by = maker ? pushq.t('qlab.by', { n: maker.no, call: pythonOf(maker) }) : pushq.t('qlab.by.other');
    return pushq.t(atOnce ? 'qlab.lane.took' : 'qlab.lane.woken', { by, item: c.got, s: sec });
  }
  if (c.result === 'ok' && c.kind === 'put') return pushq.t(atOnce ? (c.block ? 'qlab.lane.room.now' : 'qlab.lane.now') : 'qlab.lane.room', { s: sec });
  if (c.result === 'ok' && c.kind === 'join') return pushq.t(atOnce ? 'qlab.lane.join.now' : 'qlab.lane.join', { s: sec });
  if (c.result === 'ok') return pushq.t('qlab.lane.now');
  if ((c.result === 'Empty' || c.result === 'Full') && !c.block) return pushq.t('qlab.lane.' + c.result + '.now');
  if (c.result === 'ShutDown' && atOnce) return pushq.t('qlab.lane.ShutDown.now');
  return pushq.t('qlab.lane.' + c.result, { s: sec });
}

// Every lane, the arrows, the waiters, the code: after an answer, and
// when the language changes.
function redraw() {
  for (const c of calls) if (c.el || c.queue === queueId) drawLane(c);
  if (state) showState(state);
  drawCode();
  drawWaiters();
  drawArrows();
  whyLines();
}

setInterval(() => {
  for (const c of calls) if (!c.ended && c.el) drawLane(c);
  drawWaiters();
  whyLines();
}, 100);

// An arrow, with its head, from each put to the get that received its item.
const SVG = 'http://www.w3.org/2000/svg';
function drawArrows() {
  const lanes = $('lanes');
  lanes.querySelector('svg.arrows')?.remove();
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'arrows');
  svg.innerHTML = '<defs><marker id="arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>';
  const box = lanes.getBoundingClientRect();
  for (const get of calls) {
    if (get.kind !== 'get' || get.result !== 'ok' || !get.el?.isConnected) continue;
    const put = putCallOf(get.putNo);
    if (!put?.el?.isConnected) continue;
    const a = put.el.getBoundingClientRect(), b = get.el.getBoundingClientRect();
    const y1 = a.top - box.top + a.height / 2, y2 = b.top - box.top + b.height / 2;
    // From the put's lane, out into the strip on the left, into the get's lane.
    const bend = Math.min(30, 8 + Math.abs(y2 - y1) / 6);
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', `M 30 ${y1} C ${30 - bend} ${y1}, ${30 - bend} ${y2}, 30 ${y2}`);
    path.setAttribute('class', 'arrow');
    path.setAttribute('marker-end', 'url(#arrowhead)');
    path.dataset.from = put.no;
    path.dataset.to = get.no;
    svg.append(path);
  }
  lanes.append(svg);
}

// ------------------------------------------------------------ why it blocks
// The wait loop (code.js, "lab"): the wait line lit while a get of this
// queue sleeps, the notify line for a moment after the put that woke one,
// the Empty line after a get whose timeout ran out.
function whyLines() {
  const now = performance.now();
  const keys = [];
  if (calls.some((c) => c.kind === 'get' && !c.ended && c.queue === queueId)) keys.push('wait');
  if (now < notifyUntil) keys.push('notify');
  const last = calls.findLast((c) => c.kind === 'get' && c.ended);
  if (last && last.result === 'Empty' && last.block && now - last.ended < 2500) keys.push('empty');
  pushq.runLine(...keys);
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
    out.textContent = '  → ' + (c.result === 'refused' ? refusalText(c.code, c.serverText) : result(c)) + '\n';
    return [line, out];
  });
  $('py').replaceChildren(...lines((c) => `>>> ${pythonOf(c)}   # #${c.no}`, pyResult));
  $('c').replaceChildren(...lines((c) => `${cOf(c)};   /* #${c.no} */`, cResult));
}

// ------------------------------------------------------------ the guide
// The tutorial's queue section, one click per step. Each step's calls are
// the same buttons a learner could press; a step that needs a maxsize
// (its text says which) makes a queue of that size.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const put = (item, more = {}) => call({ kind: 'put', item, block: true, timeout: 3, ...more });
const get = (more = {}) => call({ kind: 'get', block: true, timeout: 3, ...more });
async function drain() {
  while (state && state.qsize > 0) await get({ block: false });
}
const STEPS = [
  ['qlab.s1', async () => { await newQueue(3); await put('jason'); await put('egon'); }],
  ['qlab.s2', async () => { if (!state || state.qsize === 0) { await newQueue(3); await put('jason'); await put('egon'); } await get(); await get(); }],
  ['qlab.s3', async () => { await drain(); await get({ timeout: 3 }); }],
  ['qlab.s4', async () => {
    await newQueue(3);
    for (const item of ['a', 'b', 'c']) await put(item);
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
    await newQueue(3);
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
    await newQueue(3);
    const waiting = get({ timeout: 10 });
    await sleep(1200);
    await call({ kind: 'shutdown' });
    await waiting;
    await put('late', { block: false });
  }],
];

let running = null;                 // the index of the step running now
const phone = () => matchMedia('(max-width: 640px)').matches;

// Keeps the action in view: on a phone the running step is pinned above the
// queue (#now-step) and the page scrolls to it; on a desktop the steps are a
// sticky column beside the queue, which is scrolled into view if it is not.
function showAction() {
  const target = phone() ? $('action') : document.querySelector('.lab-stage');
  const top = target.getBoundingClientRect().top;
  if (Math.abs(top) > 8) target.scrollIntoView({ block: 'start' });
}

function drawNowStep() {
  const i = running ?? nextStep;
  const box = $('now-step');
  box.hidden = i === null || i >= STEPS.length;
  if (box.hidden) return;
  const [key] = STEPS[i];
  $('now-title').textContent = pushq.t('qlab.step.n', { n: i + 1 }) + ' ' + pushq.t(key + '.h');
  $('now-text').textContent = pushq.t(key + '.p');
  $('now-next').textContent = pushq.t(running !== null ? 'qlab.step.running' : 'qlab.step.run');
  $('now-next').disabled = running !== null;
  box.classList.toggle('running', running !== null);
}

let nextStep = null;
async function runStep(i) {
  if (running !== null) return;
  const li = $('step-' + (i + 1));
  running = i;
  for (const b of document.querySelectorAll('#guide button')) b.disabled = true;
  for (const other of document.querySelectorAll('#guide li')) other.classList.remove('running');
  li.classList.remove('done');
  li.classList.add('running');
  drawNowStep();
  showAction();
  // The running step at the top of the steps column (it scrolls on its own).
  if (!phone()) $('steps-col').scrollTo({ top: Math.max(0, li.offsetTop - 8) });
  try { await STEPS[i][1](); li.classList.add('done'); } catch (error) { /* shown in #lab-error */ }
  li.classList.remove('running');
  running = null;
  nextStep = i + 1 < STEPS.length ? i + 1 : null;
  for (const b of document.querySelectorAll('#guide button')) b.disabled = false;
  drawNowStep();
}

function buildGuide() {
  $('guide').replaceChildren(...STEPS.map(([key], i) => {
    const li = document.createElement('li');
    li.id = 'step-' + (i + 1);
    li.innerHTML = '<div class="row"><b></b><button type="button" class="quiet"></button></div><p class="predict"></p><p class="prose"></p>';
    li.querySelector('b').dataset.i18n = key + '.h';
    li.querySelector('button').dataset.i18n = 'qlab.step.run';
    li.querySelector('.predict').dataset.i18n = key + '.q';
    li.querySelector('p.prose').dataset.i18n = key + '.p';
    li.querySelector('button').addEventListener('click', () => runStep(i));
    return li;
  }));
  pushq.translatePage();
}

// ------------------------------------------------------------ projector mode
// Large type, prose folded, code wrapping, a big countdown: ?present=1 or the toggle.
function setPresent(on) {
  document.body.classList.toggle('present', on);
  $('present').checked = on;
  const url = new URL(location.href);
  if (on) url.searchParams.set('present', '1'); else url.searchParams.delete('present');
  history.replaceState(null, '', url);
  drawArrows();
}

// ------------------------------------------------------------ start
for (let n = 1; n <= 10; n++) $('maxsize').append(new Option(String(n), String(n), n === 3, n === 3));
$('new-queue').addEventListener('click', () => newQueue().catch(() => {}));
$('now-next').addEventListener('click', () => { if (nextStep !== null) runStep(nextStep); });
$('present').addEventListener('change', (event) => setPresent(event.currentTarget.checked));
for (const button of document.querySelectorAll('#controls [data-call]'))
  button.addEventListener('click', () => { const c = fromControls(button.dataset.call); if (c) call(c); });
document.addEventListener('pushq:lang', () => {
  redraw();
  drawNowStep();
  if (shownError) showError(shownError.code, shownError.serverText);
});
addEventListener('pagehide', () => { if (queueId) navigator.sendBeacon('/lab/delete?q=' + queueId); });
addEventListener('resize', drawArrows);
pushq.showCode('lab', { titles: ['qlab.why.py', 'qlab.why.c'], hint: false });
buildGuide();
nextStep = 0;
drawNowStep();
setPresent(new URLSearchParams(location.search).get('present') === '1');
newQueue().catch(() => {});
refresh();
