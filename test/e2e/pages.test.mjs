// pages.test.mjs — the teaching pages in a real browser: Debian's headless
// chromium, driven by playwright-core, against a real build/pushq on
// 127.0.0.1. Run with `make e2e`. Screenshots go to build/e2e/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PUSHQ = process.env.PUSHQ_BIN ? ROOT + process.env.PUSHQ_BIN : ROOT + 'build/pushq';
const SHOTS = ROOT + 'build/e2e/';
const WAIT = 10_000;               // the longest any expectation may take

let browser, server;
const leftLoopback = [];            // every request to a host other than 127.0.0.1

// ------------------------------------------------------------------ server
function startServer(port = 0) {
  return new Promise((resolve, reject) => {
    const proc = spawn(PUSHQ, ['--port', String(port), '--www', ROOT + 'www', '--log', 'warn',
      '--poll-timeout', '3', '--max-body', '262144'], { stdio: ['ignore', 'pipe', 'inherit'] });
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

function stopServer(s) {
  return new Promise((resolve) => {
    if (s.proc.exitCode !== null) return resolve(s.proc.exitCode);
    s.proc.once('exit', (code) => resolve(code));
    s.proc.kill('SIGTERM');
  });
}

// ----------------------------------------------------------------- browser
async function newPage(lang = 'en') {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  // The first language of this browser profile; the page's toggle may change it.
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
  return page;
}

const shot = (page, file) => page.screenshot({ path: SHOTS + file, fullPage: true });

// The texts of a chat's messages, in order.
const messageTexts = (page) => page.locator('#content li .text').allTextContents();

async function waitForMessage(page, text) {
  await page.locator('#content li .text', { hasText: text }).first().waitFor({ timeout: WAIT });
}

async function postMessage(content, from = 'node') {
  const res = await fetch(server.base + '/send_msg', {
    method: 'POST', body: new URLSearchParams({ content, name: from }),
  });
  assert.equal(res.status, 200);
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  if (server) await stopServer(server);
});

// ------------------------------------------------------------------- tests
test('the AJAX demo shows {"username":"tony"} and its type', async () => {
  const page = await newPage();
  await page.goto(server.base + '/ab_dy');
  await page.click('#d1');
  await page.locator('#response-body', { hasText: 'tony' }).waitFor({ timeout: WAIT });
  assert.equal(await page.textContent('#response-body'), '{"username":"tony"}');
  assert.equal(await page.textContent('#response-type'), 'object');
  assert.match(await page.textContent('#response-status'), /^200/);
  assert.match(await page.textContent('#response-headers'), /content-type: application\/json/);
  await shot(page, 'ajax-answered-en.png');
  await page.context().close();
});

test('two long-poll pages and a WebSocket page see each other, in order', async () => {
  const alice = await newPage();
  const bob = await newPage('zh');
  const carol = await newPage();
  // Names with spaces and non-ASCII characters travel encoded.
  await alice.goto(server.base + '/ab_b1?name=alice');
  await bob.goto(server.base + '/ab_b1?name=' + encodeURIComponent('bob 李'));
  await carol.goto(server.base + '/ws.html?name=carol');
  await carol.locator('#state.ok').waitFor({ timeout: WAIT });
  assert.equal(await bob.textContent('#who'), 'bob 李');

  const said = [[alice, 'one from alice'], [carol, 'two from carol'], [bob, 'three from bob 李']];
  for (const [page, text] of said) {
    await page.fill('#d2', text);
    await page.click('#d1');
    for (const p of [alice, bob, carol]) await waitForMessage(p, text);
  }
  for (const p of [alice, bob, carol])
    assert.deepEqual(await messageTexts(p), said.map(([, text]) => text));
  assert.equal(await carol.locator('#content li .from').nth(2).textContent(), 'bob 李');

  // Hostile and unusual text renders as text, and the page stays whole.
  const nasty = ['<script>alert(1)</script>', '"quotes" & \'apostrophes\' <b>bold?</b>',
    'emoji 😀👍🏽', 'עברית מימין לשמאל', 'x'.repeat(65536)];
  for (const text of nasty) {
    await postMessage(text, '<img src=x onerror=alert(2)>');
    await alice.locator('#content li .text').filter({ hasText: text.slice(0, 40) }).first().waitFor({ timeout: WAIT });
  }
  for (const p of [alice, carol]) {
    const texts = await messageTexts(p);
    assert.deepEqual(texts.slice(-nasty.length), nasty);
    assert.equal(await p.locator('#content script, #content img, #content b').count(), 0);
  }
  await shot(alice, 'chat-longpoll-alice-en.png');
  await shot(bob, 'chat-longpoll-bob-zh.png');
  await shot(carol, 'chat-websocket-carol-en.png');

  const queues = await newPage();
  await queues.goto(server.base + '/queues.html');
  await queues.locator('tr[data-name="alice"]').waitFor({ timeout: WAIT });
  assert.match(await queues.locator('tr[data-name="carol"]').textContent(), /WebSocket/);
  await shot(queues, 'chat-queues-en.png');
  for (const p of [alice, bob, carol, queues]) await p.context().close();
});

test('short polling receives within its interval', async () => {
  const page = await newPage();
  await page.goto(server.base + '/polling.html?name=shorty');
  await page.fill('#interval', '1');
  await page.locator('#request-count', { hasText: /^[1-9]/ }).waitFor({ timeout: WAIT });
  const started = Date.now();
  await page.fill('#d2', 'ping by polling');
  await page.click('#d1');
  await waitForMessage(page, 'ping by polling');
  const waited = Date.now() - started;
  assert.ok(waited < 2500, `took ${waited} ms with a 1 s interval`);
  const delay = await page.locator('#content li .id').last().textContent();
  const ms = Number(/(\d+) ms/.exec(delay)[1]);
  assert.ok(ms <= 2000, delay);
  assert.ok(Number(await page.textContent('#empty-count')) >= 1);
  await shot(page, 'short-polling-en.png');
  await page.context().close();
});

test("the lab's accept value equals the server's", async () => {
  const page = await newPage();
  await page.goto(server.base + '/ws.html?name=lab');
  await page.click('#make-key');
  await page.locator('#lab-match.ok').waitFor({ timeout: WAIT });
  const ours = await page.textContent('#lab-accept');
  assert.match(ours, /^[A-Za-z0-9+/]{27}=$/);
  assert.equal(ours, await page.textContent('#lab-server-accept'));
  // The frame lab: 200 bytes of text need the 126 form and a 2-byte length.
  await page.fill('#frame-text', 'é'.repeat(100));
  assert.match(await page.locator('#frame-bytes .byte-group').nth(1).textContent(), /^fe/);
  assert.match(await page.locator('#frame-bytes .byte-group').nth(2).textContent(), /^00 c8/);
  assert.match(await page.locator('#decode-steps li').last().textContent(), /éééé/);
  await page.fill('#frame-text', 'hello, 你好');
  await shot(page, 'ws-lab-en.png');
  await page.context().close();
});

test('the chats recover after the server restarts', async () => {
  const poll = await newPage();
  const ws = await newPage();
  await poll.goto(server.base + '/ab_b1?name=phoenix');
  await ws.goto(server.base + '/ws.html?name=phoenix-ws');
  await ws.locator('#state.ok').waitFor({ timeout: WAIT });

  const port = server.port;
  assert.equal(await stopServer(server), 0);
  await poll.locator('#status.bad').waitFor({ timeout: WAIT });
  await ws.locator('#state.bad').waitFor({ timeout: WAIT });
  server = await startServer(port);

  await ws.locator('#state.ok').waitFor({ timeout: 15_000 });
  await poll.locator('#status:not(.bad)').waitFor({ timeout: 15_000 });
  // The long-poll page must be registered again before a broadcast reaches it.
  const stats = async () => (await (await fetch(server.base + '/stats')).json()).clients.map((c) => c.name);
  for (let i = 0; i < 100 && !(await stats()).includes('phoenix'); i++) await poll.waitForTimeout(100);
  await postMessage('after the restart');
  await waitForMessage(poll, 'after the restart');
  await waitForMessage(ws, 'after the restart');
  await poll.context().close();
  await ws.context().close();
});

// A TCP proxy in front of the server, so that a test can cut the browser's
// connections the way a server or a network would, without touching pushq.
function startProxy(targetPort) {
  const pairs = new Set();
  const proxy = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => { client.destroy(); upstream.destroy(); pairs.delete(pair); };
    client.on('error', drop); upstream.on('error', drop);
    client.on('close', drop); upstream.on('close', drop);
  });
  return new Promise((resolve) => proxy.listen(0, '127.0.0.1', () => resolve({
    base: 'http://127.0.0.1:' + proxy.address().port,
    cutAll: () => { for (const { client, upstream } of [...pairs]) { client.destroy(); upstream.destroy(); } },
    close: () => new Promise((done) => { for (const p of pairs) { p.client.destroy(); p.upstream.destroy(); } proxy.close(done); }),
  })));
}

