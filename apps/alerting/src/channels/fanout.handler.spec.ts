import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { names, type NotificationChannel } from '@sb/contracts';
import { createLogger } from '@sb/observability';
import type { DeliveryAttemptHandler } from './delivery-attempt.handler';
import { FanoutHandler, type FanoutMessage } from './fanout.handler';
import { notification } from './notification.fixture';

const n = names('t');
const dec = new TextDecoder();
const channel = (id: string, enabled = true) => ({ id, enabled }) as NotificationChannel;

function setup(opts: { publishFails?: boolean } = {}) {
  const published: { subject: string; body: unknown; msgID?: string }[] = [];
  const recorded: { channel?: string; channelId: string }[] = [];
  const js = {
    publish: async (subject: string, data: Uint8Array, o?: { msgID?: string }) => {
      if (opts.publishFails) throw new Error('no stream');
      published.push({ subject, body: JSON.parse(dec.decode(data)), msgID: o?.msgID });
    },
  } as unknown as JetStreamClient;
  const channels = new Map([
    ['ch_a', channel('ch_a')],
    ['ch_b', channel('ch_b')],
    ['ch_off', channel('ch_off', false)],
  ]);
  const attempts = {
    handle: async (c: NotificationChannel | undefined, w: { channelId: string }) => void recorded.push({ channel: c?.id, channelId: w.channelId }),
  } as unknown as DeliveryAttemptHandler;
  const handler = new FanoutHandler(() => js, n, async (id) => channels.get(id), attempts, createLogger('test', 'silent'));
  const settled: string[] = [];
  const msg: FanoutMessage = {
    nak: (ms?: number) => void settled.push(`nak ${ms}`),
    term: () => void settled.push('term'),
    jsMsg: { seq: 7 } as JsMsg,
  };
  return { handler, published, recorded, settled, msg };
}

describe('FanoutHandler', () => {
  it('publishes one work message per distinct enabled channel, deduplicated by <id>:<channel>, and leaves the ack to the transport', async () => {
    const { handler, published, settled, msg } = setup();
    const x = notification({ id: 'n9', channelIds: ['ch_a', 'ch_b', 'ch_a'] });
    await handler.handle(x, msg);
    expect(published).toEqual([
      { subject: n.channels.delivery('ch_a'), body: { channelId: 'ch_a', notification: x }, msgID: 'n9:ch_a' },
      { subject: n.channels.delivery('ch_b'), body: { channelId: 'ch_b', notification: x }, msgID: 'n9:ch_b' },
    ]);
    expect(settled).toEqual([]);
  });

  it('records a missing or disabled channel instead of queueing work for it, and skips an invalid channel id', async () => {
    const { handler, published, recorded, settled, msg } = setup();
    await handler.handle(notification({ channelIds: ['ch_gone', 'ch_off', 'not a channel!'] }), msg);
    expect(published).toEqual([]);
    expect(recorded).toEqual([{ channel: undefined, channelId: 'ch_gone' }, { channel: 'ch_off', channelId: 'ch_off' }]);
    expect(settled).toEqual([]);
  });

  it('terminates a body that is not a notification', async () => {
    for (const body of [undefined, null, 5, { id: 'x' }, { ...notification(), channelIds: [1] }]) {
      const { handler, published, settled, msg } = setup();
      await handler.handle(body, msg);
      expect(settled).toEqual(['term']);
      expect(published).toEqual([]);
    }
  });

  it('naks for a retry in a second when fanning out fails', async () => {
    const { handler, settled, msg } = setup({ publishFails: true });
    await handler.handle(notification(), msg);
    expect(settled).toEqual(['nak 1000']);
  });
});
