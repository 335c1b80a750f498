// pages.test.mjs — the teaching pages in a real browser: Debian's headless
// chromium, driven by playwright-core, against a real build/pushq on
// 127.0.0.1. Run with `make e2e`. Screenshots go to build/e2e/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PUSHQ = process.env.PUSHQ_BIN ? ROOT + process.env.PUSHQ_BIN : ROOT + 'build/pushq';
const SHOTS = ROOT + 'build/e2e/';
const WAIT = 10_000;               // the longest any expectation may take

let browser, server;
const leftLoopback = [];            // every request to a host other than 127.0.0.1

// ------------------------------------------------------------------ server
function startServer(port = 0, extra = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(PUSHQ, ['--port', String(port), '--www', ROOT + 'www', '--log', 'warn',
      '--poll-timeout', '3', '--max-body', '262144', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
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
const PHONE = { width: 390, height: 844 }, DESKTOP = { width: 1100, height: 900 }, WIDE = { width: 1280, height: 900 };

// A page in a fresh browser profile. Its console errors are kept in
// page.consoleErrors (a test that stops the server expects some).
async function newPage(lang = 'en', viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, isMobile: viewport === PHONE, hasTouch: viewport === PHONE });
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
  page.consoleErrors = [];
  page.on('console', (msg) => { if (msg.type() === 'error') page.consoleErrors.push(msg.text()); });
  return page;
}

const shot = (page, file) => page.screenshot({ path: SHOTS + file, fullPage: true });

// The texts of a chat's messages, in order.
const messageTexts = (page) => page.locator('#content li .text').allTextContents();

async function waitForMessage(page, text) {
  await page.locator('#content li .text', { hasText: text }).first().waitFor({ timeout: WAIT });
}

// POST /send_msg; `target` may add channel= or to=. Returns the answer.
async function postMessage(content, from = 'node', target = {}) {
  const res = await fetch(server.base + '/send_msg', {
    method: 'POST', body: new URLSearchParams({ content, name: from, ...target }),
  });
  assert.equal(res.status, 200);
  return res.json();
}

// The elements of <main> that stick out of the box they are in (a box that
// scrolls its content is allowed to hold wider content).
const overflowing = (page) => page.evaluate(() => [...document.querySelectorAll('main *')].filter((el) => {
  const parent = el.parentElement;
  if (getComputedStyle(parent).overflowX !== 'visible') return false;
  const r = el.getBoundingClientRect(), box = parent.getBoundingClientRect();
  return r.width > 0 && (r.right > box.right + 1 || r.left < box.left - 1);
}).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : '') +
  ' "' + el.textContent.slice(0, 40) + '"'));

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
  assert.equal(await bob.inputValue('#name'), 'bob 李');

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
  await page.waitForFunction(() => document.querySelectorAll('#chart .point').length >= 12, null,
    { timeout: 20_000 });
  for (const id of ['short', 'long', 'ws', 'sse'])
    assert.match(await page.textContent(`#col-${id} .delay`), /^\d+ ms$/);
  assert.equal(await page.locator('#chart polyline.series').count(), 5);   // and pushq.js
  await shot(page, 'compare-running-en.png');
  await page.click('#toggle');
  await page.context().close();
});

