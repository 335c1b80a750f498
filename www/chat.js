// chat.js — the chat the chat pages share: register a long-polling client,
// send a message (and say when that failed), show a message that came (and
// its channel, or "to you"), and the channel picker: the channels a name is
// in, joined and left with POST /subscribe and /unsubscribe, and where the
// next message goes (a channel, or one name).
'use strict';

// Sends the chat form's text with POST /send_msg. On success the box is
// cleared; when the server is unreachable or refuses, the text stays and
// #send-note says why (the user presses Send again).
// `target` is where it goes: { channel } or { to } (the picker's choice;
// none: the server's default channel, room). The 200 answer is JSON,
// {"status":true,"id":N,"receivers":K}; #send-info says where it went.
async function sendFromForm(box, from, target = {}) {
  const note = document.getElementById('send-note');
  const text = box.value;
  if (text === '') return;
  try {
    const res = await sendMessage(text, from, target);
    if (!res.ok) {
      const text = (await res.text()).slice(0, 200);
      // 401, 403: the page's token (none, expired, or not for this channel).
      setNote(note, pushq.tokenRefusal(res.status) ? 'send.token' : 'send.refused', { status: res.status, text });
      return;
    }
    if (box.value === text) box.value = '';
    setNote(note, null);
    const answer = await res.json().catch(() => null);
    if (answer) showSent(answer, target);
  } catch (error) {
    setNote(note, 'send.down');
  }
}

// #send-info, under a chat's form: where the last message went. For a POST
// the server's answer says into how many queues (receivers); a WebSocket
// frame gets no answer (answer null).
let sentInfo = null;
function showSent(answer, target) {
  sentInfo = [answer, target];
  const el = document.getElementById('send-info');
  if (!el) return;
  const where = target.to !== undefined ? pushq.t('send.info.to', { to: target.to })
    : pushq.t('send.info.channel', { channel: target.channel ?? 'room' });
  el.textContent = answer ? pushq.t('send.info', { id: answer.id, n: answer.receivers, where })
    : pushq.t('send.info.ws', { where });
  el.hidden = false;
}
document.addEventListener('pushq:lang', () => { if (sentInfo) showSent(...sentInfo); });

// Shows (or, with key null, hides) a translated note.
function setNote(el, key, vars = {}) {
  if (!el) return;
  el.hidden = key === null;
  el.className = 'note bad';
  if (key === null) { delete el.dataset.key; return; }
  el.dataset.key = key;
  el.textContent = pushq.t(key, vars);
}

// Registers a long-polling client (GET /ab_b1?name=, as the seed's page load
// did); with `channels` (a list), that is exactly the client's channels.
// A refusal throws an Error with the status (and the server's error).
async function register(name, channels) {
  const res = await fetch(pushq.withToken('/ab_b1?name=' + encodeURIComponent(name) + channelsParam(channels)));
  if (!res.ok) {
    const answer = await res.json().catch(() => ({}));
    throw Object.assign(new Error('register: ' + res.status), { status: res.status, error: answer.error || '' });
  }
}

// "&channels=a,b" for a URL (nothing for no list): the commas stay commas.
function channelsParam(channels) {
  return channels && channels.length ? '&channels=' + channels.map(encodeURIComponent).join(',') : '';
}

// POST /send_msg with a form body, as the seed's jQuery did; `target` adds
// channel=C or to=NAME, and the page's token goes along (with --token-key,
// the message's from is the token's name).
function sendMessage(content, from, target = {}) {
  return fetch('/send_msg', { method: 'POST', body: new URLSearchParams(pushq.tokenFields({ content, name: from, ...target })) });
}

// The delay of a message: now minus the server's send time (sent_at, ms
// since 1970). Both clocks are this machine's when the page and the server
// share it; across machines their difference counts too.
function delayOf(msg) {
  return msg.sent_at ? Math.max(0, Date.now() - msg.sent_at) : null;
}

