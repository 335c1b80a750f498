// channels.js — the channels page (channels.html): why one queue per client
// makes targeted push a one-line change, live. First three WebSocket clients
// of this page's own, in two channels, and buttons that publish to a channel
// or to one name and show whose queue got it; then this tab itself, a client
// in one channel, with who else is online there (GET /presence, every second).
'use strict';
pushq.showCode('channels');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const random4 = () => Math.random().toString(16).slice(2, 6).padEnd(4, '0');
const wsBase = () => (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host;

// POST /send_msg: `fields` are content, name (the sender) and channel or to
// (and this tab's token, when it has one).
async function publish(fields) {
  const body = new URLSearchParams(fields);
  const res = await fetch('/send_msg', { method: 'POST', body });
  const answer = await res.json();          // {"status":true,"id":N,"receivers":K}
  return { res, answer, body };
}

// The request and the server's answer, as text for a <pre>.
// (A token is long and not for the eyes: it shows as token=….)
const exchange = ({ res, answer, body }) =>
  'POST /send_msg  ' + decodeURIComponent(String(body).replace(/\+/g, ' ').replace(/(^|&)token=[^&]*/, '$1token=…')) +
  '\n→ ' + res.status + ' ' + JSON.stringify(answer);

// One WebSocket that reconnects (0.5 s, 1 s ... 8 s) while the page is open.
// onState gets 'connecting', 'open' or 'closed'; onMessage each message.
// With --token-key a name needs a token (`token`, '' for none): a refused
// handshake or a token that expired (close 1008) is onState('refused',
// refusal) or ('expired'), and the socket stays closed.
function keepSocket(name, path, onMessage, onState, token = '') {
  let backoff = 500;
  const open = () => {
    onState('connecting');
    const socket = new WebSocket(wsBase() + pushq.withToken(path, token));
    let opened = false;
    socket.addEventListener('open', () => { opened = true; backoff = 500; onState('open'); });
    socket.addEventListener('message', (event) => {
      const data = JSON.parse(event.data);
      if (data.status !== false) onMessage(data);
    });
    socket.addEventListener('close', async (event) => {
      if (event.code === 1008) return onState('expired');
      const refusal = opened ? null : await pushq.checkToken(name, token, new URLSearchParams(path.split('?')[1]).get('channels')?.split(',') ?? []);
      if (refusal) return onState('refused', refusal);
      onState('closed', backoff);
      setTimeout(open, backoff);
      backoff = Math.min(backoff * 2, 8000);
    });
  };
  open();
}

// A status pill in the words of the WebSocket chat.
function drawState(el, state, backoff) {
  const key = { connecting: 'ws.state.connecting', open: 'ws.state.open', closed: 'ws.state.closed',
    refused: 'token.state', expired: 'token.state.expired' }[state];
  el.textContent = pushq.t(key, { s: ((backoff ?? 0) / 1000).toFixed(1) });
  el.className = 'status ' + (state === 'open' ? 'ok' : state === 'connecting' ? 'warn' : 'bad');
}

// ------------------------------------------------- the page's own clients
// Names and channels end in this page's tag, so two tabs of this page (a
// class of them) do not share them.
const tag = random4();
const MATHS = 'maths-' + tag, ART = 'art-' + tag;
const clients = [
  { name: 'ana-' + tag, channels: [MATHS] },
  { name: 'ben-' + tag, channels: [ART] },
  { name: 'cai-' + tag, channels: [MATHS, ART] },
];
let lastDemo = null;                         // the last publish, to redraw it

function buildClients() {
  const host = document.getElementById('demo-clients');
  for (const c of clients) {
    c.got = new Set();
    c.card = document.createElement('section');
    c.card.className = 'panel';
    c.card.dataset.name = c.name;
    const title = document.createElement('h3');
    title.textContent = c.name;
    const row = document.createElement('div');
    row.className = 'row';
    const label = document.createElement('span');
    label.className = 'muted';
    label.dataset.i18n = 'pick.yours';
    const chips = document.createElement('ul');
    chips.className = 'chips';
    for (const channel of c.channels) {
      const chip = document.createElement('li');
      chip.className = 'chip';
      const text = document.createElement('span');
      text.textContent = '#' + channel;
      chip.append(text);
      chips.append(chip);
    }
    row.append(label, chips);
    const state = document.createElement('p');
    c.state = document.createElement('span');
    state.append(c.state);
    c.verdict = document.createElement('p');
    c.verdict.className = 'verdict';
    c.list = document.createElement('ul');
    c.list.className = 'messages compact';
    c.list.innerHTML = '<li class="hint" data-i18n="ch.client.empty"></li>';
    c.card.append(title, row, state, c.verdict, c.list);
    host.append(c.card);
    // (They have no tokens: with --token-key they are refused, and say so.)
    keepSocket(c.name, '/ws?name=' + encodeURIComponent(c.name) + pushq.channelsParam(c.channels), (data) => {
      c.list.querySelector('.hint')?.remove();
      pushq.showMessage(c.list, data);
      c.got.add(data.id);
    }, (s, backoff) => { c.stateNow = [s, backoff]; drawState(c.state, s, backoff); });
  }
  // The buttons: one per channel, one per name; the sender is chosen apart.
  const from = document.getElementById('demo-from');
  from.replaceChildren(...clients.map((c) => new Option(c.name, c.name)));
  for (const channel of [MATHS, ART]) {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.channel = channel;
    b.textContent = '#' + channel;
    b.addEventListener('click', () => demoPublish({ channel }));
    document.getElementById('demo-channels').append(b);
  }
  for (const c of clients) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'quiet';
    b.dataset.to = c.name;
    b.textContent = c.name;
    b.addEventListener('click', () => demoPublish({ to: c.name }));
    document.getElementById('demo-names').append(b);
  }
  from.value = clients[0].name;
  demoDefault = pushq.t('ch.demo.default');
  document.getElementById('demo-text').value = demoDefault;
}
let demoDefault = '';
// The default text follows the language, unless it was changed.
function translateDemoText() {
  const box = document.getElementById('demo-text');
  if (box.value === demoDefault) box.value = demoDefault = pushq.t('ch.demo.default');
}

