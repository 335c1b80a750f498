// lab.test.mjs — the queue lab as a class sees it, in English and Chinese,
// at 1280 and 390 px: every guided step keeps the queue and the lanes in
// the window, one numbering, the wait loop lit where the thread is, dots for
// calls that never wait, arrows with heads, honest "at once" texts, the
// server's refusals in the page's language, projector mode. Run by
// `make e2e`; screenshots of each step go to build/e2e-shots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer, launch, newPage, overflowing, squeezed, inView, shot,
  PHONE, WIDE, WAIT, leftLoopback } from './browser.mjs';

let browser, server;
before(async () => {
  server = await startServer(['--lab-max-waiting', '64']);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  if (server) await stopServer(server);
  assert.deepEqual(leftLoopback, []);
});

const MODES = [['en', WIDE, '1280'], ['zh', WIDE, '1280'], ['en', PHONE, '390'], ['zh', PHONE, '390']];
const HAN = /[\u4e00-\u9fff]/;

async function openLab(lang, viewport, query = '') {
  const page = await newPage(browser, lang, viewport);
  await page.goto(server.base + '/lab.html' + query);
  await page.locator('#queue-id', { hasText: /^[0-9a-f]{8}$/ }).waitFor({ timeout: WAIT });
  return page;
}

// Runs step n and waits for it to finish.
async function step(page, n, timeout = 15_000) {
  await page.click(`#step-${n} button`);
  await page.locator(`#step-${n}.running`).waitFor({ timeout: WAIT }).catch(() => {});
  await page.locator(`#step-${n}.done`).waitFor({ timeout });
}

// The queue and the newest lane are in the window, nothing sticks out of
// its box, no text is squeezed to a character per line.
async function actionInView(page, what) {
  assert.ok(await inView(page.locator('#queue-panel .slots')), what + ': the queue is out of view');
  assert.ok(await inView(page.locator('#lanes .lane').first()), what + ': the newest lane is out of view');
  assert.deepEqual(await overflowing(page), [], what + ': wider than its box');
  assert.deepEqual(await squeezed(page), [], what + ': a character per line');
}

// One numbering: every "call #N" a lane's text names is a lane (or the
// slots') call N, and a get that got an item names the put that made it.
async function numberingIsOne(page) {
  const lanes = await page.locator('#lanes .lane').evaluateAll((els) => els.map((el) => ({
    no: el.dataset.no, call: el.dataset.call, state: el.dataset.state, put: el.dataset.put,
    head: el.querySelector('.call').textContent, what: el.querySelector('.what').textContent })));
  const byNo = new Map(lanes.map((l) => [l.no, l]));
  for (const l of lanes) {
    assert.match(l.head, new RegExp('#' + l.no + ' '), 'a lane is headed by its own call number');
    if (l.call === 'get' && l.state === 'ok') {
      const m = /#(\d+)/.exec(l.what);
      assert.ok(m, 'a get names the call that put its item: ' + l.what);
      const maker = byNo.get(m[1]);
      if (maker) {
        assert.equal(maker.call, 'put', `get #${l.no} names #${m[1]}, which is a ${maker.call}`);
        assert.equal(maker.put, l.put, 'the put named is the one whose item the get took');
      }
    }
  }
  return lanes;
}