test('an EventSource reconnects by itself and gets every message exactly once', async (t) => {
  const proxy = await startProxy(server.port);
  t.after(() => proxy.close());                 // even when an assertion fails
  const page = await newPage();
  await page.goto(proxy.base + '/sse.html?name=cutme');
  await page.locator('#state.ok').waitFor({ timeout: WAIT });
  await postMessage('before one');
  await postMessage('before two');
  await waitForMessage(page, 'before two');
  const lastBefore = (await page.locator('#content li .id').last().textContent()).replace(/^#(\d+).*/, '$1');

  proxy.cutAll();                               // the connection dies under the browser
  await page.locator('#state.bad').waitFor({ timeout: WAIT });
  const during = ['during one', 'during two', 'during three'];
  for (const text of during) await postMessage(text);   // straight to the server
  await waitForMessage(page, 'during three');            // the browser came back by itself
  await page.locator('#state.ok').waitFor({ timeout: WAIT });
  await postMessage('after');
  await waitForMessage(page, 'after');

  assert.deepEqual(await messageTexts(page), ['before one', 'before two', ...during, 'after']);
  const reconnects = await page.textContent('#reconnects');
  assert.ok(reconnects.includes('Last-Event-ID: ' + lastBefore + ' '), `${reconnects} (last before the cut: ${lastBefore})`);
  assert.match(reconnects, /— 3 message\(s\) sent meanwhile replayed/);
  assert.match(await page.textContent('#raw'), /id: \d+\ndata: \{"status":true,"msg":"after"/);
  await shot(page, 'sse-reconnected-en.png');
  await page.context().close();
});

test('the long-poll and WebSocket chats resume with since after a cut', async (t) => {
  const proxy = await startProxy(server.port);
  t.after(() => proxy.close());
  const poll = await newPage();
  const ws = await newPage();
  await poll.goto(proxy.base + '/ab_b1?name=resumer');
  await ws.goto(proxy.base + '/ws.html?name=resumer-ws');
  await ws.locator('#state.ok').waitFor({ timeout: WAIT });
  await postMessage('first');
  await waitForMessage(poll, 'first');
  await waitForMessage(ws, 'first');
  proxy.cutAll();
  await ws.locator('#state.bad').waitFor({ timeout: WAIT });
  for (const text of ['gap one', 'gap two']) await postMessage(text);
  await waitForMessage(poll, 'gap two');
  await waitForMessage(ws, 'gap two');
  for (const page of [poll, ws])
    assert.deepEqual(await messageTexts(page), ['first', 'gap one', 'gap two']);
  for (const page of [poll, ws]) await page.context().close();
});

test('the compare page measures all four techniques', async () => {
  const page = await newPage();
  await page.goto(server.base + '/compare.html');
  await page.click('#toggle');
  // Three messages (6 s): each technique has drawn a delay for every one.
  await page.waitForFunction(() => document.querySelectorAll('#chart circle').length >= 12, null,
    { timeout: 20_000 });
  for (const id of ['short', 'long', 'ws', 'sse'])
    assert.match(await page.textContent(`#col-${id} .delay`), /^\d+ ms$/);
  assert.equal(await page.locator('#chart polyline').count(), 4);
  await shot(page, 'compare-running-en.png');
  await page.click('#toggle');
  await page.context().close();
});

test('every page reads in both languages', async () => {
  const pages = { '/': 'index', '/ab_dy': 'ab_dy', '/polling.html?name=lang': 'polling',
    '/ab_b1?name=lang': 'ab_b1', '/ws.html?name=lang': 'ws', '/sse.html?name=lang': 'sse',
    '/compare.html': 'compare',
    '/queues.html': 'queues' };
  for (const lang of ['en', 'zh']) {
    const page = await newPage(lang);
    for (const [path, file] of Object.entries(pages)) {
      await page.goto(server.base + path);
      const title = await page.textContent('h1');
      assert.ok(title.length > 3, `${path} has no title in ${lang}`);
      assert.equal(/[\u4e00-\u9fff]/.test(title), lang === 'zh', `${path} title "${title}" in ${lang}`);
      assert.equal(await page.getAttribute('html', 'lang'), lang === 'zh' ? 'zh-CN' : 'en');
      await shot(page, `${file}-${lang}.png`);
    }
    // The toggle switches and is remembered.
    await page.goto(server.base + '/');
    await page.click('#lang-toggle');
    const other = lang === 'en' ? /[\u4e00-\u9fff]/ : /^[^\u4e00-\u9fff]*$/;
    assert.match(await page.textContent('h1'), other);
    await page.reload();
    assert.match(await page.textContent('h1'), other);
    await page.context().close();
  }
});

test('no request left 127.0.0.1', () => {
  assert.deepEqual(leftLoopback, []);
});
