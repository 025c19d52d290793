// The ticket page: live refresh, SMS segment counter (GSM-7 or UCS-2), canned replies inserted
// at the cursor, a confirmation before closing, and the unsent reply kept in this browser tab
// (a session that ends while someone types must not lose their words).
const GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXT = "^{}\\[]~|€";
function segments(text) {
  let gsm = true, units = 0;
  for (const ch of text) {
    if (GSM.includes(ch)) units += 1; else if (GSM_EXT.includes(ch)) units += 2; else { gsm = false; break; }
  }
  if (!gsm) { units = 0; for (let i = 0; i < text.length; i++) units += 1; }
  const single = gsm ? 160 : 70, multi = gsm ? 153 : 67;
  const count = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / multi);
  return { encoding: gsm ? 'GSM-7' : 'UCS-2', units, count };
}
const messages = document.getElementById('messages');
const ticketId = Number(messages.dataset.ticket);
const reply = document.getElementById('reply');
const out = document.getElementById('segments');
const draftKey = 'kabar-draft-' + ticketId;
function update() {
  if (!reply) return;
  const s = segments(reply.value);
  out.textContent = s.units + ' characters · ' + s.count + ' SMS segment' + (s.count === 1 ? '' : 's') + ' · ' + s.encoding;
}
function toNewest() { messages.scrollTop = messages.scrollHeight; }
if (reply) {
  const params = new URLSearchParams(location.search);
  if (params.has('sent')) {
    sessionStorage.removeItem(draftKey);
    history.replaceState(null, '', location.pathname);
  } else {
    const kept = sessionStorage.getItem(draftKey);
    if (kept && !reply.value) {
      reply.value = kept;
      const note = document.getElementById('draft-note');
      if (note) note.hidden = false;
    }
  }
  reply.addEventListener('input', () => { sessionStorage.setItem(draftKey, reply.value); update(); });
  update();
}
const canned = document.getElementById('canned');
if (canned && reply) canned.addEventListener('change', () => {
  if (!canned.value) return;
  const start = reply.selectionStart ?? reply.value.length, end = reply.selectionEnd ?? start;
  reply.value = reply.value.slice(0, start) + canned.value + reply.value.slice(end);
  const at = start + canned.value.length;
  reply.focus(); reply.setSelectionRange(at, at);
  sessionStorage.setItem(draftKey, reply.value);
  canned.value = '';
  update();
});
for (const form of document.querySelectorAll('form[data-confirm]')) {
  form.addEventListener('submit', (e) => { if (!confirm(form.dataset.confirm)) e.preventDefault(); });
}
toNewest();
const source = new EventSource('/events');
source.addEventListener('ticket', async (e) => {
  const data = JSON.parse(e.data);
  if (data.ticket !== ticketId && data.kind !== 'reload') return;
  const atBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 40;
  const r = await fetch('/tickets/' + ticketId + '/messages');
  if (r.ok) { messages.innerHTML = await r.text(); if (atBottom) toNewest(); }
});