// Publishes, then waits (at most 1.5 s) until as many of this page's
// clients as the server counted have the message, and says whose queues
// took it.
async function demoPublish(target) {
  const box = document.getElementById('demo-text');
  const content = box.value.trim() || pushq.t('ch.demo.default');
  pushq.runLine(target.to !== undefined ? 'direct' : 'channel', 'put', 'post');
  const demo = { target, at: performance.now() };
  lastDemo = demo;
  try {
    demo.sent = await publish({ content, name: document.getElementById('demo-from').value, ...target });
  } catch (error) {
    demo.down = true;
    drawDemo();
    return;
  }
  drawDemo();
  const { answer } = demo.sent;
  if (!answer.status) return;
  const took = () => clients.filter((c) => c.got.has(answer.id));
  while (took().length < answer.receivers && performance.now() - demo.at < 1500) await sleep(50);
  demo.took = took().map((c) => c.name);
  if (lastDemo === demo) drawDemo();
}

function drawDemo() {
  const host = document.getElementById('demo-result');
  const demo = lastDemo;
  host.replaceChildren();
  for (const c of clients) { c.card.classList.remove('got', 'missed'); c.verdict.textContent = ''; c.verdict.className = 'verdict'; }
  if (!demo) return;
  if (demo.down) { host.textContent = pushq.t('send.down'); return; }
  const pre = document.createElement('pre');
  pre.className = 'answer';
  pre.id = 'demo-exchange';
  pre.textContent = exchange(demo.sent);
  host.append(pre);
  const { answer } = demo.sent;
  if (!answer.status || !demo.took) return;
  host.dataset.receivers = answer.receivers;
  host.dataset.took = demo.took.join(',');
  const who = document.createElement('p');
  who.id = 'demo-who';
  who.textContent = pushq.t('ch.demo.who', { id: answer.id, n: answer.receivers,
    names: demo.took.join(pushq.t('list.sep')) || '—' }) +
    (answer.receivers > demo.took.length ? ' ' + pushq.t('ch.demo.elsewhere', { k: answer.receivers - demo.took.length }) : '');
  host.append(who);
  for (const c of clients) {
    const got = demo.took.includes(c.name);
    c.card.classList.add(got ? 'got' : 'missed');
    c.verdict.className = 'verdict' + (got ? ' got' : '');
    c.verdict.textContent = pushq.t(got ? 'ch.client.got' : 'ch.client.not', { id: answer.id });
  }
}

