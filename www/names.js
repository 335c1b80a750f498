// names.js — a chat page's name (class mode): which name the page uses, the
// field to change it, and the lesson shown when another tab already takes
// messages under the same name.
'use strict';

// A chat page's name: ?name= in the URL, else the name its ?token= is for,
// else the one this browser used last (kept in localStorage across pages),
// else a new random one. It is put back into the URL, so a reload keeps it.
const NAME_KEY = 'pushq.name';

function pageName(prefix) {
  const params = new URLSearchParams(location.search);
  const sub = tokenClaims()?.sub;
  let name = params.get('name') || (typeof sub === 'string' && sub) || localStorage.getItem(NAME_KEY);
  if (!name) name = prefix + '-' + Math.random().toString(16).slice(2, 8);
  localStorage.setItem(NAME_KEY, name);
  if (params.get('name') !== name) {
    params.set('name', name);
    history.replaceState(null, '', location.pathname + '?' + params);
  }
  return name;
}

// Loads this page again as `name` (every chat page then uses it).
function useName(name) {
  localStorage.setItem(NAME_KEY, name);
  const params = new URLSearchParams(location.search);
  params.set('name', name);
  location.search = params.toString();
}

// The name field of a chat page, built into its empty <form id="name-form">.
function nameField(name) {
  const form = document.getElementById('name-form');
  form.innerHTML = '<label for="name" data-i18n="chat.name"></label>' +
    '<input type="text" id="name" maxlength="64" autocomplete="off">' +
    '<button type="submit" class="quiet" data-i18n="chat.name.use"></button>' +
    '<span class="muted" data-i18n="chat.name.hint"></span>';
  const box = document.getElementById('name');
  box.value = name;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const wanted = box.value.trim();
    if (wanted && wanted !== name) useName(wanted);
  });
}

// This client's entry in /stats (null when the server does not know it).
// With --token-key, /stats is the backend's (the API key): once refused, the
// page stops asking, and the lesson below stays away.
let statsRefused = false;
async function clientStats(name) {
  if (statsRefused) return null;
  const res = await fetch('/stats?name=' + encodeURIComponent(name));
  if (res.status === 401 || res.status === 403) { statsRefused = true; return null; }
  const stats = await res.json();
  return stats.clients[0] ?? null;
}

// Class mode: is someone else already taking messages under this name?
// `mine` says how many of the takers are this page's own right now (a
// waiting request, an open socket). Shows #in-use, with the lesson.
async function checkNameInUse(name, mine = 0) {
  const panel = document.getElementById('in-use');
  if (!panel) return false;
  let others = 0;
  try {
    const c = await clientStats(name);
    if (c) others = c.waiting + c.sessions - mine;
  } catch (error) { return false; }   // server away: nothing to say
  if (others <= 0) return false;
  if (!panel.dataset.built) {
    panel.dataset.built = '1';
    panel.innerHTML = '<h3></h3><p data-i18n="inuse.p"></p>' +
      '<p class="row"><button type="button" class="other" data-i18n="inuse.other"></button>' +
      '<button type="button" class="quiet stay" data-i18n="inuse.stay"></button></p>';
    panel.querySelector('.other').addEventListener('click',
      () => useName(name.replace(/-[0-9a-f]{4}$/, '') + '-' + Math.random().toString(16).slice(2, 6)));
    panel.querySelector('.stay').addEventListener('click', () => { panel.hidden = true; panel.dataset.dismissed = '1'; });
    const title = panel.querySelector('h3');
    const draw = () => { title.textContent = pushq.t('inuse.title', { name }); };
    document.addEventListener('pushq:lang', draw);   // once: translatePage below draws it
    pushq.translatePage();
  }
  if (panel.dataset.dismissed) return true;
  panel.hidden = false;
  return true;
}

// ------------------------------------------------------------- the token
// A server started with --token-key wants a token (a JSON Web Token its
// backend signed) on every request that reads or joins as a name. The page
// takes it from its own URL, ?token=, and passes it on to each of them:
// withToken(url) in the query (/get_msg, /ab_b1, and /ws and /events, where
// a browser cannot set a header), tokenFields(fields) in a POST form
// (/send_msg, /subscribe, /unsubscribe). No ?token=: the requests are as
// they were, for an open server.
function pageToken() {
  return new URLSearchParams(location.search).get('token') || '';
}
function withToken(url, token = pageToken()) {
  return token ? url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token) : url;
}
function tokenFields(fields, token = pageToken()) {
  return token ? { ...fields, token } : fields;
}

// What the page's token says (its middle part, base64url JSON), or null.
// Read, not checked: only the server, which has the key, can check it. The
// page uses it for defaults only: the name (sub) and the channels it may be in.
function tokenClaims(token = pageToken()) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === 'object' ? claims : null;
  } catch (error) { return null; }
}

// 401 (no token, or a bad or expired one) and 403 (a token for another
// name, channel or publish): the server refused the page's token.
const tokenRefusal = (status) => status === 401 || status === 403;

// Does the server take this token for this name, and these channels? Asked
// when a WebSocket or an EventSource could not connect: a browser does not
// show their refused answer to the page. Two requests that change nothing
// and are checked like the connection: POST /unsubscribe from a channel
// nobody is in (the name), GET /presence?channel= (each channel). Returns
// { status, error } for a 401 or 403, else null.
async function checkToken(name, token = pageToken(), channels = []) {
  const refusal = async (res) => tokenRefusal(res.status)
    ? { status: res.status, error: (await res.json().catch(() => ({}))).error || '' } : null;
  try {
    const res = await fetch('/unsubscribe', { method: 'POST',
      body: new URLSearchParams(tokenFields({ name, channel: 'pushq.token-check' }, token)) });
    const byName = await refusal(res);
    if (byName || !token) return byName;
    for (const channel of channels) {
      const byChannel = await refusal(await fetch(withToken('/presence?channel=' + encodeURIComponent(channel), token)));
      if (byChannel) return byChannel;
    }
    return null;
  } catch (error) { return null; }   // server away: not a refusal
}

// Says plainly, in #token-note (or `el`), that the server refused the page's
// token: { status, error } is its answer; expired: a WebSocket closed with
// 1008 when its token ran out.
const tokenNotes = new Map();
function showTokenRefused(name, refusal, el = document.getElementById('token-note')) {
  if (!el) return;
  tokenNotes.set(el, [name, refusal]);
  el.hidden = false;
  el.className = 'note bad';
  el.dataset.key = refusal.expired ? 'token.expired' : 'token.refused';
  el.textContent = refusal.expired ? pushq.t('token.expired')
    : pushq.t('token.refused', { name, status: refusal.status, error: refusal.error || '—' }) +
      ' ' + pushq.t(pageToken() ? 'token.fix' : 'token.none', { name });
}
document.addEventListener('pushq:lang', () => {
  for (const [el, args] of tokenNotes) showTokenRefused(...args, el);
});

window.pushq = Object.assign(window.pushq || {}, {
  pageName, useName, nameField, clientStats, checkNameInUse,
  pageToken, withToken, tokenFields, tokenClaims, tokenRefusal, checkToken, showTokenRefused,
});