// Appends one chat message to `list` — always as text, never as HTML —
// with where it was sent (its channel, or "to you": a direct message), its
// id and delay. A join or leave (--presence-events) says so in the text.
function showMessage(list, msg, extra) {
  const delay = delayOf(msg);
  if (delay !== null) extra = pushq.t('chat.delay', { ms: delay }) + (extra ? ' · ' + extra : '');
  const item = document.createElement('li');
  const who = document.createElement('span');
  who.className = 'from';
  who.textContent = msg.from || '—';
  const text = document.createElement('span');
  text.className = 'text';
  text.dir = 'auto';                       // right-to-left text reads right
  text.textContent = msg.msg;
  if (msg.event === 'join' || msg.event === 'leave') {
    text.dataset.i18n = 'msg.' + msg.event;
    text.textContent = pushq.t(text.dataset.i18n);
    item.className = 'event';
  }
  const where = document.createElement('span');
  where.className = 'where';
  if (msg.to !== undefined) {
    where.dataset.i18n = 'msg.to.you';     // a direct message reaches only its target
    where.textContent = pushq.t('msg.to.you');
    where.classList.add('direct');
  } else {
    where.textContent = msg.channel !== undefined ? '#' + msg.channel : '';
  }
  item.dataset.where = msg.to !== undefined ? 'to:' + msg.to : 'channel:' + (msg.channel ?? '');
  const id = document.createElement('span');
  id.className = 'id';
  id.textContent = '#' + msg.id + (extra ? ' · ' + extra : '');
  item.append(who, text, where, id);
  list.append(item);
  item.scrollIntoView({ block: 'nearest' });
  return item;
}

// ------------------------------------------------------ channel picker
// A chat page's channels: the list this browser keeps for the name (in
// localStorage, so a reload or another chat page with the same name asks for
// the same), drawn into <section id="channels-box">, and the target row
// (<div id="target-row">): which of them the next message goes to, or one
// name. Join and leave are POST /subscribe and /unsubscribe; the server's
// answer is the list, and it is what is drawn. The page passes the list as
// channels= when it connects (picker.list), or calls picker.sync().
const CHANNEL_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
const validChannel = (channel) => CHANNEL_RE.test(channel);
const channelsKey = (name) => 'pushq.channels.' + name;

// With a token, only the channels it allows (its "channels", absent: room):
// asking for another would be refused.
function storedChannels(name) {
  let list = ['room'];
  try {
    const stored = JSON.parse(localStorage.getItem(channelsKey(name)));
    if (Array.isArray(stored) && stored.length && stored.every((c) => CHANNEL_RE.test(c))) list = stored;
  } catch (error) { /* not a list: the default */ }
  if (!pushq.pageToken()) return list;
  const claim = pushq.tokenClaims()?.channels;
  const allowed = Array.isArray(claim) ? claim.filter((c) => typeof c === 'string' && CHANNEL_RE.test(c)) : ['room'];
  const kept = list.filter((c) => allowed.includes(c));
  return kept.length ? kept : allowed.length ? allowed : list;
}

// POST /subscribe or /unsubscribe; the answer's list, or an Error whose
// message is the server's (or 'down' when it is unreachable).
async function changeChannel(action, name, channel) {
  let res;
  try {
    res = await fetch('/' + action, { method: 'POST', body: new URLSearchParams(pushq.tokenFields({ name, channel })) });
  } catch (error) { throw new Error('down'); }
  const answer = await res.json().catch(() => ({}));
  if (!res.ok || !answer.status) throw Object.assign(new Error(answer.error || String(res.status)), { status: res.status });
  return answer.channels;
}

