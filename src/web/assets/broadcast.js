// kabar broadcasts: the composer's live SMS counter and preview, and live progress on the
// list and detail pages. Served from a file (no inline script, for the CSP).
'use strict';

// GSM 03.38 basic and extension tables: must agree with src/i18n/segments.rs (tests/e2e/browser.rs
// feeds the same texts to both).
const GSM_BASIC = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENDED = '^{}\\[]~|€\f';

function kabarSegments(text) {
  let septets = 0;
  let gsm = true;
  for (const c of text) {
    if (GSM_BASIC.includes(c)) septets += 1;
    else if (GSM_EXTENDED.includes(c)) septets += 2;
    else { gsm = false; break; }
  }
  // UTF-16 code units: characters outside the BMP count two.
  const units = gsm ? septets : text.length;
  const [single, multi] = gsm ? [160, 153] : [70, 67];
  const parts = units <= single ? 1 : Math.ceil(units / multi);
  return { encoding: gsm ? 'GSM-7' : 'UCS-2', units, parts };
}
window.kabarSegments = kabarSegments;

function updateCounter(area) {
  const out = document.querySelector(`[data-counter-for="${area.name}"]`);
  if (!out) return;
  if (!area.value.trim()) { out.textContent = ''; out.classList.remove('error'); return; }
  const s = kabarSegments(area.value);
  out.textContent = `${s.units} characters · ${s.encoding} · ${s.parts} SMS part${s.parts === 1 ? '' : 's'}` +
    (s.parts > 2 ? ' — longer than 2 parts: shorten it' : '');
  out.dataset.parts = String(s.parts);
  out.classList.toggle('error', s.parts > 2);
}

function draftFromForm(form) {
  const data = new FormData(form);
  const texts = {};
  for (const [k, v] of data.entries()) {
    if (k.startsWith('text_') && String(v).trim()) texts[k.slice(5)] = String(v);
  }
  const list = (name) => String(data.get(name) || '').split(/[,;\n]/).map((s) => s.trim()).filter(Boolean);
  const draft = {
    name: String(data.get('name') || 'preview') || 'preview',
    texts,
    audience: {
      languages: data.getAll('languages').map(String),
      channels: data.getAll('channels').map(String),
      cities: list('cities'),
      tags: list('tags'),
      phones: list('phones'),
    },
  };
  const fallback = String(data.get('fallback') || '');
  if (fallback) draft.fallback = fallback;
  return draft;
}

function showPreview(target, p) {
  const rows = [
    ['Recipients', p.recipients],
    ['Excluded', Object.entries(p.excluded).map(([k, v]) => `${k.replace(/_/g, ' ')}: ${v}`).join(', ')],
    ['By language', Object.entries(p.by_language).map(([k, v]) => `${k}: ${v}`).join(', ')],
    ['By channel', Object.entries(p.by_channel).map(([k, v]) => `${k}: ${v}`).join(', ')],
    ['SMS parts', Object.entries(p.segments).map(([k, v]) => `${k}: ${v.parts} (${v.encoding})`).join(', ')],
    ['Total SMS segments', p.total_segments],
    ['WhatsApp outside 24 h', `template ${p.whatsapp_outside_window.template}, SMS ${p.whatsapp_outside_window.sms}, held ${p.whatsapp_outside_window.held}`],
  ];
  const table = document.createElement('table');
  for (const [k, v] of rows) {
    const tr = table.insertRow();
    tr.insertCell().textContent = k;
    tr.insertCell().textContent = String(v);
  }
  target.replaceChildren(table);
  for (const w of p.warnings || []) {
    const para = document.createElement('p');
    para.className = 'error';
    para.textContent = w;
    target.appendChild(para);
  }
}

async function refreshPreview(form) {
  const target = document.getElementById('preview');
  if (!target) return;
  const draft = draftFromForm(form);
  if (!Object.keys(draft.texts).length) { target.textContent = 'Write a text to see who gets it.'; return; }
  const r = await fetch('/api/broadcasts/preview', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': form.elements.csrf.value },
    body: JSON.stringify(draft),
  });
  const body = await r.json();
  if (r.ok) showPreview(target, body);
  else target.textContent = body.detail || 'cannot preview';
}

function composer(form) {
  let timer = null;
  const later = () => { clearTimeout(timer); timer = setTimeout(() => refreshPreview(form), 300); };
  for (const area of form.querySelectorAll('textarea[name^="text_"]')) {
    area.addEventListener('input', () => { updateCounter(area); later(); });
    updateCounter(area);
  }
  form.addEventListener('change', later);
  refreshPreview(form);
}

function liveProgress() {
  const cells = document.querySelectorAll('[data-progress]');
  if (!cells.length) return;
  const source = new EventSource('/broadcasts/events');
  source.addEventListener('progress', (e) => {
    const all = JSON.parse(e.data);
    for (const b of all) {
      for (const el of document.querySelectorAll(`[data-progress="${b.id}"]`)) {
        const field = el.dataset.field;
        if (field === 'status') el.textContent = b.status;
        else if (b.progress[field] !== undefined) el.textContent = String(b.progress[field]);
      }
    }
  });
}

document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('composer');
  if (form) composer(form);
  liveProgress();
});
