// ab_dy.js — the AJAX page (ab_dy.html): one POST /ab_dy with fetch(), and
// the whole exchange shown: request, status, headers, body, typeof the answer.
'use strict';
pushq.showCode('ajax');
// The tutorial's $.ajax({url: '', type: 'post', success: ...}), with fetch():
// the answer arrives later, in the callback (here: after the await).
document.getElementById('d1').addEventListener('click', async () => {
  document.getElementById('request').textContent =
    'POST /ab_dy HTTP/1.1\nHost: ' + location.host + '\nContent-Length: 0\n';
  pushq.runLine('send');
  const res = await fetch('/ab_dy', { method: 'POST' });
  const text = await res.text();                           // the callback: the answer is here
  pushq.runLine('callback');
  const headers = [...res.headers].map(([name, value]) => name + ': ' + value).join('\n');
  document.getElementById('response-status').textContent = res.status + ' ' + res.statusText;
  document.getElementById('response-headers').textContent = headers;
  document.getElementById('response-body').textContent = text;
  // Like JsonResponse + jQuery: the JSON text becomes an object.
  document.getElementById('response-type').textContent = typeof JSON.parse(text);
});