test('the queue lab: a get that times out into Empty, and one woken by a put', async () => {
  for (const [lang, viewport, tag] of [['en', DESKTOP, 'desktop'], ['zh', PHONE, 'phone']]) {
    const page = await newPage(lang, viewport);
    await page.goto(server.base + '/lab.html');
    await page.locator('#queue-id', { hasText: /^[0-9a-f]{8}$/ }).waitFor({ timeout: WAIT });
    // Step 3: get(timeout=3) on the empty queue. First its thread sleeps...
    await page.click('#step-3 button');
    const sleeping = page.locator('.lane[data-call="get"][data-state="sleeping"]');
    await sleeping.waitFor({ timeout: WAIT });
    assert.match(await sleeping.locator('.what').textContent(), lang === 'en' ? /blocked in queue_get/ : /阻塞在 queue_get/);
    assert.match(await page.locator('#py .line.run').textContent(), /q\.get\(timeout=3\)/);
    assert.match(await page.locator('#c .line.run').textContent(), /queue_get\(q, &item, true, &\(double\)\{3\}\)/);
    await page.locator('#counts', { hasText: lang === 'en' ? /in get 1/ : /get 的线程 1/ }).waitFor({ timeout: WAIT });
    // ...then, nobody putting, it ends in queue.Empty after 3 s.
    const empty = page.locator('.lane[data-call="get"][data-state="Empty"]');
    await empty.waitFor({ timeout: WAIT });
    assert.match(await empty.locator('.what').textContent(), /queue\.Empty/);
    assert.match(await page.textContent('#py'), /raise queue\.Empty/);
    assert.match(await page.textContent('#c'), /QUEUE_EMPTY/);
    await page.locator('#step-3.done').waitFor({ timeout: WAIT });
    // Step 5: get(timeout=10) sleeps; a put 1.5 s later wakes it.
    await page.click('#step-5 button');
    await page.locator('#step-5.done').waitFor({ timeout: 15_000 });
    // The newest lane is on top.
    const woken = page.locator('.lane[data-call="get"][data-state="ok"]').first();
    const put = page.locator('.lane[data-call="put"][data-state="ok"]').first();
    assert.match(await woken.locator('.what').textContent(), lang === 'en' ? /woken by call #\d+ q\.put\('hello', timeout=3\) after 1\.\d s: got “hello”/ : /被调用 #\d+ .*唤醒/);
    assert.equal(await woken.getAttribute('data-put'), await put.getAttribute('data-put'));
    const arrow = page.locator('svg.arrows path.arrow[data-to="' + await woken.getAttribute('data-no') + '"]');
    assert.equal(await arrow.getAttribute('data-from'), await put.getAttribute('data-no'));
    assert.equal(await arrow.getAttribute('data-to'), await woken.getAttribute('data-no'));
    // Step 4 ends in queue.Full, step 6 in a join that returns, step 7 in ShutDown.
    await page.click('#step-4 button');
    await page.locator('.lane[data-call="put"][data-state="Full"]').waitFor({ timeout: WAIT });
    assert.equal(await page.locator('#slots .slot.full').count(), 3);
    await page.click('#step-6 button');
    await page.locator('.lane[data-call="join"][data-state="ok"]').waitFor({ timeout: 15_000 });
    await page.click('#step-7 button');
    await page.locator('#step-7.done').waitFor({ timeout: 15_000 });
    await page.locator('.lane[data-call="get"][data-state="ShutDown"]').first().waitFor({ timeout: WAIT });
    assert.match(await page.textContent('#py'), /raise queue\.ShutDown/);
    await shot(page, `lab-steps-${lang}-${tag}.png`);
    assert.deepEqual(page.consoleErrors, []);
    await page.context().close();
  }
});

test('the queue lab says what it refuses', async () => {
  const page = await newPage();
  await page.goto(server.base + '/lab.html');
  await page.locator('#queue-id', { hasText: /^[0-9a-f]{8}$/ }).waitFor({ timeout: WAIT });
  await page.fill('#timeout', '31');
  await page.click('[data-call="get"]');
  await page.locator('.lane[data-state="refused"]').waitFor({ timeout: WAIT });
  assert.match(await page.textContent('#lab-error'), /holds a server thread/);
  await page.fill('#timeout', '0');
  await page.click('[data-call="task_done"]');
  await page.locator('.lane[data-call="task_done"][data-state="ValueError"]').waitFor({ timeout: WAIT });
  await page.context().close();
});

test('the long-poll timeline: held, timed out, woken; the running line follows', async () => {
  const page = await newPage();
  await page.goto(server.base + '/ab_b1?name=timeline');
  // The server's --poll-timeout (3 s in these tests) is what the page says.
  await page.locator('#lead', { hasText: 'up to 3 s' }).waitFor({ timeout: WAIT });
  await page.locator('.tl-row[data-state="held"]').waitFor({ timeout: WAIT });
  await page.locator('#status', { hasText: /^held: .*\d\.\d s until --poll-timeout/ }).waitFor({ timeout: WAIT });
  assert.match(await page.locator('#code .tutorial .line.run').textContent(), /q\.get\(timeout=10\)/);
  assert.match(await page.locator('#code .ours .line.run').first().textContent(), /srv_client_take/);
  await page.locator('.tl-row[data-state="timeout"]').waitFor({ timeout: WAIT });
  await page.locator('#last', { hasText: /timed out after \d\.\d s with nothing/ }).waitFor({ timeout: WAIT });
  await postMessage('wake the poll', 'someone else');
  await page.locator('.tl-row[data-state="message"]').waitFor({ timeout: WAIT });
  await page.locator('#last', { hasText: /woken by a message/ }).waitFor({ timeout: WAIT });
  // Every message shows its delay, also one this page did not send.
  assert.match(await page.locator('#content li .id').last().textContent(), /delay \d+ ms/);
  await shot(page, 'long-poll-timeline-en.png');
  assert.deepEqual(page.consoleErrors, []);
  await page.context().close();
});

test('the short-poll timeline shows empty answers; the queues page calls it a short poll', async () => {
  const page = await newPage('zh');
  await page.goto(server.base + '/polling.html?name=shorttl');
  await page.fill('#interval', '0.5');
  await page.dispatchEvent('#interval', 'change');
  await page.locator('.tl-row[data-state="empty"]').nth(1).waitFor({ timeout: WAIT });
  const queues = await newPage('zh');
  await queues.goto(server.base + '/queues.html');
  await queues.locator('tr[data-name="shorttl"][data-kind="short"]', { hasText: '短轮询' }).waitFor({ timeout: WAIT });
  for (const p of [page, queues]) await p.context().close();
});

test('a name already waiting: the competing-consumers lesson, and another name', async () => {
  const first = await newPage();
  await first.goto(server.base + '/ab_b1?name=twin');
  await first.locator('.tl-row[data-state="held"]').waitFor({ timeout: WAIT });
  const second = await newPage('zh');
  await second.goto(server.base + '/ab_b1?name=twin');
  const lesson = second.locator('#in-use');
  await lesson.waitFor({ state: 'visible', timeout: WAIT });
  assert.match(await lesson.textContent(), /twin.*竞争消费者/s);
  await shot(second, 'name-in-use-zh.png');
  await lesson.locator('button.other').click();
  await second.waitForURL((url) => url.searchParams.get('name') !== 'twin', { timeout: WAIT });
  const newName = new URL(second.url()).searchParams.get('name');
  assert.match(newName, /^twin-[0-9a-f]{4}$/);
  assert.equal(await second.inputValue('#name'), newName);
  // The name is kept for the other chat pages of this browser.
  await second.goto(server.base + '/ws.html');
  assert.equal(new URL(second.url()).searchParams.get('name'), newName);
  for (const p of [first, second]) await p.context().close();
});

test('sending while the server is down keeps the text and says so', async () => {
  const poll = await newPage();
  const ws = await newPage('zh');
  const cmp = await newPage();
  await poll.goto(server.base + '/ab_b1?name=downpoll');
  await ws.goto(server.base + '/ws.html?name=downws');
  await cmp.goto(server.base + '/compare.html');
  await ws.locator('#state.ok').waitFor({ timeout: WAIT });
  await cmp.fill('#rate', '0.5');
  await cmp.click('#toggle');
  const port = server.port;
  assert.equal(await stopServer(server), 0);
  await ws.locator('#state.bad').waitFor({ timeout: WAIT });
  await poll.fill('#d2', 'are you there?');
  await poll.click('#d1');
  await poll.locator('#send-note', { hasText: 'server is unreachable' }).waitFor({ timeout: WAIT });
  assert.equal(await poll.inputValue('#d2'), 'are you there?');
  await ws.fill('#d2', '有人吗');
  await ws.click('#d1');
  await ws.locator('#send-note', { hasText: '还没连上' }).waitFor({ timeout: WAIT });
  assert.equal(await ws.inputValue('#d2'), '有人吗');
  await cmp.locator('#cmp-note', { hasText: 'unreachable' }).waitFor({ timeout: WAIT });
  server = await startServer(port);
  // The same text, sent again once the server is back, arrives.
  await poll.locator('#status:not(.bad)').waitFor({ timeout: 15_000 });
  await poll.click('#d1');
  await waitForMessage(poll, 'are you there?');
  assert.equal(await poll.inputValue('#d2'), '');
  assert.equal(await poll.locator('#send-note').isHidden(), true);
  // Every column of the compare page comes back by itself.
  const before = await cmp.locator('#chart .point').count();
  await cmp.waitForFunction((n) => ['short', 'long', 'ws', 'sse'].every((id) =>
    document.querySelectorAll('#chart .point.' + id).length > 0) && document.querySelectorAll('#chart .point').length > n + 4, before, { timeout: 20_000 });
  await cmp.click('#toggle');
  for (const p of [poll, ws, cmp]) await p.context().close();   // (their console errors: the refused connections)
});

test('the WebSocket lab: key presets, long payloads, server frames', async () => {
  const page = await newPage('en', PHONE);
  await page.goto(server.base + '/ws.html?name=labby');
  await page.click('#key-rfc');
  await page.locator('#lab-accept', { hasText: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=' }).waitFor({ timeout: WAIT });
  await page.locator('#lab-match.ok').waitFor({ timeout: WAIT });
  assert.match(await page.textContent('#upgrade-response'), /^HTTP\/1\.1 101 Switching Protocols\nUpgrade: websocket/);
  await page.click('#key-tutorial');
  await page.locator('#lab-key', { hasText: 'ePW8kp1XqLNWbJxE/Q38SA==' }).waitFor({ timeout: WAIT });
  await page.locator('#lab-match.ok').waitFor({ timeout: WAIT });
  await page.fill('#frame-text', 'é'.repeat(100));
  assert.match(await page.locator('#frame-bytes .byte-group').nth(1).textContent(), /length code 126/);
  assert.match(await page.locator('#decode-steps li').nth(1).textContent(), /^Length code 126, then 16 bits: 200\.$/);
  await page.fill('#frame-text', 'x'.repeat(70_000));
  const step5 = await page.locator('#decode-steps li').last().textContent();
  assert.ok(step5.length < 300, `step 5 is ${step5.length} characters`);
  assert.match(step5, /70,000 characters in all/);
  assert.equal(await page.locator('#server-frames .bytes').count(), 3);
  assert.match(await page.locator('#server-frames .byte-group').first().textContent(), /^81/);
  assert.match(await page.textContent('#server-frames'), /88.*02.*03 e8/s);
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  assert.ok(height < 9000, `the page is ${height} px tall`);
  await page.context().close();
});

test('every page: both languages, desktop and phone, no overflow, no console error', async () => {
  const pages = { '/': 'index', '/lab.html': 'lab', '/ab_dy': 'ab_dy', '/polling.html?name=lang': 'polling',
    '/ab_b1?name=lang': 'ab_b1', '/ws.html?name=lang': 'ws', '/sse.html?name=lang': 'sse',
    '/compare.html': 'compare', '/queues.html': 'queues', '/channels.html?name=lang-tab': 'channels',
    '/teach.html': 'teach' };
  // Long messages must wrap, not widen the page.
  await postMessage('a-very-long-word-'.repeat(30) + ' and ' + '很长的消息'.repeat(40), 'someone-with-a-rather-long-name-indeed');
  for (const [viewport, tag] of [[DESKTOP, 'desktop'], [PHONE, 'phone']]) {
    for (const lang of ['en', 'zh']) {
      const page = await newPage(lang, viewport);
      for (const [path, file] of Object.entries(pages)) {
        await page.goto(server.base + path);
        if (file === 'compare') {                   // draw it running
          await page.fill('#rate', '0.5');
          await page.click('#toggle');
          await page.waitForFunction(() => document.querySelectorAll('#chart .point').length >= 8, null, { timeout: 20_000 });
        }
        if (file === 'ab_b1' || file === 'polling') await page.locator('.tl-row').first().waitFor({ timeout: WAIT });
        if (file === 'ab_b1') await postMessage('a-very-long-word-'.repeat(30));
        if (file === 'ab_b1') await waitForMessage(page, 'a-very-long-word-');
        const title = await page.textContent('h1');
        assert.ok(title.length > 3, `${path} has no title in ${lang}`);
        assert.equal(/[\u4e00-\u9fff]/.test(title), lang === 'zh', `${path} title "${title}" in ${lang}`);
        assert.equal(/[\u4e00-\u9fff]/.test(await page.title()), lang === 'zh', `${path} <title> in ${lang}`);
        assert.equal(await page.getAttribute('html', 'lang'), lang === 'zh' ? 'zh-CN' : 'en');
        const width = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
        assert.ok(width[0] <= width[1], `${path} in ${lang} on ${tag}: ${width[0]} px wide in ${width[1]}`);
        if (file !== 'index' && file !== 'ab_dy' && file !== 'lab' && file !== 'queues' && file !== 'compare' && file !== 'teach')
          assert.ok(await page.locator('#code .line').count() > 5, `${path} shows no code`);
        await shot(page, `${file}-${lang}-${tag}.png`);
        if (file === 'compare') await page.click('#toggle');
      }
      assert.deepEqual(page.consoleErrors, [], `console errors in ${lang} on ${tag}`);
      // The toggle switches and is remembered.
      await page.goto(server.base + '/');
      await page.click('#lang-toggle');
      const other = lang === 'en' ? /[\u4e00-\u9fff]/ : /^[^\u4e00-\u9fff]*$/;
      assert.match(await page.textContent('h1'), other);
      await page.reload();
      assert.match(await page.textContent('h1'), other);
      await page.context().close();
    }
  }
});

test('a closed tab stops waiting at once; the queues page explains the rest', async () => {
  const poll = await newPage();
  await poll.goto(server.base + '/ab_b1?name=closer');
  await poll.locator('.tl-row[data-state="held"]').waitFor({ timeout: WAIT });
  const queues = await newPage();
  await queues.goto(server.base + '/queues.html');
  await queues.locator('tr[data-name="closer"] .dot.on').waitFor({ timeout: WAIT });
  await poll.context().close();
  await queues.locator('tr[data-name="closer"] .dot:not(.on)').waitFor({ timeout: 2500 });
  assert.match(await queues.textContent('tr[data-name="closer"]'), /idle \d+ s/);
  assert.match(await queues.textContent('main'), /--client-ttl/);
  await queues.context().close();
});

// ------------------------------------------------ channels and presence
test('the channels page: each publish reaches exactly its receivers, both languages, desktop and phone', async () => {
  for (const [lang, viewport, tag] of [['en', WIDE, 'desktop'], ['zh', WIDE, 'desktop'], ['en', PHONE, 'phone'], ['zh', PHONE, 'phone']]) {
    const page = await newPage(lang, viewport);
    const me = `demo-${lang}-${tag}`;
    await page.goto(server.base + `/channels.html?name=${me}&channel=${me}`);
    const cards = page.locator('#demo-clients > section');
    assert.equal(await cards.count(), 3);
    for (let i = 0; i < 3; i++) await cards.nth(i).locator('.status.ok').waitFor({ timeout: WAIT });
    await page.locator('#state.ok').waitFor({ timeout: WAIT });
    const [ana, ben, cai] = await cards.evaluateAll((els) => els.map((el) => el.dataset.name));
    const card = (name) => page.locator(`#demo-clients > section[data-name="${name}"]`);
    const result = page.locator('#demo-result');

    // To a channel: the queues of its members, and no other.
    const expect = async (button, receivers, took) => {
      const before = await page.evaluate(() => document.getElementById('demo-exchange')?.textContent ?? '');
      await page.click(button);
      await page.waitForFunction((b) => document.getElementById('demo-exchange')?.textContent !== b &&
        document.getElementById('demo-who'), before, { timeout: WAIT });
      assert.equal(await result.getAttribute('data-receivers'), String(receivers));
      assert.deepEqual((await result.getAttribute('data-took')).split(',').sort(), took.sort());
      assert.match(await page.textContent('#demo-exchange'), new RegExp('"receivers":' + receivers + '\\}'));
      for (const name of [ana, ben, cai])
        assert.equal(await card(name).evaluate((el) => el.classList.contains('got')), took.includes(name), name);
    };
    await expect('button[data-channel^="maths-"]', 2, [ana, cai]);
    assert.match(await page.locator('#code .ours .line.run').first().textContent(), /srv_channel_find/);
    assert.match(await page.textContent('#code .ours'), /put_into\(r, members\[i\], m, p\);/);
    assert.match(await page.textContent('#code .tutorial'), /for q in q_dict\.values\(\):/);
    assert.match(await page.textContent('#code .tutorial'), /q_dict\[name\]\.put\(content\)/);
    await expect('button[data-channel^="art-"]', 2, [ben, cai]);
    // To one name: a direct message from ana to ben, into ben's queue only.
    await page.selectOption('#demo-from', ana);
    await page.fill('#demo-text', lang === 'en' ? 'just for ben' : '只给 ben');
    await expect(`button[data-to="${ben}"]`, 1, [ben]);
    assert.match(await page.locator('#code .ours .line.run').first().textContent(), /srv_table_find/);
    const last = card(ben).locator('ul.messages li').last();
    assert.equal(await last.locator('.where').textContent(), lang === 'en' ? 'to you' : '私信给你');
    assert.equal(await last.locator('.from').textContent(), ana);
    assert.equal(await card(ana).locator('ul.messages li .text', { hasText: /ben/ }).count(), 0);
    assert.equal(await card(cai).locator('ul.messages li .text', { hasText: /ben/ }).count(), 0);

    // This tab is online in its channel.
    await page.locator(`#presence li[data-name="${me}"][data-kind="ws"]`).waitFor({ timeout: WAIT });
    assert.match(await page.textContent('#presence-title'), lang === 'en' ? /Online in #demo-en-\w+: 1/ : /在线：1/);
    const title = await page.textContent('h1');
    assert.equal(/[\u4e00-\u9fff]/.test(title), lang === 'zh', title);
    const width = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(width[0] <= width[1], `${lang} on ${tag}: ${width[0]} px wide in ${width[1]}`);
    assert.deepEqual(await overflowing(page), [], `${lang} on ${tag}`);
    await shot(page, `channels-live-${lang}-${tag}.png`);
    assert.deepEqual(page.consoleErrors, []);
    await page.context().close();
  }
});

test('two tabs in two channels: a channel message reaches only its tab, a direct message only its target', async () => {
  const red = await newPage();
  const blue = await newPage('zh');
  await red.goto(server.base + '/channels.html?name=tab-red&channel=red');
  await blue.goto(server.base + '/channels.html?name=tab-blue&channel=blue');
  for (const page of [red, blue]) await page.locator('#state.ok').waitFor({ timeout: WAIT });
  await red.locator('#presence li[data-name="tab-red"]').waitFor({ timeout: WAIT });
  await blue.locator('#presence li[data-name="tab-blue"]').waitFor({ timeout: WAIT });
  assert.equal(await red.locator('#presence li[data-name="tab-blue"]').count(), 0);

  // red publishes into its own channel: only red's queue.
  await red.fill('#tab-text', 'for red only');
  await red.click('#tab-pub');
  await waitForMessage(red, 'for red only');
  await red.locator('#tab-result[data-receivers="1"]').waitFor({ timeout: WAIT });
  assert.equal(await red.locator('#content li .where').last().textContent(), '#red');
  // blue publishes into red's channel: red gets it, blue does not.
  await blue.fill('#tab-target-channel', 'red');
  await blue.fill('#tab-text', 'from blue into red');
  await blue.click('#tab-pub');
  await waitForMessage(red, 'from blue into red');
  await blue.locator('#tab-result[data-receivers="1"]').waitFor({ timeout: WAIT });
  // red sends blue a direct message: only blue.
  await red.fill('#tab-to', 'tab-blue');
  await red.fill('#tab-text', 'psst, blue');
  await red.click('#tab-dm');
  await waitForMessage(blue, 'psst, blue');
  assert.equal(await blue.locator('#content li .where').last().textContent(), '私信给你');
  assert.match(await red.textContent('#tab-result'), /went into tab-blue’s queue only/);
  // A direct message to nobody: 404, said.
  await red.fill('#tab-to', 'nobody-by-this-name');
  await red.fill('#tab-text', 'hello?');
  await red.click('#tab-dm');
  await red.locator('#tab-result', { hasText: 'no client named “nobody-by-this-name”' }).waitFor({ timeout: WAIT });
  assert.equal(await red.inputValue('#tab-text'), 'hello?');
  // One more into each channel: each tab gets its messages in order, so
  // anything meant for the other would have come before these.
  await postMessage('end of red', 'node', { channel: 'red' });
  await postMessage('end of blue', 'node', { channel: 'blue' });
  await waitForMessage(red, 'end of red');
  await waitForMessage(blue, 'end of blue');
  assert.deepEqual(await messageTexts(red), ['for red only', 'from blue into red', 'end of red']);
  assert.deepEqual(await messageTexts(blue), ['psst, blue', 'end of blue']);
  await shot(red, 'channels-tab-red-en.png');
  await shot(blue, 'channels-tab-blue-zh.png');
  // The one console error allowed: the browser logs the 404 it was answered.
  assert.deepEqual(red.consoleErrors.filter((e) => !/status of 404/.test(e)), []);
  assert.deepEqual(blue.consoleErrors, []);
  for (const p of [red, blue]) await p.context().close();
});

test('presence lists a tab while it is open and drops it after it closes', async () => {
  const watcher = await newPage();
  await watcher.goto(server.base + '/channels.html?name=watcher&channel=hall');
  await watcher.locator('#presence li[data-name="watcher"]').waitFor({ timeout: WAIT });
  const visitor = await newPage('zh');
  await visitor.goto(server.base + '/channels.html?name=visitor&channel=hall');
  await watcher.locator('#presence li[data-name="visitor"][data-kind="ws"]').waitFor({ timeout: WAIT });
  await watcher.locator('#presence-title', { hasText: 'Online in #hall: 2' }).waitFor({ timeout: WAIT });
  // A long-poll chat that joins hall with its picker is online there too.
  const poller = await newPage();
  await poller.goto(server.base + '/ab_b1?name=hall-poller');
  await poller.locator('.tl-row[data-state="held"]').waitFor({ timeout: WAIT });
  await poller.fill('#join-channel', 'hall');
  await poller.click('#join-form button');
  await watcher.locator('#presence li[data-name="hall-poller"][data-kind="poll"]').waitFor({ timeout: WAIT });
  await shot(watcher, 'channels-presence-en.png');

  await visitor.context().close();           // a WebSocket: gone at once
  await watcher.locator('#presence li[data-name="visitor"]').waitFor({ state: 'detached', timeout: 3000 });
  await poller.context().close();            // a long poll: within --poll-timeout (3 s here)
  await watcher.locator('#presence li[data-name="hall-poller"]').waitFor({ state: 'detached', timeout: 6000 });
  await watcher.locator('#presence-title', { hasText: 'Online in #hall: 1' }).waitFor({ timeout: WAIT });
  assert.equal(await watcher.locator('#presence li').count(), 1);
  assert.deepEqual(watcher.consoleErrors, []);
  await watcher.context().close();
});

test('the chat pages: the channel picker joins and leaves, the to field sends a direct message', async () => {
  const poll = await newPage();
  const ws = await newPage('zh');
  const sse = await newPage();
  await poll.goto(server.base + '/ab_b1?name=pick-poll');
  await ws.goto(server.base + '/ws.html?name=pick-ws');
  await sse.goto(server.base + '/sse.html?name=pick-sse');
  await poll.locator('.tl-row[data-state="held"]').waitFor({ timeout: WAIT });
  await ws.locator('#state.ok').waitFor({ timeout: WAIT });
  await sse.locator('#state.ok').waitFor({ timeout: WAIT });
  await sse.locator('#channels-box[data-synced]').waitFor({ timeout: WAIT });
  for (const page of [poll, ws, sse])
    assert.deepEqual(await page.locator('#my-channels li').evaluateAll((els) => els.map((el) => el.dataset.channel)), ['room']);

  // The long-poll and SSE chats join "algebra"; the WebSocket chat does not.
  for (const page of [poll, sse]) {
    await page.fill('#join-channel', 'algebra');
    await page.click('#join-form button');
    await page.locator('#my-channels li[data-channel="algebra"]').waitFor({ timeout: WAIT });
    assert.equal(await page.inputValue('#send-channel'), 'algebra');
  }
  // A bad channel name is refused before it is sent.
  await poll.fill('#join-channel', 'no spaces');
  await poll.click('#join-form button');
  await poll.locator('#pick-note', { hasText: '1 to 64 letters' }).waitFor({ timeout: WAIT });

  const answer = await postMessage('algebra only', 'node', { channel: 'algebra' });
  assert.equal(answer.receivers, 2);
  for (const page of [poll, sse]) {
    await waitForMessage(page, 'algebra only');
    assert.equal(await page.locator('#content li .where').last().textContent(), '#algebra');
  }
  // Sent from the long-poll chat into algebra, with the picker.
  await poll.fill('#d2', 'poll to algebra');
  await poll.click('#d1');
  await waitForMessage(sse, 'poll to algebra');
  await poll.locator('#send-info', { hasText: 'into 2 queue(s): the clients in #algebra' }).waitFor({ timeout: WAIT });
  // The WebSocket chat sends the long-poll chat a direct message (a JSON frame with "to").
  await ws.fill('#send-to', 'pick-poll');
  assert.equal(await ws.isDisabled('#send-channel'), true);
  await ws.fill('#d2', 'psst, poll');
  await ws.click('#d1');
  await waitForMessage(poll, 'psst, poll');
  assert.equal(await poll.locator('#content li .where').last().textContent(), 'to you');
  await ws.locator('#send-info', { hasText: '只有 pick-poll' }).waitFor({ timeout: WAIT });
  // ...and one to a name nobody has: the server's error frame is said.
  await ws.fill('#send-to', 'nobody-by-this-name');
  await ws.fill('#d2', 'anyone?');
  await ws.click('#d1');
  await ws.locator('#send-note', { hasText: '服务器拒收了这个帧：unknown client' }).waitFor({ timeout: WAIT });
  await ws.fill('#send-to', '');
  assert.equal(await ws.isDisabled('#send-channel'), false);

  // The long-poll chat leaves algebra; the last channel cannot be left.
  await poll.click('#my-channels li[data-channel="algebra"] button.leave');
  await poll.locator('#my-channels li[data-channel="algebra"]').waitFor({ state: 'detached', timeout: WAIT });
  assert.equal(await poll.isDisabled('#my-channels li[data-channel="room"] button.leave'), true);
  assert.equal((await postMessage('algebra after poll left', 'node', { channel: 'algebra' })).receivers, 1);
  await waitForMessage(sse, 'algebra after poll left');
  // The SSE chat reloads: its list is kept, and made the server's again.
  await sse.reload();
  await sse.locator('#channels-box[data-synced]').waitFor({ timeout: WAIT });
  assert.deepEqual(await sse.locator('#my-channels li').evaluateAll((els) => els.map((el) => el.dataset.channel)), ['room', 'algebra']);
  await postMessage('algebra after the reload', 'node', { channel: 'algebra' });
  await waitForMessage(sse, 'algebra after the reload');

  await postMessage('everyone in room');
  for (const page of [poll, ws, sse]) await waitForMessage(page, 'everyone in room');
  assert.deepEqual(await messageTexts(poll), ['algebra only', 'poll to algebra', 'psst, poll', 'everyone in room']);
  assert.deepEqual(await messageTexts(ws), ['everyone in room']);
  assert.deepEqual(await messageTexts(sse), ['algebra after the reload', 'everyone in room']);
  await shot(poll, 'chat-channels-longpoll-en.png');
  await shot(ws, 'chat-channels-ws-zh.png');
  await shot(sse, 'chat-channels-sse-en.png');
  for (const p of [poll, ws, sse]) await p.context().close();
});

test('with --token-key the chat pages pass their ?token= on, and say plainly when it is refused', async () => {
  const dir = mkdtempSync(tmpdir() + '/pushq-e2e-token-');
  const keyFile = dir + '/token.key';
  writeFileSync(keyFile, randomBytes(32).toString('hex') + '\n');
  const makeToken = (sub, ttl = 600) => execFileSync(PUSHQ,
    ['token', '--key', keyFile, '--sub', sub, '--channels', 'room', '--pub', 'room', '--ttl', String(ttl)],
    { encoding: 'utf8' }).trim();
  const locked = await startServer(0, ['--token-key', keyFile]);
  const pages = [];
  const open = async (path, lang = 'en') => {
    const page = await newPage(lang);
    pages.push(page);
    const res = await page.goto(locked.base + path);
    return [page, res];
  };
  // What a page says about its token: the note's key and text.
  const tokenNote = async (page) => {
    const note = page.locator('#token-note:not([hidden])');
    await note.waitFor({ timeout: WAIT });
    return [await note.getAttribute('data-key'), await note.textContent()];
  };
  try {
    assert.equal((await fetch(locked.base + '/get_msg?name=alice&timeout=0')).status, 401);   // really locked

    // With a token: the long-poll page as alice, the WebSocket page as wes
    // (its name from the token alone), the SSE page as sam.
    const [alice] = await open('/ab_b1?name=alice&token=' + makeToken('alice'));
    const [wes] = await open('/ws.html?token=' + makeToken('wes'), 'zh');
    const [sam] = await open('/sse.html?name=sam&token=' + makeToken('sam'));
    assert.equal(await wes.inputValue('#name'), 'wes');
    await wes.locator('#state.ok').waitFor({ timeout: WAIT });
    await sam.locator('#state.ok').waitFor({ timeout: WAIT });
    await alice.locator('#status.warn').waitFor({ timeout: WAIT });   // held: the first /get_msg was taken
    await alice.fill('#d2', 'hello with a token');
    await alice.click('#d1');
    for (const p of [alice, wes, sam]) await waitForMessage(p, 'hello with a token');
    await wes.fill('#d2', 'and back over the socket');
    await wes.click('#d1');
    for (const p of [alice, wes, sam]) await waitForMessage(p, 'and back over the socket');
    for (const p of [alice, wes, sam]) {
      assert.deepEqual(await p.locator('#content li .from').allTextContents(), ['alice', 'wes']);   // from = the token's sub
      assert.equal(await p.locator('#token-note').isHidden(), true);
    }
    assert.equal(await alice.locator('#send-note').isHidden(), true);
    await shot(alice, 'token-longpoll-alice-en.png');
    await shot(wes, 'token-websocket-wes-zh.png');

    // Without a token. The long-poll page's own address registers its name,
    // so the server refuses the page itself; the same page as a file says why.
    const [, bare] = await open('/ab_b1?name=bob');
    assert.equal(bare.status(), 401);
    const [bobPoll] = await open('/ab_b1.html?name=bob');
    const [key1, text1] = await tokenNote(bobPoll);
    assert.equal(key1, 'token.refused');
    assert.match(text1, /401.*token is missing, expired or not for the name “bob”/);
    await bobPoll.locator('#status.bad').waitFor({ timeout: WAIT });
    await shot(bobPoll, 'token-refused-longpoll-en.png');
    const [bobWs] = await open('/ws.html?name=bob', 'zh');
    const [key2, text2] = await tokenNote(bobWs);
    assert.equal(key2, 'token.refused');
    assert.match(text2, /401.*令牌缺失、已过期，或者不是给“bob”/);
    await bobWs.locator('#state.bad').waitFor({ timeout: WAIT });
    await shot(bobWs, 'token-refused-websocket-zh.png');
    // ... and in the other language after the toggle.
    await bobWs.click('#lang-toggle');
    assert.match(await bobWs.textContent('#token-note'), /401.*token is missing, expired or not for the name “bob”/);

    // A token for another name: refused too, on both pages.
    const aliceToken = makeToken('alice');
    const [, stolen] = await open('/ab_b1?name=mallory&token=' + aliceToken);
    assert.equal(stolen.status(), 403);
    for (const path of ['/ab_b1.html', '/ws.html']) {
      const [mallory] = await open(path + '?name=mallory&token=' + aliceToken);
      const [key, text] = await tokenNote(mallory);
      assert.equal(key, 'token.refused');
      assert.match(text, /403.*another name.*not for the name “mallory”/);
      if (path === '/ws.html') await shot(mallory, 'token-other-name-websocket-en.png');
    }

    // A token that runs out: the WebSocket is closed with 1008 and the page
    // says the token expired; the SSE stream ends and its reconnect is refused.
    const [eve] = await open('/ws.html?name=eve&token=' + makeToken('eve', 8));
    const [eva] = await open('/sse.html?name=eva&token=' + makeToken('eva', 8));
    await eve.locator('#state.ok').waitFor({ timeout: WAIT });
    const [key3, text3] = await tokenNote(eve);
    assert.equal(key3, 'token.expired');
    assert.match(text3, /token expired.*1008/);
    await shot(eve, 'token-expired-websocket-en.png');
    const [key4, text4] = await tokenNote(eva);
    assert.equal(key4, 'token.refused');
    assert.match(text4, /401: token expired/);
  } finally {
    for (const p of pages) await p.context().close();
    await stopServer(locked);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no request left 127.0.0.1', () => {
  assert.deepEqual(leftLoopback, []);
});
