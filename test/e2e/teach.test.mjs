// teach.test.mjs — the lesson pack (teach.html) in both languages at 1280
// and 390 px: a timed script that adds up to 45 minutes, a predict-then-run
// question (with its answer) for each of the lab's seven steps, five
// exercises with answers, printable (the answers print, the header does
// not), linked from the home page and the lab. Run by `make e2e`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer, launch, newPage, overflowing, squeezed, shot, fullShot,
  PHONE, WIDE, WAIT, leftLoopback } from './browser.mjs';

let browser, server;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => {
  await browser?.close();
  if (server) await stopServer(server);
  assert.deepEqual(leftLoopback, []);
});

const HAN = /[\u4e00-\u9fff]/;

for (const [lang, viewport, width] of [['en', WIDE, '1280'], ['zh', WIDE, '1280'], ['en', PHONE, '390'], ['zh', PHONE, '390']]) {
  test(`the lesson pack: 45 minutes, questions, five exercises, printable (${lang}, ${width} px)`, async () => {
    const page = await newPage(browser, lang, viewport);
    await page.goto(server.base + '/');
    await page.click('#teach-link');
    await page.waitForURL(/\/teach\.html$/);
    await page.locator('#script-rows tr').first().waitFor({ timeout: WAIT });
    assert.equal(HAN.test(await page.textContent('h1')), lang === 'zh');
    // The timed script adds up to 45 minutes, and its times follow each other.
    const minutes = await page.locator('#script-rows tr').evaluateAll((rows) => rows.map((r) => Number(r.dataset.minutes)));
    assert.equal(minutes.reduce((a, b) => a + b, 0), 45);
    assert.equal(await page.locator('#script-rows tr').last().locator('td').first().textContent(), '43–45');
    // A question before each of the seven steps, five exercises; answers hidden until asked for.
    assert.equal(await page.locator('#predict-list li .question').count(), 7);
    assert.equal(await page.locator('#exercise-list li').count(), 5);
    assert.equal(await page.locator('#exercise-list li .answer').count(), 5);
    assert.equal(await page.locator('#exercise-list .answer').first().isVisible(), false);
    await page.click('#show-answers');
    assert.ok(await page.locator('#exercise-list .answer').first().isVisible());
    for (const text of await page.locator('#exercise-list li, #predict-list li, #script-rows td:nth-child(2)').allTextContents())
      assert.equal(HAN.test(text), lang === 'zh', 'in the page\'s language: ' + text.slice(0, 60));
    // The commands break between words, never inside one.
    const cmd = page.locator('#setup-list code.cmd').first();
    assert.match(await cmd.textContent(), /--host 0\.0\.0\.0 --port 8000 --lab-max-waiting 128/);
    for (const lines of await page.locator('#setup-list code.cmd .nowrap').evaluateAll((spans) => spans.map((span) => {
      const range = document.createRange();
      range.selectNodeContents(span);
      return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    }))) assert.equal(lines, 1, 'an option on one line');
    assert.deepEqual(await overflowing(page), []);
    assert.deepEqual(await squeezed(page), []);
    await page.click('#show-answers');
    await fullShot(page, `teach-${lang}-${width}.png`);
    // Printed: no header or buttons, every answer.
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('#top').isVisible(), false);
    assert.equal(await page.locator('#show-answers').isVisible(), false);
    assert.ok(await page.locator('#exercise-list .answer').nth(4).isVisible());
    assert.ok(await page.locator('#predict-list .answer').nth(6).isVisible());
    await page.emulateMedia({ media: 'screen' });
    // The projector link opens the lab in projector mode.
    await page.click('#open-projector');
    await page.waitForURL(/\/lab\.html\?present=1$/);
    await page.locator('body.present').waitFor({ timeout: WAIT });
    assert.ok(await page.locator('a[href="/teach.html"]').count() >= 1, 'the lab links back to the lesson pack');
    assert.deepEqual(page.consoleErrors, []);
    await page.context().close();
  });
}
