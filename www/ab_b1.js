// ab_b1.js — the long-polling chat (ab_b1.html): one GET /get_msg after
// another, each held by the server until a message or --poll-timeout.
'use strict';
const name = pushq.pageName('guest');
pushq.nameField(name);
pushq.showCode('long');
const picker = pushq.channelPicker(name);
const list = document.getElementById('content');
const statusLine = document.getElementById('status');
const counts = { requests: 0, messages: 0, dropped: 0, missed: 0 };
let pollTimeout = 10;            // the server's --poll-timeout, from /stats
let statusKey = 'long.waiting', statusVars = {}, statusClass = '';
let lastKey = null, lastVars = {};
let timeline = null, held = null;

function setStatus(key, vars = {}, cls = '') {
  statusKey = key; statusVars = vars; statusClass = cls;
  statusLine.textContent = pushq.t(key, vars);
  statusLine.className = 'status ' + cls;
}
// The last request's outcome stays beside the live status until the next one.
function setLast(key, vars = {}) {
  lastKey = key; lastVars = vars;
  document.getElementById('last').textContent = key ? '← ' + pushq.t(key, vars) : '';
}
function drawLead() { document.getElementById('lead').textContent = pushq.t('long.lead', { s: pollTimeout }); }
document.addEventListener('pushq:lang', () => { setStatus(statusKey, statusVars, statusClass); setLast(lastKey, lastVars); drawLead(); });

function count(what, by = 1) {
  counts[what] += by;
  document.getElementById(
    { requests: 'request-count', messages: 'message-count', dropped: 'dropped-count',
      missed: 'missed-count' }[what]
  ).textContent = counts[what];
}

document.getElementById('send-form').addEventListener('submit', (event) => {
  event.preventDefault();
  pushq.sendFromForm(document.getElementById('d2'), name, picker.target());
});

// While a request is held, the status counts down to the server's timeout,
// so "held" stays readable for as long as it lasts.
setInterval(() => {
  if (!held) return;
  const left = Math.max(0, pollTimeout - (performance.now() - held) / 1000);
  setStatus('long.held', { left: left.toFixed(1) }, 'warn');
}, 200);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The long-polling loop. Each request waits on the server (the thread blocks
// on our queue) until a message comes or the timeout passes; either way we ask
// again at once. When the server is down we wait longer each time. After an
// error, or when the server has forgotten us (it restarted), we *resume*:
// ?since=<the last id we saw> asks for every message after it, from our queue
// or the server's history, and "missed" says how many are gone for good.
// The first request says channels=: this page's list becomes the client's
// (later joins and leaves are POST /subscribe and /unsubscribe).
async function pollForever() {
  let backoff = 500, lastId = 0, resume = false, first = true;
  for (;;) {
    const bar = timeline.start('GET /get_msg');
    try {
      if (resume && lastId) setStatus('long.resume', { id: lastId });
      count('requests');
      held = performance.now();
      pushq.runLine('held');
      const since = resume && lastId ? '&since=' + lastId : '';
      const channels = first ? pushq.channelsParam(picker.list) : '';
      const res = await fetch(pushq.withToken('/get_msg?name=' + encodeURIComponent(name) + since + channels));
      first = false;
      const waited = ((performance.now() - held) / 1000).toFixed(1);
      held = null;
      if (pushq.tokenRefusal(res.status)) {    // no token, a bad or expired one, another name's
        bar.end('error');
        refused({ status: res.status, error: (await res.json().catch(() => ({}))).error });
        return;                                // asking again would be refused again
      }
      if (res.status === 404) {
        bar.end('error');
        setStatus('long.rejoin', {}, 'warn');
        await pushq.register(name, picker.list);
        resume = true;
        continue;
      }
      const data = await res.json();
      backoff = 500;
      resume = false;
      if (data.status) {
        bar.end('message');
        pushq.runLine('message');
        list.querySelector('.hint')?.remove();
        pushq.showMessage(list, data);
        lastId = data.id;
        count('messages');
        if (data.dropped) count('dropped', data.dropped);
        if (data.missed) count('missed', data.missed);
        setLast('long.woken', { s: waited });
      } else {
        bar.end('timeout');
        pushq.runLine('timeout');
        setLast('long.timeout', { s: waited });
      }
    } catch (error) {
      held = null;
      bar.end('error');
      if (pushq.tokenRefusal(error.status)) { refused(error); return; }   // registering again was refused
      resume = true;
      setStatus('long.down', { s: (backoff / 1000).toFixed(1) }, 'bad');
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 8000);
    }
    // Round the loop: ask again at once.
  }
}

// The server refused this page's token: say so, and stop asking.
function refused(refusal) {
  pushq.showTokenRefused(name, refusal);
  setStatus('token.state', {}, 'bad');
  setLast(null);
}

// Learn the server's real --poll-timeout, check the name, then start.
// (With --token-key, /stats is for the API key only: then 10 s it is.)
async function start() {
  try {
    const res = await fetch('/stats');
    const stats = res.ok ? await res.json() : {};
    if (typeof stats.poll_timeout === 'number') pollTimeout = stats.poll_timeout;
  } catch (error) { /* keep 10 s; the loop copes with a server that is away */ }
  drawLead();
  timeline = new pushq.Timeline(document.getElementById('timeline'), { span: Math.max(20, pollTimeout * 2), timeout: pollTimeout });
  await pushq.checkNameInUse(name);
  setInterval(() => pushq.checkNameInUse(name, held ? 1 : 0), 4000);
  pollForever();
}
drawLead();
start();
