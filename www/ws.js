// ws.js — the WebSocket chat (ws.html): one connection to /ws that sends
// and receives the messages, and reconnects when it drops. It connects with
// channels= (the picker's list); a message goes up as one JSON text frame,
// {"msg":..,"channel":..} or {"msg":..,"to":..}.
'use strict';
const name = pushq.pageName('ws');
pushq.nameField(name);
pushq.showCode('ws');
const picker = pushq.channelPicker(name);
const list = document.getElementById('content');
let socket = null, messages = 0, dropped = 0, missed = 0, lastId = 0;
let stateKey = 'ws.state.connecting', stateVars = {}, stateClass = 'warn';

function setState(key, vars = {}, cls = '') {
  stateKey = key; stateVars = vars; stateClass = cls;
  const el = document.getElementById('state');
  el.textContent = pushq.t(key, vars);
  el.className = 'status ' + cls;
}
document.addEventListener('pushq:lang', () => setState(stateKey, stateVars, stateClass));

// One connection; if it drops, reconnect after 0.5 s, 1 s, 2 s ... 8 s, and
// resume: ?since=<the last id we saw> brings every message sent meanwhile.
// channels= is the picker's list now, so a reconnect keeps what was joined.
// The page's ?token= goes in the query too: a browser cannot set a header
// on a WebSocket.
function wsPath() {
  return '/ws?name=' + encodeURIComponent(name) + pushq.channelsParam(picker.list);
}
function connect(backoff = 500) {
  setState('ws.state.connecting', {}, 'warn');
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  const since = lastId ? '&since=' + lastId : '';
  socket = new WebSocket(scheme + location.host + pushq.withToken(wsPath() + since));
  pushq.runLine('open');
  let opened = false;
  socket.addEventListener('open', () => {
    opened = true;
    backoff = 500;
    setState('ws.state.open', {}, 'ok');
    pushq.checkNameInUse(name, 1);      // our own socket is one session
    if (resumed !== null) showResume(resumed);
    resumed = null;
  });
  socket.addEventListener('message', (event) => {
    const data = JSON.parse(event.data);    // the same JSON as /get_msg
    if (data.status === false) {            // our frame was refused: {"status":false,"error":..}
      pushq.setNote(document.getElementById('send-note'), 'send.refused.ws', { text: data.error });
      return;
    }
    pushq.runLine('frame');
    list.querySelector('.hint')?.remove();
    const item = pushq.showMessage(list, data);
    lastId = data.id;
    if (replay) countReplay(data.id, item);
    document.getElementById('message-count').textContent = ++messages;
    if (data.dropped) document.getElementById('dropped-count').textContent = (dropped += data.dropped);
    if (data.missed) document.getElementById('missed-count').textContent = (missed += data.missed);
  });
  socket.addEventListener('close', async (event) => {
    // 1008: the server closed us because the token expired. The same token
    // would be refused now: the page needs a new one (and then resumes).
    if (event.code === 1008) {
      pushq.showTokenRefused(name, { expired: true });
      setState('token.state.expired', {}, 'bad');
      return;
    }
    // A handshake the server refused (401, 403) looks like any failed
    // connection to the page: ask the server whether it was the token.
    if (!opened) {
      const refusal = await pushq.checkToken(name, pushq.pageToken(), picker.list);
      if (refusal) {
        pushq.showTokenRefused(name, refusal);
        setState('token.state', {}, 'bad');
        return;
      }
    }
    if (dropTimer !== null) return;          // dropped by the button: it reconnects
    setState('ws.state.closed', { s: (backoff / 1000).toFixed(1) }, 'bad');
    setTimeout(() => connect(Math.min(backoff * 2, 8000)), backoff);
  });
}

document.getElementById('send-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const box = document.getElementById('d2');
  const note = document.getElementById('send-note');
  if (box.value === '') return;
  if (socket.readyState !== WebSocket.OPEN) {      // keep the text, say why
    pushq.setNote(note, 'send.ws.down');
    return;
  }
  const target = picker.target();          // { channel } or { to }
  socket.send(JSON.stringify({ msg: box.value, ...target }));   // one text frame
  pushq.runLine('send');
  pushq.setNote(note, null);
  pushq.showSent(null, target);
  box.value = '';
});

// The "drop the connection" button: closes the socket, stays away DROP_MS,
// then connects again with ?since=<the last id seen>, and lists what the
// server replayed (every message up to its newest id when we came back).
const DROP_MS = 5000;
let dropTimer = null, droppedAt = 0, resumed = null, replay = null;
function drawDrop() {
  const left = Math.max(0, (DROP_MS - (performance.now() - droppedAt)) / 1000);
  document.getElementById('drop-state').textContent = dropTimer !== null ? pushq.t('drop.state', { s: left.toFixed(1) }) : '';
  document.getElementById('drop').disabled = dropTimer !== null;
}
document.getElementById('drop').addEventListener('click', () => {
  droppedAt = performance.now();
  const tick = setInterval(drawDrop, 100);
  dropTimer = setTimeout(() => {
    clearInterval(tick);
    dropTimer = null;
    drawDrop();
    resumed = lastId;
    connect();                            // with since=lastId
  }, DROP_MS);
  socket.close(4000, 'dropped by the page');
  setState('drop.state.closed', {}, 'bad');
  drawDrop();
});
document.addEventListener('pushq:lang', drawDrop);

async function showResume(since) {
  document.querySelector('#reconnects .hint')?.remove();
  const li = document.createElement('li');
  li.dataset.since = since || '—';
  document.getElementById('reconnects').append(li);
  replay = { li, upTo: Infinity, n: 0, seen: [] };
  drawReplay();
  // The newest id when we came back: every message up to it was replayed.
  const stats = await fetch('/stats').then((res) => (res.ok ? res.json() : null)).catch(() => null);
  if (!replay || replay.li !== li) return;
  replay.upTo = stats?.messages ? stats.messages.last_id : Infinity;
  replay.n = replay.seen.filter((id) => id <= replay.upTo).length;
  drawReplay();
  if (stats?.messages) setTimeout(() => { if (replay?.li === li) replay = null; }, 3000);
}
function countReplay(id) {
  replay.seen.push(id);
  if (id <= replay.upTo) replay.n++;
  drawReplay();
}
function drawReplay() {
  for (const li of document.querySelectorAll('#reconnects li[data-since]')) {
    if (replay?.li === li) li.dataset.replayed = replay.n;
    li.textContent = pushq.t('drop.item', { id: li.dataset.since, n: li.dataset.replayed ?? 0 });
  }
}
document.addEventListener('pushq:lang', drawReplay);

connect();
