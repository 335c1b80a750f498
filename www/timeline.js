// timeline.js — the request timelines: one bar per HTTP request (or open
// connection), from sent to answered, coloured by how it ended.
'use strict';

// One bar per HTTP request, from sent to answered, on a window of the last
// `span` seconds. start() returns the request's handle; end(kind) colours
// it: 'message', 'timeout', 'empty' or 'error'. A held request grows live,
// with a countdown to the server's timeout.
class Timeline {
  constructor(host, { span = 30, rows = 8, timeout = null } = {}) {
    this.host = host;
    this.span = span;
    this.maxRows = rows;
    this.timeout = timeout;         // seconds the server may hold one
    this.requests = [];
    host.classList.add('timeline');
    host.innerHTML = '<div class="tl-legend"></div><div class="tl-rows"></div><div class="tl-axis"></div>';
    this.legend();
    document.addEventListener('pushq:lang', () => { this.legend(); this.draw(); });
    setInterval(() => this.draw(), 200);
  }
  legend() {
    const kinds = ['held', 'message', 'timeout', 'empty', 'error'];
    this.host.querySelector('.tl-legend').replaceChildren(...kinds.map((k) => {
      const item = document.createElement('span');
      item.className = 'tl-key ' + k;
      item.textContent = pushq.t('tl.' + k);
      return item;
    }));
    const axis = this.host.querySelector('.tl-axis');
    axis.replaceChildren(...[this.span, this.span / 2, 0].map((s) => {
      const tick = document.createElement('span');
      tick.textContent = s === 0 ? pushq.t('tl.now') : pushq.t('tl.axis', { s });
      return tick;
    }));
  }
  // timeout: how long the server may hold this one (default: the timeline's;
  // null for a connection that stays open, like a WebSocket).
  start(label, timeout = this.timeout) {
    const r = { label, timeout, began: performance.now(), ended: null, kind: 'held' };
    this.requests.push(r);
    if (this.requests.length > this.maxRows) this.requests.shift();
    this.draw();
    return { end: (kind) => { r.ended = performance.now(); r.kind = kind; this.draw(); }, request: r };
  }
  draw() {
    const now = performance.now(), span = this.span * 1000;
    const rows = this.host.querySelector('.tl-rows');
    rows.replaceChildren(...this.requests.map((r) => {
      const row = document.createElement('div');
      row.className = 'tl-row';
      row.dataset.state = r.kind;
      const lane = document.createElement('div');
      lane.className = 'tl-lane';
      const bar = document.createElement('div');
      bar.className = 'tl-bar ' + r.kind;
      const from = Math.max(0, (r.began - (now - span)) / span);
      const to = Math.max(from, ((r.ended ?? now) - (now - span)) / span);
      // At least a sliver, and never past the lane's right end (now).
      const width = Math.max(0.6, (to - from) * 100);
      bar.style.left = Math.min(from * 100, 100 - width).toFixed(2) + '%';
      bar.style.width = width.toFixed(2) + '%';
      lane.append(bar);
      const label = document.createElement('span');
      label.className = 'tl-label mono';
      const s = (((r.ended ?? now) - r.began) / 1000).toFixed(1);
      let text = r.label + ' · ';
      if (r.ended !== null) text += pushq.t('tl.row.done', { s });
      else if (r.timeout) text += pushq.t('tl.row.held', { s, left: Math.max(0, r.timeout - s).toFixed(1) });
      else text += pushq.t('tl.row.open', { s });
      label.textContent = text;
      row.append(lane, label);
      return row;
    }));
  }
}

window.pushq = Object.assign(window.pushq || {}, { Timeline });
