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
    fill.style.width = Math.min(100, (100 * c.queue) / c.maxsize) + '%';
    if (c.queue >= c.maxsize) fill.className = 'full';
    bar.append(fill);
    const label = document.createElement('small');
    label.className = 'mono';
    label.textContent = c.queue + ' / ' + c.maxsize;
    // The most it held in about the last second, drawn faintly behind.
    const peak = document.createElement('i');
    peak.className = 'peak';
    peak.style.width = Math.min(100, (100 * c.peak) / c.maxsize) + '%';
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
