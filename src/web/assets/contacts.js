// The contacts import on /staff/contacts: a chosen file goes to /api/contacts/import with a
// progress bar, and the summary comes back as JSON. Text is only inserted with textContent.
// Without this script the form posts as multipart to /staff/contacts/import (same checks).
const form = document.getElementById('contacts-import');
const fileInput = document.getElementById('contacts-file');
const line = document.getElementById('import-progress-line');
const bar = document.getElementById('import-progress');
const status = document.getElementById('import-status');
const outcome = document.getElementById('import-outcome');
const button = form.querySelector('button');

function megabytes(n) { return (n / 1048576).toFixed(1) + ' MB'; }

function el(tag, text) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e; }

function rowList(rows) {
  const ul = el('ul');
  for (const r of rows.slice(0, 100)) ul.appendChild(el('li', 'line ' + r.line + ': ' + r.reason));
  return ul;
}

function show(ok, nodes) {
  outcome.textContent = '';
  const box = el('div');
  box.id = 'import-summary';
  box.className = ok ? 'notice' : 'error';
  box.setAttribute('role', ok ? 'status' : 'alert');
  for (const n of nodes) box.appendChild(n);
  outcome.appendChild(box);
}

function summary(r) {
  const nodes = [el('p', r.imported + ' contact(s) imported: ' + r.new + ' new, ' + (r.imported - r.new) + ' updated.')];
  if (r.skipped && r.skipped.length) {
    nodes.push(el('p', r.skipped.length + ' invalid row(s) skipped:'));
    nodes.push(rowList(r.skipped));
    if (r.skipped.length > 100) nodes.push(el('p', '… and ' + (r.skipped.length - 100) + ' more.'));
  }
  const more = el('p'); const a = el('a', 'Show the contacts'); a.href = '/staff/contacts'; more.appendChild(a);
  nodes.push(more);
  show(true, nodes);
}

form.addEventListener('submit', e => {
  const file = fileInput.files[0];
  if (!file) return; // pasted text: the plain form post does it
  e.preventDefault();
  const skip = form.querySelector('input[name=skip_invalid]').checked;
  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/api/contacts/import' + (skip ? '?skip_invalid=true' : ''));
  xhr.setRequestHeader('content-type', 'text/csv');
  xhr.setRequestHeader('x-csrf-token', form.querySelector('input[name=csrf]').value);
  line.hidden = false; bar.value = 0; button.disabled = true;
  status.textContent = 'Uploading ' + megabytes(file.size) + '…';
  outcome.textContent = '';
  xhr.upload.onprogress = p => {
    if (!p.lengthComputable) return;
    bar.value = Math.round(100 * p.loaded / p.total);
    status.textContent = 'Uploading: ' + bar.value + '% (' + megabytes(p.loaded) + ' of ' + megabytes(p.total) + ')';
  };
  xhr.upload.onload = () => { bar.value = 100; status.textContent = 'Uploaded; checking and saving the rows…'; };
  xhr.onload = () => {
    button.disabled = false;
    let body = null;
    try { body = JSON.parse(xhr.responseText); } catch { body = null; }
    if (xhr.status === 200 && body) { status.textContent = 'Done.'; summary(body); form.reset(); return; }
    status.textContent = 'Not imported.';
    if (xhr.status === 401) { show(false, [el('p', 'Your session has ended: log in again, then import the file again.')]); return; }
    const nodes = [el('p', body && body.detail ? body.detail : 'The import failed (' + xhr.status + ').')];
    if (body && body.rows) nodes.push(rowList(body.rows));
    show(false, nodes);
  };
  xhr.onerror = () => { button.disabled = false; status.textContent = 'Not imported.'; show(false, [el('p', 'The connection failed; nothing may have been imported. Try again.')]); };
  xhr.send(file);
});
