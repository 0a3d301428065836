/**
 * `promtool test rules` on the generated rules: the watcher and notification alerts fire on the
 * series they are meant for, and stay quiet on healthy ones. Skipped, saying so, without promtool
 * (.ci/run installs it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertRuleGroups } from './alert-rules.builder';
import { parseFleetSpec } from './fleet-spec.loader';
import { toYaml } from './manifest.generator';

const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool', ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'promtool'))].find((p) => existsSync(p));
const fleet = parseFleetSpec(readFileSync(join(__dirname, '../../deploy/fleet.yaml'), 'utf8'));
const rules = alertRuleGroups(fleet).flatMap((g) => g.rules);
const annotationsOf = (alert: string) => rules.find((r) => r.alert === alert)!.annotations;
const labels = (severity: string, extra: Record<string, string> = {}) => ({ ...extra, severity, team: 'switchboard' });

if (!promtool) {
  // eslint-disable-next-line no-console
  console.warn('SKIPPED promtool rule tests: promtool is not installed');
}
const maybe = promtool ? describe : describe.skip;

maybe('generated alert rules under promtool test rules', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sb-rules-'));
    writeFileSync(join(dir, 'rules.yml'), toYaml({ groups: alertRuleGroups(fleet) }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const runTests = (tests: unknown[]) => {
    const file = join(dir, `test-${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(file, toYaml({ rule_files: ['rules.yml'], evaluation_interval: '1m', tests }));
    return execFileSync(promtool!, ['test', 'rules', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  };
  const healthy = [
    { series: 'up{job="alerting", instance="alerting-0:8084"}', values: '1x20' },
    { series: 'up{job="metrics-collector", instance="mc-0:8083"}', values: '1x20' },
    { series: 'up{job="gateway", instance="gw-0:8080"}', values: '1x20' },
    { series: 'sb_recovery_leader{job="recovery", instance="rec-0:8085"}', values: '1x20' },
    { series: 'sb_recovery_leader{job="recovery", instance="rec-1:8085"}', values: '0x20' },
    { series: 'sb_notifications_total{job="alerting", channel_type="slack", outcome="delivered"}', values: '0+10x20' },
  ];

  it('stays quiet on a healthy control plane', () => {
    const quiet = ['SwitchboardAlertingDown', 'SwitchboardMetricsCollectorDown', 'SwitchboardRecoveryLeaderless', 'SwitchboardServiceUnavailable', 'SwitchboardServiceDown', 'SwitchboardNotificationsUndelivered', 'SwitchboardNotificationRetries'];
    expect(runTests([{ interval: '1m', input_series: healthy, alert_rule_test: quiet.map((alertname) => ({ eval_time: '15m', alertname, exp_alerts: [] })) }])).toMatch(/SUCCESS/);
  });

  it('pages when no alerting or collector replica is up, or nobody leads recovery', () => {
    const series = [
      { series: 'up{job="alerting", instance="alerting-0:8084"}', values: '1 1 0x18' },
      // The collector's targets vanished entirely (scaled to zero): absent() still fires.
      { series: 'sb_recovery_leader{job="recovery", instance="rec-0:8085"}', values: '0x20' },
      { series: 'sb_recovery_leader{job="recovery", instance="rec-1:8085"}', values: '0x20' },
      // Both gateways down: unavailable (critical); one auth replica of two down: only the warning.
      { series: 'up{job="gateway", instance="gw-0:8080"}', values: '0x20' },
      { series: 'up{job="gateway", instance="gw-1:8080"}', values: '0x20' },
      { series: 'up{job="auth", instance="auth-0:8081"}', values: '1x20' },
      { series: 'up{job="auth", instance="auth-1:8081"}', values: '0x20' },
    ];
    const templated = (alert: string, job: string) => Object.fromEntries(Object.entries(annotationsOf(alert)).map(([k, v]) => [k, v.split('{{ $labels.job }}').join(job)]));
    const out = runTests([
      {
        interval: '1m',
        input_series: series,
        alert_rule_test: [
          { eval_time: '3m', alertname: 'SwitchboardAlertingDown', exp_alerts: [] },
          { eval_time: '6m', alertname: 'SwitchboardAlertingDown', exp_alerts: [{ exp_labels: labels('critical', { job: 'alerting' }), exp_annotations: annotationsOf('SwitchboardAlertingDown') }] },
          { eval_time: '6m', alertname: 'SwitchboardMetricsCollectorDown', exp_alerts: [{ exp_labels: labels('critical', { job: 'metrics-collector' }), exp_annotations: annotationsOf('SwitchboardMetricsCollectorDown') }] },
          { eval_time: '6m', alertname: 'SwitchboardRecoveryLeaderless', exp_alerts: [{ exp_labels: labels('critical'), exp_annotations: annotationsOf('SwitchboardRecoveryLeaderless') }] },
          { eval_time: '6m', alertname: 'SwitchboardServiceUnavailable', exp_alerts: [{ exp_labels: labels('critical', { job: 'gateway' }), exp_annotations: templated('SwitchboardServiceUnavailable', 'gateway') }] },
        ],
      },
    ]);
    expect(out).toMatch(/SUCCESS/);
  });

  it('pages for notifications given up or refused, per channel type', () => {
    const series = [
      ...healthy,
      { series: 'sb_notifications_total{job="alerting", channel_type="webhook", outcome="gave_up"}', values: '0 0 0 0 0 1x15' },
    ];
    const out = runTests([
      {
        interval: '1m',
        input_series: series,
        alert_rule_test: [
          { eval_time: '4m', alertname: 'SwitchboardNotificationsUndelivered', exp_alerts: [] },
          {
            eval_time: '6m',
            alertname: 'SwitchboardNotificationsUndelivered',
            exp_alerts: [{ exp_labels: labels('critical', { channel_type: 'webhook' }), exp_annotations: {
              summary: 'webhook notifications were not delivered',
              description: annotationsOf('SwitchboardNotificationsUndelivered').description.replace('{{ $value | humanize }}', '1').replace('{{ $labels.channel_type }}', 'webhook'),
            } }],
          },
        ],
      },
    ]);
    expect(out).toMatch(/SUCCESS/);
  });

  it('fails a wrong expectation (the test is real)', () => {
    expect(() => runTests([{ interval: '1m', input_series: healthy, alert_rule_test: [{ eval_time: '10m', alertname: 'SwitchboardAlertingDown', exp_alerts: [{ exp_labels: labels('critical', { job: 'alerting' }) }] }] }])).toThrow();
  });
});
