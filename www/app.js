// app.js — starts every page: builds the header (the links to every page and
// the language toggle) and puts the page into the current language.
'use strict';

// Every page, in the order of the header; its link text is the key's text.
const PAGES = [
  ['/', 'nav.home'], ['/lab.html', 'nav.lab'], ['/ab_dy', 'nav.ajax'], ['/polling.html', 'nav.short'],
  ['/ab_b1', 'nav.long'], ['/ws.html', 'nav.ws'], ['/sse.html', 'nav.sse'], ['/compare.html', 'nav.compare'],
  ['/queues.html', 'nav.queues'], ['/channels.html', 'nav.channels'], ['/client.html', 'nav.client'],
  ['/teach.html', 'nav.teach'],
];

function buildHeader() {
  const header = document.getElementById('top');
  if (!header) return;
  const nav = document.createElement('nav');
  const brand = document.createElement('a');
  brand.href = '/';
  brand.className = 'brand';
  brand.textContent = 'pushq';
  nav.append(brand);
  for (const [href, key] of PAGES) {
    const a = document.createElement('a');
    a.href = href;
    a.dataset.i18n = key;
    if (href === location.pathname || (href !== '/' && location.pathname.startsWith(href))) a.className = 'here';
    nav.append(a);
  }
  const toggle = document.createElement('button');
  toggle.id = 'lang-toggle';
  toggle.type = 'button';
  toggle.addEventListener('click', pushq.switchLang);
  nav.append(toggle);
  header.append(nav);
}

document.addEventListener('DOMContentLoaded', () => {
  buildHeader();
  pushq.translatePage();
});
