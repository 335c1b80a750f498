// sse.js — the Server-Sent Events chat (sse.html): one EventSource on
// /events, the raw stream as it arrives, and each reconnect with what it replayed.
// The stream's URL has no channels=: the browser reconnects with that same
// URL by itself, and a list in it would undo every join and leave since.
// The client's channels live on the server (POST /subscribe, /unsubscribe);
// each time the stream opens, the picker makes them this page's list.
'use strict';
const name = pushq.pageName('sse');
pushq.nameField(name);
pushq.showCode('sse');
const picker = pushq.channelPicker(name);
pushq.checkNameInUse(name);
const list = document.getElementById('content');
const raw = document.getElementById('raw');
let messages = 0, dropped = 0, missed = 0;
let stateKey = 'sse.state.connecting', stateClass = 'warn';
// A reconnect in progress: the id the browser will send as Last-Event-ID,
// and the newest id the server had given out when we came back (every
// message up to it that arrives now is a replay from the history).
let lastSeen = '', replayUpTo = Infinity, replayed = 0, replayItem = null, opens = 0;
const sinceOpen = [];                            // [id, list item] received since the last open

function setState(key, cls) {
  stateKey = key; stateClass = cls;
  const el = document.getElementById('state');
  el.textContent = pushq.t(key);
  el.className = 'status ' + cls;
}
document.addEventListener('pushq:lang', () => setState(stateKey, stateClass));

// The event as it came over the wire: our server writes one id line, one
// data line (the /get_msg JSON has no raw line breaks) and a blank line.
function showRaw(event) {
  raw.textContent += 'id: ' + event.lastEventId + '\ndata: ' + event.data + '\n\n';
  const lines = raw.textContent.split('\n');
  if (lines.length > 60) raw.textContent = lines.slice(-60).join('\n');
  raw.scrollTop = raw.scrollHeight;
}

// The page's ?token= goes in the URL: an EventSource sets no headers.
// EventSource does the whole protocol: it sends GET /events, parses the
// stream, and on a cut waits `retry` ms and reconnects with Last-Event-ID.
// The "drop the connection" button closes it for DROP_MS and opens a new
// one with ?since=<the last id seen>: what the browser does by itself after
// a cut, with Last-Event-ID, shown on demand.
const DROP_MS = 5000;
const streamPath = '/events?name=' + encodeURIComponent(name);
let source = null;
function openStream(since = '') {
  source = new EventSource(pushq.withToken(streamPath + (since ? '&since=' + since : '')));
  source.addEventListener('open', onOpen);
  source.addEventListener('message', onMessage);
  source.addEventListener('error', onError);
}

pushq.runLine('open');
async function onOpen() {
  setState('sse.state.open', 'ok');
  pushq.runLine(opens === 0 ? 'event' : 'resume');
  picker.sync();                                 // a new client starts in room only
  if (++opens === 1) return;                     // the first connection
  document.querySelector('#reconnects .hint')?.remove();
  replayItem = document.createElement('li');
  replayItem.dataset.since = pendingDrop ?? (lastSeen || '—');    // what the page or the browser sent
  if (pendingDrop !== null) replayItem.dataset.dropped = '1';
  pendingDrop = null;
  document.getElementById('reconnects').append(replayItem);
  sinceOpen.length = 0;
  replayUpTo = Infinity;                         // until we know, all count
  replayed = 0;
  drawReplay();
  // The newest id when we came back: every message up to it was replayed.
  // (With --token-key /stats is the API key's: then every one counts.)
  const stats = await fetch('/stats').then((res) => (res.ok ? res.json() : null)).catch(() => null);
  if (!stats?.messages) return;
  replayUpTo = stats.messages.last_id;
  replayed = 0;
  for (const [id, item] of sinceOpen) {
    if (id <= replayUpTo) replayed++;
    else item.querySelector('.id').textContent = '#' + id;
  }
  drawReplay();
}

function drawReplay() {
  if (!replayItem) return;
  replayItem.dataset.replayed = replayed;
  replayItem.textContent = pushq.t(replayItem.dataset.dropped ? 'drop.item' : 'sse.reconnect.item', { id: replayItem.dataset.since, n: replayed }) +
    (replayItem.dataset.missed ? pushq.t('sse.reconnect.missed', { k: replayItem.dataset.missed }) : '');
}
document.addEventListener('pushq:lang', drawReplay);

function onMessage(event) {
  const data = JSON.parse(event.data);          // the same JSON as /get_msg
  showRaw(event);
  pushq.runLine('event');
  lastSeen = event.lastEventId;                  // what a reconnect will send
  list.querySelector('.hint')?.remove();
  const isReplay = opens > 1 && data.id <= replayUpTo;
  if (isReplay) replayed++;
  if (data.missed && replayItem) replayItem.dataset.missed = data.missed;
  drawReplay();
  const item = pushq.showMessage(list, data, isReplay ? pushq.t('sse.replayed') : '');
  if (opens > 1) sinceOpen.push([data.id, item]);
  document.getElementById('message-count').textContent = ++messages;
  if (data.dropped) document.getElementById('dropped-count').textContent = (dropped += data.dropped);
  if (data.missed) document.getElementById('missed-count').textContent = (missed += data.missed);
}

async function onError() {
  // readyState CONNECTING: the browser is already on its way back.
  setState('sse.state.lost', 'bad');
  // CLOSED: the server answered with an error, and the browser gave up. A
  // 401 or 403 is the token's (none, bad, expired — the stream ends when it
  // expires, and the reconnect is refused — or another name's); ask which.
  if (source.readyState !== EventSource.CLOSED) return;
  const refusal = await pushq.checkToken(name);
  if (refusal) {
    pushq.showTokenRefused(name, refusal);
    setState('token.state', 'bad');
  }
}

let dropTimer = null, droppedAt = 0;
function drawDrop() {
  const left = Math.max(0, (DROP_MS - (performance.now() - droppedAt)) / 1000);
  document.getElementById('drop-state').textContent = dropTimer ? pushq.t('drop.state', { s: left.toFixed(1) }) : '';
  document.getElementById('drop').disabled = dropTimer !== null;
}
document.getElementById('drop').addEventListener('click', () => {
  source.close();                                // the cut: the server sees the stream end
  setState('drop.state.closed', 'bad');
  droppedAt = performance.now();
  const since = lastSeen;
  const tick = setInterval(drawDrop, 100);
  dropTimer = setTimeout(() => {
    clearInterval(tick);
    dropTimer = null;
    drawDrop();
    pendingDrop = since || '—';
    openStream(since);                           // back, with since=<the last id seen>
  }, DROP_MS);
  drawDrop();
});
let pendingDrop = null;                          // the since of a dropped stream, until it reopens
document.addEventListener('pushq:lang', drawDrop);
openStream();

document.getElementById('send-form').addEventListener('submit', (event) => {
  event.preventDefault();
  pushq.sendFromForm(document.getElementById('d2'), name, picker.target());
});
