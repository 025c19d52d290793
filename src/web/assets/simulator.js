// The phone simulator page. Message text is only ever inserted with textContent (never as HTML).
// The conversation shown is always the one of the number in the box: editing the number
// switches the conversation (after a short pause in typing, at once on Enter, "Use" or
// leaving the box), and a message is sent only from the number whose conversation is shown.
const log = document.getElementById('log');
const errorBox = document.getElementById('error');
const phoneBox = document.getElementById('phone');
const current = document.getElementById('current');
let source = null;
let connected = null;
let shown = new Set();
let typingTimer = null;
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
  // The number may have changed while this was on its way: never show another conversation.
  if (phone !== connected) return;
  if (!r.ok) { errorBox.textContent = (await r.json()).detail; return; }
  const messages = await r.json();
  if (phone !== connected) return;
  log.textContent = ''; shown = new Set();
  for (const m of messages) bubble(m.id, m.direction, m.text);
}
function connect() {
  clearTimeout(typingTimer);
  const phone = phoneBox.value.trim();
  if (phone === connected) return;
  connected = phone;
  current.textContent = 'Conversation of ' + phone;
  errorBox.textContent = '';
  if (source) source.close();
  log.textContent = ''; shown = new Set();
  loadHistory(phone);
  source = new EventSource('/simulator/events?phone=' + encodeURIComponent(phone));
  source.addEventListener('reply', e => {
    if (phone !== connected) return;
    const m = JSON.parse(e.data); bubble(m.id, 'out', m.text);
  });
  source.addEventListener('reload', () => loadHistory(phone));
}
document.getElementById('connect').onclick = connect;
phoneBox.addEventListener('input', () => { clearTimeout(typingTimer); typingTimer = setTimeout(connect, 600); });
phoneBox.addEventListener('change', connect);
phoneBox.addEventListener('keydown', e => { if (e.key === 'Enter') { e.preventDefault(); connect(); } });
document.getElementById('composer').onsubmit = async e => {
  e.preventDefault();
  const input = document.getElementById('text');
  const text = input.value.trim();
  if (!text) return;
  connect();
  const phone = connected;
  const r = await fetch('/simulator/send', {method: 'POST', headers: {'content-type': 'application/json', 'x-csrf-token': document.body.dataset.csrf}, body: JSON.stringify({phone, text})});
  if (phone !== connected) return;
  if (r.ok) { bubble(null, 'in', text); input.value = ''; errorBox.textContent = ''; }
  else { try { errorBox.textContent = (await r.json()).detail; } catch { errorBox.textContent = 'Could not send (' + r.status + ')'; } }
};
connect();
