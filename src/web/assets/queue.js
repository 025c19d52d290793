// The queue page: reload the list whenever a ticket this person may see changes, and make an
// unclaimed urgent ticket visible from another browser tab too (the title starts with "URGENT").
const title = document.title;
function flag() {
  const urgent = document.getElementById('urgent-alert');
  document.title = urgent ? 'URGENT · ' + title : title;
}
flag();
const source = new EventSource('/events');
source.addEventListener('ticket', async () => {
  const r = await fetch('/queue/list');
  if (r.ok) { document.getElementById('queue').innerHTML = await r.text(); flag(); }
});
