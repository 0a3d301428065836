/**
 * Browser code, part 6: one task: its fields, input and output, every failed attempt, its
 * timeline (from the record, then live from the feed), and its trace as a waterfall from
 * GET /v1/tasks/:id/trace (spans on one time axis, the critical path outlined, the gaps where
 * nothing ran hatched).
 */
export const TASK_DETAIL_JS = String.raw`
const TERMINAL = ['succeeded', 'failed', 'cancelled', 'dead_lettered', 'timed_out'];
const TIMELINE_TEXT = { queued: 'Queued', attempt_failed: 'Attempt failed', running: 'Running', finished: 'Finished' };
// Services export spans in batches (TRACE_EXPORT_DELAY_MS, 1 s by default): a task that ended
// moments ago may not have all of them in yet, so its trace is read again for this long after.
const TRACE_SETTLE_MS = 15000;
const TRACE_REREAD_MS = 1500;

function taskDetailView(params) {
  const taskId = params.id;
  const tenant = params.tenant || '';
  const scope = tenant ? qs({ tenantId: tenant }) : '';
  const head = h('div', { class: 'detail-head' });
  const summary = h('div');
  const io = h('div', { class: 'two' });
  const attempts = h('div');
  const timeline = h('div');
  const trace = h('div');
  const cleanups = [];
  let task = null;
  let pending = null;
  let traceTimer = null;
  let gone = false;

  async function refresh() {
    task = await get('/v1/console/tasks/' + enc(taskId) + scope);
    const t = task;
    const done = TERMINAL.includes(t.status);
    const own = !tenant || tenant === state.session.tenantId;
    fill(head, h('h2', { text: t.taskId }), badge(t.status), chip(t.capability), chip(t.priority + ' priority'),
      h('span', { class: 'gap', css: { 'margin-left': 'auto' } },
        !done && own && state.session.can.submit ? button('Cancel task', async () => { await api('DELETE', '/v1/tasks/' + enc(taskId)); notify('Cancelled ' + taskId, 'ok'); await refresh(); }, { cls: 'danger', confirm: 'Really cancel?' }) : null,
        h('a', { href: '#/tasks', text: '← All tasks' })));
    const took = t.finishedAt ? ms(t.finishedAt) - ms(t.createdAt) : null;
    fill(summary, card('Task', fields([
      ['Tenant', mono(t.tenantId)],
      ['Agent', t.agentId ? mono(t.agentId) : null],
      ['Attempts', String(t.attempts)],
      ['Created', when(t.createdAt)],
      ['Started', when(t.startedAt)],
      ['Finished', when(t.finishedAt)],
      ['Took', took === null ? (done ? null : h('span', { text: 'running for ' + fmtDuration(Date.now() - ms(t.createdAt)) })) : fmtDuration(took)],
      ['Timeout', fmtDuration(t.timeoutMs)],
      ['Deadline', when(t.deadlineAt)],
      ['Redrives', String(t.redrives)],
      ['Trace id', t.traceId ? mono(t.traceId) : null],
      Object.keys(t.metadata || {}).length ? ['Metadata', labelChips(Object.fromEntries(Object.entries(t.metadata).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])))] : null,
    ])));
    const outcome = t.error
      ? h('div', { class: 'errorbox' }, h('div', { class: 'strong', text: t.error.code }), h('div', { text: t.error.message }), t.error.retryable ? sub('retryable') : null)
      : t.status === 'succeeded' ? jsonBlock(t.result) : t.progress !== undefined ? h('div', null, sub('progress'), jsonBlock(t.progress)) : empty(done ? 'No output.' : 'Not finished yet.');
    fill(io, card('Input', jsonBlock(t.input)), card(t.error ? (done ? 'Error' : 'Last error') : 'Output', outcome));
    fill(attempts, card('Failed attempts', table([
      { title: '#', cls: 'num', render: (e) => e.attempt === undefined ? null : String(e.attempt) },
      { title: 'At', cls: 'nowrap', render: (e) => when(e.at) },
      { title: 'Agent', render: (e) => e.agentId ? mono(e.agentId) : null },
      { title: 'Error', render: (e) => [h('span', { class: 'strong', text: e.code }), sub(e.message)] },
      { title: 'Class', render: (e) => e.class ? chip(words(e.class)) : null },
      { title: 'Retryable', render: (e) => e.retryable ? 'yes' : 'no' },
    ], t.errors, { empty: 'No attempt failed.' }), { flush: true }));
    fill(timeline, card('Timeline', h('ol', { class: 'timeline' }, t.timeline.map((e) => {
      const st = e.kind === 'attempt_failed' ? 'failed' : e.status;
      return h('li', { class: 'tone-' + tone(st) },
        h('span', { class: 'strong', text: e.kind === 'finished' ? sentence(e.status) : TIMELINE_TEXT[e.kind] }),
        e.attempt ? h('span', { text: ' · attempt ' + e.attempt }) : null,
        e.agentId ? h('span', { text: ' on ' }) : null, e.agentId ? mono(e.agentId) : null,
        h('span', { class: 'when', text: fmtTime(e.at) }),
        e.code ? sub(e.code + (e.message ? ': ' + e.message : '')) : null);
    }))));
    await drawTrace();
  }

  async function drawTrace() {
    clearTimeout(traceTimer);
    const tr = await get('/v1/tasks/' + enc(taskId) + '/trace' + scope);
    if (gone) return;
    fill(trace, card('Trace', waterfall(tr), { help: tr.traceId ? 'trace ' + tr.traceId : 'no trace id' }));
    // Ended only moments ago: the last spans may still be on their way.
    if (task && task.finishedAt && tr.traceId && Date.now() - ms(task.finishedAt) < TRACE_SETTLE_MS) {
      traceTimer = setTimeout(() => drawTrace().catch(() => undefined), TRACE_REREAD_MS);
    }
  }

  // Live: a change of this task re-reads it (at most every 300 ms).
  cleanups.push(onTaskEvent((e) => {
    if (e.taskId !== taskId || pending) return;
    pending = setTimeout(() => { pending = null; refresh().catch((err) => notify(err.message, 'bad')); }, 300);
  }));

  return {
    title: 'Task',
    el: h('div', null, head, summary, io, trace, h('div', { class: 'two' }, timeline, attempts)),
    refresh: refresh,
    // Polled while it runs (and the feed may not carry it: a key without tasks:read).
    live: () => !task || !TERMINAL.includes(task.status),
    unmount: () => { gone = true; clearTimeout(pending); clearTimeout(traceTimer); for (const c of cleanups) c(); },
  };
}

/** The trace's spans on one time axis. Without spans (tracing off, sampled out), the task's own times. */
function waterfall(tr) {
  const a = tr.analysis;
  let spans = tr.spans.slice().sort((x, y) => ms(x.start) - ms(y.start));
  const synthetic = spans.length === 0;
  if (synthetic) {
    spans = [];
    if (tr.startedAt) spans.push({ spanId: 'q', name: 'queued', service: 'task record', kind: 'internal', start: tr.createdAt, end: tr.startedAt, durationMs: ms(tr.startedAt) - ms(tr.createdAt), status: 'unset', attributes: {} });
    const end = tr.finishedAt || new Date().toISOString();
    if (tr.startedAt) spans.push({ spanId: 'r', name: 'running', service: 'task record', kind: 'consumer', start: tr.startedAt, end: end, durationMs: ms(end) - ms(tr.startedAt), status: 'unset', attributes: {} });
  }
  const stats = h('div', { class: 'stats' },
    stat('Total', fmtDuration(a.totalDurationMs)),
    stat('Queued', fmtDuration(a.queuedMs)),
    stat('Running', fmtDuration(a.runningMs)),
    stat('Attempts', String(a.attempts)),
    stat('Spans', String(a.spanCount), a.truncated ? 'read stopped at its bound' : null, a.truncated ? 'warn' : undefined));
  if (spans.length === 0) return h('div', null, stats, empty('No spans, and the task has not started.'));
  const t0 = Math.min(ms(tr.createdAt), ...spans.map((s) => ms(s.start)));
  const t1 = Math.max(ms(tr.finishedAt) || 0, ...spans.map((s) => ms(s.end)));
  const total = Math.max(1, t1 - t0);
  const pos = (t) => ((t - t0) / total) * 100;
  const critical = new Set((a.criticalPath || []).map((c) => c.spanId));
  const ticks = h('div', { class: 'wf-ticks' }, [0, 0.25, 0.5, 0.75, 1].map((f) => h('span', { css: { left: f * 100 + '%' }, text: fmtDuration(f * total) })));
  const rows = spans.map((s) => {
    const left = pos(ms(s.start));
    const width = Math.max(0.3, pos(ms(s.end)) - left);
    const attempt = s.attributes && s.attributes['sb.task.attempt'];
    const detail = [s.service, s.agentId, attempt ? 'attempt ' + attempt : null].filter(Boolean).join(' · ');
    const bar = h('div', {
      class: 'wf-bar kind-' + s.kind + ' status-' + s.status + (critical.has(s.spanId) ? ' critical' : ''),
      css: { left: left + '%', width: width + '%' },
      title: s.name + ' (' + detail + ')\n' + fmtTime(s.start) + ' → ' + fmtTime(s.end) + '\n' + fmtDuration(s.durationMs) + (s.statusMessage ? '\n' + s.statusMessage : ''),
    });
    return h('div', { class: 'wf-row' },
      h('div', { class: 'wf-label', title: s.name + ' · ' + detail }, h('span', { class: 'strong', text: s.name }), h('span', { class: 'sub', text: detail })),
      h('div', { class: 'wf-track' }, bar),
      h('div', { class: 'wf-dur', text: fmtDuration(s.durationMs) }));
  });
  const gaps = (a.gaps || []).filter((g) => g.durationMs > 0);
  const gapRow = gaps.length === 0 ? null : h('div', { class: 'wf-row' },
    h('div', { class: 'wf-label' }, h('span', { class: 'strong', text: 'waiting' }), h('span', { class: 'sub', text: gaps.length + ' gap' + (gaps.length > 1 ? 's' : '') })),
    h('div', { class: 'wf-track' }, gaps.map((g) => h('div', { class: 'wf-gap', css: { left: pos(ms(g.start)) + '%', width: Math.max(0.3, pos(ms(g.end)) - pos(ms(g.start))) + '%' }, title: 'nothing ran for ' + fmtDuration(g.durationMs) + (g.after ? ' after ' + g.after : '') }))),
    h('div', { class: 'wf-dur', text: fmtDuration(gaps.reduce((n, g) => n + g.durationMs, 0)) }));
  const agents = (a.agents || []).length ? h('div', { class: 'legend' }, h('span', { class: 'strong', text: 'Agents:' }), a.agents.map((x) => h('span', null, mono(x.agentId), ' ' + x.attempts + ' attempt' + (x.attempts > 1 ? 's' : '') + ', ' + fmtDuration(x.durationMs)))) : null;
  return h('div', null, stats,
    synthetic ? h('p', { class: 'muted', text: 'No spans were recorded for this task (tracing off or sampled out): times from the task record.' }) : null,
    h('div', { class: 'wf' }, h('div', { class: 'wf-axis' }, h('span'), ticks, h('span')), rows, gapRow),
    h('div', { class: 'legend' },
      h('span', null, h('i', { class: 'kind-server' }), 'request'), h('span', null, h('i', { class: 'kind-producer' }), 'enqueue'),
      h('span', null, h('i', { class: 'kind-consumer' }), 'run'), h('span', null, h('i', { class: 'status-error' }), 'failed'),
      h('span', null, h('i', { class: 'gap' }), 'waiting'), h('span', null, h('i', { class: 'critical' }), 'critical path')),
    agents);
}
`;
