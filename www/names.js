// names.js — a chat page's name (class mode): which name the page uses, the
// field to change it, and the lesson shown when another tab already takes
// messages under the same name.
'use strict';

// A chat page's name: ?name= in the URL, else the one this browser used
// last (kept in localStorage across pages), else a new random one. It is put
// back into the URL, so a reload keeps it.
const NAME_KEY = 'pushq.name';

function pageName(prefix) {
  const params = new URLSearchParams(location.search);
  let name = params.get('name') || localStorage.getItem(NAME_KEY);
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
async function clientStats(name) {
  const res = await fetch('/stats?name=' + encodeURIComponent(name));
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

window.pushq = Object.assign(window.pushq || {}, { pageName, useName, nameField, clientStats, checkNameInUse });
