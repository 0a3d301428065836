/** Browser code, part 7: alerts (acknowledge, silence), silences, incidents and dead letters (redrive). */
export const OPS_JS = String.raw`
const SILENCE_FOR = [['3600000', '1 hour'], ['14400000', '4 hours'], ['86400000', '1 day'], ['604800000', '1 week']];
const SEVERITY_ORDER = { emergency: 0, critical: 1, warning: 2, info: 3 };
const STATE_ORDER = { firing: 0, pending: 1, resolved: 2 };

function alertsView() {
  let stateFilter = '';
  const list = h('div');
  const silences = h('div');
  const tools = segmented([['', 'All'], ['firing', 'Firing'], ['pending', 'Pending'], ['acknowledged', 'Acknowledged'], ['silenced', 'Silenced'], ['resolved', 'Resolved']], stateFilter, (v) => { stateFilter = v; refresh(); });
  // A silence form stays open across refreshes (hold()).
  let releaseForm = () => undefined;
  const write = state.session.can.alertsWrite;

  function silenceForm(a, cell) {
    const dur = select(SILENCE_FOR, '3600000');
    const comment = h('input', { placeholder: 'why (required)', required: true, size: 22, value: 'silenced from the ops console' });
    const form = h('form', { class: 'row' }, dur, comment, h('button', { type: 'submit', class: 'primary small', text: 'Silence' }), h('button', { type: 'button', class: 'small', text: 'Cancel', onclick: () => { releaseForm(); refresh(); } }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const matchers = Object.entries(a.labels).map(([name, value]) => ({ name: name, op: '=', value: value }));
      try {
        await api('POST', '/v1/silences', { matchers: matchers, endsAt: new Date(Date.now() + Number(dur.value)).toISOString(), comment: comment.value.trim() || 'silenced from the ops console' });
        notify('Silenced ' + a.name, 'ok');
        releaseForm();
        await refresh();
      } catch (e) { notify(e.message, 'bad'); }
    });
    fill(cell, form);
    comment.focus();
  }

  async function refresh() {
    const [alerts, sil] = await Promise.all([get('/v1/alerts' + qs({ state: stateFilter })), get('/v1/silences')]);
    if (held()) return;
    alerts.sort((x, y) => (STATE_ORDER[x.state] - STATE_ORDER[y.state]) || (SEVERITY_ORDER[x.severity] - SEVERITY_ORDER[y.severity]) || (ms(y.startsAt) - ms(x.startsAt)));
    fill(list, table([
      { title: 'Severity', render: (a) => badge(a.severity) },
      { title: 'Alert', render: (a) => [h('span', { class: 'strong', text: a.name }), sub(a.annotations.summary || a.annotations.description || a.source)] },
      { title: 'State', render: (a) => h('span', { class: 'gap' }, badge(a.state),
        a.ack ? h('span', { title: 'until ' + FULL.format(new Date(ms(a.ack.expiresAt))) + (a.ack.comment ? '\n' + a.ack.comment : '') }, badge('acknowledged')) : null,
        a.silencedBy.length ? badge('silenced', 'muted') : null, a.inhibited ? badge('inhibited', 'muted') : null,
        a.escalation ? chip('escalation level ' + (a.escalation.level + 1)) : null) },
      { title: 'Labels', render: (a) => labelChips(a.labels, ['alertname', 'severity']) },
      { title: 'Value', cls: 'num', render: (a) => a.value === null ? null : fmtNum(a.value) },
      { title: 'Since', cls: 'nowrap', render: (a) => [ago(a.startsAt), a.endsAt ? sub('ended ' + fmtAgo(a.endsAt)) : null] },
      write ? { title: '', cls: 'nowrap', render: (a) => {
        const cell = h('span', { class: 'gap nowrap' });
        if (a.state === 'firing' && !a.ack) cell.appendChild(button('Acknowledge', async () => { await api('POST', '/v1/alerts/' + enc(a.fingerprint) + '/ack', { comment: 'from the ops console' }); notify('Acknowledged ' + a.name, 'ok'); await refresh(); }, { cls: 'small' }));
        if (a.state !== 'resolved' && a.silencedBy.length === 0) cell.appendChild(h('button', { type: 'button', class: 'small', text: 'Silence…', onclick: () => { releaseForm(); releaseForm = hold(); silenceForm(a, cell); } }));
        return cell;
      } } : null,
    ].filter(Boolean), alerts, { empty: stateFilter ? 'No ' + stateFilter + ' alerts.' : 'No alerts. All quiet.' }));
    fill(silences, table([
      { title: 'Matches', render: (x) => h('span', { class: 'chips' }, x.matchers.map((m) => chip(m.name + ' ' + m.op + ' ' + m.value))) },
      { title: 'Comment', render: (x) => [h('span', { text: x.comment }), sub('by ' + x.createdBy)] },
      { title: 'From', cls: 'nowrap', render: (x) => when(x.startsAt) },
      { title: 'Until', cls: 'nowrap', render: (x) => [when(x.endsAt), sub(ms(x.endsAt) > Date.now() ? 'ends ' + fmtAgo(x.endsAt) : 'expired')] },
      write ? { title: '', render: (x) => button('Remove', async () => { await api('DELETE', '/v1/silences/' + enc(x.id)); notify('Silence removed: its alerts notify again', 'ok'); await refresh(); }, { cls: 'small danger', confirm: 'Remove it?' }) } : null,
    ].filter(Boolean), sil, { empty: 'No silences.' }));
  }
  return {
    title: 'Alerts',
    tools: tools,
    el: h('div', null, card('Alerts', list, { flush: true }), card('Silences', silences, { flush: true, help: 'alerts matching every matcher notify no one until the silence ends' })),
    refresh: refresh,
    live: true,
  };
}

function incidentsView() {
  let status = '';
  const body = h('div');
  const open = new Set();
  const tools = segmented([['', 'All'], ['open', 'Open'], ['resolved', 'Resolved']], status, (v) => { status = v; refresh(); });
  async function refresh() {
    const r = await get('/v1/incidents' + qs({ status: status, limit: 100 }));
    const rows = [];
    for (const i of r.incidents) {
      rows.push(i);
      if (open.has(i.id)) rows.push({ timelineOf: i });
    }
    fill(body, table([
      { title: 'Status', render: (i) => badge(i.status) },
      { title: 'Incident', render: (i) => [h('span', { class: 'strong', text: i.summary }), sub(words(i.kind) + ' · ' + i.key)] },
      { title: 'Labels', render: (i) => labelChips(i.labels) },
      { title: 'Opened', cls: 'nowrap', render: (i) => ago(i.openedAt) },
      { title: 'Resolved', cls: 'nowrap', render: (i) => i.resolvedAt ? ago(i.resolvedAt) : null },
      { title: 'Alerts', cls: 'num', render: (i) => String(i.alerts.length) },
      { title: 'Steps', cls: 'num', render: (i) => String(i.timeline.length) },
    ], rows, {
      empty: status ? 'No ' + status + ' incidents.' : 'No incidents recorded.',
      full: (i) => i.timelineOf ? incidentTimeline(i.timelineOf) : null,
      onRow: (i) => { if (open.has(i.id)) open.delete(i.id); else open.add(i.id); refresh(); },
    }));
  }
  return { title: 'Incidents', tools: tools, el: card('Incidents', body, { flush: true, help: 'click an incident for what recovery did' }), refresh: refresh, live: true };
}
function incidentTimeline(i) {
  return h('ol', { class: 'timeline' }, i.timeline.map((e) => h('li', { class: 'tone-' + (e.type === 'resolved' ? 'ok' : e.type.indexOf('fail') >= 0 || e.type.indexOf('refused') >= 0 || e.type === 'detected' ? 'bad' : 'info') },
    h('span', { class: 'strong', text: words(e.type) }), h('span', { class: 'when', text: fmtTime(e.at) }), sub(e.message))));
}

function deadLettersView() {
  const s = state.session;
  const body = h('div');
  const capInput = h('input', { placeholder: 'any capability', size: 16 });
  const form = h('form', { class: 'row' }, capInput, h('button', { type: 'submit', text: 'Filter' }));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); refresh(); });
  async function refresh() {
    const items = await get('/v1/dead-letters' + qs({ capability: capInput.value.trim(), limit: 200 }));
    if (held()) return;
    fill(body, table([
      { title: 'Task', render: (d) => taskLink(d.taskId, d.tenantId) },
      s.platformAdmin ? { title: 'Tenant', render: (d) => mono(d.tenantId) } : null,
      { title: 'Capability', render: (d) => h('span', { class: 'gap nowrap' }, chip(d.capability), h('span', { class: 'muted', text: d.priority })) },
      { title: 'Dead-lettered', cls: 'nowrap', render: (d) => ago(d.deadLetteredAt) },
      { title: 'Attempts', cls: 'num', render: (d) => String(d.attempts) },
      { title: 'Last error', render: (d) => d.lastError ? [h('span', { class: 'strong', text: d.lastError.code }), sub(d.lastError.message)] : null },
      { title: 'Same failure', cls: 'num', render: (d) => d.fingerprintCount > 1 ? h('span', { class: 'strong', title: 'dead letters with the same capability, input and final error', text: '×' + d.fingerprintCount }) : '—' },
      { title: 'Redriven', cls: 'num', render: (d) => String(d.redrives) },
      s.can.redrive ? { title: '', render: (d) => button('Redrive', async () => {
        const r = await api('POST', '/v1/dead-letters/' + enc(d.id) + '/redrive', {});
        notify('Task ' + r.taskId + ' queued again', 'ok', { href: taskHref(r.taskId, d.tenantId), text: 'Open' });
        await refresh();
      }, { cls: 'small', confirm: 'Run it again?' }) } : null,
    ].filter(Boolean), items, { empty: 'No dead letters.' }));
  }
  return { title: 'Dead letters', tools: form, el: card('Dead letters', body, { flush: true, help: 'tasks that ran out of attempts; a redrive runs one again, admitted like a submit' }), refresh: refresh, live: true };
}
`;
