// pushq.js — one small browser client for pushq (docs/client.md). One ES
// module, no dependency, no build step:
//
//   import { connect } from '/pushq.js';
//   const c = connect({ name: 'ana', channels: ['room'], token });
//   c.on('message', (m) => show(m));          // each id once, in id order
//   c.send('hello', { channel: 'room' });
//
// It tries WebSocket, then Server-Sent Events, then long polling (and says
// which, and why), reconnects with back-off and resumes with the last id it
// delivered. The pure logic — back-off, ordering, the SSE parser, the
// transport decision, the token's expiry — is exported for Node's tests:
// nothing here touches window or document when the module is imported.

export const TRANSPORTS = ['ws', 'sse', 'longpoll'];
const PROBE = '{"msg":"","channel":"pushq.probe","to":"pushq.probe"}';   // answered by an error frame, publishes nothing

// ---------------------------------------------------------- pure logic
// The wait before reconnect attempt `attempt` (0, 1, …): exponential, capped,
// with "equal jitter" (half fixed, half random) so that a classroom of
// clients cut at once does not come back at once.
export function backoff(attempt, { base = 500, cap = 15000 } = {}, random = Math.random) {
  const top = Math.min(cap, base * 2 ** Math.min(attempt, 20));
  return Math.round(top / 2 + random() * (top / 2));
}

// Ids increase. The sequencer lets each id through once, in order, and
// notices a server that started again (its ids start at 1 again): the first
// message of a resumed connection with a lower id, sent later than the last
// one delivered. Anything else with a lower or equal id is a repeat: skipped.
export class Sequencer {
  constructor(lastId = 0) { this.lastId = lastId; this.lastSentAt = 0; this.resumed = false; }
  resume() { this.resumed = this.lastId > 0; }   // a new connection asked for since=lastId
  admit(m) {
    const first = this.resumed;
    this.resumed = false;
    if (!m || !Number.isSafeInteger(m.id) || m.id <= 0) return 'skip';
    let verdict = 'deliver';
    if (m.id <= this.lastId) {
      if (!first || !((m.sent_at ?? 0) > this.lastSentAt)) return 'skip';
      verdict = 'restart';
    }
    this.lastId = m.id;
    this.lastSentAt = m.sent_at ?? this.lastSentAt;
    return verdict;
  }
}

// What a message says was lost before it, or null.
export function gapOf(m) {
  const dropped = Number(m.dropped) || 0, missed = Number(m.missed) || 0;
  return dropped || missed ? { dropped, missed, id: m.id } : null;
}

// Server-Sent Events, as the WHATWG rules read them: feed it text as it
// comes; it returns what completed — {type:'message', id, data},
// {type:'comment', text}, {type:'retry', ms}. A line may end CR, LF or CRLF,
// split across chunks.
export function sseParser() {
  let rest = '', skipLF = false, data = null, lastId = '';
  return (chunk) => {
    let text = rest + chunk;
    if (skipLF && text[0] === '\n') text = text.slice(1);
    skipLF = text.endsWith('\r');
    const lines = text.split(/\r\n|\r|\n/);
    rest = lines.pop();
    const out = [];
    for (const line of lines) {
      if (line === '') {
        if (data !== null) out.push({ type: 'message', id: lastId, data: data.join('\n') });
        data = null;
        continue;
      }
      if (line[0] === ':') { out.push({ type: 'comment', text: line.slice(1).trim() }); continue; }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value[0] === ' ') value = value.slice(1);
      if (field === 'data') (data ??= []).push(value);
      else if (field === 'id' && !value.includes('\0')) lastId = value;
      else if (field === 'retry' && /^\d+$/.test(value)) out.push({ type: 'retry', ms: Number(value) });
    }
    return out;
  };
}

// The transport to use after `outcome` on `current`, with the list allowed:
// { name, code, reason, strikes }. Only evidence that this transport cannot
// work here moves down the list; a cut, a server away or a token to renew
// keeps it. A WebSocket whose upgrade fails while the server answers HTTP
// is given a second try (a cut may hit a handshake).
const FALLBACK = {
  'upgrade-refused': ['the WebSocket upgrade failed, yet the server answers HTTP (a proxy without upgrade?)', 2],
  'no-frame': ['no frame on the WebSocket within the probe time', 1],
  'buffered': ['the event stream is buffered: not one byte (the server sends one at once) within the probe time', 1],
  'refused': ['the event stream was refused', 1],
};
export function decide(transports, current, outcome, strikes = 0) {
  const rule = FALLBACK[outcome.kind];
  const next = transports[transports.indexOf(current) + 1];
  if (!rule) return { name: current, code: outcome.kind, reason: outcome.kind, strikes: 0 };
  const reason = rule[0] + (outcome.status ? ' (HTTP ' + outcome.status + ')' : '');
  if (strikes + 1 < rule[1] || !next) return { name: current, code: outcome.kind, reason, strikes: strikes + 1 };
  return { name: next, code: outcome.kind, reason: current + ': ' + reason, strikes: 0, status: outcome.status };
}

