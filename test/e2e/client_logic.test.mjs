// client_logic.test.mjs — the pure logic of www/pushq.js under Node's own
// test runner, no browser: back-off, ordering and repeats, gaps, the SSE
// parser, the transport decision, a token's expiry. Importing the module
// here also proves it touches no window or document when it loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoff, Sequencer, gapOf, sseParser, decide, tokenExpiry, refreshDelay, TRANSPORTS, connect } from '../../www/pushq.js';

test('back-off doubles from base, is capped, and jitters within [top/2, top]', () => {
  const opts = { base: 500, cap: 15000 };
  assert.equal(backoff(0, opts, () => 0), 250);
  assert.equal(backoff(0, opts, () => 1), 500);
  assert.equal(backoff(3, opts, () => 1), 4000);
  assert.equal(backoff(10, opts, () => 1), 15000);          // capped
  assert.equal(backoff(1000, opts, () => 0.5), 11250);       // no overflow for a huge attempt
  for (let attempt = 0; attempt < 12; attempt++) {
    const top = Math.min(15000, 500 * 2 ** attempt);
    for (let i = 0; i < 50; i++) {
      const d = backoff(attempt, opts);
      assert.ok(d >= top / 2 && d <= top, `attempt ${attempt}: ${d} not in [${top / 2}, ${top}]`);
    }
  }
  assert.deepEqual([backoff(0, {}, () => 0), backoff(0, {}, () => 1), backoff(9, {}, () => 1)], [250, 500, 15000]);   // defaults
  const spread = new Set(Array.from({ length: 40 }, () => backoff(4)));
  assert.ok(spread.size > 10, 'jitter spreads the clients');
});

test('the sequencer delivers each id once, in increasing order', () => {
  const s = new Sequencer();
  const seen = [];
  for (const id of [1, 2, 2, 3, 1, 5, 4, 5, 6]) if (s.admit({ id, sent_at: 1000 + id }) === 'deliver') seen.push(id);
  assert.deepEqual(seen, [1, 2, 3, 5, 6]);
  assert.equal(s.lastId, 6);
  assert.equal(s.admit({ id: 'x' }), 'skip');
  assert.equal(s.admit({ id: 0 }), 'skip');
  assert.equal(s.admit(null), 'skip');
  assert.equal(s.admit({ id: 7.5 }), 'skip');
  // Starting from an id the application already has (connect({since})).
  const t = new Sequencer(10);
  assert.equal(t.admit({ id: 10, sent_at: 5 }), 'skip');
  assert.equal(t.admit({ id: 11, sent_at: 5 }), 'deliver');
});

test('the sequencer tells a server that started again from a repeat', () => {
  const s = new Sequencer();
  for (let id = 1; id <= 50; id++) s.admit({ id, sent_at: 2000 + id });
  // A repeat on a resumed connection (sent before the last one): skipped.
  s.resume();
  assert.equal(s.admit({ id: 49, sent_at: 2049 }), 'skip');
  // A lower id in the middle of a connection: skipped, even if sent later.
  assert.equal(s.admit({ id: 3, sent_at: 9000 }), 'skip');
  // The first message after a resume, lower id and sent later: a new run.
  s.resume();
  assert.equal(s.admit({ id: 1, sent_at: 9000 }), 'restart');
  assert.equal(s.lastId, 1);
  assert.equal(s.admit({ id: 2, sent_at: 9001 }), 'deliver');
  assert.equal(s.admit({ id: 2, sent_at: 9001 }), 'skip');
  // resume() before any message: nothing to resume from, nothing changes.
  const fresh = new Sequencer();
  fresh.resume();
  assert.equal(fresh.resumed, false);
  assert.equal(fresh.admit({ id: 4, sent_at: 1 }), 'deliver');
});

test('a gap is what dropped and missed say, or nothing', () => {
  assert.equal(gapOf({ id: 3, dropped: 0 }), null);
  assert.equal(gapOf({ id: 3 }), null);
  assert.deepEqual(gapOf({ id: 9, dropped: 2 }), { dropped: 2, missed: 0, id: 9 });
  assert.deepEqual(gapOf({ id: 9, dropped: 0, missed: 5 }), { dropped: 0, missed: 5, id: 9 });
  assert.deepEqual(gapOf({ id: 9, dropped: 1, missed: 4 }), { dropped: 1, missed: 4, id: 9 });
});

