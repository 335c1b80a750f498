// browser.mjs — what lab.test.mjs and teach.test.mjs share: a real
// build/pushq on 127.0.0.1 port 0, Debian's headless chromium, pages in
// fresh profiles that never reach another host, and the layout checks
// every width and language must pass. Screenshots go to build/e2e-shots/.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PUSHQ = process.env.PUSHQ_BIN ? ROOT + process.env.PUSHQ_BIN : ROOT + 'build/pushq';
export const SHOTS = ROOT + 'build/e2e-shots/';
export const WAIT = 10_000;               // the longest any expectation may take
export const PHONE = { width: 390, height: 844 }, WIDE = { width: 1280, height: 900 };
export const leftLoopback = [];            // every request to a host other than 127.0.0.1

export function startServer(extra = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(PUSHQ, ['--port', '0', '--www', ROOT + 'www', '--log', 'warn', ...extra],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => reject(new Error('pushq did not start')), 5000);
    proc.stdout.once('data', (chunk) => {
      clearTimeout(timer);
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(String(chunk));
      if (!m) return reject(new Error('unexpected start line: ' + chunk));
      resolve({ proc, port: Number(m[1]), base: 'http://127.0.0.1:' + m[1] });
    });
    proc.once('error', reject);
  });
}

export function stopServer(s) {
  return new Promise((resolve) => {
    if (s.proc.exitCode !== null) return resolve(s.proc.exitCode);
    s.proc.once('exit', (code) => resolve(code));
    s.proc.kill('SIGTERM');
  });
}

export async function launch() {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// A page in a fresh browser profile, in language `lang`.
export async function newPage(browser, lang, viewport) {
  const context = await browser.newContext({ viewport, isMobile: viewport === PHONE, hasTouch: viewport === PHONE });
  await context.addInitScript((l) => {
    if (!localStorage.getItem('pushq.lang')) localStorage.setItem('pushq.lang', l);
  }, lang);
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname !== '127.0.0.1') {
      leftLoopback.push(url.href);
      return route.abort();
    }
    return route.continue();
  });
  const page = await context.newPage();
  page.on('dialog', (dialog) => { throw new Error('a dialog opened: ' + dialog.message()); });
  page.on('pageerror', (error) => { throw error; });
  page.consoleErrors = [];
  page.on('console', (msg) => { if (msg.type() === 'error') page.consoleErrors.push(msg.text()); });
  return page;
}

// The elements of <main> that stick out of the box they are in (a box that
// scrolls its content may hold wider content), and a page wider than the window.
export const overflowing = (page) => page.evaluate(() => {
  const out = [...document.querySelectorAll('main *')].filter((el) => {
    const parent = el.parentElement;
    if (getComputedStyle(parent).overflowX !== 'visible') return false;
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') return false;
    const r = el.getBoundingClientRect(), box = parent.getBoundingClientRect();
    return r.width > 0 && (r.right > box.right + 1 || r.left < box.left - 1);
  }).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className : '') + ' "' + el.textContent.slice(0, 40) + '"');
  if (document.documentElement.scrollWidth > innerWidth + 1) out.push('the page: ' + document.documentElement.scrollWidth + ' px wide');
  return out;
});

// Text squeezed into a box so narrow that it wraps a character or two per
// line ("2, / 31 / 2"): an element holding 3+ characters of text directly,
// less than two characters wide and more than two lines high.
export const squeezed = (page) => page.evaluate(() => [...document.querySelectorAll('main *')].filter((el) => {
  const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('').trim();
  if (own.length < 3 || el.closest('svg')) return false;     // a chart's axis label may stand upright
  const style = getComputedStyle(el);
  if (style.display === 'none' || style.visibility === 'hidden') return false;
  const r = el.getBoundingClientRect();
  const size = parseFloat(style.fontSize), line = parseFloat(style.lineHeight) || size * 1.4;
  return r.width > 0 && r.width < 2 * size && r.height > 2.5 * line;
}).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + el.textContent.slice(0, 30) + '"'));

// Whether el lies wholly inside the window.
export const inView = (locator) => locator.evaluate((el) => {
  const r = el.getBoundingClientRect();
  return r.top >= 0 && r.bottom <= innerHeight && r.height > 0;
});

export const shot = (page, file) => page.screenshot({ path: SHOTS + file });
export const fullShot = (page, file) => page.screenshot({ path: SHOTS + file, fullPage: true });