// The exp claim (seconds since 1970) of a JSON Web Token, or null. Read,
// not checked: only the server has the key.
export function tokenExpiry(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = new TextDecoder().decode(Uint8Array.from(atob(part), (ch) => ch.charCodeAt(0)));
    const exp = JSON.parse(json).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : null;
  } catch { return null; }
}

// How long from `now` (ms) to renew a token that expires at `exp` (s): a
// fifth of what is left before it, at least 1 s and at most 30 s. Null: never.
export function refreshDelay(exp, now = Date.now()) {
  if (exp == null) return null;
  const left = exp * 1000 - now;
  return Math.max(0, Math.round(left - Math.min(30000, Math.max(1000, left / 5))));
}

// ------------------------------------------------------------ the client
export function connect(options) { return new Client(options); }

class Client {
  constructor(o = {}) {
    if (!o.name) throw new TypeError('pushq: connect() needs a name');
    this.name = String(o.name);
    this.base = String(o.url ?? globalThis.location?.origin ?? '').replace(/\/+$/, '');
    this.channels = o.channels ? [...o.channels] : null;
    this.token = o.token || '';
    this.refresher = o.refresh || null;
    this.transports = (o.transports || TRANSPORTS).filter((t) => TRANSPORTS.includes(t));
    if (!this.transports.length) throw new TypeError('pushq: no known transport in ' + o.transports);
    this.o = { probe: 4000, heartbeat: 15, pollTimeout: 25, keepalive: 25000, backoff: {}, ...o };
    this.seq = new Sequencer(o.since || 0);
    this.handlers = {};
    this.state = '';
    this.transport = null;
    this.attempt = 0; this.strikes = 0; this.gen = 0;
    this.stop = null; this.timer = null; this.refreshTimer = null; this.closed = false;
    this.scheduleRefresh();
    queueMicrotask(() => this.use(this.transports[0], 'start', 'first choice'));   // after the caller's on()
  }

  get lastId() { return this.seq.lastId; }
  on(type, fn) { (this.handlers[type] ||= []).push(fn); return this; }
  off(type, fn) { this.handlers[type] = (this.handlers[type] || []).filter((f) => f !== fn); return this; }
  emit(type, value) {
    for (const fn of this.handlers[type] || []) {
      try { fn(value); } catch (error) { setTimeout(() => { throw error; }); }   // not ours to swallow
    }
  }
  setState(s) { if (s !== this.state) { this.state = s; this.emit('state', s); } }

  // ------------------------------------------------------ the connection
  use(name, code, reason, status) {
    if (this.closed) return;
    this.transport = name;
    this.strikes = 0;
    this.emit('transport', status ? { name, code, reason, status } : { name, code, reason });
    this.open();
  }
  upgrade() { if (!this.closed && this.transport !== this.transports[0]) this.use(this.transports[0], 'upgrade', 'asked to upgrade'); }

  async open() {
    const gen = this.teardown();
    if (this.closed) return;
    this.setState(this.state === '' || this.state === 'connecting' ? 'connecting' : 'reconnecting');
    const exp = tokenExpiry(this.token);
    if (this.refresher && exp !== null && exp * 1000 <= Date.now() + 1000) await this.refresh();
    if (gen !== this.gen) return;
    this.seq.resume();
    this.stop = this[this.transport](gen);
  }
  teardown() {
    clearTimeout(this.timer);
    const stop = this.stop;
    this.stop = null;
    if (stop) stop();
    return ++this.gen;
  }
  opened(gen) {
    if (gen !== this.gen) return false;
    this.attempt = 0; this.strikes = 0;
    this.setState('open');
    return true;
  }
  deliver(gen, m) {
    if (gen !== this.gen) return;
    const verdict = this.seq.admit(m);
    if (verdict === 'skip') return;
    if (verdict === 'restart') this.emit('restart', { id: m.id });
    const { status, ...message } = m;
    const gap = gapOf(message);
    if (gap) this.emit('gap', gap);
    this.emit('message', message);
  }
  // A connection ended or failed: what now (decide), after how long (backoff).
  async failed(gen, outcome) {
    if (gen !== this.gen || this.closed) return;
    this.teardown();
    const g = this.gen;
    if (outcome.kind === 'forbidden' || (outcome.kind === 'auth' && !this.refresher)) {
      const status = outcome.status ?? 401;
      this.emit('error', { status, error: status === 400 ? 'bad request: the name or a channel' : 'the server refused this token' });
      return this.setState('refused');   // asking again would be refused again
    }
    this.setState('reconnecting');
    if (outcome.kind === 'auth') await this.refresh();
    if (g !== this.gen || this.closed) return;
    const d = decide(this.transports, this.transport, outcome, this.strikes);
    if (d.name !== this.transport) return this.use(d.name, d.code, d.reason, d.status);
    this.strikes = d.strikes;
    this.timer = setTimeout(() => this.open(), backoff(this.attempt++, this.o.backoff));
  }
  close() { this.closed = true; this.teardown(); clearTimeout(this.refreshTimer); this.setState('closed'); }

