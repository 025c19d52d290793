// The phone simulator page. Message text is only ever inserted with textContent (never as HTML).
const log = document.getElementById('log');
const errorBox = document.getElementById('error');
let source = null;
let shown = new Set();
function bubble(id, dir, text) {
  if (id !== null && shown.has(id)) return;
  if (id !== null) shown.add(id);
  const div = document.createElement('div');
  div.className = 'bubble ' + dir;
  div.dir = 'auto';
  div.textContent = text;
  log.appendChild(div);
  log.scrollTop = log.scrollHeight;
}
async function loadHistory(phone) {
  const r = await fetch('/simulator/history?phone=' + encodeURIComponent(phone));
  if (!r.ok) { errorBox.textContent = (await r.json()).detail; return; }
  log.textContent = ''; shown = new Set();
  for (const m of await r.json()) bubble(m.id, m.direction, m.text);
}
function connect() {
  const phone = document.getElementById('phone').value.trim();
  errorBox.textContent = '';
  if (source) source.close();
  loadHistory(phone);
  source = new EventSource('/simulator/events?phone=' + encodeURIComponent(phone));
  source.addEventListener('reply', e => { const m = JSON.parse(e.data); bubble(m.id, 'out', m.text); });
  source.addEventListener('reload', () => loadHistory(phone));
}
document.getElementById('connect').onclick = connect;
document.getElementById('composer').onsubmit = async e => {
  e.preventDefault();
  const input = document.getElementById('text');
  const text = input.value.trim();
  if (!text) return;
  const phone = document.getElementById('phone').value.trim();
  const r = await fetch('/simulator/send', {method: 'POST', headers: {'content-type': 'application/json', 'x-csrf-token': document.body.dataset.csrf}, body: JSON.stringify({phone, text})});
  if (r.ok) { bubble(null, 'in', text); input.value = ''; errorBox.textContent = ''; }
  else { try { errorBox.textContent = (await r.json()).detail; } catch { errorBox.textContent = 'Could not send (' + r.status + ')'; } }
};
connect();