for (const [lang, viewport, width] of MODES) {
  test(`the lab's seven steps keep the action in view (${lang}, ${width} px)`, async () => {
    const page = await openLab(lang, viewport);
    const tag = `${lang}-${width}`;
    // Step titles: one numbering, the list's ("1." once, not "1. 1.").
    for (const title of await page.locator('#guide li b').allTextContents()) assert.doesNotMatch(title, /^\d/);
    if (lang === 'zh') {
      assert.match(await page.textContent('.lead'), /让你亲手调用它的各个方法/);
      assert.match(await page.textContent('.lead'), /每个请求占一条泳道，可以看到它的线程阻塞等待/);
    }

    // Step 1 uses maxsize 3, as its text says, whatever the dropdown said.
    await page.selectOption('#maxsize', '1');
    await step(page, 1);
    assert.equal(await page.inputValue('#maxsize'), '3');
    assert.equal(await page.locator('#slots .slot').count(), 3);
    assert.equal(await page.locator('#lanes .lane[data-call="put"][data-state="ok"]').count(), 2);
    // Both returned at once: dots, and a text that says so.
    assert.equal(await page.locator('#lanes .lane.instant').count(), 2);
    assert.match(await page.locator('#lanes .lane .what').first().textContent(), lang === 'en' ? /returned at once: there was room/ : /立即返回：有空位/);
    await actionInView(page, 'step 1');
    await shot(page, `lab-step1-${tag}.png`);

    // Step 2: the gets name the calls that put their items.
    await step(page, 2);
    const lanes = await numberingIsOne(page);
    assert.equal(lanes.filter((l) => l.call === 'get' && l.state === 'ok').length, 2);
    assert.match(await page.locator('#lanes .lane[data-call="get"] .what').first().textContent(),
      lang === 'en' ? /got “egon” at once: it was already in the queue \(from call #2 / : /队列里本来就有元素/);
    await actionInView(page, 'step 2');
    await shot(page, `lab-step2-${tag}.png`);

    // Step 3: while the get sleeps, it waits at the head of the queue and
    // the wait line of both loops is lit; then queue.Empty.
    await page.click('#step-3 button');
    const sleeping = page.locator('.lane[data-call="get"][data-state="sleeping"]');
    await sleeping.waitFor({ timeout: WAIT });
    assert.match(await sleeping.locator('.what').textContent(), lang === 'en' ? /blocked in queue_get, waiting/ : /阻塞在 queue_get 里等待/);
    await page.locator('#getters .waiter').waitFor({ timeout: WAIT });
    await page.locator('#code .tutorial .line.run[data-key="wait"]').waitFor({ timeout: WAIT });
    await page.locator('#code .ours .line.run[data-key="wait"]', { hasText: 'pthread_cond_timedwait' }).waitFor({ timeout: WAIT });
    await actionInView(page, 'step 3, asleep');
    await shot(page, `lab-step3-asleep-${tag}.png`);
    await page.locator('#step-3.done').waitFor({ timeout: WAIT });
    assert.match(await page.locator('.lane[data-call="get"]').first().textContent(), /queue\.Empty/);
    assert.equal(await page.locator('#getters .waiter').count(), 0);
    await shot(page, `lab-step3-${tag}.png`);

    // Step 4: a new queue of 3, filled; put(block=False) is a dot and says "at once".
    await step(page, 4);
    assert.equal(await page.locator('#slots .slot.full').count(), 3);
    const full = page.locator('.lane[data-call="put"][data-state="Full"]');
    assert.equal(await full.count(), 1);
    assert.ok(await full.evaluate((el) => el.classList.contains('instant')));
    assert.match(await full.locator('.what').textContent(), lang === 'en' ? /no room \(block=False\): raised queue\.Full at once/ : /没有空位（block=False），立即抛出 queue\.Full/);
    assert.doesNotMatch(await full.locator('.what').textContent(), /0\.0/);
    // The slots name the calls that put the items.
    assert.deepEqual(await page.locator('#slots .slot.full small').allTextContents(),
      lang === 'en' ? ['call #1', 'call #2', 'call #3'] : ['调用 #1', '调用 #2', '调用 #3']);
    await actionInView(page, 'step 4');
    await shot(page, `lab-step4-${tag}.png`);

    // Step 5: a put wakes the get; the notify line is lit; an arrow with its head.
    await page.click('#step-5 button');
    await page.locator('#code .line.run[data-key="notify"]').first().waitFor({ timeout: WAIT });
    await page.locator('#step-5.done').waitFor({ timeout: 15_000 });
    const woken = page.locator('.lane[data-call="get"][data-state="ok"]').first();
    const put = page.locator('.lane[data-call="put"][data-state="ok"]').first();
    const putNo = await put.getAttribute('data-no');
    assert.match(await woken.locator('.what').textContent(),
      lang === 'en' ? new RegExp(`woken by call #${putNo} q\\.put\\('hello', timeout=3\\) after 1\\.\\d s: got “hello”`) : new RegExp(`被调用 #${putNo} `));
    const arrow = page.locator('svg.arrows path.arrow[data-to="' + await woken.getAttribute('data-no') + '"]');
    assert.equal(await arrow.getAttribute('data-from'), putNo);
    assert.equal(await arrow.getAttribute('marker-end'), 'url(#arrowhead)');
    assert.equal(await page.locator('svg.arrows marker#arrowhead path').count(), 1);
    await numberingIsOne(page);
    await actionInView(page, 'step 5');
    await shot(page, `lab-step5-${tag}.png`);

    // Step 6: join waits below the queue until the tasks are done.
    await page.click('#step-6 button');
    await page.locator('#joiners .waiter').waitFor({ timeout: WAIT });
    assert.match(await page.textContent('#counts'), lang === 'en' ? /not yet marked task_done/ : /还没有 task_done\(\) 的元素/);
    await page.locator('#step-6.done').waitFor({ timeout: 15_000 });
    await page.locator('.lane[data-call="join"][data-state="ok"]').waitFor({ timeout: WAIT });
    const taskDone = page.locator('.lane[data-call="task_done"]').first();
    assert.ok(await taskDone.evaluate((el) => el.classList.contains('instant')), 'task_done is a dot');
    await actionInView(page, 'step 6');
    // The step beside the action: its place in the sticky column, or on a phone the pinned box.
    assert.ok(await inView(page.locator(viewport === PHONE ? '#now-step' : '#step-6 b')), 'the step is in view');
    await shot(page, `lab-step6-${tag}.png`);

    // Step 7: shutdown wakes the get with ShutDown; the late put raises it at once.
    await step(page, 7);
    await page.locator('.lane[data-call="get"][data-state="ShutDown"]').waitFor({ timeout: WAIT });
    const late = page.locator('.lane[data-call="put"][data-state="ShutDown"]');
    assert.match(await late.locator('.what').textContent(), lang === 'en' ? /at once: the queue is shut down/ : /立即抛出 queue\.ShutDown/);
    await actionInView(page, 'step 7');
    await shot(page, `lab-step7-${tag}.png`);
    if (lang === 'zh') {
      for (const text of await page.locator('#lanes .lane .what').allTextContents()) assert.match(text, HAN, 'a lane in Chinese: ' + text);
      assert.match(await page.textContent('#counts'), /未完成任务/);
    }
    assert.deepEqual(page.consoleErrors, []);
    await page.context().close();
  });
}

test('New queue clears the lanes; an empty timeout is an error, not timeout=0', async () => {
  for (const [lang, viewport] of [['en', WIDE], ['zh', PHONE]]) {
    const page = await openLab(lang, viewport);
    await page.click('[data-call="put"]');
    await page.locator('#lanes .lane[data-state="ok"]').waitFor({ timeout: WAIT });
    await page.click('#new-queue');
    await page.locator('#lanes .hint').waitFor({ timeout: WAIT });
    assert.equal(await page.locator('#lanes .lane').count(), 0);
    assert.equal(await page.locator('#slots .slot.full').count(), 0);
    await page.fill('#timeout', '');
    await page.click('[data-call="get"]');
    await page.locator('#lab-error:not([hidden])').waitFor({ timeout: WAIT });
    assert.match(await page.textContent('#lab-error'), lang === 'en' ? /timeout field is empty/ : /timeout 一栏是空的/);
    assert.equal(await page.locator('#lanes .lane').count(), 0, 'no call was made');
    // With block unticked the field is not needed: a dot, "at once".
    await page.uncheck('#block');
    await page.click('[data-call="get"]');
    await page.locator('#lanes .lane[data-state="Empty"].instant').waitFor({ timeout: WAIT });
    await page.context().close();
  }
});

test("the server's refusals are shown in the page's language (by their code)", async () => {
  const small = await startServer(['--lab-max-waiting', '1']);
  try {
    for (const lang of ['en', 'zh']) {
      const page = await newPage(browser, lang, PHONE);
      await page.goto(small.base + '/lab.html');
      await page.locator('#queue-id', { hasText: /^[0-9a-f]{8}$/ }).waitFor({ timeout: WAIT });
      await page.fill('#timeout', '5');
      await page.click('[data-call="get"]');
      await page.locator('.lane[data-state="sleeping"]').waitFor({ timeout: WAIT });
      await page.click('[data-call="get"]');
      const refused = page.locator('.lane[data-state="refused"]');
      await refused.waitFor({ timeout: WAIT });
      const text = await page.textContent('#lab-error');
      assert.match(text, /--lab-max-waiting/);
      assert.doesNotMatch(text, /lab calls are waiting already/, 'not the server\'s English');
      if (lang === 'zh') {
        assert.match(text, /同时等待的实验调用太多了/);
        assert.match(await refused.locator('.what').textContent(), /被服务器拒绝/);
      }
      // The refused call keeps its number, and says so.
      assert.equal(await refused.getAttribute('data-no'), '2');
      await page.fill('#timeout', '31');
      await page.click('[data-call="put"]');
      await page.locator('.lane[data-state="refused"][data-no="3"]').waitFor({ timeout: WAIT });
      assert.match(await page.textContent('#lab-error'), lang === 'en' ? /holds a server thread/ : /占用一个服务器线程/);
      await shot(page, `lab-refused-${lang}-390.png`);
      // Free the one waiting slot before the next language: deleting the
      // queue ends its waiting get (ShutDown).
      await page.evaluate(() => fetch('/lab/delete?q=' + document.getElementById('queue-id').textContent, { method: 'POST' }));
      await page.locator('.lane[data-no="1"][data-state="ShutDown"]').waitFor({ timeout: WAIT });
      await page.context().close();
    }
  } finally {
    await stopServer(small);
  }
});

for (const [lang, viewport, width] of [['en', WIDE, '1280'], ['zh', WIDE, '1280'], ['en', PHONE, '390'], ['zh', PHONE, '390']]) {
  test(`projector mode: large type, prose folded, code wrapping, a big countdown (${lang}, ${width} px)`, async () => {
    const page = await openLab(lang, viewport, '?present=1');
    assert.ok(await page.evaluate(() => document.body.classList.contains('present')));
    assert.ok(await page.locator('#present').isChecked());
    const size = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
    assert.ok(size >= (width === '390' ? 17 : 20), 'large type: ' + size);
    assert.equal(await page.locator('.lead').isVisible(), false, 'the lead is folded');
    assert.equal(await page.locator('#step-1 p.prose').isVisible(), false, 'step texts are folded');
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('#code pre.code')).whiteSpace), 'pre-wrap');
    await page.click('#step-3 button');
    await page.locator('#big-countdown:not([hidden])').waitFor({ timeout: WAIT });
    assert.match(await page.textContent('#big-countdown'), /#\d+ get · \d\.\d/);
    assert.ok(await page.locator('#big-countdown').evaluate((el) => parseFloat(getComputedStyle(el).fontSize) >= 30));
    assert.ok(await inView(page.locator('#big-countdown')), 'the countdown is in view');
    assert.ok(await inView(page.locator('#lanes .lane').first()), 'the lane is in view');
    assert.ok(await page.locator('#step-3 p.prose').isVisible(), 'the running step keeps its text');
    assert.deepEqual(await overflowing(page), []);
    await shot(page, `lab-present-${lang}-${width}.png`);
    await page.locator('#step-3.done').waitFor({ timeout: WAIT });
    // The toggle turns it off, and the URL follows.
    await page.uncheck('#present');
    assert.equal(await page.evaluate(() => document.body.classList.contains('present')), false);
    assert.doesNotMatch(page.url(), /present=1/);
    await page.context().close();
  });
}

