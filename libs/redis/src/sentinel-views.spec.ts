import { formatAddress, onReplacedMaster } from './sentinel-views';

describe('onReplacedMaster', () => {
  const old = '10.0.0.1:6379';
  const promoted = '10.0.0.2:6379';

  it('is true when an older view names the connected server and the newest names another', () => {
    // The leader announced the switch (epoch 3); one Sentinel has not heard yet and sent us to the old master.
    expect(onReplacedMaster(old, [{ address: promoted, epoch: 3 }, { address: old, epoch: 2 }, { address: promoted, epoch: 3 }])).toBe(true);
  });

  it('is false on the newest master, while some Sentinels still lag behind', () => {
    expect(onReplacedMaster(promoted, [{ address: promoted, epoch: 3 }, { address: old, epoch: 2 }])).toBe(false);
  });

  it('is false when every view agrees, or none answered', () => {
    expect(onReplacedMaster(old, [{ address: old, epoch: 2 }, { address: old, epoch: 2 }])).toBe(false);
    expect(onReplacedMaster(old, [])).toBe(false);
  });

  it('never reconnects on views that do not name the connected address at all (host names vs the socket IP)', () => {
    expect(onReplacedMaster(old, [{ address: 'redis-1.redis:6379', epoch: 3 }, { address: 'redis-0.redis:6379', epoch: 2 }])).toBe(false);
  });

  it('formats IPv6 hosts in brackets, like the connected address', () => {
    expect(formatAddress('fd00::1', 6379)).toBe('[fd00::1]:6379');
    expect(formatAddress('10.0.0.1', '6380')).toBe('10.0.0.1:6380');
  });
});
