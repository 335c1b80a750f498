// client.test.mjs — www/pushq.js (the client library) and its page
// (client.html) in headless Chromium against a real build/pushq, through a
// small proxy written here (node:http and node:net only) that can refuse
// WebSocket upgrades, hold back an event stream's bytes (a buffering proxy)
// and cut every connection. Everything on 127.0.0.1; every wait has a
// deadline; every process started here is stopped by its PID.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PUSHQ = process.env.PUSHQ_BIN ? ROOT + process.env.PUSHQ_BIN : ROOT + 'build/pushq';
const SHOTS = ROOT + 'build/e2e/';
const WAIT = 10_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let browser, server;
const procs = new Set();                   // every pushq started here

// ------------------------------------------------------------------ pushq
function startServer(port = 0, extra = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(PUSHQ, ['--port', String(port), '--www', ROOT + 'www', '--log', 'warn',
      '--poll-timeout', '3', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
    procs.add(proc);
    proc.once('exit', () => procs.delete(proc));
    const timer = setTimeout(() => reject(new Error('pushq did not start')), 5000);
    proc.stdout.once('data', (chunk) => {
      clearTimeout(timer);
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(String(chunk));
      if (!m) return reject(new Error('unexpected start line: ' + chunk));
      resolve({ proc, pid: proc.pid, port: Number(m[1]), base: 'http://127.0.0.1:' + m[1] });
    });
    proc.once('error', reject);
  });
}

// SIGTERM to its PID; it must be gone within 5 s (pushq promises 2).
function stopServer(s) {
  return new Promise((resolve, reject) => {
    if (s.proc.exitCode !== null || s.proc.signalCode !== null) return resolve(s.proc.exitCode);
    const timer = setTimeout(() => { process.kill(s.pid, 'SIGKILL'); reject(new Error('pushq ignored SIGTERM')); }, 5000);
    s.proc.once('exit', (code) => { clearTimeout(timer); resolve(code); });
    process.kill(s.pid, 'SIGTERM');
  });
}

async function postMessage(base, content, target = {}, headers = {}) {
  const res = await fetch(base + '/send_msg', {
    method: 'POST', headers, body: new URLSearchParams({ content, name: 'node', ...target }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

// ------------------------------------------------------------------ proxy
// Between Chromium and pushq. mode.refuseWs: an upgrade is answered 403
// (a proxy that does not pass WebSockets). mode.bufferSse: a
// text/event-stream answer's head goes on, its bytes are held until the
// stream ends (a proxy with buffering on). cut(): every open connection, on
// both sides, is destroyed at once.
function startProxy(upstreamPort) {
  const mode = { refuseWs: false, bufferSse: false };
  const sockets = new Set();
  const track = (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)); return s; };
  const hop = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade']);
  const headersOf = (h) => Object.fromEntries(Object.entries(h).filter(([k]) => !hop.has(k)));
  const agent = new http.Agent({ keepAlive: false });
  let streams = 0, held = 0;

  const proxy = http.createServer((req, res) => {
    const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url,
      headers: headersOf(req.headers), agent }, (ures) => {
      // One request per connection: a cut then fails the request it hits
      // (Chromium silently retries a GET cut on a reused keep-alive socket).
      res.shouldKeepAlive = false;
      res.writeHead(ures.statusCode, headersOf(ures.headers));
      if (!/^text\/event-stream/.test(ures.headers['content-type'] || '')) return ures.pipe(res);
      streams++;
      res.flushHeaders();
      if (!mode.bufferSse) return ures.pipe(res);
      const kept = [];
      ures.on('data', (bytes) => { kept.push(bytes); held += bytes.length; });
      ures.on('end', () => { for (const bytes of kept) res.write(bytes); res.end(); });
    });
    up.on('socket', track);
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  proxy.on('connection', track);
  proxy.on('upgrade', (req, socket, head) => {
    track(socket);
    socket.on('error', () => {});
    if (mode.refuseWs) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const up = track(net.connect(upstreamPort, '127.0.0.1'));
    up.on('error', () => socket.destroy());
    up.on('close', () => socket.destroy());
    socket.on('close', () => up.destroy());
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(req.rawHeaders[i] + ': ' + req.rawHeaders[i + 1]);
    up.write(lines.join('\r\n') + '\r\n\r\n');
    up.write(head);
    socket.pipe(up);
    up.pipe(socket);
  });
  return new Promise((resolve) => proxy.listen(0, '127.0.0.1', () => {
    const port = proxy.address().port;
    resolve({
      mode, port, base: 'http://127.0.0.1:' + port,
      get streams() { return streams; }, get held() { return held; },
      cut() { const n = sockets.size; for (const s of sockets) s.destroy(); return n; },
      close() { for (const s of sockets) s.destroy(); return new Promise((r) => proxy.close(r)); },
    });
  }));
}

// ---------------------------------------------------------------- browser
const PHONE = { width: 390, height: 844 }, DESKTOP = { width: 1100, height: 900 };
async function newPage(lang = 'en', viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, isMobile: viewport === PHONE, hasTouch: viewport === PHONE });
  await context.addInitScript((l) => {
    if (!localStorage.getItem('pushq.lang')) localStorage.setItem('pushq.lang', l);
  }, lang);
  await context.route('**/*', (route) =>
    new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort());
  const page = await context.newPage();
  page.on('pageerror', (error) => { throw error; });
  page.consoleErrors = [];
  page.on('console', (msg) => { if (msg.type() === 'error') page.consoleErrors.push(msg.text()); });
  return page;
}
const shot = (page, file) => page.screenshot({ path: SHOTS + file, fullPage: true });
const transportIs = (page, name, code) =>
  page.locator(`#transport[data-name="${name}"]` + (code ? `[data-code="${code}"]` : '')).waitFor({ timeout: 20_000 });
