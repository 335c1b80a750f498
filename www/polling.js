// polling.js — the short-polling chat (polling.html): asks GET
// /get_msg?timeout=0 every interval and counts the empty answers.
'use strict';
const name = pushq.pageName('poll');
pushq.nameField(name);
pushq.showCode('short');
const list = document.getElementById('content');
const timeline = new pushq.Timeline(document.getElementById('timeline'), { span: 30, rows: 10 });
const counts = { request: 0, empty: 0, failed: 0, message: 0 };
let running = true, timer = null;

function count(what) {
  document.getElementById(what + '-count').textContent = ++counts[what];
}

function drawToggle() {
  document.getElementById('toggle').textContent = pushq.t(running ? 'short.stop' : 'short.start');
}
document.addEventListener('pushq:lang', drawToggle);

document.getElementById('send-form').addEventListener('submit', (event) => {
  event.preventDefault();
  pushq.sendFromForm(document.getElementById('d2'), name);
});

// One short poll: timeout=0, so the server answers at once, message or not.
// We keep asking until the queue is empty, then wait one interval. A try
// that fails (server unreachable) is counted apart, and said.
async function pollOnce() {
  const note = document.getElementById('poll-note');
  try {
    for (;;) {
      const bar = timeline.start('GET /get_msg?timeout=0');
      pushq.runLine('ask');
      let data;
      try {
        const res = await fetch(pushq.withToken('/get_msg?timeout=0&name=' + encodeURIComponent(name)));
        if (pushq.tokenRefusal(res.status)) {   // the token: none, bad, expired, another name's
          bar.end('error');
          throw Object.assign(new Error('refused'), { status: res.status, error: (await res.json().catch(() => ({}))).error });
        }
        if (res.status === 404) { bar.end('error'); await pushq.register(name); break; }
        data = await res.json();
      } catch (error) {
        bar.end('error');
        throw error;
      }
      count('request');
      pushq.setNote(note, null);
      if (!data.status) {
        bar.end('empty');
        pushq.runLine('empty');
        count('empty');
        break;                          // empty: stop asking for now
      }
      bar.end('message');
      pushq.runLine('message');
      list.querySelector('.hint')?.remove();
      pushq.showMessage(list, data);    // a message: there may be more
      count('message');
    }
  } catch (error) {
    count('failed');
    if (pushq.tokenRefusal(error.status)) {     // asking again would be refused again: stop
      pushq.showTokenRefused(name, error);
      running = false;
      drawToggle();
      return;
    }
    pushq.setNote(note, 'short.down');
  }
  schedule();                           // then wait one interval
}

function schedule() {
  clearTimeout(timer);
  if (!running) return;
  pushq.runLine('wait');
  const seconds = Math.max(0.2, Number(document.getElementById('interval').value) || 2);
  timer = setTimeout(pollOnce, seconds * 1000);
}

// A new interval applies at once (not after the old one ran out).
document.getElementById('interval').addEventListener('change', () => { if (running) schedule(); });

document.getElementById('toggle').addEventListener('click', () => {
  running = !running;
  drawToggle();
  if (running) pollOnce(); else clearTimeout(timer);
});

pushq.checkNameInUse(name);
pushq.register(name).catch(() => {}).finally(pollOnce);
drawToggle();
