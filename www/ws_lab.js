// ws_lab.js — the handshake and frame lab of ws.html: the Sec-WebSocket-Accept
// of a key, computed here and by the server, and a frame taken apart byte by byte.
'use strict';

// ------------------------------------------------------- handshake lab
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
const base64 = (bytes) => btoa(String.fromCharCode(...bytes));

// The RFC 6455 example key, and the one the tutorial shows.
const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==', TUTORIAL_KEY = 'ePW8kp1XqLNWbJxE/Q38SA==';

// Only the latest key's answer is shown: one asked for before it (the page
// computes the RFC key as it loads) may be answered after it.
let latestHandshake = 0;

async function handshakeLab(key) {
  const mine = ++latestHandshake;
  document.getElementById('key-input').value = key;
  const match = document.getElementById('lab-match');
  delete match.dataset.i18n;
  match.textContent = '—';
  match.className = 'status';
  document.getElementById('lab-server-accept').textContent = '—';
  const joined = key + GUID;
  const sha1 = new Uint8Array(await crypto.subtle.digest('SHA-1', new TextEncoder().encode(joined)));
  if (mine !== latestHandshake) return;
  const accept = base64(sha1);
  document.getElementById('lab-key').textContent = key;
  document.getElementById('lab-joined').textContent = joined;
  document.getElementById('lab-sha1').textContent = hex(sha1);
  document.getElementById('lab-accept').textContent = accept;
  const res = await fetch('/ws/accept?key=' + encodeURIComponent(key));
  const answer = await res.json();
  if (mine !== latestHandshake) return;
  const server = answer.accept ?? '—';
  document.getElementById('lab-server-accept').textContent = res.ok ? server : answer.error;
  match.dataset.i18n = server === accept ? 'lab.match' : 'lab.nomatch';
  match.textContent = pushq.t(match.dataset.i18n);
  match.className = 'status ' + (server === accept ? 'ok' : 'bad');
  // The upgrade the chat sends: wsPath() is the chat's, from ws.js.
  document.getElementById('upgrade-request').textContent =
    'GET ' + wsPath() + ' HTTP/1.1\nHost: ' + location.host +
    '\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: ' + key + '\nSec-WebSocket-Version: 13\n';
  document.getElementById('upgrade-response').textContent = res.ok
    ? 'HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: ' + server + '\n'
    : 'HTTP/1.1 400 Bad Request\n\n' + answer.error;
}
const randomKey = () => base64(crypto.getRandomValues(new Uint8Array(16)));
document.getElementById('make-key').addEventListener('click', () => handshakeLab(randomKey()));
document.getElementById('key-rfc').addEventListener('click', () => handshakeLab(RFC_KEY));
document.getElementById('key-tutorial').addEventListener('click', () => handshakeLab(TUTORIAL_KEY));
document.getElementById('use-key').addEventListener('click',
  () => handshakeLab(document.getElementById('key-input').value.trim()));


// ----------------------------------------------------------- frame lab
// Builds the frame a browser sends for `text` (RFC 6455 5.2), with a fixed
// mask per typing session so the bytes do not jump around as you type.
const mask = crypto.getRandomValues(new Uint8Array(4));

function buildFrame(payload) {
  const n = payload.length;
  const head = [0x81];                                   // FIN=1, opcode=1 (text)
  let ext = [];
  if (n <= 125) head.push(0x80 | n);                     // MASK bit + 7-bit length
  else if (n <= 0xffff) { head.push(0x80 | 126); ext = [n >> 8, n & 0xff]; }
  else { head.push(0x80 | 127); ext = [0, 0, 0, 0, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]; }
  const masked = payload.map((b, i) => b ^ mask[i % 4]);
  return { head, ext, masked };
}

function byteGroup(cls, bytes, what) {
  const group = document.createElement('div');
  group.className = 'byte-group ' + cls;
  const h = document.createElement('span');
  h.className = 'hex';
  h.textContent = hex(bytes.length > 48 ? bytes.slice(0, 48) : bytes) + (bytes.length > 48 ? ' …' : '');
  const w = document.createElement('span');
  w.className = 'what';
  w.textContent = what;
  group.append(h, w);
  return group;
}

