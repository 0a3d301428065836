import { ConfigError } from '@sb/config';
import { loadRecoveryConfig } from './config';

describe('recovery config', () => {
  it('needs the fleet spec’s agent pools to run the Kubernetes adapter, and takes only Deployment names', () => {
    expect(() => loadRecoveryConfig({ RECOVERY_RUNTIME: 'kubernetes' })).toThrow(/RECOVERY_K8S_AGENT_POOLS: required with RECOVERY_RUNTIME=kubernetes/);
    expect(() => loadRecoveryConfig({ RECOVERY_RUNTIME: 'kubernetes', RECOVERY_K8S_AGENT_POOLS: 'agent-worker-general,Bad_Name' })).toThrow(ConfigError);
    const c = loadRecoveryConfig({ RECOVERY_RUNTIME: 'kubernetes', RECOVERY_K8S_AGENT_POOLS: 'agent-worker-general, agent-worker-chaos', RECOVERY_K8S_INSTANCE: 'prod' });
    expect(c).toMatchObject({ RECOVERY_K8S_AGENT_POOLS: ['agent-worker-general', 'agent-worker-chaos'], RECOVERY_K8S_INSTANCE: 'prod' });
    // Other runtimes do not need them.
    expect(loadRecoveryConfig({ RECOVERY_RUNTIME: 'local' }).RECOVERY_K8S_AGENT_POOLS).toEqual([]);
  });

  it('caps redrives per task at 3 unless configured', () => {
    expect(loadRecoveryConfig({}).DLQ_REDRIVE_MAX).toBe(3);
    expect(loadRecoveryConfig({ DLQ_REDRIVE_MAX: '0' }).DLQ_REDRIVE_MAX).toBe(0);
    expect(() => loadRecoveryConfig({ DLQ_REDRIVE_MAX: '-1' })).toThrow(/DLQ_REDRIVE_MAX/);
  });
});
