/**
 * Small builders for Grafana dashboard JSON (schemaVersion 39): time series and stat panels on a
 * `datasource` template variable, laid out left to right in rows of 24 grid units.
 */
export interface Target {
  expr: string;
  legendFormat: string;
}
export interface Panel {
  id: number;
  type: 'timeseries' | 'stat';
  title: string;
  description: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { type: 'prometheus'; uid: '${datasource}' };
  fieldConfig: { defaults: { unit: string }; overrides: [] };
  options: Record<string, unknown>;
  targets: Array<Target & { refId: string; datasource: { type: 'prometheus'; uid: '${datasource}' } }>;
}
export interface PanelSpec {
  type?: 'timeseries' | 'stat';
  title: string;
  description: string;
  unit: string;
  width?: number;
  targets: Target[];
}
export interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  timezone: 'browser';
  schemaVersion: 39;
  version: 1;
  editable: true;
  refresh: '30s';
  time: { from: 'now-1h'; to: 'now' };
  templating: { list: Array<Record<string, unknown>> };
  panels: Panel[];
}

const DS = { type: 'prometheus', uid: '${datasource}' } as const;

export function layout(specs: PanelSpec[]): Panel[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return specs.map((s, i) => {
    const w = s.width ?? 12;
    const h = s.type === 'stat' ? 4 : 8;
    if (x + w > 24) {
      // Next row starts right under the tallest panel of this one (no gap under a row of stats).
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    rowHeight = Math.max(rowHeight, h);
    const panel: Panel = {
      id: i + 1,
      type: s.type ?? 'timeseries',
      title: s.title,
      description: s.description,
      gridPos: { x, y, w, h },
      datasource: DS,
      fieldConfig: { defaults: { unit: s.unit }, overrides: [] },
      options: s.type === 'stat' ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area' } : { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
      targets: s.targets.map((t, j) => ({ ...t, refId: String.fromCharCode(65 + j), datasource: DS })),
    };
    x += w;
    return panel;
  });
}

export function dashboard(uid: string, title: string, panels: PanelSpec[], withService = false): Dashboard {
  const list: Array<Record<string, unknown>> = [
    { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1 },
  ];
  if (withService) {
    list.push({
      name: 'service',
      label: 'Service',
      type: 'query',
      datasource: DS,
      query: { query: 'label_values(sb_requests_total, service)', refId: 'service' },
      definition: 'label_values(sb_requests_total, service)',
      includeAll: true,
      multi: true,
      current: {},
      refresh: 2,
      sort: 1,
      hide: 0,
    });
  }
  return { uid, title, tags: ['switchboard'], timezone: 'browser', schemaVersion: 39, version: 1, editable: true, refresh: '30s', time: { from: 'now-1h', to: 'now' }, templating: { list }, panels: layout(panels) };
}