test('the SSE parser: events, comments, retry, any line end, any split', () => {
  const stream = 'retry: 2000\n: pushq stream for ana; 0 missed before it\n\n' +
    'id: 7\ndata: {"id":7}\n\n: keep-alive\n\nid: 8\r\ndata: a\r\ndata: b\r\n\r\n' +
    'id: 9\rdata:no space\r\r' + 'data: no id keeps the last\n\n' + 'event: x\nunknown: y\n\n: token expired\n';
  const expected = [
    { type: 'retry', ms: 2000 }, { type: 'comment', text: 'pushq stream for ana; 0 missed before it' },
    { type: 'message', id: '7', data: '{"id":7}' }, { type: 'comment', text: 'keep-alive' },
    { type: 'message', id: '8', data: 'a\nb' }, { type: 'message', id: '9', data: 'no space' },
    { type: 'message', id: '9', data: 'no id keeps the last' }, { type: 'comment', text: 'token expired' },
  ];
  assert.deepEqual(sseParser()(stream), expected);
  // Every way of cutting it into two chunks, and byte by byte.
  for (let cut = 0; cut <= stream.length; cut++) {
    const feed = sseParser();
    assert.deepEqual([...feed(stream.slice(0, cut)), ...feed(stream.slice(cut))], expected, `cut at ${cut}`);
  }
  const feed = sseParser();
  assert.deepEqual([...stream].flatMap((ch) => feed(ch)), expected);
  // An event is only complete at its blank line.
  const half = sseParser();
  assert.deepEqual(half('id: 1\ndata: x\n'), []);
  assert.deepEqual(half('\n'), [{ type: 'message', id: '1', data: 'x' }]);
});

test('the transport decision: only evidence moves down the list, and it says why', () => {
  const all = TRANSPORTS;
  assert.deepEqual(all, ['ws', 'sse', 'longpoll']);
  // A refused upgrade gets one more try (a cut may hit a handshake), then SSE.
  const first = decide(all, 'ws', { kind: 'upgrade-refused' });
  assert.equal(first.name, 'ws');
  assert.equal(first.strikes, 1);
  const second = decide(all, 'ws', { kind: 'upgrade-refused' }, first.strikes);
  assert.equal(second.name, 'sse');
  assert.equal(second.code, 'upgrade-refused');
  assert.match(second.reason, /^ws: the WebSocket upgrade failed/);
  // No frame at all on an open WebSocket: SSE at once.
  assert.equal(decide(all, 'ws', { kind: 'no-frame' }).name, 'sse');
  // A buffered or refused event stream: long polling.
  const buffered = decide(all, 'sse', { kind: 'buffered' });
  assert.deepEqual([buffered.name, buffered.code], ['longpoll', 'buffered']);
  assert.match(buffered.reason, /buffered/);
  const refused = decide(all, 'sse', { kind: 'refused', status: 502 });
  assert.equal(refused.name, 'longpoll');
  assert.match(refused.reason, /HTTP 502/);
  // Cuts, a server away, a token to renew: stay.
  for (const kind of ['cut', 'unreachable', 'auth'])
    for (const t of all) assert.equal(decide(all, t, { kind }).name, t, `${kind} on ${t}`);
  // Nowhere lower to go: stay, and keep counting.
  assert.equal(decide(all, 'longpoll', { kind: 'refused' }).name, 'longpoll');
  assert.equal(decide(['ws'], 'ws', { kind: 'no-frame' }).name, 'ws');
  // The list the application gave is the list: ws straight to long polling.
  assert.equal(decide(['ws', 'longpoll'], 'ws', { kind: 'no-frame' }).name, 'longpoll');
});

// A token like `build/pushq token` makes (the signature is not read).
const jwt = (claims) => ['{"alg":"HS256","typ":"JWT"}', JSON.stringify(claims)]
  .map((part) => Buffer.from(part).toString('base64url')).join('.') + '.c2lnbmF0dXJl';

test("a token's expiry is read from its payload; renewal comes before it", () => {
  assert.equal(tokenExpiry(jwt({ sub: 'ana', exp: 1900000000 })), 1900000000);
  assert.equal(tokenExpiry(jwt({ sub: '李', exp: 1900000001.5, channels: ['room'] })), 1900000001.5);
  assert.equal(tokenExpiry(jwt({ sub: 'ana' })), null);
  assert.equal(tokenExpiry(jwt({ exp: '1900000000' })), null);
  for (const bad of ['', 'abc', 'a.b.c', 'a.!!!.c', null, undefined]) assert.equal(tokenExpiry(bad), null);
  const now = 1_000_000_000_000;
  assert.equal(refreshDelay(null, now), null);
  assert.equal(refreshDelay(now / 1000 + 3600, now), 3_570_000);   // an hour: 30 s before
  assert.equal(refreshDelay(now / 1000 + 10, now), 8_000);         // 10 s: a fifth before
  assert.equal(refreshDelay(now / 1000 + 2, now), 1_000);          // at least 1 s before
  assert.equal(refreshDelay(now / 1000 - 5, now), 0);              // expired: now
});

test('connect() checks its options before it opens anything', () => {
  assert.throws(() => connect({}), /needs a name/);
  assert.throws(() => connect({ name: 'a', url: 'http://127.0.0.1:1', transports: ['carrier-pigeon'] }), /no known transport/);
});
