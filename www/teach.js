// teach.js — the lesson pack (teach.html): a timed 45-minute script, a
// "predict, then run" question for each step of the queue lab, and five
// exercises with their answers. Every text is in texts.js (teach.*), in
// both languages; the answers are hidden on screen until asked for, and
// always printed.
'use strict';
const $ = (id) => document.getElementById(id);

// The script: minutes each part takes (they add up to 45), and the page it uses.
const SCRIPT = [
  [5, '/ab_b1'], [5, '/lab.html?present=1'], [7, '/lab.html?present=1'], [5, '/lab.html?present=1'],
  [6, '/lab.html?present=1'], [5, '/lab.html?present=1'], [10, '/lab.html'], [2, '/compare.html'],
];
const SETUP = 4, STEPS = 7, EXERCISES = 5;

function item(parent, ...keys) {
  const li = document.createElement('li');
  for (const [key, cls, tag = 'p'] of keys) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = pushq.t(key);
    li.append(el);
  }
  parent.append(li);
  return li;
}

function draw() {
  $('setup-list').replaceChildren();
  for (let i = 1; i <= SETUP; i++) item($('setup-list'), ['teach.setup.' + i, 'setup-step', 'span']);
  for (const code of document.querySelectorAll('#setup-list .setup-step')) code.innerHTML = code.textContent
    .replace(/[&<>]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' }[ch]))
    .replace(/`([^`]+)`/g, '<code class="cmd">$1</code>');    // commands: `...`
  for (const code of document.querySelectorAll('#setup-list code.cmd')) pushq.keepOptionsWhole(code);   // never broken inside an option

  const rows = $('script-rows');
  rows.replaceChildren();
  let start = 0;
  SCRIPT.forEach(([minutes, href], i) => {
    const row = rows.insertRow();
    row.dataset.minutes = minutes;
    row.insertCell().textContent = pushq.t('teach.time', { from: start, to: start + minutes });
    start += minutes;
    const what = row.insertCell();
    const b = document.createElement('b');
    b.textContent = pushq.t(`teach.row.${i + 1}.h`);
    const p = document.createElement('span');
    p.textContent = ' ' + pushq.t(`teach.row.${i + 1}.p`);
    what.append(b, p);
    const a = document.createElement('a');
    a.href = href;
    a.textContent = href;
    a.className = 'mono';
    row.insertCell().append(a);
  });

  $('predict-list').replaceChildren();
  for (let i = 1; i <= STEPS; i++)
    item($('predict-list'), [`qlab.s${i}.h`, 'step-title', 'b'], [`qlab.s${i}.q`, 'question'], [`teach.p${i}.a`, 'answer']);

  $('exercise-list').replaceChildren();
  for (let i = 1; i <= EXERCISES; i++)
    item($('exercise-list'), [`teach.ex${i}.h`, 'step-title', 'b'], [`teach.ex${i}.q`, 'question'], [`teach.ex${i}.a`, 'answer']);
  $('show-answers').textContent = pushq.t(document.body.classList.contains('answers') ? 'teach.answers.hide' : 'teach.answers.show');
}

$('show-answers').addEventListener('click', () => { document.body.classList.toggle('answers'); draw(); });
$('print').addEventListener('click', () => print());
document.addEventListener('pushq:lang', draw);
draw();