  // ------------------------------------------------------------ tokens
  refresh() {
    if (!this.refreshing) {
      this.refreshing = Promise.resolve().then(() => this.refresher()).then((token) => {
        if (token) { this.token = String(token); this.scheduleRefresh(); }
      }, (error) => this.emit('error', { status: 0, error: 'refresh failed: ' + error })).finally(() => { this.refreshing = null; });
    }
    return this.refreshing;
  }
  // Before the token expires: a new one, and a stream opened with it at once
  // (the server ends a stream when its token does); the resume loses nothing.
  scheduleRefresh() {
    clearTimeout(this.refreshTimer);
    const delay = this.refresher ? refreshDelay(tokenExpiry(this.token)) : null;
    if (delay === null) return;
    this.refreshTimer = setTimeout(async () => {
      const old = this.token;
      await this.refresh();
      if (this.token !== old && !this.closed && this.state === 'open' && this.transport !== 'longpoll') this.open();
    }, Math.min(delay, 2 ** 31 - 1));
  }

  // ---------------------------------------------------------- requests
  query(extra = {}, since = true) {
    const q = new URLSearchParams({ name: this.name });
    if (this.channels) q.set('channels', this.channels.join(','));
    if (since && this.seq.lastId > 0) q.set('since', String(this.seq.lastId));
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    if (this.token) q.set('token', this.token);
    return q.toString().replace(/%2C/g, ',');
  }
  async post(path, fields, again = true) {
    const body = new URLSearchParams({ name: this.name, ...fields });
    if (this.token) body.set('token', this.token);
    const res = await fetch(this.base + path, { method: 'POST', body });
    const answer = await res.json().catch(() => ({}));
    if (res.status === 401 && this.refresher && again) {   // a token past its time: a new one, once
      await this.refresh();
      return this.post(path, fields, false);
    }
    if (!res.ok) throw Object.assign(new Error(answer.error || 'HTTP ' + res.status), { status: res.status, answer });
    return answer;
  }
  // POST /send_msg, whichever transport receives: resolves to the server's
  // answer {status, id, receivers}; rejects with .status when refused.
  send(text, { channel, to } = {}) {
    const fields = { content: String(text) };
    if (channel) fields.channel = channel;
    if (to) fields.to = to;
    return this.post('/send_msg', fields);
  }
  async subscribe(channel) { return this.setChannels(await this.post('/subscribe', { channel })); }
  async unsubscribe(channel) { return this.setChannels(await this.post('/unsubscribe', { channel })); }
  setChannels(answer) { if (Array.isArray(answer.channels)) this.channels = answer.channels; return answer; }

  // Does the server answer HTTP, and take our token? HEAD /ab_b1 registers
  // the name (an existing client keeps its queue) and checks it like /ws.
  async reach() {
    const ctl = new AbortController(), t = setTimeout(() => ctl.abort(), this.o.probe);
    try {
      const res = await fetch(this.base + '/ab_b1?' + this.query({}, false), { method: 'HEAD', cache: 'no-store', signal: ctl.signal });
      if (res.status === 401) return { kind: 'auth', status: 401 };
      if (res.status === 403 || res.status === 400) return { kind: 'forbidden', status: res.status };
      return { kind: res.ok ? 'reachable' : 'unreachable', status: res.status };
    } catch { return { kind: 'unreachable' }; } finally { clearTimeout(t); }
  }

