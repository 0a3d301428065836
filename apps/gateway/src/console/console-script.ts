/**
 * The ops console's script (served as /console/console.js). Renders whatever the API returns
 * with textContent only — alert annotations and task fields are data, never markup.
 */
export const CONSOLE_JS = `'use strict';
const KEY = 'sb-console-key';
const $ = (id) => document.getElementById(id);
const key = () => sessionStorage.getItem(KEY) || '';
let feedAbort = null;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = typeof text === 'object' ? JSON.stringify(text) : String(text);
  if (cls) e.className = cls;
  return e;
}
function say(msg) { $('status').textContent = msg || ''; }

async function api(method, path, body) {
  const headers = { authorization: 'Bearer ' + key() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = text;
  try { data = text ? JSON.parse(text) : null; } catch (_) {}
  if (!res.ok) throw new Error(res.status + ' ' + (data && data.error ? data.error.code + ': ' + data.error.message : text));
  return data;
}

function listOf(data) {
  if (Array.isArray(data)) return data;
  if (data && typeof data === 'object') for (const v of Object.values(data)) if (Array.isArray(v)) return v;
  return [];
}

function table(rows, actions) {
  const t = el('table');
  if (rows.length === 0) { t.appendChild(el('caption', 'none')); return t; }
  const cols = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const head = el('tr');
  for (const c of cols) head.appendChild(el('th', c));
  if (actions) head.appendChild(el('th', ''));
  t.appendChild(el('thead')).appendChild(head);
  const body = t.appendChild(el('tbody'));
  for (const r of rows) {
    const tr = body.appendChild(el('tr'));
    for (const c of cols) {
      const v = r[c];
      const td = tr.appendChild(el('td'));
      if (v !== null && typeof v === 'object') td.appendChild(el('pre', JSON.stringify(v, null, 1)));
      else { td.textContent = v === undefined || v === null ? '' : String(v); if (['status', 'state', 'severity'].includes(c)) td.className = (c === 'severity' ? 'sev-' : 'st-') + v; }
    }
    if (actions) { const td = tr.appendChild(el('td')); for (const a of actions) { const b = el('button', a.label); b.onclick = () => a.run(r).then(refresh, (e) => say(e.message)); td.appendChild(b); } }
  }
  return t;
}

function render(section, parts) {
  const s = $(section);
  s.replaceChildren();
  for (const p of parts) s.appendChild(p);
}

function cards(obj) {
  const box = el('div', undefined, 'cards');
  for (const [k, v] of Object.entries(obj || {})) {
    if (v !== null && typeof v === 'object') continue;
    const c = box.appendChild(el('div', undefined, 'card'));
    c.appendChild(el('b', v));
    c.appendChild(el('span', k));
  }
  return box;
}

function sections(obj) {
  const out = [];
  for (const [k, v] of Object.entries(obj || {})) {
    if (Array.isArray(v)) { out.push(el('h2', k), table(v.map((x) => (x && typeof x === 'object' ? x : { value: x })))); }
    else if (v && typeof v === 'object') { out.push(el('h2', k), cards(v)); const nested = sections(Object.fromEntries(Object.entries(v).filter(([, x]) => x && typeof x === 'object'))); out.push(...nested); }
  }
  return out;
}

const views = {
  async fleet() {
    const [overview, agents] = await Promise.all([api('GET', '/v1/fleet/overview'), api('GET', '/v1/agents')]);
    render('fleet', [el('h2', 'Overview'), cards(overview), ...sections(overview), el('h2', 'Agents'), table(listOf(agents))]);
  },
  async alerts() {
    const alerts = listOf(await api('GET', '/v1/alerts'));
    render('alerts', [table(alerts, [{ label: 'Acknowledge', run: (a) => api('POST', '/v1/alerts/' + encodeURIComponent(a.fingerprint || a.id) + '/ack', { comment: 'from the ops console' }) }])]);
  },
  async incidents() { render('incidents', [table(listOf(await api('GET', '/v1/incidents')))]); },
  async 'dead-letters'() {
    const items = listOf(await api('GET', '/v1/dead-letters'));
    render('dead-letters', [table(items, [{ label: 'Redrive', run: (d) => api('POST', '/v1/dead-letters/' + encodeURIComponent(d.id || d.taskId) + '/redrive', {}) }])]);
  },
  async tasks() { if (!feedAbort) startFeed(); },
};

let current = 'fleet';
async function refresh() {
  if (!key()) { say('Enter an API key with fleet:read, alerts:read or tasks:read (or admin).'); return; }
  try { await views[current](); say(''); } catch (e) { say(e.message); }
}

async function startFeed() {
  feedAbort = new AbortController();
  try {
    const res = await fetch('/v1/tasks/events', { headers: { authorization: 'Bearer ' + key() }, signal: feedAbort.signal });
    if (!res.ok) throw new Error(res.status + ' ' + (await res.text()));
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i;
      while ((i = buf.indexOf('\\n\\n')) >= 0) {
        const block = buf.slice(0, i); buf = buf.slice(i + 2);
        const data = block.split('\\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\\n');
        if (!data || !block.includes('event: task')) continue;
        const e = JSON.parse(data);
        const tr = el('tr');
        for (const v of [e.at, e.taskId, e.tenantId, e.capability, e.status, e.agentId, e.attempts]) tr.appendChild(el('td', v));
        tr.children[4].className = 'st-' + e.status;
        const feed = $('task-feed');
        feed.prepend(tr);
        while (feed.children.length > 200) feed.lastChild.remove();
      }
    }
  } catch (e) { if (e.name !== 'AbortError') say('event stream: ' + e.message); }
  feedAbort = null;
}

document.addEventListener('DOMContentLoaded', () => {
  for (const b of document.querySelectorAll('#tabs button')) b.onclick = () => {
    for (const x of document.querySelectorAll('#tabs button')) x.classList.toggle('active', x === b);
    current = b.dataset.tab;
    for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== current;
    refresh();
  };
  $('login').onsubmit = (ev) => { ev.preventDefault(); sessionStorage.setItem(KEY, $('key').value.trim()); $('key').value = ''; if (feedAbort) feedAbort.abort(); refresh(); };
  $('logout').onclick = () => { sessionStorage.removeItem(KEY); if (feedAbort) feedAbort.abort(); say('Key forgotten.'); };
  refresh();
  setInterval(() => { if (current !== 'tasks' && !document.hidden) refresh(); }, 5000);
});
`;