test('the long-poll page shows q.get(timeout=10) beside the queue_get it is blocked in', async () => {
  for (const lang of ['en', 'zh']) {
    const page = await newPage(browser, lang, PHONE);
    await page.goto(server.base + '/ab_b1?name=lab-lp-' + lang);
    await page.locator('#code .tutorial .line.run', { hasText: 'q.get(timeout=10)' }).waitFor({ timeout: WAIT });
    await page.locator('#code .ours .line.run', { hasText: 'queue_get_cancellable' }).waitFor({ timeout: WAIT });
    await page.locator('#code .ours .line.run', { hasText: 'wait_on(q, &q->not_empty' }).waitFor({ timeout: WAIT });
    assert.deepEqual(await overflowing(page), []);
    await page.context().close();
  }
});

test("the teacher's view: every lab queue and its waiting calls on the queues page, and a purge", async () => {
  for (const [lang, viewport, width] of [['en', WIDE, '1280'], ['zh', PHONE, '390']]) {
    const student = await openLab(lang, viewport);
    const id = await student.textContent('#queue-id');
    await student.fill('#timeout', '20');
    await student.click('[data-call="get"]');
    await student.locator('.lane[data-state="sleeping"]').waitFor({ timeout: WAIT });
    const teacher = await newPage(browser, lang, viewport);
    await teacher.goto(server.base + '/queues.html');
    const row = teacher.locator(`#lab-queues tr[data-id="${id}"]`);
    await row.locator('td[data-getters="1"]').waitFor({ timeout: WAIT });
    assert.match(await teacher.textContent('#lab-view h2'), lang === 'en' ? /teacher’s view/ : /教师视图/);
    assert.deepEqual(await overflowing(teacher), []);
    assert.deepEqual(await squeezed(teacher), []);
    await shot(teacher, `queues-lab-view-${lang}-${width}.png`);
    // Two clicks: the first says how many, the second removes them.
    await teacher.click('#lab-purge');
    assert.match(await teacher.textContent('#lab-purge'), lang === 'en' ? /Click again: remove \d+ lab queues/ : /再点一次/);
    await teacher.click('#lab-purge');
    await teacher.locator(`#lab-queues tr[data-id="${id}"]`).waitFor({ state: 'detached', timeout: WAIT });
    // The student's waiting get ends with ShutDown, and the page says the queue is gone.
    await student.locator('.lane[data-state="ShutDown"]').waitFor({ timeout: WAIT });
    await student.locator('#lab-error:not([hidden])').waitFor({ timeout: WAIT });
    assert.match(await student.textContent('#lab-error'), lang === 'en' ? /This queue is gone/ : /这个队列没了/);
    await student.context().close();
    await teacher.context().close();
  }
});

