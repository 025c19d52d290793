// The ticket page: live refresh, SMS segment counter (GSM-7 or UCS-2), canned replies.
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
const reply = document.getElementById('reply');
const out = document.getElementById('segments');
function update() {
  if (!reply) return;
  const s = segments(reply.value);
  out.textContent = s.units + ' characters · ' + s.count + ' SMS segment' + (s.count === 1 ? '' : 's') + ' · ' + s.encoding;
}
if (reply) { reply.addEventListener('input', update); update(); }
const canned = document.getElementById('canned');
if (canned) canned.addEventListener('change', () => { if (canned.value) { reply.value = canned.value; update(); canned.value = ''; } });
const ticketId = Number(document.getElementById('messages').dataset.ticket);
const source = new EventSource('/events');
source.addEventListener('ticket', async (e) => {
  const data = JSON.parse(e.data);
  if (data.ticket !== ticketId && data.kind !== 'reload') return;
  const r = await fetch('/tickets/' + ticketId + '/messages');
  if (r.ok) document.getElementById('messages').innerHTML = await r.text();
});
