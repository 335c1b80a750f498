// client.js — the client library's page (client.html): one connection made
// by www/pushq.js, and what it does, live — which transport it runs on and
// why, its state, the gaps the server reported, every reconnect — with a
// send box and a subscribe box. The page is an application of the module:
// everything it shows comes from the module's events.
import { connect, TRANSPORTS } from '/pushq.js';

const name = pushq.pageName('client');
pushq.nameField(name);
const params = new URLSearchParams(location.search);
const token = pushq.pageToken();
const channels = params.get('channels') ? params.get('channels').split(',') : undefined;
// ?transports=sse,longpoll: the list the module may use (the checkboxes).
let allowed = (params.get('transports') || TRANSPORTS.join(',')).split(',').filter((t) => TRANSPORTS.includes(t));
if (!allowed.length) allowed = [...TRANSPORTS];

const $ = (id) => document.getElementById(id);
const list = $('content');
const counts = { messages: 0, dropped: 0, missed: 0 };
// What the page drew from texts: element -> how to draw it, again in the
// other language when the toggle switches.
const drawn = new Map();
function put(el, key, vars = {}) { draw(el, () => pushq.t(key, vars)); }
function draw(el, text) { drawn.set(el, text); el.textContent = text(); }
document.addEventListener('pushq:lang', () => {
  for (const [el, text] of drawn) if (el.isConnected) el.textContent = text(); else drawn.delete(el);
});

// Each thing the client did, as one line of the log (the newest last, at most 60).
function log(key, vars = {}) {
  const item = document.createElement('li');
  item.dataset.key = key;
  const time = new Date().toLocaleTimeString();
  const what = () => typeof vars === 'function' ? vars() : vars;
  draw(item, () => time + ' ' + pushq.t(key, what()));
  const box = $('log');
  box.append(item);
  while (box.children.length > 60) box.firstElementChild.remove();
}
// Why the module moved: its code in this page's language (its reason, in
// English, is the element's title).
const why = (t) => pushq.t('client.why.' + t.code, { status: t.status ?? '—' });

let client = null;
function start() {
  const since = client ? client.lastId : 0;     // a new list of transports: resume, lose nothing
  client = connect({ name, channels: client?.channels ?? channels, token, transports: allowed, since });
  client.on('transport', (t) => {
    const el = $('transport');
    el.dataset.name = t.name;
    el.dataset.code = t.code;
    put(el, 'client.t.' + t.name);
    el.className = 'status ' + (t.name === allowed[0] ? 'ok' : 'warn');
    $('reason').title = t.reason;
    draw($('reason'), () => pushq.t('client.because', { why: why(t) }));
    log('client.log.transport', () => ({ name: pushq.t('client.t.' + t.name), why: why(t) }));
  });
  client.on('state', (s) => {
    const el = $('state');
    el.dataset.state = s;
    put(el, 'client.s.' + s);
    el.className = 'status ' + ({ open: 'ok', connecting: 'warn', reconnecting: 'warn' }[s] || 'bad');
    put($('toggle'), s === 'closed' ? 'client.open' : 'client.close');
    log('client.log.state', () => ({ state: pushq.t('client.s.' + s) }));
  });
  client.on('message', (m) => {
    list.querySelector('.hint')?.remove();
    pushq.showMessage(list, m);
    while (list.children.length > 200) list.firstElementChild.remove();
    $('message-count').textContent = ++counts.messages;
    $('last-id').textContent = '#' + m.id;
  });
  client.on('gap', (g) => {
    $('gaps').querySelector('.hint')?.remove();
    const item = document.createElement('li');
    put(item, 'client.gap', g);
    $('gaps').append(item);
    $('dropped-count').textContent = counts.dropped += g.dropped;
    $('missed-count').textContent = counts.missed += g.missed;
  });
  client.on('restart', (r) => log('client.log.restart', r));
  client.on('error', (e) => {
    log('client.log.error', e);
    if (e.status === 401 || e.status === 403) pushq.showTokenRefused(name, e);
  });
  drawChannels();
}

function drawChannels() {
  const shown = client?.channels ?? channels;
  draw($('channels'), () => pushq.t('client.channels', { list: shown ? shown.join(', ') : pushq.t('client.channels.default') }));
}

// The transports allowed: a change starts a new client from the last id.
for (const box of document.querySelectorAll('#allowed input')) {
  box.checked = allowed.includes(box.value);
  box.addEventListener('change', () => {
    const picked = [...document.querySelectorAll('#allowed input:checked')].map((b) => b.value);
    if (!picked.length) { box.checked = true; return; }
    allowed = TRANSPORTS.filter((t) => picked.includes(t));
    params.set('transports', allowed.join(','));
    history.replaceState(null, '', location.pathname + '?' + params);
    client.close();
    start();
  });
}
$('upgrade').addEventListener('click', () => client.upgrade());
$('toggle').addEventListener('click', () => {
  if (client.state === 'closed') start(); else client.close();
});

$('send-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const box = $('d2'), info = $('send-info');
  const target = { [$('target-kind').value]: $('target').value.trim() || 'room' };
  if (!box.value) return;
  info.hidden = false;
  try {
    const answer = await client.send(box.value, target);
    box.value = '';
    put(info, 'client.sent', { id: answer.id, n: answer.receivers ?? '?' });
  } catch (error) {
    put(info, 'client.send.failed', { status: error.status ?? '—', error: error.message });
  }
});
$('sub-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const channel = $('sub-channel').value.trim();
  if (!channel) return;
  try {
    await client.subscribe(channel);
    $('sub-channel').value = '';
    drawChannels();
  } catch (error) {
    log('client.log.error', { status: error.status ?? '—', error: error.message });
  }
});

start();
