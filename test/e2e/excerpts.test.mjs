// excerpts.test.mjs — every excerpt of this repo's code that a code panel
// shows (the `ours` column of www/code.js) still appears, line for line and
// in order, in the file its title names. The `tutorial` column quotes the
// seed tutorial, not this repo, and is not checked. No browser and no npm
// package: run it from anywhere with `node --test test/e2e/excerpts.test.mjs`.
//
// How an excerpt is read (the same way www/panels.js shows it):
//   - its title starts with the file's path from the repo root, e.g.
//     "server/push/longpoll.c — take_and_answer";
//   - a ⟦key⟧ marker at the end of a line, and the spaces before it, are not
//     part of the code;
//   - a line that is only "…" (indented or not) stands for any number of
//     lines left out; the lines between two of them must follow each other
//     in the file, as they are;
//   - each line must equal a line of the file once trailing whitespace is
//     trimmed from both: leading whitespace counts (tabs in C, spaces in JS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import vm from 'node:vm';

const ROOT = new URL('../../', import.meta.url);

// www/code.js is a browser script: it ends with window.pushqCode = CODE.
function loadPanels() {
  const window = {};
  vm.runInNewContext(readFileSync(new URL('www/code.js', ROOT), 'utf8'), { window }, { filename: 'www/code.js' });
  return window.pushqCode;
}

// The excerpt as runs of lines that must follow each other in the file,
// split where a "…" line leaves some out.
function runsOf(code) {
  const runs = [[]];
  for (const raw of code.split('\n')) {
    const line = raw.replace(/\s*⟦\w+⟧$/, '').trimEnd();
    if (line.trim() === '…') runs.push([]);
    else runs.at(-1).push(line);
  }
  return runs.filter((run) => run.length > 0);
}

// Finds the runs, in order, in the file's lines. Returns null when they are
// all there, else the first excerpt line that is not: the line after the
// longest start of its run found in the file past the previous run.
function firstMissingLine(runs, fileLines) {
  let from = 0;
  for (const run of runs) {
    let found = -1, longest = 0;
    for (let i = from; i < fileLines.length && found < 0; i++) {
      let n = 0;
      while (n < run.length && fileLines[i + n] === run[n]) n++;
      if (n === run.length) found = i;
      else longest = Math.max(longest, n);
    }
    if (found < 0) return run[longest];
    from = found + run.length;
  }
  return null;
}

const panels = loadPanels();

test('www/code.js has code panels with excerpts of ours', () => {
  assert.ok(panels && Object.keys(panels).length > 0, 'window.pushqCode is empty');
  for (const [panel, code] of Object.entries(panels))
    assert.ok(Array.isArray(code.ours) && code.ours.length > 0, `panel ${panel} has no "ours" excerpts`);
});

for (const [panel, code] of Object.entries(panels)) {
  for (const { title, code: excerpt } of code.ours ?? []) {
    test(`panel ${panel}: ${title}`, () => {
      const path = title.split(/\s/)[0];
      const file = new URL(path, ROOT);
      assert.ok(existsSync(file), `panel ${panel}, excerpt "${title}": there is no file ${path}`);
      const fileLines = readFileSync(file, 'utf8').split('\n').map((line) => line.trimEnd());
      const missing = firstMissingLine(runsOf(excerpt), fileLines);
      if (missing !== null)
        assert.fail(`panel ${panel}, excerpt "${title}": this line is not in ${path} (in this order): ${JSON.stringify(missing)}`);
    });
  }
}