const stateIs = (page, state, timeout = WAIT) => page.locator(`#state[data-state="${state}"]`).waitFor({ timeout });
const waitForMessage = (page, text) =>
  page.locator('#content li .text', { hasText: text }).first().waitFor({ timeout: WAIT });

// A client made by pushq.js itself in `page`, recording everything it
// hands the application in window.rec.
async function moduleClient(page, options) {
  await page.evaluate(async (o) => {
    const { connect } = await import('/pushq.js');
    const rec = (window.rec ??= {});
    const r = rec[o.name] = { got: [], gaps: [], transports: [], states: [], restarts: [], errors: [], refreshes: 0 };
    const opts = { ...o };
    if (o.refreshing) {
      opts.refresh = async () => {
        r.refreshes++;
        if (r.refreshes === 1) throw new Error('the backend is away for a moment');
        return window.newToken(o.name);
      };
    }
    const c = connect(opts);
    c.on('message', (m) => r.got.push([m.id, m.msg]));
    c.on('gap', (g) => r.gaps.push(g));
    c.on('transport', (t) => r.transports.push(t));
    c.on('state', (s) => r.states.push(s));
    c.on('restart', (x) => r.restarts.push(x));
    c.on('error', (e) => r.errors.push(e));
    (window.clients ??= {})[o.name] = c;
  }, options);
  await page.waitForFunction((n) => window.clients[n].state === 'open', options.name, { timeout: WAIT });
}
const record = (page, name) => page.evaluate((n) => window.rec[n], name);

// Every message once, in order, or counted in a gap: the ids the client
// delivered increase, each text is one that was sent with that id, none
// twice, and received + missed + dropped = sent.
async function expectAllOrCounted(page, name, sent, prefix) {
  const deadline = Date.now() + 20_000;
  let r;
  for (;;) {
    r = await record(page, name);
    const mine = r.got.filter(([, text]) => text.startsWith(prefix)).length;
    const lost = r.gaps.reduce((n, g) => n + g.missed + g.dropped, 0);
    if (mine + lost >= sent.length) break;
    assert.ok(Date.now() < deadline, `${name}: ${mine} received + ${lost} lost of ${sent.length} sent, after 20 s`);
    await sleep(200);
  }
  const ids = r.got.map(([id]) => id);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i] > ids[i - 1], `${name}: id ${ids[i]} after ${ids[i - 1]}`);
  const byId = new Map(sent.map(([id, text]) => [id, text]));
  const mine = r.got.filter(([, text]) => text.startsWith(prefix));
  for (const [id, text] of mine) assert.equal(byId.get(id), text, `${name}: #${id} is "${text}"`);
  assert.equal(new Set(mine.map(([, text]) => text)).size, mine.length, `${name}: a message twice`);
  const lost = r.gaps.reduce((n, g) => n + g.missed + g.dropped, 0);
  assert.equal(mine.length + lost, sent.length, `${name}: ${mine.length} received + ${lost} lost != ${sent.length} sent`);
  return { received: mine.length, lost, r };
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
  for (const proc of procs) await stopServer({ proc, pid: proc.pid });
});

