// chat.js — the chat the chat pages share: register a long-polling client,
// send a message (and say when that failed), and show a message that came.
'use strict';

// Sends the chat form's text with POST /send_msg. On success the box is
// cleared; when the server is unreachable or refuses, the text stays and
// #send-note says why (the user presses Send again).
async function sendFromForm(box, from) {
  const note = document.getElementById('send-note');
  const text = box.value;
  if (text === '') return;
  try {
    const res = await sendMessage(text, from);
    if (!res.ok) {
      setNote(note, 'send.refused', { status: res.status, text: (await res.text()).slice(0, 200) });
      return;
    }
    if (box.value === text) box.value = '';
    setNote(note, null);
  } catch (error) {
    setNote(note, 'send.down');
  }
}

// Shows (or, with key null, hides) a translated note.
function setNote(el, key, vars = {}) {
  if (!el) return;
  el.hidden = key === null;
  el.className = 'note bad';
  if (key === null) { delete el.dataset.key; return; }
  el.dataset.key = key;
  el.textContent = pushq.t(key, vars);
}

// Registers a long-polling client (GET /ab_b1?name=, as the seed's page load did).
async function register(name) {
  const res = await fetch('/ab_b1?name=' + encodeURIComponent(name));
  if (!res.ok) throw new Error('register: ' + res.status);
}

// POST /send_msg with a form body, as the seed's jQuery did.
function sendMessage(content, from) {
  return fetch('/send_msg', { method: 'POST', body: new URLSearchParams({ content, name: from }) });
}

// The delay of a message: now minus the server's send time (sent_at, ms
// since 1970). Both clocks are this machine's when the page and the server
// share it; across machines their difference counts too.
function delayOf(msg) {
  return msg.sent_at ? Math.max(0, Date.now() - msg.sent_at) : null;
}

// Appends one chat message to `list` — always as text, never as HTML —
// with its id and delay.
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
  const id = document.createElement('span');
  id.className = 'id';
  id.textContent = '#' + msg.id + (extra ? ' · ' + extra : '');
  item.append(who, text, id);
  list.append(item);
  item.scrollIntoView({ block: 'nearest' });
  return item;
}

window.pushq = Object.assign(window.pushq || {}, { register, sendMessage, sendFromForm, setNote, delayOf, showMessage });
