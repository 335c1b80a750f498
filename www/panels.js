// panels.js — the code panels: fills #code with a page's excerpts from
// code.js (the tutorial's beside ours) and highlights the line running now.
'use strict';

// Fills #code with the tutorial's code and ours for this page (code.js):
// each line a <span class="line">, those marked ⟦key⟧ with data-key. The
// lab names the two columns' headings itself (titles), and shows no hint.
function showCode(page, { titles = ['code.tutorial', 'code.ours'], hint: withHint = true } = {}) {
  const host = document.getElementById('code');
  const code = window.pushqCode?.[page];
  if (!host || !code) return;
  host.className = 'code-panels';
  const side = (titleKey, blocks, cls) => {
    const column = document.createElement('section');
    column.className = 'code-side ' + cls;
    const h = document.createElement('h3');
    h.dataset.i18n = titleKey;
    column.append(h);
    for (const block of blocks) {
      const title = document.createElement('div');
      title.className = 'code-title mono';
      title.textContent = block.title;
      // A title in words (not a file's name) has its text in each language.
      const key = 'codetitle.' + block.title;
      if (pushq.t(key) !== key) title.dataset.i18n = key;
      const pre = document.createElement('pre');
      pre.className = 'code';
      for (const raw of block.code.split('\n')) {
        const m = /^(.*?)\s*⟦(\w+)⟧$/.exec(raw);
        const line = document.createElement('span');
        line.className = 'line';
        line.textContent = (m ? m[1] : raw) + '\n';
        if (m) line.dataset.key = m[2];
        pre.append(line);
      }
      column.append(title, pre);
    }
    return column;
  };
  const hint = document.createElement('p');
  hint.className = 'muted';
  hint.dataset.i18n = 'code.hint';
  const columns = [side(titles[0], code.tutorial, 'tutorial'), side(titles[1], code.ours, 'ours')];
  host.replaceChildren(...(withHint ? [hint] : []), ...columns);
  pushq.translatePage();
}

// Highlights the lines marked `key` (or any of several keys), and only
// those, in #code.
function runLine(...keys) {
  for (const line of document.querySelectorAll('#code .line')) line.classList.toggle('run', keys.includes(line.dataset.key));
}

window.pushq = Object.assign(window.pushq || {}, { showCode, runLine });