function channelPicker(name) {
  const box = document.getElementById('channels-box');
  const row = document.getElementById('target-row');
  const picker = { list: storedChannels(name) };
  box.innerHTML = '<h3 data-i18n="pick.title"></h3>' +
    '<div class="row"><span class="muted" data-i18n="pick.yours"></span><ul class="chips" id="my-channels"></ul></div>' +
    '<form class="row join-form" id="join-form">' +
    '<input type="text" id="join-channel" maxlength="64" autocomplete="off" spellcheck="false" data-i18n-placeholder="pick.placeholder" aria-label="channel">' +
    '<button type="submit" class="quiet" data-i18n="pick.join"></button></form>' +
    '<p class="note" id="pick-note" hidden></p>' +
    '<p class="muted" data-i18n="pick.hint"></p>';
  row.innerHTML = '<label for="send-channel" data-i18n="pick.sendto"></label>' +
    '<select id="send-channel"></select>' +
    '<label for="send-to" data-i18n="pick.or"></label>' +
    '<input type="text" id="send-to" maxlength="64" autocomplete="off" spellcheck="false" data-i18n-placeholder="pick.to.placeholder">';
  const note = document.getElementById('pick-note');
  const select = document.getElementById('send-channel');
  const toBox = document.getElementById('send-to');

  picker.draw = () => {
    const chips = document.getElementById('my-channels');
    chips.replaceChildren();
    for (const channel of picker.list) {
      const chip = document.createElement('li');
      chip.className = 'chip';
      chip.dataset.channel = channel;
      const label = document.createElement('span');
      label.textContent = '#' + channel;
      const leave = document.createElement('button');
      leave.type = 'button';
      leave.className = 'leave';
      leave.textContent = '×';
      leave.title = pushq.t('pick.leave', { channel });
      leave.setAttribute('aria-label', leave.title);
      leave.disabled = picker.list.length === 1;   // plain text goes to the first: keep one
      leave.addEventListener('click', () => picker.change('unsubscribe', channel));
      chip.append(label, leave);
      chips.append(chip);
    }
    const chosen = select.value;
    select.replaceChildren(...picker.list.map((channel) => new Option('#' + channel, channel)));
    select.value = picker.list.includes(chosen) ? chosen : picker.list[0];
    select.disabled = toBox.value.trim() !== '';
  };
  picker.set = (list) => {
    if (Array.isArray(list) && list.length) {
      picker.list = list;
      localStorage.setItem(channelsKey(name), JSON.stringify(list));
    }
    picker.draw();
  };
  // Join or leave one channel; the server's answer is the new list.
  picker.change = async (action, channel) => {
    try {
      picker.set(await changeChannel(action, name, channel));
      setNote(note, null);
      return true;
    } catch (error) {
      if (error.message === 'down') setNote(note, 'pick.down');
      else if (error.status === 404) setNote(note, 'pick.unknown');
      else if (pushq.tokenRefusal(error.status)) setNote(note, 'pick.token', { status: error.status, text: error.message });
      else setNote(note, 'pick.refused', { text: error.message });
      return false;
    }
  };
  // Makes the server's list this page's (after a connection that did not
  // say channels=, or a server that restarted): subscribing to a channel one
  // is in already changes nothing and answers the list.
  // (picker.list is read at each step: a join meanwhile is kept.)
  picker.sync = async () => {
    delete box.dataset.synced;
    let have;
    try { have = await changeChannel('subscribe', name, picker.list[0]); } catch (error) { return; }
    for (const channel of picker.list.filter((c) => !have.includes(c)))
      have = await changeChannel('subscribe', name, channel).catch(() => have);
    for (const channel of have.filter((c) => !picker.list.includes(c)))
      have = await changeChannel('unsubscribe', name, channel).catch(() => have);
    picker.set(have);
    box.dataset.synced = '1';
  };
  // Where the next message goes: { to } when a name is typed, else { channel }.
  picker.target = () => {
    const to = toBox.value.trim();
    return to ? { to } : { channel: select.value || picker.list[0] };
  };
  document.getElementById('join-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = document.getElementById('join-channel');
    const channel = input.value.trim();
    if (channel === '') return;
    if (!CHANNEL_RE.test(channel)) { setNote(note, 'pick.bad'); return; }
    if (await picker.change('subscribe', channel)) {
      input.value = '';
      select.value = channel;               // what you joined is where you talk next
    }
  });
  toBox.addEventListener('input', () => { select.disabled = toBox.value.trim() !== ''; });
  document.addEventListener('pushq:lang', picker.draw);
  picker.draw();
  pushq.translatePage();
  return picker;
}

window.pushq = Object.assign(window.pushq || {}, {
  register, channelsParam, validChannel, sendMessage, sendFromForm, showSent, setNote, delayOf, showMessage, channelPicker,
});