test("with --api-key the teacher's view needs the key", async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(tmpdir() + '/pushq-lab-e2e-');
  writeFileSync(dir + '/api.key', 'the-teachers-key-for-the-lab-e2e-test-42\n');
  const keyed = await startServer(['--api-key', dir + '/api.key']);
  try {
    for (const lang of ['en', 'zh']) {
      const page = await newPage(browser, lang, PHONE);
      await page.goto(keyed.base + '/queues.html');
      await page.locator('#lab-view-error:not([hidden])').waitFor({ timeout: WAIT });
      assert.match(await page.textContent('#lab-view-error'), lang === 'en' ? /\?token=KEY/ : /API key/);
      await page.goto(keyed.base + '/queues.html?token=the-teachers-key-for-the-lab-e2e-test-42');
      await page.locator('#lab-summary', { hasText: /64/ }).waitFor({ timeout: WAIT });
      assert.equal(await page.locator('#lab-view-error').isVisible(), false);
      await page.context().close();
    }
  } finally {
    await stopServer(keyed);
    rmSync(dir, { recursive: true, force: true });
  }
});

// POST /send_msg into the room.
async function send(content) {
  const res = await fetch(server.base + '/send_msg', { method: 'POST', body: new URLSearchParams({ content, name: 'teacher' }) });
  assert.equal(res.status, 200);
  return (await res.json()).id;
}

