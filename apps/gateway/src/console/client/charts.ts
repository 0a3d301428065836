/**
 * Browser code, part 2: time-series charts with uPlot (served by the gateway as a global
 * `uPlot`). A chart is kept across refreshes and only given new data while its series stay the
 * same; colors follow the series' names, so a line keeps its color from one refresh to the next.
 */
export const CHARTS_JS = String.raw`
const PALETTE = ['#4f7cff', '#22b07d', '#f29d38', '#9b6cff', '#e5534b', '#17a2b8', '#d16ba5', '#8a9a3b', '#c08a00', '#5a6b8c', '#2f9e44', '#e8590c'];
const FIXED_COLORS = { up: '#22b07d', down: '#e5534b' };
/** A capability keeps one color in every chart for the whole session. */
const assigned = new Map();
function colorOf(labels) {
  const key = labels.status || labels.capability || seriesName(labels);
  if (FIXED_COLORS[key]) return FIXED_COLORS[key];
  if (!assigned.has(key)) assigned.set(key, PALETTE[assigned.size % PALETTE.length]);
  return assigned.get(key);
}
/** Priorities of one capability: the same color, told apart by the line. */
const DASH = { high: undefined, normal: [6, 4], low: [2, 3] };
function seriesName(labels) {
  const v = Object.keys(labels).sort().map((k) => labels[k]);
  return v.length ? v.join(' · ') : 'all';
}
/** Metrics where a series that stayed at zero says nothing (an idle queue, a capability with no traffic). */
const HIDE_ZERO = { throughput: true, queueDepth: true, queueAge: true };
const HM = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const HMS = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

/** One chart in a card: update(reply) draws the reply's series of this metric. */
function timeChart(metric, def) {
  const host = h('div', { class: 'chart-host' });
  const body = h('div', null, host);
  let plot = null;
  let shape = '';
  const observer = new ResizeObserver(() => { if (plot && host.clientWidth > 0) plot.setSize({ width: host.clientWidth, height: 200 }); });
  observer.observe(host);
  const el = card(def.title, body, { help: def.unit === 'ratio' ? 'share' : def.unit });
  el.title = def.help;
  function update(reply) {
    let list = reply.series.filter((s) => s.metric === metric);
    if (HIDE_ZERO[metric] && list.length > 0) {
      const moving = list.filter((s) => s.values.some((v) => v !== null && v !== 0));
      // All idle: one flat line says so, rather than a dozen.
      list = moving.length ? moving : [{ labels: { all: 'all idle' }, values: reply.t.map((t, i) => (list.some((s) => s.values[i] !== null) ? 0 : null)) }];
    }
    if (list.length === 0 || reply.t.length === 0) {
      if (plot) { plot.destroy(); plot = null; shape = ''; }
      fill(host, h('div', { class: 'chart-empty', text: 'No data yet: sampled every ' + Math.round(reply.stepMs / 1000) + ' s' }));
      return;
    }
    const names = list.map((s) => seriesName(s.labels));
    const data = [reply.t].concat(list.map((s) => s.values));
    const key = names.join('|');
    if (plot && key === shape) { plot.setData(data); return; }
    if (plot) plot.destroy();
    host.replaceChildren();
    shape = key;
    const yMax = def.unit === 'ratio' ? 1 : null;
    plot = new uPlot({
      width: host.clientWidth || 480,
      height: 200,
      cursor: { sync: { key: 'sb-series' } },
      legend: { live: true },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, yMax !== null ? yMax : max > 0 ? max * 1.15 : 1] } },
      axes: [
        { stroke: '#6b7385', space: 70, grid: { stroke: '#eef0f5', width: 1 }, ticks: { stroke: '#e4e8f0', width: 1 },
          values: (u, ticks) => ticks.map((t) => (u.scales.x.max - u.scales.x.min > 180 ? HM : HMS).format(new Date(t * 1000))) },
        { stroke: '#6b7385', size: 64, grid: { stroke: '#eef0f5', width: 1 }, ticks: { stroke: '#e4e8f0', width: 1 }, values: (u, ticks) => ticks.map((v) => fmtUnit(v, def.unit)) },
      ],
      series: [{ value: (u, v) => (v === null ? '—' : fmtTime(v * 1000)) }].concat(list.map((x, i) => ({
        label: names[i],
        stroke: colorOf(x.labels),
        fill: list.length === 1 ? colorOf(x.labels) + '18' : undefined,
        dash: DASH[x.labels.priority],
        width: 2,
        points: { size: 5, show: (u, si, i0, i1) => i1 === undefined || i1 - i0 < 3 },
        value: (u, v) => fmtUnit(v, def.unit),
      }))),
    }, data, host);
  }
  return { el: el, update: update, destroy: () => { observer.disconnect(); if (plot) plot.destroy(); } };
}
/** The newest value of each series of a metric. */
function latest(reply, metric) {
  const out = [];
  for (const s of reply.series) {
    if (s.metric !== metric) continue;
    for (let i = s.values.length - 1; i >= 0; i--) if (s.values[i] !== null) { out.push({ labels: s.labels, value: s.values[i], at: reply.t[i] }); break; }
  }
  return out;
}
`;
