// tls.test.mjs — pushq the way it is deployed: behind nginx, which ends TLS.
// docs/nginx.conf itself runs here, with only its user, paths, ports and
// worker_shutdown_timeout replaced: a self-signed certificate made with the
// openssl command, nginx as this user in a temp dir, a real build/pushq
// behind it, and headless chromium loading the pages over https:// (and
// wss://). Last, an nginx reload in the middle of a stream of messages:
// every message reaches the pages exactly once. Run with `make e2e-tls`.
// Everything stays on 127.0.0.1; every process started here is stopped by
// its PID; every wait has a deadline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, readdirSync, existsSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PUSHQ = process.env.PUSHQ_BIN ? ROOT + process.env.PUSHQ_BIN : ROOT + 'build/pushq';
const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
const SHOTS = ROOT + 'build/e2e/';
const WAIT = 10_000;               // the longest any expectation may take
const POLL_TIMEOUT = 3;            // pushq's --poll-timeout here, seconds

let tmp, cert, pushq, nginx, browser, base, plainBase;
const leftLoopback = [];           // every request to a host other than 127.0.0.1

// ------------------------------------------------------------------ helpers
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls fn until it returns something truthy; fails after ms.
async function waitUntil(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

function run(cmd, args, timeout = 20_000) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

// A port nobody listens on now (the kernel's pick, on loopback).
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// The PIDs whose parent is pid (nginx's workers), read from /proc.
function childrenOf(pid) {
  const kids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${entry}/stat`, 'utf8'); } catch { continue; }
    // pid (comm) state ppid ...; comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === pid && fields[0] !== 'Z') kids.push(Number(entry));
  }
  return kids;
}
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

// Stops a child process by its PID: SIGTERM, then SIGKILL after a deadline.
function stop(proc, signal = 'SIGTERM', ms = 5000) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
    const timer = setTimeout(() => { try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ } }, ms);
    proc.once('exit', (code) => { clearTimeout(timer); resolve(code); });
    process.kill(proc.pid, signal);
  });
}

// One request to nginx over TLS, verified against our own certificate (its
// subjectAltName is IP:127.0.0.1): a fresh connection each time, so that a
// reload never meets a half-closed keep-alive connection of an old worker.
function https(method, path, form) {
  const body = form ? new URLSearchParams(form).toString() : '';
  return new Promise((resolve, reject) => {
    const req = httpsRequest(base + path, {
      method, ca: cert, agent: false, timeout: WAIT,
      headers: form ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {},
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${WAIT} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

// POST /send_msg through nginx; returns pushq's answer.
async function postMessage(content, from = 'node') {
  const res = await https('POST', '/send_msg', { content, name: from });
  assert.equal(res.status, 200, res.text);
  const answer = JSON.parse(res.text);
  assert.equal(answer.status, true, res.text);
  return answer;
}

// ------------------------------------------------------------------ servers
function startPushq() {
  return new Promise((resolve, reject) => {
    const proc = spawn(PUSHQ, ['--port', '0', '--www', ROOT + 'www', '--log', 'warn',
      '--poll-timeout', String(POLL_TIMEOUT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error('pushq did not start')); }, 5000);
    proc.stdout.once('data', (chunk) => {
      clearTimeout(timer);
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(String(chunk));
      if (!m) return reject(new Error('unexpected start line: ' + chunk));
      resolve({ proc, port: Number(m[1]) });
    });
    proc.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

// docs/nginx.conf with the deployment's paths and ports made this test's.
// Each replacement must match exactly once, so that the test and the file
// cannot drift apart unnoticed.
function nginxConf(ports) {
  let conf = readFileSync(ROOT + 'docs/nginx.conf', 'utf8');
  const replace = (from, to) => {
    const n = conf.split(from).length - 1;
    assert.equal(n, 1, `docs/nginx.conf should hold "${from}" once, holds it ${n} times`);
    conf = conf.replace(from, () => to);
  };
  // Root (as in a container) keeps its workers root; anyone else cannot
  // switch users, and nginx runs as them.
  replace('user www-data;', process.getuid() === 0 ? 'user root;' : '');
  replace('pid /run/nginx.pid;', `pid ${tmp}/nginx.pid;`);
  replace('error_log /var/log/nginx/error.log;', `error_log ${tmp}/error.log notice;`);
  // Old workers close their streams 1 s after a reload, so the reload test
  // sees the cut (30 s in the file).
  replace('worker_shutdown_timeout 30s;', 'worker_shutdown_timeout 1s;');
  // nginx's compiled-in temp paths are under /var/lib/nginx: ours instead.
  replace('access_log /var/log/nginx/access.log;', [`access_log ${tmp}/access.log;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `    ${k}_temp_path ${tmp}/${k};`)].join('\n'));
  replace('server 127.0.0.1:8000;', `server 127.0.0.1:${ports.pushq};`);
  replace('listen 80;', `listen 127.0.0.1:${ports.http};`);
  replace('listen 443 ssl http2;', `listen 127.0.0.1:${ports.https} ssl http2;`);
  replace('/etc/ssl/pushq/fullchain.pem', `${tmp}/cert.pem`);
  replace('/etc/ssl/pushq/privkey.pem', `${tmp}/key.pem`);
  return conf;
}