  // ------------------------------------------------------ the transports
  // Each opens one connection for generation `gen` and returns its stop().
  ws(gen) {
    const url = this.base.replace(/^http/, 'ws') + '/ws?' + this.query();
    let sock, opened = false, alive = false, quiet = null, last = Date.now();
    const fail = (outcome) => { stop(); this.failed(gen, outcome); };
    const stop = () => { clearTimeout(quiet); clearInterval(beat); if (sock) { sock.onclose = sock.onmessage = sock.onopen = null; sock.close(); } };
    const expect = (why) => { clearTimeout(quiet); quiet = setTimeout(() => this.reach().then((r) => fail(r.kind === 'reachable' ? { kind: why } : r)), this.o.probe); };
    // Quiet too long: the probe; no frame back within the probe time: dead.
    const beat = setInterval(() => {
      if (alive && Date.now() - last > this.o.keepalive) { sock.send(PROBE); last = Date.now(); expect('cut'); }
    }, 1000);
    try { sock = new WebSocket(url); } catch { fail({ kind: 'upgrade-refused' }); return stop; }
    expect('no-frame');
    sock.onopen = () => { opened = true; sock.send(PROBE); };
    sock.onmessage = (event) => {
      last = Date.now();
      clearTimeout(quiet);
      if (!alive) alive = this.opened(gen);
      let m;
      try { m = JSON.parse(event.data); } catch { return; }
      if (m.status === true) this.deliver(gen, m);   // else an error frame (our probe's answer)
    };
    sock.onclose = (event) => {
      sock = null;
      if (event.code === 1008) return fail({ kind: 'auth', status: 401 });
      if (opened) return fail({ kind: 'cut' });
      clearTimeout(quiet);
      this.reach().then((r) => fail(r.kind === 'reachable' ? { kind: 'upgrade-refused' } : r));
    };
    return stop;
  }

  sse(gen) {
    const ctl = new AbortController();
    let quiet = null, expired = false;
    const stop = () => { clearTimeout(quiet); ctl.abort(); };
    const fail = (outcome) => { if (!ctl.signal.aborted) { stop(); this.failed(gen, outcome); } };
    const expect = (ms, outcome) => { clearTimeout(quiet); quiet = setTimeout(() => fail(outcome), ms); };
    expect(this.o.probe, { kind: 'buffered' });
    (async () => {
      let res;
      try {
        res = await fetch(this.base + '/events?' + this.query(), { cache: 'no-store', signal: ctl.signal, headers: { Accept: 'text/event-stream' } });
      } catch {
        if (ctl.signal.aborted) return;
        clearTimeout(quiet);
        const r = await this.reach();
        return fail(r.kind === 'reachable' ? { kind: 'cut' } : r);
      }
      if (res.status === 401) return fail({ kind: 'auth', status: 401 });
      if (res.status === 403 || res.status === 400) return fail({ kind: 'forbidden', status: res.status });
      if (!res.ok || !/^text\/event-stream/.test(res.headers.get('content-type') || ''))
        return fail({ kind: 'refused', status: res.status });
      const reader = res.body.getReader(), text = new TextDecoder(), feed = sseParser();
      let started = false;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (!started) started = this.opened(gen);
        expect(this.o.heartbeat * 2000 + 1000, { kind: 'cut' });   // heartbeats stopped: dead
        for (const ev of feed(text.decode(value, { stream: true }))) {
          if (ev.type === 'message') { try { this.deliver(gen, JSON.parse(ev.data)); } catch { /* not JSON: not ours */ } }
          else if (ev.type === 'comment' && ev.text === 'token expired') expired = true;
        }
      }
      fail(expired ? { kind: 'auth', status: 401 } : { kind: 'cut' });   // the server stopped, or the token ended
    })().catch(() => fail({ kind: 'cut' }));
    return stop;
  }

  longpoll(gen) {
    let ctl = null, stopped = false, started = false;
    const stop = () => { stopped = true; ctl?.abort(); };
    const fail = (outcome) => { if (!stopped) { stop(); this.failed(gen, outcome); } };
    (async () => {
      // A name the server does not know yet is registered first (HEAD
      // /ab_b1); with a last id, since= registers it again by itself.
      for (let register = this.seq.lastId === 0, tries = 0; !stopped;) {
        if (register) {
          const r = await this.reach();
          if (stopped) return;
          if (r.kind !== 'reachable') return fail(r);
          register = false;
        }
        ctl = new AbortController();
        const t = setTimeout(() => ctl.abort(), (this.o.pollTimeout + 10) * 1000);
        let res, m;
        try {
          this.seq.resume();
          res = await fetch(this.base + '/get_msg?' + this.query({ timeout: String(this.o.pollTimeout) }), { cache: 'no-store', signal: ctl.signal });
          m = res.ok ? await res.json() : null;
        } catch {
          if (stopped) return;
          const r = await this.reach();
          return fail(r.kind === 'reachable' ? { kind: 'cut' } : r);
        } finally { clearTimeout(t); }
        if (stopped) return;
        if (res.status === 401) return fail({ kind: 'auth', status: 401 });
        if (res.status === 403 || res.status === 400) return fail({ kind: 'forbidden', status: res.status });
        if (res.status === 404 && tries++ === 0) { register = true; continue; }   // forgotten (--client-ttl)
        if (!res.ok) return fail({ kind: 'cut', status: res.status });
        tries = 0;
        if (!started) started = this.opened(gen);
        if (m && m.status === true) this.deliver(gen, m);
      }
    })();
    return stop;
  }
}
