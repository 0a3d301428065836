/**
 * Browser code, part 5: tasks. Submit one (tasks:submit), search them (GET /v1/tasks with its
 * status and capability filters and its cursor; platform admins may pick the tenant), open one
 * by id, and the live feed: GET /v1/tasks/events read as a stream (an EventSource cannot send
 * the Authorization header), started at sign-in and kept for the session.
 */
export const TASKS_JS = String.raw`
const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'dead_lettered', 'timed_out'];
const FEED_MAX = 100;

// ---- the live feed -------------------------------------------------------------------------------
function setLive(on, text) {
  const l = $('live');
  l.classList.toggle('on', on);
  l.classList.toggle('off', !on);
  l.textContent = text;
}
function startFeed() {
  if (!state.session || !state.session.can.liveTasks || state.feed) return;
  const ctl = new AbortController();
  state.feed = ctl;
  let retry = 1000;
  (async () => {
    while (!ctl.signal.aborted) {
      try {
        const res = await fetch('/v1/tasks/events', { headers: { authorization: 'Bearer ' + state.key }, signal: ctl.signal });
        if (!res.ok) throw new Error('task events: ' + res.status);
        setLive(true, 'live');
        retry = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            onFrame(block);
          }
        }
      } catch (e) {
        if (ctl.signal.aborted) break;
      }
      setLive(false, 'reconnecting');
      await new Promise((r) => setTimeout(r, retry));
      retry = Math.min(retry * 2, 30000);
    }
    setLive(false, 'offline');
  })();
}
function stopFeed() {
  if (state.feed) state.feed.abort();
  state.feed = null;
  setLive(false, 'offline');
}
function onFrame(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  if (event !== 'task' || data.length === 0) return;
  let e;
  try { e = JSON.parse(data.join('\n')); } catch (_) { return; }
  state.feedEvents.unshift(e);
  if (state.feedEvents.length > FEED_MAX) state.feedEvents.length = FEED_MAX;
  for (const l of state.feedListeners) l(e);
}
function onTaskEvent(listener) {
  state.feedListeners.add(listener);
  return () => state.feedListeners.delete(listener);
}

// ---- the view ------------------------------------------------------------------------------------
function tasksView(params) {
  const s = state.session;
  const admin = s.platformAdmin;
  const filters = { taskId: '', status: params.status || '', capability: params.capability || '', tenantId: params.tenant || '' };
  const results = h('div');
  const more = h('div', { class: 'card-body' });
  const feedBody = h('div');
  const capabilities = h('datalist', { id: 'capability-list' });
  const cleanups = [];

  // Submit a task.
  let submitCard = null;
  if (s.can.submit) {
    const cap = h('input', { name: 'capability', list: 'capability-list', placeholder: 'echo', required: true, value: 'echo', size: 14 });
    const prio = select([['normal', 'normal'], ['high', 'high'], ['low', 'low']], 'normal', { name: 'priority' });
    const timeout = h('input', { name: 'timeoutMs', type: 'number', min: 1, value: 30000, size: 8 });
    const input = h('textarea', { name: 'input', rows: 1, spellcheck: 'false', placeholder: '{"text": "hello"}' });
    input.value = '{"text": "hello from the console"}';
    const form = h('form', { class: 'row', id: 'submit-form' },
      h('label', null, 'Capability', cap), h('label', null, 'Priority', prio), h('label', null, 'Timeout (ms)', timeout),
      h('label', { class: 'grow' }, 'Input (JSON)', input), h('button', { type: 'submit', class: 'primary', text: 'Submit task' }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      let value = null;
      try { value = input.value.trim() ? JSON.parse(input.value) : null; } catch (e) { notify('Input is not JSON: ' + e.message, 'bad'); return; }
      try {
        const r = await api('POST', '/v1/tasks', { capability: cap.value.trim(), priority: prio.value, timeoutMs: Number(timeout.value) || 30000, input: value });
        notify('Task ' + r.taskId + ' ' + words(r.status), 'ok', { href: taskHref(r.taskId), text: 'Open' });
      } catch (e) { notify(e.message, 'bad'); }
    });
    submitCard = card('Submit a task', form);
  }

  // Search.
  const idInput = h('input', { name: 'taskId', placeholder: 'task id', size: 30 });
  const statusSel = select([['', 'any status']].concat(STATUSES.map((x) => [x, words(x)])), filters.status, { name: 'status' });
  const capInput = h('input', { name: 'capability', list: 'capability-list', placeholder: 'any capability', value: filters.capability, size: 14 });
  const tenantSel = select([['', 'own tenant (' + s.tenantId + ')']], filters.tenantId, { name: 'tenant' });
  const searchForm = h('form', { class: 'row', id: 'search-form' },
    h('label', null, 'Task id', idInput), h('label', null, 'Status', statusSel), h('label', null, 'Capability', capInput),
    admin ? h('label', null, 'Tenant', tenantSel) : null,
    h('button', { type: 'submit', class: 'primary', text: 'Search' }),
    h('button', { type: 'button', text: 'Clear', onclick: () => { idInput.value = ''; statusSel.value = ''; capInput.value = ''; tenantSel.value = ''; search(); } }));
  searchForm.addEventListener('submit', (ev) => { ev.preventDefault(); search(); });

  let rows = [];
  async function search(cursor) {
    const id = idInput.value.trim();
    const tenant = admin ? tenantSel.value : '';
    if (id) { location.hash = taskHref(id, tenant || undefined); return; }
    const q = { status: statusSel.value, capability: capInput.value.trim(), tenantId: tenant, limit: 25, cursor: cursor };
    const r = await request('GET', '/v1/tasks' + qs(q)).catch((e) => { notify(e.message, 'bad'); return null; });
    if (!r) return;
    rows = cursor ? rows.concat(r.data) : r.data;
    const next = r.headers.get('sb-next-cursor');
    fill(results, table([
      { title: 'Task', render: (t) => taskLink(t.taskId, tenant || undefined) },
      { title: 'Status', render: (t) => badge(t.status) },
      { title: 'Capability', render: (t) => chip(t.capability) },
      { title: 'Priority', render: (t) => words(t.priority) },
      { title: 'Agent', render: (t) => t.agentId ? mono(t.agentId) : null },
      { title: 'Attempts', cls: 'num', render: (t) => String(t.attempts) },
      { title: 'Created', cls: 'nowrap', render: (t) => ago(t.createdAt) },
      { title: 'Took', cls: 'num', render: (t) => t.finishedAt ? fmtDuration(ms(t.finishedAt) - ms(t.createdAt)) : null },
    ], rows, { empty: 'No tasks match.', onRow: (t) => { location.hash = taskHref(t.taskId, tenant || undefined); } }));
    fill(more, next ? button('Load more', () => search(next)) : muted(rows.length ? rows.length + ' tasks' : ''));
  }

  // The live feed: rows are added as events arrive (the newest on top), never re-rendered.
  const feedColumns = [
    { title: 'At', cls: 'nowrap', render: (e) => when(e.at) },
    { title: 'Task', render: (e) => taskLink(e.taskId, e.tenantId) },
    admin ? { title: 'Tenant', render: (e) => mono(e.tenantId) } : null,
    { title: 'Capability', render: (e) => chip(e.capability) },
    { title: 'Status', render: (e) => badge(e.status) },
    { title: 'Agent', render: (e) => e.agentId ? mono(e.agentId) : null },
    { title: 'Attempt', cls: 'num', render: (e) => String(e.attempts) },
  ].filter(Boolean);
  const feedRows = h('tbody');
  const feedTable = h('table', { class: 'data' }, h('thead', null, h('tr', null, feedColumns.map((c) => h('th', { class: c.cls, text: c.title })))), feedRows);
  const feedEmpty = empty(state.feed ? 'Waiting for task events…' : 'The live feed needs tasks:read.');
  function feedRow(e, fresh) {
    const tr = h('tr', { class: 'clickable' + (fresh ? ' fresh' : ''), 'data-task': e.taskId }, feedColumns.map((c) => {
      const v = c.render(e);
      return h('td', { class: c.cls }, v === undefined || v === null ? muted('—') : v);
    }));
    tr.addEventListener('click', (ev) => { if (!ev.target.closest('a')) location.hash = taskHref(e.taskId, e.tenantId); });
    return tr;
  }
  fill(feedRows, state.feedEvents.map((e) => feedRow(e, false)));
  fill(feedBody, h('div', { class: 'feed' }, feedTable, state.feedEvents.length ? null : feedEmpty));
  cleanups.push(onTaskEvent((e) => {
    feedEmpty.remove();
    feedRows.prepend(feedRow(e, true));
    while (feedRows.children.length > FEED_MAX) feedRows.lastChild.remove();
  }));

  async function loadChoices() {
    if (s.can.fleet) {
      const page = await get('/v1/agents' + qs({ status: 'up', limit: 500 })).catch(() => null);
      const caps = new Set();
      for (const a of (page && page.agents) || []) for (const c of a.capabilities) caps.add(c);
      fill(capabilities, [...caps].sort().map((c) => h('option', { value: c })));
    }
    if (admin && s.can.tenants) {
      const tenants = await get('/v1/tenants').catch(() => []);
      for (const t of tenants) if (t.id !== s.tenantId) tenantSel.appendChild(h('option', { value: t.id, text: t.name + ' (' + t.id + ')' }));
      tenantSel.value = filters.tenantId;
    }
  }

  const el = h('div', null, capabilities, submitCard,
    s.can.liveTasks ? card('Live', feedBody, { flush: true, help: 'task status changes as they happen, newest first' }) : null,
    card('Find tasks', h('div', null, h('div', { class: 'card-body' }, searchForm), h('div', { id: 'search-results' }, results), more), { flush: true }));
  return {
    title: 'Tasks',
    el: el,
    refresh: async () => { await Promise.all([loadChoices(), search()]); },
    live: false,
    unmount: () => { for (const c of cleanups) c(); },
  };
}
`;