async function startNginx(ports) {
  writeFileSync(`${tmp}/nginx.conf`, nginxConf(ports));
  const args = ['-p', tmp + '/', '-c', `${tmp}/nginx.conf`, '-e', `${tmp}/error.log`];
  await run(NGINX, [...args, '-t', '-q']);            // a bad config says why, here
  const proc = spawn(NGINX, [...args, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk) => { stderr += chunk; });
  proc.workers = new Set();                           // every worker ever seen, to stop them all
  nginx = proc;
  await waitUntil(async () => {
    if (proc.exitCode !== null) throw new Error('nginx exited: ' + stderr);
    try { return (await https('GET', '/stats')).status === 200; } catch { return false; }
  }, WAIT, 'nginx to answer on https');
  for (const pid of childrenOf(proc.pid)) proc.workers.add(pid);
  return proc;
}

async function stopNginx(proc) {
  for (const pid of childrenOf(proc.pid)) proc.workers.add(pid);
  await stop(proc, 'SIGTERM');
  // A worker outliving its master (only if the master had to be killed).
  for (const pid of proc.workers) if (alive(pid)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
}

// ----------------------------------------------------------------- browser
async function newPage() {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1100, height: 900 } });
  await context.addInitScript(() => { if (!localStorage.getItem('pushq.lang')) localStorage.setItem('pushq.lang', 'en'); });
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
  page.sockets = [];                                 // the URL of every WebSocket it opened
  page.on('websocket', (ws) => page.sockets.push(ws.url()));
  return page;
}