for (const [file, lang, viewport, width] of [['sse', 'en', WIDE, '1280'], ['sse', 'zh', PHONE, '390'], ['ws', 'en', PHONE, '390'], ['ws', 'zh', WIDE, '1280']]) {
  test(`${file}.html: "drop the connection" cuts it and resumes with since, showing what was replayed (${lang}, ${width} px)`, async () => {
    const page = await newPage(browser, lang, viewport);
    const who = `drop-${file}-${lang}`;
    await page.goto(server.base + `/${file}.html?name=${who}`);
    await page.locator('#state.ok').waitFor({ timeout: WAIT });
    const first = await send(`before the drop ${lang}`);
    await page.locator('#content li .text', { hasText: `before the drop ${lang}` }).waitFor({ timeout: WAIT });
    await page.click('#drop');
    await page.locator('#drop-state', { hasText: lang === 'en' ? /back in \d\.\d s/ : /秒后重连/ }).waitFor({ timeout: WAIT });
    assert.ok(await page.locator('#drop').isDisabled());
    await send(`while away 1 ${lang}`);
    await send(`while away 2 ${lang}`);
    const item = page.locator('#reconnects li[data-replayed="2"]');
    await item.waitFor({ timeout: 15_000 });
    assert.match(await item.textContent(), lang === 'en' ? new RegExp(`came back with since=${first}: 2 message\\(s\\) sent meanwhile replayed`) : new RegExp(`带着 since=${first} 回来：补发了断开期间的 2 条`));
    await page.locator('#content li .text', { hasText: `while away 2 ${lang}` }).waitFor({ timeout: WAIT });
    assert.ok(await page.locator('#drop').isEnabled());
    assert.deepEqual(await overflowing(page), []);
    await shot(page, `${file}-drop-${lang}-${width}.png`);
    await page.context().close();
  });
}