function drawDemoLead() {
  document.getElementById('demo-lead').textContent = pushq.t('ch.demo.p', {
    ana: clients[0].name, ben: clients[1].name, cai: clients[2].name, maths: '#' + MATHS, art: '#' + ART });
}

// ------------------------------------------------------------- this tab
// This tab is one client: ?name= (else its ?token='s name, else a new one)
// in one channel, ?channel= (else lobby), both kept in the URL so a reload
// stays the same client. Its ?token= goes with each of its requests.
const params = new URLSearchParams(location.search);
const tabNote = document.getElementById('tab-note');
const tabToken = pushq.pageToken();
const tokenSub = pushq.tokenClaims()?.sub;
const tabName = params.get('name') || (typeof tokenSub === 'string' && tokenSub) || 'tab-' + random4();
const tokenChannels = pushq.tokenClaims()?.channels;   // with a token: its first channel (absent: room)
let tabChannel = params.get('channel') || (tabToken ? (Array.isArray(tokenChannels) && tokenChannels[0]) || 'room' : 'lobby');
if (!pushq.validChannel(tabChannel)) { pushq.setNote(tabNote, 'pick.bad'); tabChannel = 'lobby'; }
if (params.get('name') !== tabName || params.get('channel') !== tabChannel) {
  params.set('name', tabName);
  params.set('channel', tabChannel);
  history.replaceState(null, '', location.pathname + '?' + params);
}
let tabState = ['connecting'], lastSend = null, lastPresence = null;

function startTab() {
  document.getElementById('tab-name').value = tabName;
  document.getElementById('tab-channel').value = tabChannel;
  document.getElementById('tab-target-channel').value = tabChannel;
  document.getElementById('tab-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = document.getElementById('tab-name').value.trim();
    const channel = document.getElementById('tab-channel').value.trim();
    if (!pushq.validChannel(channel)) { pushq.setNote(tabNote, 'pick.bad'); return; }
    if (!name) return;
    params.set('name', name);
    params.set('channel', channel);
    location.search = params.toString();
  });
  const list = document.getElementById('content');
  keepSocket(tabName, '/ws?name=' + encodeURIComponent(tabName) + pushq.channelsParam([tabChannel]), (data) => {
    list.querySelector('.hint')?.remove();
    pushq.showMessage(list, data);
  }, (s, backoff) => {
    if (s === 'refused' || s === 'expired') pushq.showTokenRefused(tabName, s === 'expired' ? { expired: true } : backoff, tabNote);
    tabState = [s, backoff];
    drawState(document.getElementById('state'), s, backoff);
  }, tabToken);
  document.getElementById('tab-send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    tabSend({ channel: document.getElementById('tab-target-channel').value.trim() });
  });
  document.getElementById('tab-dm').addEventListener('click', () =>
    tabSend({ to: document.getElementById('tab-to').value.trim() }));
  pollPresence();
}

async function tabSend(target) {
  const box = document.getElementById('tab-text');
  const text = box.value;
  if (text === '') return;
  if (target.channel !== undefined && !pushq.validChannel(target.channel)) { pushq.setNote(tabNote, 'pick.bad'); return; }
  if (target.to === '') { pushq.setNote(tabNote, 'ch.send.noname'); return; }
  pushq.setNote(tabNote, null);
  pushq.runLine(target.to !== undefined ? 'direct' : 'channel', 'put', 'post');
  try {
    lastSend = { target, sent: await publish(pushq.tokenFields({ content: text, name: tabName, ...target }, tabToken)) };
    if (lastSend.sent.answer.status && box.value === text) box.value = '';
  } catch (error) {
    lastSend = { target, down: true };
  }
  drawSend();
}