function drawFrame() {
  const text = document.getElementById('frame-text').value;
  const payload = [...new TextEncoder().encode(text)];
  const { head, ext, masked } = buildFrame(payload);
  const n = payload.length, len7 = head[1] & 0x7f;
  const bytes = document.getElementById('frame-bytes');
  bytes.replaceChildren(
    byteGroup('header', [head[0]], pushq.t('lab.byte1')),
    byteGroup('header', [head[1]], pushq.t('lab.byte2', { n: len7 })),
    ...(ext.length ? [byteGroup('header', ext, pushq.t(ext.length === 2 ? 'lab.ext16' : 'lab.ext64', { n }))] : []),
    byteGroup('mask', [...mask], pushq.t('lab.mask')),
    byteGroup('payload', masked, pushq.t('lab.payload') + ' (' + n + ')'));
  drawServerFrames(payload);

  // And back again, the tutorial's way.
  const unmasked = masked.map((b, i) => b ^ mask[i % 4]);
  const steps = [
    pushq.t('lab.step1', { n: len7 }),
    len7 <= 125 ? pushq.t('lab.step2.small', { n: len7 })
      : pushq.t(len7 === 126 ? 'lab.step2.16' : 'lab.step2.64', { n }),
    pushq.t('lab.step3', { mask: hex(mask) }),
    pushq.t('lab.step4', { bytes: hex(unmasked.slice(0, 48)) + (n > 48 ? ' …' : '') }),
    pushq.t('lab.step5', { text: ends(new TextDecoder().decode(new Uint8Array(unmasked))) }),
  ];
  document.getElementById('decode-steps').replaceChildren(...steps.map((s) => {
    const li = document.createElement('li');
    li.textContent = s;
    return li;
  }));
}
// A long text: its first and last characters, and how long it is.
function ends(text) {
  const chars = [...text];
  if (chars.length <= 120) return text;
  return chars.slice(0, 60).join('') + ' … ' + chars.slice(-40).join('') + ' ' +
    pushq.t('lab.chars', { n: chars.length.toLocaleString() });
}

// What the server sends back: the same text unmasked (servers never mask),
// a ping and a close (RFC 6455 5.5.2, 5.5.1).
function drawServerFrames(payload) {
  const n = payload.length;
  const head = [0x81], ext = [];
  if (n <= 125) head.push(n);
  else if (n <= 0xffff) { head.push(126); ext.push(n >> 8, n & 0xff); }
  else { head.push(127); ext.push(0, 0, 0, 0, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff); }
  const frame = (titleKey, groups) => {
    const box = document.createElement('div');
    const h = document.createElement('div');
    h.className = 'code-title';
    h.textContent = pushq.t(titleKey);
    const bytes = document.createElement('div');
    bytes.className = 'bytes';
    bytes.append(...groups);
    box.append(h, bytes);
    return box;
  };
  document.getElementById('server-frames').replaceChildren(
    frame('lab.server.text', [
      byteGroup('header', [head[0]], pushq.t('lab.byte1')),
      byteGroup('header', [head[1]], pushq.t('lab.byte2.server', { n: head[1] })),
      ...(ext.length ? [byteGroup('header', ext, pushq.t(ext.length === 2 ? 'lab.ext16' : 'lab.ext64', { n }))] : []),
      byteGroup('payload', payload, pushq.t('lab.payload.plain') + ' (' + n + ')')]),
    frame('lab.server.ping', [
      byteGroup('header', [0x89], pushq.t('lab.ping.byte1')),
      byteGroup('header', [0x00], pushq.t('lab.byte2.server', { n: 0 }))]),
    frame('lab.server.close', [
      byteGroup('header', [0x88], pushq.t('lab.close.byte1')),
      byteGroup('header', [0x02], pushq.t('lab.byte2.server', { n: 2 })),
      byteGroup('payload', [0x03, 0xe8], pushq.t('lab.close.code'))]));
}

document.getElementById('frame-text').addEventListener('input', drawFrame);
document.addEventListener('pushq:lang', drawFrame);
document.getElementById('frame-text').value = 'hello, 你好';
drawFrame();
handshakeLab(RFC_KEY);
