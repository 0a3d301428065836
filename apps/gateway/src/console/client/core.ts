/**
 * Browser code, part 1: DOM building (textContent only, never markup), formatting of dates,
 * durations and numbers, badges and tables, the API client and notices. Served inside one
 * strict-mode function with the other parts (console-script.ts); plain ES2020, no backtick
 * strings (the parts are kept in String.raw literals).
 */
export const CORE_JS = String.raw`
const KEY_STORE = 'sb-console-key';
const $ = (id) => document.getElementById(id);
const state = { key: '', session: null, view: null, route: null, feed: null, feedEvents: [], feedListeners: new Set(), timer: null, holds: 0, holdGen: 0 };
/**
 * While the operator is in the middle of something (a button waiting for its confirming click, a
 * form open in a table), live refreshes leave the view alone: returns the release.
 */
function hold() {
  state.holds++;
  const gen = state.holdGen;
  let released = false;
  // A view switch drops every hold (a new generation): a late release from the old view changes nothing.
  return () => { if (!released && gen === state.holdGen) state.holds--; released = true; };
}
const held = () => state.holds > 0;

function h(tag, props) {
  const e = document.createElement(tag);
  if (props) {
    for (const k of Object.keys(props)) {
      const v = props[k];
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = String(v);
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
      else if (k === 'css') for (const p of Object.keys(v)) e.style.setProperty(p, v[p]);
      else if (k === 'value') e.value = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(e, Array.prototype.slice.call(arguments, 2));
  return e;
}
function append(e, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(e, c);
    else e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
function fill(e) { e.replaceChildren(); return append(e, Array.prototype.slice.call(arguments, 1)); }

// ---- formatting ------------------------------------------------------------------------------
const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const DAY_TIME = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const FULL = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const DAY = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
function ms(v) {
  if (v === undefined || v === null || v === '') return null;
  const t = typeof v === 'number' ? v : Date.parse(v);
  return Number.isFinite(t) ? t : null;
}
function fmtTime(v) {
  const t = ms(v);
  if (t === null) return '—';
  const d = new Date(t);
  return d.toDateString() === new Date().toDateString() ? TIME.format(d) : DAY_TIME.format(d);
}
function fmtAgo(v) {
  const t = ms(v);
  if (t === null) return '—';
  const s = (Date.now() - t) / 1000;
  const a = Math.abs(s);
  if (a < 3) return s >= 0 ? 'just now' : 'now';
  let txt;
  if (a < 60) txt = Math.round(a) + ' s';
  else if (a < 3600) txt = Math.round(a / 60) + ' min';
  else if (a < 86400) txt = (a < 36000 ? (a / 3600).toFixed(1) : Math.round(a / 3600)) + ' h';
  else txt = Math.round(a / 86400) + ' d';
  return s >= 0 ? txt + ' ago' : 'in ' + txt;
}
function fmtDuration(v) {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  if (v < 10) return v.toFixed(v < 1 ? 2 : 1) + ' ms';
  if (v < 1000) return Math.round(v) + ' ms';
  const s = v / 1000;
  if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min ' + Math.round(s % 60) + ' s';
  return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
}
function fmtNum(n, digits) {
  if (n === undefined || n === null || !Number.isFinite(n)) return '—';
  const d = digits === undefined ? (Math.abs(n) >= 100 || Number.isInteger(n) ? 0 : Math.abs(n) >= 10 ? 1 : 2) : digits;
  return n.toLocaleString(undefined, { maximumFractionDigits: d, minimumFractionDigits: 0 });
}
function fmtPct(x) { return x === undefined || x === null || !Number.isFinite(x) ? '—' : fmtNum(x * 100, x < 0.1 ? 1 : 0) + '%'; }
function fmtBytes(n) {
  if (n === undefined || n === null || !Number.isFinite(n)) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return fmtNum(n, i === 0 ? 0 : 1) + ' ' + u[i];
}
/** A value in a series' unit, as axes and legends show it. */
function fmtUnit(v, unit) {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—';
  if (unit === 'ratio') return fmtPct(v);
  if (unit === 's') return fmtDuration(v * 1000);
  if (unit === 'tasks/s') return fmtNum(v) + '/s';
  return fmtNum(v);
}
function words(s) { return String(s).replace(/_/g, ' '); }
function sentence(s) { const w = words(s); return w.charAt(0).toUpperCase() + w.slice(1); }

// ---- elements --------------------------------------------------------------------------------
const TONES = {
  up: 'ok', succeeded: 'ok', resolved: 'ok', active: 'ok', closed: 'ok', ok: 'ok', ready: 'ok',
  down: 'bad', failed: 'bad', dead_lettered: 'bad', timed_out: 'bad', firing: 'bad', critical: 'bad', emergency: 'bad',
  suspended: 'bad', revoked: 'bad', error: 'bad', open: 'bad',
  queued: 'warn', pending: 'warn', warning: 'warn', draining: 'warn', half_open: 'warn', expired: 'warn',
  running: 'info', info: 'info', acknowledged: 'info',
};
function tone(v) { return TONES[v] || 'muted'; }
function badge(v, t) { return h('span', { class: 'badge tone-' + (t || tone(v)), text: words(v) }); }
function chip(text, cls) { return h('span', { class: 'chip' + (cls ? ' ' + cls : ''), text: text }); }
function muted(text) { return h('span', { class: 'muted', text: text }); }
function mono(text, title) { return h('span', { class: 'mono', text: text, title: title }); }
function sub(text) { return h('span', { class: 'sub', text: text }); }
function chips(list) {
  if (!list || list.length === 0) return muted('—');
  return h('span', { class: 'chips' }, list.map((x) => chip(String(x))));
}
function labelChips(obj, skip) {
  const entries = Object.entries(obj || {}).filter(([k]) => !(skip && skip.includes(k)));
  if (entries.length === 0) return muted('—');
  return h('span', { class: 'chips' }, entries.map(([k, v]) => h('span', { class: 'chip kv' }, h('span', { class: 'k', text: k }), h('span', { class: 'v', text: v }))));
}
/** A time as "16:32:07" (or a date), with the full time on hover. */
function when(v) {
  const t = ms(v);
  if (t === null) return muted('—');
  return h('time', { datetime: new Date(t).toISOString(), title: FULL.format(new Date(t)), text: fmtTime(t) });
}
/** "5 min ago", kept current by the clock. */
function ago(v) {
  const t = ms(v);
  if (t === null) return muted('—');
  return h('time', { class: 'ago', datetime: new Date(t).toISOString(), title: FULL.format(new Date(t)), 'data-at': t, text: fmtAgo(t) });
}
function meter(frac, t) {
  const f = Math.max(0, Math.min(1, Number.isFinite(frac) ? frac : 0));
  return h('div', { class: 'meter' + (t ? ' tone-' + t : '') }, h('span', { css: { width: (f * 100).toFixed(1) + '%' } }));
}
function stat(label, value, subText, t) {
  return h('div', { class: 'stat' + (t ? ' tone-' + t : '') }, h('div', { class: 'stat-value', text: value }), h('div', { class: 'stat-label', text: label }), subText ? h('div', { class: 'stat-sub' }, subText) : null);
}
function card(title, body, opts) {
  const o = opts || {};
  return h('section', { class: 'card', id: o.id },
    h('header', { class: 'card-head' }, h('h2', { text: title }), o.help ? h('span', { class: 'help', text: o.help }) : null, o.tools ? h('div', { class: 'tools' }, o.tools) : null),
    h('div', { class: 'card-body' + (o.flush ? ' flush' : '') }, body));
}
function fields(pairs) {
  return h('dl', { class: 'fields' }, pairs.filter(Boolean).map(([k, v]) => h('div', null, h('dt', { text: k }), h('dd', null, v === undefined || v === null || v === '' ? muted('—') : v))));
}
function jsonBlock(value) {
  let text;
  try { text = JSON.stringify(value, null, 2); } catch (_) { text = String(value); }
  if (text === undefined) text = 'null';
  if (text.length > 100000) text = text.slice(0, 100000) + '\n… (' + fmtBytes(text.length) + ' in all)';
  return h('pre', { class: 'json', text: text });
}
function empty(text) { return h('div', { class: 'empty', text: text }); }
/**
 * columns: [{ title, render(row) → node|string, cls }]; opts: { empty, onRow(row), rowClass(row),
 * full(row) → a node for a row spanning every column (e.g. an expanded detail), or nothing }.
 */
function table(columns, rows, opts) {
  const o = opts || {};
  if (!rows || rows.length === 0) return empty(o.empty || 'Nothing here.');
  const head = h('tr', null, columns.map((c) => h('th', { class: c.cls, text: c.title })));
  const body = rows.map((r) => {
    const whole = o.full ? o.full(r) : null;
    if (whole) return h('tr', { class: 'expanded' }, h('td', { colspan: columns.length }, whole));
    const tr = h('tr', { class: o.rowClass ? o.rowClass(r) : undefined }, columns.map((c) => {
      const v = c.render(r);
      return h('td', { class: c.cls }, v === undefined || v === null || v === '' ? muted('—') : v);
    }));
    if (o.onRow) {
      tr.classList.add('clickable');
      tr.addEventListener('click', (ev) => { if (!ev.target.closest('button, a, input, select, textarea')) o.onRow(r); });
    }
    return tr;
  });
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data' }, h('thead', null, head), h('tbody', null, body)));
}
/** A button running an async action (disabled meanwhile; errors become a notice). confirm: a second click within 4 s confirms. */
function button(label, run, opts) {
  const o = opts || {};
  const b = h('button', { type: 'button', class: o.cls, title: o.title, text: label });
  let armed = null;
  let release = () => undefined;
  b.addEventListener('click', async () => {
    if (o.confirm && !armed) {
      b.textContent = o.confirm;
      b.classList.add('armed');
      release = hold();
      armed = setTimeout(() => { armed = null; release(); b.textContent = label; b.classList.remove('armed'); }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    release();
    b.classList.remove('armed');
    b.disabled = true;
    try { await run(); } catch (e) { notify(e.message, 'bad'); } finally { b.disabled = false; b.textContent = label; }
  });
  return b;
}
function segmented(options, current, onPick) {
  const box = h('div', { class: 'seg', role: 'group' });
  for (const [value, label] of options) {
    const b = h('button', { type: 'button', class: value === current ? 'on' : undefined, 'aria-pressed': value === current ? 'true' : 'false', text: label });
    b.addEventListener('click', () => {
      for (const x of box.children) { x.classList.toggle('on', x === b); x.setAttribute('aria-pressed', x === b ? 'true' : 'false'); }
      onPick(value);
    });
    box.appendChild(b);
  }
  return box;
}
function select(options, value, props) {
  const s = h('select', props);
  for (const [v, label] of options) s.appendChild(h('option', { value: v, text: label }));
  s.value = value === undefined ? '' : value;
  return s;
}
function notify(message, t, link) {
  const box = $('toasts');
  const n = h('div', { class: 'toast' + (t ? ' tone-' + t : ''), role: t === 'bad' ? 'alert' : 'status' }, h('span', { text: message }), link ? h('a', { href: link.href, text: link.text }) : null);
  box.appendChild(n);
  while (box.children.length > 4) box.firstChild.remove();
  setTimeout(() => n.remove(), t === 'bad' ? 8000 : 5000);
}

// ---- API -------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}
async function request(method, path, body) {
  const headers = { authorization: 'Bearer ' + state.key };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
  if (!res.ok) {
    const err = data && data.error ? data.error : { code: 'HTTP_' + res.status, message: res.status + ' ' + res.statusText };
    throw new ApiError(res.status, err.code, err.message);
  }
  return { data: data, headers: res.headers };
}
async function api(method, path, body) { return (await request(method, path, body)).data; }
const get = (path) => api('GET', path);
function qs(params) {
  const p = new URLSearchParams();
  for (const k of Object.keys(params)) if (params[k] !== undefined && params[k] !== null && params[k] !== '') p.set(k, params[k]);
  const s = p.toString();
  return s ? '?' + s : '';
}
const enc = encodeURIComponent;
/** The link to a task's detail view; the tenant is named only when it is not the caller's own. */
function taskHref(taskId, tenantId) {
  const own = !tenantId || (state.session && tenantId === state.session.tenantId);
  return '#/task/' + enc(taskId) + (own ? '' : '?tenant=' + enc(tenantId));
}
function taskLink(taskId, tenantId) { return h('a', { href: taskHref(taskId, tenantId), class: 'mono', text: taskId }); }
`;
