/** Browser code, part 4: the fleet (live agents by default; down and recently departed on demand). */
export const FLEET_JS = String.raw`
function healthTone(score) { return score >= 80 ? 'ok' : score >= 50 ? 'warn' : 'bad'; }

function fleetView() {
  let status = 'up';
  const stats = h('div', { class: 'stats' });
  const banner = h('div');
  const body = h('div');
  const tools = segmented([['up', 'Live'], ['down', 'Down'], ['left', 'Departed'], ['', 'All']], status, (s) => { status = s; refresh(); });
  const agentsCard = card('Agents', body, { flush: true, help: 'departed agents are forgotten after COLLECTOR_LEFT_RETENTION_MS, down ones after COLLECTOR_FORGET_AFTER_MS' });
  async function refresh() {
    const [overview, page, report] = await Promise.all([
      get('/v1/fleet/overview'),
      get('/v1/agents' + qs({ status: status, limit: 500 })),
      get('/v1/fleet/report').catch(() => null),
    ]);
    const health = new Map(((report && report.agents) || []).map((a) => [a.agentId, a]));
    const a = overview.agents;
    fill(stats,
      stat('Up', fmtNum(a.byStatus.up), a.draining ? a.draining + ' draining' : null, 'ok'),
      stat('Down', fmtNum(a.byStatus.down), 'missed their heartbeats', a.byStatus.down ? 'bad' : undefined),
      stat('Departed', fmtNum(a.byStatus.left), 'deregistered, kept briefly'),
      stat('Slots in use', fmtNum(overview.capacity.inFlight) + ' / ' + fmtNum(overview.capacity.total), meter(overview.capacity.utilization, overview.capacity.utilization > 0.85 ? 'warn' : undefined)),
      stat('Fleet health', report ? fmtNum(report.fleet.avgHealthScore) : '—', report ? report.fleet.unhealthy + (report.fleet.unhealthy === 1 ? ' unhealthy agent' : ' unhealthy agents') : null, report ? healthTone(report.fleet.avgHealthScore) : undefined));
    const degraded = overview.degradedCapabilities || [];
    fill(banner, degraded.length === 0 ? null : h('div', { class: 'banner tone-warn' }, h('span', { class: 'strong', text: 'Degraded:' }),
      degraded.map((d) => h('span', { class: 'gap' }, chip(d.capability), h('span', { text: d.reasons.join(', ') })))));
    const label = { up: 'live', down: 'down', left: 'departed', '': '' }[status];
    fill(body, table([
      { title: 'Agent', render: (x) => [h('span', { class: 'strong mono', text: x.agentId }), sub(x.host + ' · ' + x.version)] },
      { title: 'Status', render: (x) => h('span', { class: 'gap' }, badge(x.status), x.draining ? badge('draining') : null) },
      { title: 'Health', cls: 'num', render: (x) => { const r = health.get(x.agentId); return r ? h('span', { class: 'score tone-' + healthTone(r.healthScore), text: r.healthScore, title: (r.findings || []).join('; ') || 'no findings' }) : null; } },
      { title: 'Capabilities', render: (x) => chips(x.capabilities) },
      { title: 'Labels', render: (x) => labelChips(x.labels) },
      { title: 'Load', cls: 'nowrap', render: (x) => x.status === 'up' ? [h('span', { text: fmtNum(x.inFlight) + ' / ' + fmtNum(x.capacity) + ' tasks' }), meter(x.capacity ? x.inFlight / x.capacity : 0)] : null },
      { title: 'CPU', cls: 'num', render: (x) => x.status !== 'up' || x.cpuPercent === null ? null : fmtNum(x.cpuPercent, 0) + '%' },
      { title: 'Memory', cls: 'num', render: (x) => x.status !== 'up' ? null : x.memoryPercent !== null ? fmtNum(x.memoryPercent, 0) + '%' : x.memoryBytes !== null ? fmtBytes(x.memoryBytes) : null },
      { title: 'Heartbeat', cls: 'nowrap', render: (x) => ago(x.lastHeartbeatAt) },
      { title: 'Registered', cls: 'nowrap', render: (x) => ago(x.registeredAt) },
      { title: 'Flaps', cls: 'num', render: (x) => x.flaps ? h('span', { class: 'strong', text: x.flaps }) : '0' },
      { title: 'Alerts', cls: 'num', render: (x) => x.activeAlerts ? badge(String(x.activeAlerts), 'bad') : '0' },
    ], page.agents, { empty: label ? 'No ' + label + ' agents.' : 'No agents registered.' }));
  }
  return { title: 'Fleet', tools: tools, el: h('div', null, stats, banner, agentsCard), refresh: refresh, live: true };
}
`;
