import { type AlertNotification, CreateChannelSchema, type NotificationChannel } from '@sb/contracts';
import type { ChannelStore } from './channel-store';
import { ChannelsHandler } from './channels.handler';

class MemoryStore implements ChannelStore {
  readonly map = new Map<string, NotificationChannel>();
  async get(id: string) {
    return this.map.get(id);
  }
  async list() {
    return [...this.map.values()];
  }
  async insert(c: NotificationChannel) {
    if (this.map.has(c.id)) return false;
    this.map.set(c.id, c);
    return true;
  }
  async update(id: string, change: (c: NotificationChannel) => NotificationChannel) {
    const c = this.map.get(id);
    if (!c) return undefined;
    const next = change(c);
    this.map.set(id, next);
    return next;
  }
  async remove(id: string) {
    const c = this.map.get(id);
    this.map.delete(id);
    return c;
  }
}

function setup() {
  const store = new MemoryStore();
  const events: string[] = [];
  const enqueued: AlertNotification[] = [];
  let seq = 0;
  const handler = new ChannelsHandler(
    store,
    { recent: async () => [] },
    { created: async (id) => void events.push(`created ${id}`), deleted: async (id) => void events.push(`deleted ${id}`) },
    { enqueue: async (n) => void enqueued.push(n) },
    () => `ch_${++seq}`,
    () => new Date('2026-11-21T10:00:00Z'),
  );
  return { store, handler, events, enqueued };
}

describe('ChannelsHandler', () => {
  it('stores secrets as given but replies masked', async () => {
    const { store, handler, events } = setup();
    const view = await handler.create(CreateChannelSchema.parse({ type: 'pagerduty', name: 'pd', routingKey: 'R0123456789abcdefXYZ', headers: { 'X-Token': 'tok-0123456789abcdef' } }));
    expect(view).toMatchObject({ id: 'ch_1', type: 'pagerduty', url: 'https://events.pagerduty.com/v2/enqueue', routingKey: '****fXYZ', headers: { 'X-Token': '****cdef' }, timeoutMs: 5000, maxAttempts: 8, enabled: true });
    expect(store.map.get('ch_1')).toMatchObject({ routingKey: 'R0123456789abcdefXYZ', headers: { 'X-Token': 'tok-0123456789abcdef' } });
    expect(events).toEqual(['created ch_1']);
    expect(JSON.stringify(await handler.list())).not.toContain('R0123456789abcdef');
  });

  it('patches only the given fields, refuses a routing key on a non-PagerDuty channel, and 404s unknown ids', async () => {
    const { handler } = setup();
    const c = await handler.create(CreateChannelSchema.parse({ type: 'webhook', name: 'w', url: 'http://h/x' }));
    expect(await handler.update(c.id, { enabled: false, timeoutMs: 200 })).toMatchObject({ name: 'w', enabled: false, timeoutMs: 200, url: 'http://h/x' });
    await expect(handler.update(c.id, { routingKey: 'abc' })).rejects.toMatchObject({ code: 'REQUEST.INVALID', status: 400 });
    await expect(handler.get('ch_nope')).rejects.toMatchObject({ code: 'RESOURCE.NOT_FOUND', status: 404 });
    await expect(handler.deliveries('ch_nope', 10)).rejects.toMatchObject({ status: 404 });
  });

  it('deletes the channel and its delivery plumbing', async () => {
    const { handler, events, store } = setup();
    const c = await handler.create(CreateChannelSchema.parse({ type: 'slack', name: 's', url: 'https://hooks.slack.com/services/T/B/X' }));
    await handler.delete(c.id);
    expect(store.map.size).toBe(0);
    expect(events).toEqual([`created ${c.id}`, `deleted ${c.id}`]);
    await expect(handler.delete(c.id)).rejects.toMatchObject({ status: 404 });
  });

  it('keeps a webhook signing secret, masks it, and can stop signing', async () => {
    const { handler, store } = setup();
    const c = await handler.create(CreateChannelSchema.parse({ type: 'webhook', name: 'w', url: 'http://h/x', signingSecret: 'whsec_0123456789abcdef' }));
    expect(c.signingSecret).toBe('****cdef');
    expect(store.map.get(c.id)?.signingSecret).toBe('whsec_0123456789abcdef');
    await handler.update(c.id, { signingSecret: null });
    expect(store.map.get(c.id)).not.toHaveProperty('signingSecret');
    const pd = await handler.create(CreateChannelSchema.parse({ type: 'pagerduty', name: 'p', routingKey: 'rk' }));
    await expect(handler.update(pd.id, { signingSecret: 'whsec_0123456789abcdef' })).rejects.toMatchObject({ status: 400 });
  });

  it('sends a test notification to that channel only', async () => {
    const { handler, enqueued } = setup();
    const c = await handler.create(CreateChannelSchema.parse({ type: 'webhook', name: 'w', url: 'http://h/x' }));
    const r = await handler.test(c.id);
    expect(enqueued).toEqual([expect.objectContaining({ id: r.notificationId, channelIds: [c.id], kind: 'firing', severity: 'info' })]);
  });
});

describe('channel schemas', () => {
  it('rejects unknown fields, bad URLs (with the path) and reserved headers', () => {
    const bad = [
      { type: 'webhook', name: 'w', url: 'ftp://x/y' },
      { type: 'webhook', name: 'w', url: 'not a url' },
      { type: 'webhook', name: 'w', url: 'http://h/x', extra: 1 },
      { type: 'webhook', name: 'w', url: 'http://h/x', headers: { Host: 'evil' } },
      { type: 'webhook', name: 'w', url: 'http://h/x', headers: { 'X-A': 'a\r\nb' } },
      { type: 'pagerduty', name: 'p' },
      { type: 'slack', name: 's', url: 'http://h/x', routingKey: 'abc' },
      { type: 'slack', name: 's', url: 'http://h/x', signingSecret: '0123456789abcdef0' },
      { type: 'webhook', name: 'w', url: 'http://h/x', signingSecret: 'short' },
      { type: 'sms', name: 's', url: 'http://h/x' },
    ];
    for (const b of bad) expect(CreateChannelSchema.safeParse(b).success).toBe(false);
    const r = CreateChannelSchema.safeParse({ type: 'webhook', name: 'w', url: 'javascript:alert(1)' });
    expect(r.success || r.error.issues[0].path).toEqual(['url']);
  });
});