for (const [lang, viewport, width] of MODES) {
  test(`issue 22's visual faults stay fixed (${lang}, ${width} px)`, async () => {
    const page = await newPage(browser, lang, viewport);
    // The teacher's command breaks between options, never inside "--host".
    await page.goto(server.base + '/');
    const optionLines = await page.locator('#teachers li .nowrap').evaluateAll((spans) => spans.map((span) => {
      const range = document.createRange();
      range.selectNodeContents(span);
      return [span.textContent, new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size];
    }));
    assert.ok(optionLines.some(([text]) => text === '--host'));
    for (const [text, lines] of optionLines) assert.equal(lines, 1, `"${text}" is on one line`);
    assert.ok(await page.locator('#teach-link').isVisible());
    if (lang === 'zh') assert.equal(await page.textContent('#teachers h2'), '教师指南');
    // Compare: no figure one digit per line, nothing wider than its box.
    await page.goto(server.base + '/compare.html');
    await page.fill('#rate', '0.5');
    await page.click('#toggle');
    await page.waitForFunction(() => [...document.querySelectorAll('.columns dd.requests')].some((dd) => Number(dd.textContent.replace(/\D/g, '')) > 0), null, { timeout: 20_000 });
    assert.deepEqual(await squeezed(page), [], 'compare: a character per line');
    for (const dd of await page.locator('.columns dd').all()) {
      const lines = await dd.evaluate((el) => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)));
      assert.ok(lines <= 1, 'a figure on one line: ' + await dd.textContent());
    }
    const labelSize = await page.evaluate(() => {
      const svg = document.getElementById('chart'), text = svg.querySelector('text');
      return text ? parseFloat(getComputedStyle(text).fontSize) * svg.getBoundingClientRect().width / 900 : 99;
    });
    assert.ok(labelSize >= (width === '390' ? 5.5 : 12), 'chart labels readable: ' + labelSize.toFixed(1) + ' px');
    await page.click('#toggle');
    // A code box that scrolls shows a scrollbar; a panel's heading starts at its top.
    await page.goto(server.base + '/ab_b1?name=visual-' + lang);
    await page.locator('#code pre.code').first().waitFor({ timeout: WAIT });
    assert.equal(await page.locator('#code pre.code').first().evaluate((el) => getComputedStyle(el).scrollbarWidth), 'thin');
    await page.goto(server.base + '/lab.html');
    for (const h of await page.locator('.panel > h3:first-child').all())
      assert.equal(await h.evaluate((el) => getComputedStyle(el).marginTop), '0px');
    // Chinese mode: the better phrasings of the table.
    if (lang === 'zh') {
      await page.goto(server.base + '/ab_b1?name=visual-zh-lp');
      assert.ok(await page.evaluate(() => pushq.t('long.held').includes('服务器线程正阻塞在你的队列上等待')));
      assert.ok(await page.evaluate(() => pushq.t('inuse.p').includes('同一个队列上有两个消费者')));
      assert.ok(await page.evaluate(() => pushq.t('home.cost') === '开销：'));
      await page.goto(server.base + '/polling.html?name=visual-zh-sp');
      await page.locator('#code .code-title', { hasText: '教程（用文字说明）' }).waitFor({ timeout: WAIT });
    }
    assert.deepEqual(page.consoleErrors.filter((e) => !/Failed to load resource/.test(e)), []);
    await page.context().close();
  });
}
