/** Browser code, part 3: the overview (headline figures, degraded capabilities, the six charts). */
export const OVERVIEW_JS = String.raw`
const CHART_ORDER = ['throughput', 'latencyP95', 'queueDepth', 'queueAge', 'errorRatio', 'agents'];

function overviewView() {
  let minutes = 30;
  let warnedDropped = false;
  const stats = h('div', { class: 'stats' });
  const banner = h('div');
  const grid = h('div', { class: 'grid' });
  const charts = new Map();
  const tools = segmented([[15, '15 min'], [30, '30 min'], [60, '1 hour']], minutes, (m) => { minutes = m; refresh(); });
  async function refresh() {
    const [overview, series] = await Promise.all([get('/v1/fleet/overview'), get('/v1/console/series' + qs({ minutes: minutes }))]);
    const sum = (metric) => latest(series, metric).reduce((n, x) => n + x.value, 0);
    const max = (metric) => latest(series, metric).reduce((n, x) => Math.max(n, x.value), 0);
    const a = overview.agents;
    const alerts = overview.alerts;
    const critical = (alerts.bySeverity.critical || 0) + (alerts.bySeverity.emergency || 0);
    fill(stats,
      stat('Agents up', fmtNum(a.byStatus.up) + ' / ' + fmtNum(a.total), a.byStatus.down ? fmtNum(a.byStatus.down) + ' down' : a.draining ? a.draining + ' draining' : 'all live', a.byStatus.down ? 'bad' : 'ok'),
      stat('Capacity in use', fmtPct(overview.capacity.utilization), fmtNum(overview.capacity.inFlight) + ' of ' + fmtNum(overview.capacity.total) + ' slots'),
      stat('Throughput', fmtNum(sum('throughput')) + '/s', 'tasks finished, all capabilities'),
      stat('Waiting', fmtNum(sum('queueDepth')), 'tasks queued for an agent', sum('queueDepth') > 100 ? 'warn' : undefined),
      stat('Oldest wait', fmtDuration(max('queueAge') * 1000), 'longest a queued task has waited', max('queueAge') > 60 ? 'warn' : undefined),
      stat('Active alerts', fmtNum(alerts.active), critical ? critical + ' critical' : alerts.active ? (alerts.bySeverity.warning || 0) + ' warning' : 'none firing', critical ? 'bad' : alerts.active ? 'warn' : 'ok'));
    const degraded = overview.degradedCapabilities || [];
    fill(banner, degraded.length === 0 ? null : h('div', { class: 'banner tone-warn' }, h('span', { class: 'strong', text: 'Degraded:' }),
      degraded.map((d) => h('span', { class: 'gap' }, chip(d.capability), h('span', { text: d.reasons.join(', ') })))));
    for (const metric of CHART_ORDER) {
      let c = charts.get(metric);
      if (!c) { c = timeChart(metric, series.metrics[metric]); charts.set(metric, c); grid.appendChild(c.el); }
      c.update(series);
    }
    if (series.droppedSeries > 0 && !warnedDropped) {
      warnedDropped = true;
      notify('Some series were not kept (too many capabilities); Prometheus has all of them');
    }
  }
  return {
    title: 'Overview',
    tools: tools,
    el: h('div', null, stats, banner, grid),
    refresh: refresh,
    live: true,
    unmount: () => { for (const c of charts.values()) c.destroy(); },
  };
}
`;