function drawSend() {
  const host = document.getElementById('tab-result');
  host.replaceChildren();
  if (!lastSend) return;
  const line = document.createElement('p');
  line.id = 'tab-receivers';
  if (lastSend.down) {
    line.className = 'note bad';
    line.textContent = pushq.t('send.down');
    host.append(line);
    return;
  }
  const pre = document.createElement('pre');
  pre.className = 'answer';
  pre.textContent = exchange(lastSend.sent);
  const { res, answer } = lastSend.sent;
  const { target } = lastSend;
  if (answer.status) {
    host.dataset.receivers = answer.receivers;
    line.textContent = pushq.t(target.to !== undefined ? 'ch.send.rcv.to' : 'ch.send.rcv.channel',
      { n: answer.receivers, id: answer.id, channel: target.channel, to: target.to });
  } else {
    delete host.dataset.receivers;
    line.className = 'note bad';
    line.textContent = res.status === 404 ? pushq.t('ch.send.unknown', { to: target.to })
      : pushq.tokenRefusal(res.status) ? pushq.t('send.token', { status: res.status, text: answer.error })
      : pushq.t('pick.refused', { text: answer.error });
  }
  host.append(pre, line);
}

// Who is online in this tab's channel: GET /presence?channel=, every second.
async function pollPresence() {
  try {
    const res = await fetch(pushq.withToken('/presence?channel=' + encodeURIComponent(tabChannel), tabToken));
    lastPresence = res.ok ? await res.json() : { error: res.status };
  } catch (error) {
    lastPresence = { error: 'down' };
  }
  drawPresence();
  if (!pushq.tokenRefusal(lastPresence.error)) setTimeout(pollPresence, 1000);   // refused: asking again would be too
}

function drawPresence() {
  const p = lastPresence;
  const title = document.getElementById('presence-title');
  const host = document.getElementById('presence');
  title.textContent = pushq.t('ch.presence.h', { channel: tabChannel, n: p && !p.error ? p.count : '…' });
  if (!p) return;
  const names = document.getElementById('presence-names');
  if (p.error) {
    host.innerHTML = '<li class="hint"></li>';
    host.firstChild.textContent = pushq.tokenRefusal(p.error) ? pushq.t('ch.presence.token', { status: p.error })
      : pushq.t('ch.presence.down');
    return;
  }
  const items = p.clients.map((client) => {
    const li = document.createElement('li');
    li.dataset.name = client.name;
    li.dataset.kind = client.kind;
    const dot = document.createElement('span');
    dot.className = 'dot on';
    const who = document.createElement('b');
    who.textContent = client.name;
    if (client.name === tabName) {
      li.className = 'me';
      const me = document.createElement('span');
      me.className = 'you';
      me.textContent = pushq.t('ch.you');
      who.append(' ', me);
    }
    const kind = document.createElement('span');
    kind.className = 'muted';
    kind.textContent = pushq.t('ch.kind.' + client.kind) + ' · ' +
      pushq.t('ch.presence.since', { s: Math.max(0, Math.round((Date.now() - client.since) / 1000)) });
    li.append(dot, who, kind);
    return li;
  });
  if (items.length === 0) {
    const li = document.createElement('li');
    li.className = 'hint';
    li.textContent = pushq.t('ch.presence.none');
    items.push(li);
  }
  host.replaceChildren(...items);
  names.replaceChildren(...p.clients.filter((c) => c.name !== tabName).map((c) => new Option(c.name)));
}

// ---------------------------------------------------------------- start
buildClients();
drawDemoLead();
startTab();
document.addEventListener('pushq:lang', () => {
  translateDemoText();
  drawDemoLead();
  drawDemo();
  drawSend();
  drawPresence();
  drawState(document.getElementById('state'), ...tabState);
  for (const c of clients) if (c.stateNow) drawState(c.state, ...c.stateNow);
});
