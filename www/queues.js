// queues.js — the queues page (queues.html): every client's queue on the
// server, from GET /stats twice a second.
'use strict';
let last = null;
pushq.showCode('queues');

function cell(row, text, cls) {
  const td = row.insertCell();
  if (cls) td.className = cls;
  if (text !== undefined) td.textContent = text;
  return td;
}

// One row per client: its queue as a bar against --queue-size.
function draw() {
  if (!last) return;
  document.getElementById('summary').textContent = pushq.t('q.summary', {
    clients: last.client_count, open: last.connections.open, threads: last.threads,
    sent: last.messages.sent, delivered: last.messages.delivered, dropped: last.messages.dropped,
  });
  const body = document.getElementById('clients');
  body.replaceChildren();
  if (last.clients.length === 0) {
    const row = body.insertRow();
    const td = cell(row, pushq.t('q.none'));
    td.colSpan = 5;
    return;
  }
  const clients = [...last.clients].sort((a, b) => a.name.localeCompare(b.name));
  // Bars on one scale, that of the longest queue (at least 10): 12 messages
  // in a queue of 1000 are a bar you can see; the label says the real bound.
  const scale = Math.max(10, ...clients.map((c) => Math.max(c.queue, c.peak)));
  for (const c of clients) {
    const row = body.insertRow();
    row.dataset.name = c.name;
    cell(row, c.name);
    const kind = c.kind === 'poll' ? (c.short ? 'short' : 'long') : c.kind;
    row.dataset.kind = kind;
    cell(row, pushq.t('q.kind.' + kind));
    const depth = cell(row);
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.title = c.queue + ' / ' + c.maxsize;
    const fill = document.createElement('span');
    const full = Math.min(c.maxsize, scale);
    fill.style.width = Math.min(100, (100 * c.queue) / full) + '%';
    if (c.queue >= c.maxsize) fill.className = 'full';
    bar.append(fill);
    const label = document.createElement('small');
    label.className = 'mono';
    label.textContent = c.queue + ' / ' + c.maxsize;
    // The most it held in about the last second, drawn faintly behind.
    const peak = document.createElement('i');
    peak.className = 'peak';
    peak.style.width = Math.min(100, (100 * c.peak) / full) + '%';
    bar.prepend(peak);
    const peakLabel = document.createElement('small');
    peakLabel.className = 'mono peak-label';
    peakLabel.textContent = ' · ' + pushq.t('q.peak', { n: c.peak });
    depth.append(bar, label, peakLabel);
    const waiting = cell(row);
    const dot = document.createElement('span');
    dot.className = 'dot' + (c.waiting ? ' on' : '');
    waiting.append(dot, pushq.t(c.waiting ? 'q.yes' : 'q.no'));
    if (!c.waiting && !c.sessions) {
      const idle = document.createElement('small');
      idle.className = 'muted';
      idle.textContent = ' · ' + pushq.t('q.idle', { s: Math.round(c.idle) });
      waiting.append(idle);
    }
    cell(row, c.dropped, 'num');
  }
}
document.addEventListener('pushq:lang', draw);

async function refresh() {
  pushq.runLine('refresh');
  try {
    last = await (await fetch('/stats')).json();
    draw();
  } catch (error) { /* server away: keep the last picture */ }
  setTimeout(refresh, 500);
}
refresh();

// ------------------------------------------------------------ the teacher's view
// Every lab queue on the server (GET /lab/list) and the calls waiting in it;
// the purge removes them all (two clicks: the first says how many). With
// --api-key the server wants the key: open this page with ?token=KEY.
const key = new URLSearchParams(location.search).get('token');
const withKey = (path) => (key ? path + '?token=' + encodeURIComponent(key) : path);
let lab = null, purgeArmed = false;

function drawLab() {
  const body = document.getElementById('lab-queues');
  const error = document.getElementById('lab-view-error');
  error.hidden = !lab?.error;
  if (lab?.error) error.textContent = pushq.t('q.lab.err.' + lab.error, {});
  body.replaceChildren();
  const queues = lab?.queues ?? [];
  document.getElementById('lab-summary').textContent = lab?.queues
    ? pushq.t('q.lab.summary', { n: queues.length, w: lab.waiting, m: lab.max_waiting }) : '';
  const purge = document.getElementById('lab-purge');
  purge.textContent = pushq.t(purgeArmed ? 'q.lab.purge.sure' : 'q.lab.purge', { n: queues.length });
  purge.disabled = queues.length === 0;
  if (queues.length === 0) {
    cell(body.insertRow(), pushq.t('q.lab.none')).colSpan = 4;
    return;
  }
  for (const { idle, state } of [...queues].sort((a, b) => a.idle - b.idle)) {
    const row = body.insertRow();
    row.dataset.id = state.id;
    cell(row, state.id, 'mono');
    cell(row, state.qsize + ' / ' + state.maxsize + (state.shutdown ? pushq.t('qlab.sd') : ''), 'num');
    const waiting = cell(row);
    waiting.dataset.getters = state.getters;
    waiting.textContent = pushq.t('q.lab.waits', { g: state.getters, p: state.putters, j: state.joiners });
    if (state.getters + state.putters + state.joiners > 0) waiting.prepend(Object.assign(document.createElement('span'), { className: 'dot on' }));
    cell(row, pushq.t('q.idle', { s: Math.round(idle) }), 'num');
  }
}
document.addEventListener('pushq:lang', drawLab);

async function refreshLab() {
  try {
    const res = await fetch(withKey('/lab/list'));
    const answer = await res.json();
    lab = res.ok ? answer : { error: answer.code ?? 'off' };
  } catch (error) { /* server away: keep the last picture */ }
  drawLab();
  setTimeout(refreshLab, 1000);
}

document.getElementById('lab-purge').addEventListener('click', async () => {
  if (!purgeArmed) { purgeArmed = true; drawLab(); return; }
  purgeArmed = false;
  const res = await fetch(withKey('/lab/purge'), { method: 'POST' });
  if (res.ok) lab = { ...lab, queues: [] };
  drawLab();
});
refreshLab();
