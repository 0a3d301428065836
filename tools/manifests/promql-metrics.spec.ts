import { expressionsIn, exposedNames, metricNamesIn } from './promql-metrics';

describe('metricNamesIn', () => {
  it('finds metric names and skips functions, keywords, labels, ranges and variables', () => {
    expect(metricNamesIn('histogram_quantile(0.95, sum by (service, le) (rate(sb_request_duration_seconds_bucket{service=~"$service"}[$__rate_interval])))')).toEqual(['sb_request_duration_seconds_bucket']);
    expect(metricNamesIn('sum(rate(a_total{outcome="error"}[5m])) / sum(rate(a_total[5m])) > 0.05')).toEqual(['a_total']);
    expect(metricNamesIn('count(ALERTS{alertstate="firing"}) or vector(0)')).toEqual(['ALERTS']);
    expect(metricNamesIn('x_bytes > 1e6 and on (job) up == 1')).toEqual(['up', 'x_bytes']);
  });

  it('collects every expr of a nested JSON value', () => {
    expect(expressionsIn({ panels: [{ targets: [{ expr: 'a' }, { expr: 'b' }] }, { expr: 'c' }] })).toEqual(['a', 'b', 'c']);
  });

  it('reads series names from a text exposition', () => {
    const names = exposedNames('# HELP h_seconds x\n# TYPE h_seconds histogram\nh_seconds_bucket{le="1"} 1\nh_seconds_sum 1\nup 1\n');
    expect([...names].sort()).toEqual(['h_seconds', 'h_seconds_bucket', 'h_seconds_sum', 'up']);
  });
});