// ------------------------------------------------------------------ tests
test('client.html: WebSocket first, both languages, desktop and phone, no overflow, no console error', async () => {
  for (const [lang, viewport, tag] of [['en', DESKTOP, 'desktop'], ['zh', PHONE, 'phone']]) {
    const page = await newPage(lang, viewport);
    await page.goto(server.base + `/client.html?name=page-${lang}`);
    await transportIs(page, 'ws', 'start');
    await stateIs(page, 'open');
    const text = lang === 'en' ? 'hello through pushq.js' : '你好，pushq.js';
    await page.fill('#d2', text);
    await page.click('#d1');
    await waitForMessage(page, text);
    assert.match(await page.textContent('#send-info'), /#\d+/);
    assert.match(await page.textContent('#last-id'), /^#\d+$/);
    const title = await page.textContent('h1');
    assert.equal(/[\u4e00-\u9fff]/.test(title), lang === 'zh', title);
    assert.equal(/[\u4e00-\u9fff]/.test(await page.title()), lang === 'zh');
    assert.equal(/[\u4e00-\u9fff]/.test(await page.textContent('#state')), lang === 'zh');
    assert.doesNotMatch(await page.textContent('main'), /(^|\s)(client|chat)\.[a-z.-]+/, 'a text key shows instead of its text');
    const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(scroll <= inner, `${lang} on ${tag}: ${scroll} px wide in ${inner}`);
    // The toggle redraws what the page built.
    await page.click('#lang-toggle');
    assert.equal(/[\u4e00-\u9fff]/.test(await page.textContent('#state')), lang !== 'zh');
    assert.equal(/[\u4e00-\u9fff]/.test(await page.textContent('#reason')), lang !== 'zh');
    await page.click('#lang-toggle');
    await shot(page, `client-${lang}-${tag}.png`);
    assert.deepEqual(page.consoleErrors, []);
    await page.context().close();
  }
  // The map links to it.
  const home = await newPage();
  await home.goto(server.base + '/');
  await home.click('a[href="/client.html"]');
  await home.locator('#transport[data-name]').waitFor({ timeout: WAIT });
  await home.context().close();
});

test('(a) a proxy that refuses the WebSocket upgrade: the client runs on SSE and says why', async () => {
  const proxy = await startProxy(server.port);
  proxy.mode.refuseWs = true;
  try {
    const page = await newPage();
    await page.goto(proxy.base + '/client.html?name=behind-proxy');
    await transportIs(page, 'sse', 'upgrade-refused');
    await stateIs(page, 'open');
    assert.match(await page.textContent('#reason'), /WebSocket upgrade failed/);
    assert.match(await page.getAttribute('#reason', 'title'), /^ws: /);
    assert.match(await page.textContent('#log'), /now on Server-Sent Events/);
    await postMessage(server.base, 'pushed down an event stream');
    await waitForMessage(page, 'pushed down an event stream');
    assert.ok(proxy.streams >= 1);
    await shot(page, 'client-proxy-sse-en.png');
    await page.context().close();
  } finally { await proxy.close(); }
});

test('(b) it also buffers the event stream: long polling; back to WebSocket only when asked', async () => {
  const proxy = await startProxy(server.port);
  proxy.mode.refuseWs = true;
  proxy.mode.bufferSse = true;
  try {
    const page = await newPage('zh');
    await page.goto(proxy.base + '/client.html?name=buffered');
    await transportIs(page, 'longpoll', 'buffered');
    await stateIs(page, 'open');
    assert.ok(proxy.held > 0, 'the proxy held the stream’s first bytes');
    assert.match(await page.textContent('#reason'), /缓冲/);
    await postMessage(server.base, 'by long polling');
    await waitForMessage(page, 'by long polling');
    // The proxy is fixed: the client stays where it is until asked.
    proxy.mode.refuseWs = false;
    proxy.mode.bufferSse = false;
    await sleep(2500);
    assert.equal(await page.getAttribute('#transport', 'data-name'), 'longpoll');
    await page.click('#upgrade');
    await transportIs(page, 'ws', 'upgrade');
    await stateIs(page, 'open');
    await postMessage(server.base, 'on the WebSocket again');
    await waitForMessage(page, 'on the WebSocket again');
    const texts = await page.locator('#content li .text').allTextContents();
    assert.deepEqual(texts.filter((t) => /long polling|WebSocket again/.test(t)), ['by long polling', 'on the WebSocket again']);
    await shot(page, 'client-proxy-longpoll-zh.png');
    await page.context().close();
  } finally { await proxy.close(); }
});

test('(c) every connection cut every second for 20 s at 20 messages/s: each once, in order, or counted', async (t) => {
  const proxy = await startProxy(server.port);
  try {
    const page = await newPage();
    const failed = {};                       // requests the cuts broke, by path (Chromium calls every HEAD "aborted")
    page.on('requestfailed', (req) => {
      const path = new URL(req.url()).pathname;
      if (req.method() === 'GET') failed[path] = (failed[path] || 0) + 1;
    });
    await page.goto(proxy.base + '/client.html?name=cut-page');   // an origin for the module
    // The default list of transports, and each transport alone.
    const clients = { cutter: undefined, 'cut-ws': ['ws'], 'cut-sse': ['sse'], 'cut-lp': ['longpoll'] };
    for (const [name, transports] of Object.entries(clients))
      await moduleClient(page, { name, channels: ['cuts'], ...(transports ? { transports } : {}) });
    // A first message, so that each client has an id to resume from.
    await postMessage(server.base, 'warm-up', { channel: 'cuts' });
    await page.waitForFunction((names) => names.every((n) => window.rec[n].got.length === 1),
      Object.keys(clients), { timeout: WAIT });
    let cuts = 0;
    const cutter = setInterval(() => { cuts++; proxy.cut(); }, 1000);
    const sent = [];
    const start = Date.now();
    try {
      for (let i = 0; i < 400; i++) {
        const wait = start + i * 50 - Date.now();
        if (wait > 0) await sleep(wait);
        const answer = await postMessage(server.base, 'cut-' + i, { channel: 'cuts' });
        sent.push([answer.id, 'cut-' + i]);
      }
    } finally { clearInterval(cutter); }
    assert.ok(cuts >= 19, `${cuts} cuts`);
    for (const name of Object.keys(clients)) {
      const { received, lost, r } = await expectAllOrCounted(page, name, sent, 'cut-');
      const reconnects = r.states.filter((s) => s === 'reconnecting').length;
      // A long poll is only cut when a cut finds a request in flight.
      assert.ok(reconnects >= (name === 'cut-lp' ? 3 : 10), `${name}: only ${reconnects} reconnects in ${cuts} cuts`);
      t.diagnostic(`${name}: received ${received}, lost ${lost}, ${reconnects} reconnects over ${cuts} cuts, ` +
        `transports ${r.transports.map((x) => x.name + '/' + x.code).join(' ')}`);
    }
    t.diagnostic('requests broken by the cuts: ' + JSON.stringify(failed));
    assert.ok(failed['/events'] >= 10 && failed['/get_msg'] >= 3, 'the cuts broke streams and long polls');
    assert.equal((await record(page, 'cutter')).transports.at(-1).name, 'ws', 'cuts are no reason to leave the WebSocket');
    await page.context().close();
  } finally { await proxy.close(); }
});

test('(d) the server restarts on the same port: the client comes back by itself', async () => {
  const page = await newPage();
  await page.goto(server.base + '/client.html?name=phoenix');
  await transportIs(page, 'ws');
  await stateIs(page, 'open');
  // And one client on each of the other transports, beside the page's.
  for (const t of ['sse', 'longpoll']) await moduleClient(page, { name: 'phoenix-' + t, transports: [t] });
  await postMessage(server.base, 'before the restart');
  await waitForMessage(page, 'before the restart');
  await postMessage(server.base, 'before the restart, two');
  await waitForMessage(page, 'before the restart, two');
  const port = server.port;
  assert.equal(await stopServer(server), 0);
  await stateIs(page, 'reconnecting');
  await sleep(1500);                        // a few attempts while nobody listens
  server = await startServer(port);
  await stateIs(page, 'open', 20_000);
  await postMessage(server.base, 'after the restart');   // id 1 again: a new run
  await waitForMessage(page, 'after the restart');
  assert.equal(await page.getAttribute('#transport', 'data-name'), 'ws');
  assert.match(await page.textContent('#log'), /the server started again/);
  const texts = await page.locator('#content li .text').allTextContents();
  const wanted = ['before the restart', 'before the restart, two', 'after the restart'];
  assert.deepEqual(texts.filter((t) => /restart/.test(t)), wanted);
  for (const t of ['sse', 'longpoll']) {
    const name = 'phoenix-' + t;
    await page.waitForFunction((n) => window.rec[n].got.some(([, text]) => text === 'after the restart'), name, { timeout: WAIT });
    const r = await record(page, name);
    assert.deepEqual(r.got.map(([, text]) => text).filter((text) => /restart/.test(text)), wanted, name);
    assert.equal(r.restarts.length, 1, name);
    assert.deepEqual(r.transports.map((x) => x.name), [t], name);
    assert.equal(r.states.at(-1), 'open', name);
  }
  await shot(page, 'client-restart-en.png');
  await page.context().close();
});

test('a gap: what a full queue and a short history lost is reported, and the count adds up', async () => {
  const small = await startServer(0, ['--queue-size', '3', '--history', '4']);
  try {
    const page = await newPage();
    await page.goto(small.base + '/client.html?name=gappy');
    await stateIs(page, 'open');
    await postMessage(small.base, 'g-0');
    await waitForMessage(page, 'g-0');
    await page.click('#toggle');                          // away: its queue keeps 3, the history 4
    await stateIs(page, 'closed');
    for (let i = 1; i <= 20; i++) await postMessage(small.base, 'g-' + i);
    await page.click('#toggle');                          // back, from the last id it delivered
    await waitForMessage(page, 'g-20');
    const count = async (id) => Number(await page.textContent(id));
    const [received, dropped, missed] = [await count('#message-count') - 1, await count('#dropped-count'), await count('#missed-count')];
    assert.equal(received + dropped + missed, 20, `${received} + ${dropped} + ${missed}`);
    assert.ok(missed > 0, 'the history let some go');
    assert.match(await page.textContent('#gaps'), new RegExp(`${missed} missed`));
    const texts = (await page.locator('#content li .text').allTextContents()).map((t) => Number(t.slice(2)));
    assert.deepEqual(texts, [...texts].sort((x, y) => x - y), 'in order');
    assert.equal(new Set(texts).size, texts.length, 'each once');
    await shot(page, 'client-gap-en.png');
    await page.context().close();
  } finally { await stopServer(small); }
});

test('tokens: streams that expire every 3 s renew and resume, on each transport, losing nothing', async () => {
  const dir = mkdtempSync(tmpdir() + '/pushq-client-token-');
  const keyFile = dir + '/token.key', apiFile = dir + '/api.key';
  writeFileSync(keyFile, randomBytes(32).toString('base64'));
  const apiKey = randomBytes(16).toString('hex');
  writeFileSync(apiFile, apiKey);
  const makeToken = (sub, ttl = 3) => execFileSync(PUSHQ,
    ['token', '--key', keyFile, '--sub', sub, '--channels', 'room', '--ttl', String(ttl)]).toString().trim();
  const locked = await startServer(0, ['--token-key', keyFile, '--api-key', apiFile]);
  try {
    const page = await newPage();
    await page.exposeFunction('newToken', (sub) => makeToken(sub));
    await page.goto(locked.base + '/client.html?name=visitor');     // no token: refused, and says so
    await stateIs(page, 'refused');
    await page.locator('#token-note:not([hidden])').waitFor({ timeout: WAIT });
    const names = { ws: 'tok-ws', sse: 'tok-sse', longpoll: 'tok-lp' };
    for (const [t, name] of Object.entries(names))
      await moduleClient(page, { name, token: makeToken(name), transports: [t], refreshing: true });
    const sent = [];
    const auth = { Authorization: 'Bearer ' + apiKey };
    const start = Date.now();
    for (let i = 0; i < 80; i++) {                            // 8 s: two or three expiries each
      const wait = start + i * 100 - Date.now();
      if (wait > 0) await sleep(wait);
      const answer = await postMessage(locked.base, 'tok-' + i, { channel: 'room' }, auth);
      sent.push([answer.id, 'tok-' + i]);
    }
    for (const [t, name] of Object.entries(names)) {
      const { r } = await expectAllOrCounted(page, name, sent, 'tok-');
      assert.ok(r.refreshes >= 3, `${t}: ${r.refreshes} refreshes`);
      assert.ok(r.errors.some((e) => /refresh failed/.test(e.error)), `${t}: the failed refresh is reported`);
      assert.deepEqual(r.transports.map((x) => x.name), [t]);
      assert.equal(r.gaps.length, 0, `${t}: nothing lost`);
    }
    await page.context().close();
  } finally {
    await stopServer(locked);
    rmSync(dir, { recursive: true, force: true });
  }
});

// The clients /stats knows whose name starts with prefix.
async function clientsNamed(prefix) {
  const stats = await (await fetch(server.base + '/stats')).json();
  return stats.clients.filter((c) => c.name.startsWith(prefix)).map((c) => c.name);
}

test('compare.html: a fifth column through pushq.js; figures never wrap; Stop leaves nothing behind', async () => {
  for (const [lang, viewport, tag] of [['en', DESKTOP, 'desktop'], ['zh', PHONE, 'phone']]) {
    const page = await newPage(lang, viewport);
    await page.goto(server.base + '/compare.html');
    await page.fill('#rate', '0.5');
    await page.click('#toggle');
    // Every column, the library's too, has drawn a delay for three messages.
    await page.waitForFunction(() => ['short', 'long', 'ws', 'sse', 'client'].every((id) =>
      document.querySelectorAll('#chart .point.' + id).length >= 3), null, { timeout: 20_000 });
    // The first message's five markers side by side, never on top of each other.
    const centres = await page.evaluate(() => ['short', 'long', 'ws', 'sse', 'client'].map((id) => {
      const r = document.querySelector('#chart .point.' + id).getBoundingClientRect();
      return r.left + r.width / 2;
    }));
    for (let k = 1; k < centres.length; k++)
      assert.ok(centres[k] - centres[k - 1] >= 1.5, `markers at ${centres.join(', ')} px overlap`);
    assert.equal(await page.textContent('#col-client .transport'), 'WebSocket');
    assert.match(await page.textContent('#col-client .state'), lang === 'en' ? /^connected$/ : /^已连接$/);
    assert.equal(await page.textContent('#col-client .gaps'), '0');
    for (const id of ['short', 'long', 'ws', 'sse', 'client']) {
      const delay = page.locator(`#col-${id} .delay`);
      assert.match(await delay.textContent(), lang === 'en' ? /^\d+ ms$/ : /^\d+ 毫秒$/);
      // One line: a figure is never broken between its digits.
      const [height, line] = await delay.evaluate((el) => [el.getBoundingClientRect().height,
        parseFloat(getComputedStyle(el).lineHeight) || parseFloat(getComputedStyle(el).fontSize) * 1.6]);
      assert.ok(height < line * 1.5, `${lang} on ${tag}: #col-${id} .delay is ${height} px tall`);
    }
    const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(scroll <= inner, `${lang} on ${tag}: ${scroll} px wide in ${inner}`);
    await shot(page, `compare-client-${lang}-${tag}.png`);
    assert.equal((await clientsNamed('cmp-')).length, 5);
    // Stop: each of the five says goodbye; none is left for --client-ttl.
    await page.click('#toggle');
    const deadline = Date.now() + WAIT;
    while ((await clientsNamed('cmp-')).length > 0 && Date.now() < deadline) await sleep(100);
    assert.deepEqual(await clientsNamed('cmp-'), []);
    assert.deepEqual(page.consoleErrors, []);
    await page.context().close();
  }
  // A tab closed while running leaves nothing either (its beacons). A
  // context without newPage's request routing: routed requests of a page
  // that is closing are dropped, beacons with them.
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  await page.goto(server.base + '/compare.html');
  await page.click('#toggle');
  await page.locator('#col-client .transport', { hasText: 'WebSocket' }).waitFor({ timeout: WAIT });
  // The tab closes; the browser stays open, as it does when a user closes
  // one tab (closing the whole context at once could cancel the beacons
  // still queued in the network service: that is not a closed tab).
  const closed = page.waitForEvent('close');
  await page.close({ runBeforeUnload: true });
  await closed;
  const deadline = Date.now() + WAIT;
  while ((await clientsNamed('cmp-')).length > 0 && Date.now() < deadline) await sleep(100);
  assert.deepEqual(await clientsNamed('cmp-'), []);
  await context.close();
});
