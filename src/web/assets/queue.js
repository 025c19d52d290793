// The queue page: reload the list whenever a ticket this person may see changes.
const source = new EventSource('/events');
source.addEventListener('ticket', async () => {
  const r = await fetch('/queue/list');
  if (r.ok) document.getElementById('queue').innerHTML = await r.text();
});