const shot = (page, file) => page.screenshot({ path: SHOTS + file, fullPage: true });
const messageTexts = (page) => page.locator('#content li .text').allTextContents();
const messageIds = async (page) => (await page.locator('#content li .id').allTextContents())
  .map((t) => Number(/^#(\d+)/.exec(t)[1]));
const waitForMessage = (page, text, timeout = WAIT) =>
  page.locator('#content li .text', { hasText: text }).first().waitFor({ timeout });
// The protocol the page itself came over (h2: ALPN chose HTTP/2).
const protocolOf = (page) => page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  tmp = mkdtempSync(tmpdir() + '/pushq-tls-');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${tmp}/key.pem`, '-out', `${tmp}/cert.pem`, '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
  cert = readFileSync(`${tmp}/cert.pem`);
  pushq = await startPushq();
  const ports = { pushq: pushq.port, https: await freePort(), http: await freePort() };
  base = 'https://127.0.0.1:' + ports.https;
  plainBase = 'http://127.0.0.1:' + ports.http;
  await startNginx(ports);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  if (nginx) await stopNginx(nginx);
  if (pushq) await stop(pushq.proc);
  if (tmp) {
    // nginx's own account of the run, for when something here failed.
    if (existsSync(`${tmp}/error.log`)) copyFileSync(`${tmp}/error.log`, SHOTS + 'tls-nginx-error.log');
    rmSync(tmp, { recursive: true, force: true });
  }
});

// ------------------------------------------------------------------- tests
test('plain http only redirects to https', async () => {
  const res = await new Promise((resolve, reject) => {
    const req = httpRequest(plainBase + '/ab_b1?name=x', { agent: false, timeout: WAIT }, resolve);
    req.on('timeout', () => req.destroy(new Error('no answer on http')));
    req.on('error', reject);
    req.end();
  });
  res.resume();
  assert.equal(res.statusCode, 301);
  assert.equal(res.headers.location, 'https://127.0.0.1/ab_b1?name=x');
});

test('the long-poll chat over https: an empty poll ends as pushq says, a message sent arrives', async () => {
  const page = await newPage();
  await page.goto(base + '/ab_b1?name=tls-poll');
  assert.equal(await protocolOf(page), 'h2');
  await page.locator('#lead', { hasText: `up to ${POLL_TIMEOUT} s` }).waitFor({ timeout: WAIT });
  await page.locator('.tl-row[data-state="held"]').waitFor({ timeout: WAIT });
  // Nothing sent: pushq answers "nothing" after --poll-timeout, through nginx
  // (not a 504 from it).
  await page.locator('.tl-row[data-state="timeout"]').waitFor({ timeout: WAIT });
  await page.locator('#last', { hasText: /timed out after \d\.\d s with nothing/ }).waitFor({ timeout: WAIT });
  await page.locator('.tl-row[data-state="held"]').last().waitFor({ timeout: WAIT });
  await page.fill('#d2', 'over tls, by long poll');
  await page.click('#d1');
  await waitForMessage(page, 'over tls, by long poll');
  await postMessage('from node, through nginx');
  await waitForMessage(page, 'from node, through nginx');
  assert.deepEqual(await messageTexts(page), ['over tls, by long poll', 'from node, through nginx']);
  await shot(page, 'tls-longpoll-en.png');
  assert.deepEqual(page.consoleErrors, []);
  await page.context().close();
});

test('a closed tab stops its long poll at once, through nginx', async () => {
  const page = await newPage();
  await page.goto(base + '/ab_b1?name=tls-closer');
  const waiting = async () => JSON.parse((await https('GET', '/stats?name=tls-closer')).text).clients[0]?.waiting;
  await waitUntil(async () => (await waiting()) === 1, WAIT, 'the page to wait in pushq');
  await page.context().close();
  // nginx passes the browser's abort on (it closes its connection to
  // pushq), so pushq's thread stops waiting long before --poll-timeout.
  const closed = Date.now();
  await waitUntil(async () => (await waiting()) === 0, WAIT, 'pushq to stop waiting');
  assert.ok(Date.now() - closed < 1500, `still waiting ${Date.now() - closed} ms after the tab closed`);
});

test('the WebSocket chat over wss:// and a long-poll page see each other', async () => {
  const ws = await newPage();
  const poll = await newPage();
  await poll.goto(base + '/ab_b1?name=tls-poll-2');
  await ws.goto(base + '/ws.html?name=tls-ws');
  await ws.locator('#state.ok').waitFor({ timeout: WAIT });
  await poll.locator('.tl-row[data-state="held"]').waitFor({ timeout: WAIT });
  assert.equal(ws.sockets.length, 1);
  assert.ok(ws.sockets[0].startsWith(base.replace('https:', 'wss:') + '/ws?name=tls-ws'), ws.sockets[0]);

  await ws.fill('#d2', 'up the wss socket');
  await ws.click('#d1');
  for (const p of [ws, poll]) await waitForMessage(p, 'up the wss socket');
  await poll.fill('#d2', 'down the wss socket');
  await poll.click('#d1');
  for (const p of [ws, poll]) await waitForMessage(p, 'down the wss socket');
  for (const p of [ws, poll]) assert.deepEqual(await messageTexts(p), ['up the wss socket', 'down the wss socket']);
  // The upgrade went through nginx: pushq's /stats sees a WebSocket client.
  const stats = JSON.parse((await https('GET', '/stats?name=tls-ws')).text);
  assert.equal(stats.clients[0].kind, 'ws');
  await shot(ws, 'tls-websocket-en.png');
  assert.equal(ws.sockets.length, 1, 'the socket never dropped');
  for (const p of [ws, poll]) assert.deepEqual(p.consoleErrors, []);
  for (const p of [ws, poll]) await p.context().close();
});

test('SSE over https: each event arrives as it is sent, not buffered', async () => {
  const page = await newPage();
  await page.goto(base + '/sse.html?name=tls-sse');
  await page.locator('#state.ok').waitFor({ timeout: WAIT });
  for (const text of ['sse one', 'sse two']) {
    const sent = Date.now();
    const { id } = await postMessage(text);
    await waitForMessage(page, text);
    const took = Date.now() - sent;
    assert.ok(took < 2000, `${text} took ${took} ms to show`);
    assert.match(await page.textContent('#raw'), new RegExp(`id: ${id}\\ndata: \\{"status":true,"msg":"${text}"`));
  }
  assert.deepEqual(await messageTexts(page), ['sse one', 'sse two']);
  await shot(page, 'tls-sse-en.png');
  assert.deepEqual(page.consoleErrors, []);
  await page.context().close();
});

test('the queue lab over https: a blocking get is woken by a put', async () => {
  const page = await newPage();
  await page.goto(base + '/lab.html');
  await page.locator('#queue-id', { hasText: /^[0-9a-f]{8}$/ }).waitFor({ timeout: WAIT });
  // Step 5: get(timeout=10) sleeps in pushq; a put 1.5 s later wakes it.
  await page.click('#step-5 button');
  await page.locator('.lane[data-call="get"][data-state="sleeping"]').waitFor({ timeout: WAIT });
  await page.locator('#step-5.done').waitFor({ timeout: 15_000 });
  // The newest lane is on top; the get names the call that woke it by that call's number.
  const woken = page.locator('.lane[data-call="get"][data-state="ok"]').first();
  const put = page.locator('.lane[data-call="put"][data-state="ok"]').first();
  const putNo = await put.getAttribute('data-no');
  assert.match(await woken.locator('.what').textContent(),
    new RegExp(`woken by call #${putNo} q\\.put\\('hello', timeout=3\\) after 1\\.\\d s: got “hello”`));
  assert.equal(await woken.getAttribute('data-put'), await put.getAttribute('data-put'));
  await shot(page, 'tls-lab-en.png');
  assert.deepEqual(page.consoleErrors, []);
  await page.context().close();
});

test('nothing lost across an nginx reload: every message reaches the SSE and WebSocket pages once', async () => {
  const sse = await newPage();
  const ws = await newPage();
  await sse.goto(base + '/sse.html?name=reload-sse');
  await ws.goto(base + '/ws.html?name=reload-ws');
  for (const p of [sse, ws]) await p.locator('#state.ok').waitFor({ timeout: WAIT });
  const oldWorkers = childrenOf(nginx.pid);
  assert.ok(oldWorkers.length > 0, 'nginx has workers');
  for (const pid of oldWorkers) nginx.workers.add(pid);

  const sent = [];                                    // [id, text], in the order sent
  const send = async (n) => {
    for (let i = 0; i < n; i++) {
      const text = `reload ${sent.length + 1}`;
      sent.push([(await postMessage(text)).id, text]);
    }
  };
  await send(7);                                      // before the reload
  process.kill(nginx.pid, 'SIGHUP');
  // The master starts new workers; the old ones keep their streams a while.
  const newWorkers = await waitUntil(() => {
    const now = childrenOf(nginx.pid).filter((pid) => !oldWorkers.includes(pid));
    return now.length ? now : null;
  }, WAIT, 'new nginx workers after SIGHUP');
  for (const pid of newWorkers) nginx.workers.add(pid);
  await send(7);                                      // during: the old workers still stream
  // worker_shutdown_timeout: the old workers close the streams and exit.
  await waitUntil(() => oldWorkers.every((pid) => !alive(pid) || !childrenOf(nginx.pid).includes(pid)),
    WAIT, 'the old nginx workers to exit');
  await send(6);                                      // while the pages reconnect
  await postMessage('reload done');

  for (const p of [sse, ws]) await waitForMessage(p, 'reload done', 15_000);
  const expected = [...sent.map(([, text]) => text), 'reload done'];
  for (const p of [sse, ws]) {
    assert.deepEqual(await messageTexts(p), expected);
    const ids = await messageIds(p);
    assert.deepEqual(ids.slice(0, sent.length), sent.map(([id]) => id));
    assert.equal(new Set(ids).size, ids.length, 'an id shown twice');
  }
  // The cut really happened, and each page resumed from where it was.
  await sse.locator('#reconnects li', { hasText: /Last-Event-ID: \d+ / }).first().waitFor({ timeout: WAIT });
  assert.ok(ws.sockets.length >= 2, `the WebSocket page opened ${ws.sockets.length} socket(s)`);
  assert.match(ws.sockets.at(-1), /&since=\d+$/);
  assert.ok(alive(nginx.pid) && nginx.exitCode === null, 'the nginx master lives on');
  await shot(sse, 'tls-reload-sse-en.png');
  await shot(ws, 'tls-reload-ws-en.png');
  for (const p of [sse, ws]) await p.context().close();
});

test('no request left 127.0.0.1', () => {
  assert.deepEqual(leftLoopback, []);
});
