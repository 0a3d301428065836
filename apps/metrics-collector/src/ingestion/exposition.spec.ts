import { renderExposition } from './exposition';
import { quantile } from './histogram-math';
import { SeriesStore } from './series-store';

describe('fleet exposition', () => {
  it('writes HELP/TYPE once per family, agent-labelled series, escaped values and full histograms', () => {
    const store = new SeriesStore(100);
    store.ingest('a1', [
      { type: 'counter', name: 'jobs_total', help: 'Jobs\nby "kind"', labels: { kind: 'a"b\\c\nd' }, value: 3 },
      { type: 'histogram', name: 'lat_seconds', labels: { op: 'x' }, buckets: [{ le: 1, count: 2 }, { le: 0.5, count: 1 }], sum: 1.2, count: 3 },
    ], 1);
    store.ingest('a2', [{ type: 'counter', name: 'jobs_total', labels: { kind: 'b' }, value: 5 }], 1);
    expect(renderExposition(store)).toBe(
      [
        '# HELP jobs_total Jobs\\nby "kind"',
        '# TYPE jobs_total counter',
        'jobs_total{agent="a1",kind="a\\"b\\\\c\\nd"} 3',
        'jobs_total{agent="a2",kind="b"} 5',
        '# HELP lat_seconds Reported by agents',
        '# TYPE lat_seconds histogram',
        'lat_seconds_bucket{agent="a1",op="x",le="0.5"} 1',
        'lat_seconds_bucket{agent="a1",op="x",le="1"} 2',
        'lat_seconds_bucket{agent="a1",op="x",le="+Inf"} 3',
        'lat_seconds_sum{agent="a1",op="x"} 1.2',
        'lat_seconds_count{agent="a1",op="x"} 3',
        '',
      ].join('\n'),
    );
  });

  it('keeps one type per name fleet-wide, reserves histogram line names, and suffixes counters with _total', () => {
    const store = new SeriesStore(100);
    store.ingest('a1', [{ type: 'histogram', name: 'h', labels: {}, buckets: [], sum: 0, count: 0 }], 1);
    const r = store.ingest('a2', [
      { type: 'gauge', name: 'h', labels: {}, value: 1 },
      { type: 'gauge', name: 'h_sum', labels: {}, value: 1 },
      { type: 'counter', name: 'done', labels: {}, value: 1 },
    ], 1);
    expect(r).toEqual({ accepted: 1, dropped: { type_conflict: 2 } });
    expect(renderExposition(store)).toContain('done_total{agent="a2"} 1');
  });

  it('drops new series past the per-agent ceiling but keeps updating existing ones, and frees an agent on drop', () => {
    const store = new SeriesStore(2);
    const g = (name: string, value: number, labels = {}) => ({ type: 'gauge' as const, name, labels, value });
    expect(store.ingest('a1', [g('x', 1, { i: '1' }), g('x', 1, { i: '2' }), g('x', 1, { i: '3' })], 1)).toEqual({ accepted: 2, dropped: { cardinality: 1 } });
    expect(store.ingest('a1', [g('x', 7, { i: '2' })], 2)).toEqual({ accepted: 1, dropped: {} });
    expect(store.ingest('a2', [g('x', 1, { i: '3' })], 2).accepted).toBe(1);
    expect(store.seriesCount).toBe(3);
    store.dropAgent('a1');
    expect(store.seriesCount).toBe(1);
    expect(renderExposition(store)).not.toContain('a1');
  });

  it('renames an agent-sent `agent` label and refuses non-cumulative histograms', () => {
    const store = new SeriesStore(10);
    const r = store.ingest('a1', [
      { type: 'gauge', name: 'g', labels: { agent: 'spoof' }, value: 1 },
      { type: 'histogram', name: 'h', labels: {}, buckets: [{ le: 1, count: 5 }, { le: 2, count: 3 }], sum: 1, count: 5 },
    ], 1);
    expect(r.dropped).toEqual({ invalid_histogram: 1 });
    expect(renderExposition(store)).toContain('g{agent="a1",exported_agent="spoof"} 1');
  });
});

describe('histogram quantile', () => {
  it('interpolates inside the bucket holding the rank, and caps at the highest bound', () => {
    expect(quantile(0.5, [{ le: 1, count: 0 }, { le: 2, count: 10 }], 10)).toBe(1.5);
    expect(quantile(0.95, [{ le: 1, count: 1 }], 10)).toBe(1);
    expect(quantile(0.95, [], 0)).toBeNull();
  });
});
