/**
 * Fencing, precisely, through agent protocol v1 from outside (docs/agent-protocol.md): an agent
 * that lost its task (it was declared down, and the task was leased to another agent) finishes
 * late. Its result must not be stored, and it must not cause the new holder's queue message to be
 * acked or deleted: with work-queue retention that would remove the message the new holder is
 * running, so if the new holder then died the task would be stuck.
 *
 * The gateway's dispatcher holds every queue message and leases tasks to agents; here the agents
 * are plain NATS clients ("zombie" and "healthy", capability `latch`, which no bundled agent
 * serves), and the test decides when each one takes, beats and completes. What is checked is
 * what the system shows from outside: the replies, the stored record (GET /v1/tasks/:id), the
 * security event, and the work-queue stream and consumer as JetStream reports them.
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import {
  AGENT_SESSION_HEADER,
  type AgentVerb,
  type LeasedTask,
  names,
  type SecurityEvent,
  securityEventNames,
} from '@sb/contracts';
import { collectMessages, eventually, waitForMessage } from '@sb/testing';
import { type Fleet, startFleet } from '../e2e/support/fleet';
import { http, tenantWithKey } from '../e2e/support/http';
import { natsRequest } from '../e2e/support/nats-client';

jest.setTimeout(60_000);

describe('fencing an agent that lost its task', () => {
  let fleet: Fleet;
  let nc: NatsConnection;
  let n: ReturnType<typeof names>;
  let jsm: JetStreamManager;
  let key: string;
  /** Each agent's session, from its registration: every later message carries it. */
  const sessions = new Map<string, string>();
  const beaters = new Map<string, NodeJS.Timeout>();

  const register = async (agentId: string, heartbeatIntervalMs: number) => {
    const registration = { agentId, capabilities: ['latch'], maxConcurrency: 1, heartbeatIntervalMs };
    const r = await natsRequest(nc, n.agents.register, registration, { key: fleet.agentKey });
    expect(r.errorCode).toBeUndefined();
    expect(r.body).toMatchObject({ agentId, registered: true, session: expect.any(String) });
    sessions.set(agentId, r.body.session);
  };
  /** Beat as `agentId` every `everyMs` until `stopBeating(agentId)` (or afterAll). */
  const startBeating = (agentId: string, everyMs: number) => {
    let seq = 0;
    const beat = () => {
      const h = natsHeaders();
      h.set(AGENT_SESSION_HEADER, sessions.get(agentId)!);
      const hb = { agentId, seq: seq++, sentAt: Date.now(), status: 'ready', inFlight: 0, capacity: 1 };
      nc.publish(n.agents.heartbeat(agentId), JSON.stringify(hb), { headers: h });
    };
    beat();
    beaters.set(agentId, setInterval(beat, everyMs));
  };
  const stopBeating = (agentId: string) => {
    clearInterval(beaters.get(agentId));
    beaters.delete(agentId);
  };
  /** A request as `agentId`, with its session, to one of its work subjects. */
  const as = <T = any>(agentId: string, verb: AgentVerb, dispatcher: string | undefined, body: unknown) =>
    natsRequest<T>(nc, n.agents.work(agentId, verb, dispatcher), body, {
      headers: { [AGENT_SESSION_HEADER]: sessions.get(agentId)! },
    });
  const take = (agentId: string, waitMs: number) =>
    as<{ tasks: LeasedTask[] }>(agentId, 'take', undefined, { max: 1, waitMs });
  const task = async (taskId: string) => (await http(fleet.httpUrl, 'GET', `/v1/tasks/${taskId}`, { key })).body;
  /** What JetStream holds: messages in the work-queue stream, and deliveries the latch consumer awaits an ack for. */
  const queue = async () => ({
    messages: (await jsm.streams.info(n.queue.stream)).state.messages,
    ackPending: (await jsm.consumers.info(n.queue.stream, n.queue.consumer('latch', 'normal'))).num_ack_pending,
  });

  beforeAll(async () => {
    // A missed beat is noticed within 100 ms; three missed beats make an agent down.
    fleet = await startFleet({ workers: 0, collectorEnv: { LIVENESS_SWEEP_MS: '100', LIVENESS_MISSED_BEATS: '3' } });
    nc = fleet.nc;
    n = names(fleet.prefix);
    jsm = await jetstreamManager(nc);
    ({ key } = await tenantWithKey(fleet.httpUrl, fleet.adminKey));
    // The zombie promises a beat every 200 ms, so it is down some 600 ms after its last one.
    await register('zombie', 200);
    startBeating('zombie', 100);
    await register('healthy', 1_000);
    startBeating('healthy', 250);
  });
  afterAll(async () => {
    for (const id of [...beaters.keys()]) stopBeating(id);
    await fleet?.stop();
  });

  it("refuses the zombie's late result and leaves the new holder's queue message alone", async () => {
    // 1. The zombie takes the task: lease epoch 1, the record running under it.
    const body = { capability: 'latch', input: { n: 1 } };
    const submitted = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body });
    expect(submitted.status).toBe(202);
    const taskId: string = submitted.body.taskId;
    const zombieTake = await take('zombie', 5_000);
    expect(zombieTake.errorCode).toBeUndefined();
    const [first] = zombieTake.body.tasks;
    expect(first).toMatchObject({ taskId, capability: 'latch', deliveryCount: 1, lease: { taskId, epoch: 1 } });
    expect(await task(taskId)).toMatchObject({ status: 'running', agentId: 'zombie' });

    // 2. The zombie stops beating (it hangs); the collector declares it down, and the dispatcher
    // hands its lease back at once: the healthy agent gets the redelivery under epoch 2. The
    // server's own redelivery (the 30 s ack wait) is far beyond these waits.
    const down = waitForMessage(nc, n.agents.down('zombie'), { timeoutMs: 10_000 });
    await down.ready;
    stopBeating('zombie');
    expect((await down).data).toMatchObject({ agentId: 'zombie', state: 'down' });
    const second = await eventually(
      async () => {
        const r = await take('healthy', 1_000);
        expect(r.errorCode).toBeUndefined();
        return r.body.tasks[0] ?? false;
      },
      { timeoutMs: 10_000, description: "the down zombie's task is leased to the healthy agent" },
    );
    expect(second).toMatchObject({ taskId, deliveryCount: 2, lease: { taskId, epoch: 2 } });
    expect(await task(taskId)).toMatchObject({ status: 'running', agentId: 'healthy' });
    expect(await queue()).toEqual({ messages: 1, ackPending: 1 });

    // 3. The zombie wakes up and completes with its epoch-1 lease: refused as a lost lease, and
    // recorded as a security event.
    const refusals = collectMessages<SecurityEvent>(nc, securityEventNames(fleet.prefix).subject('agent_refused'), {
      filter: (m) => m.data.agentId === 'zombie',
    });
    await refusals.ready;
    const late = await as('zombie', 'complete', first.dispatcher, { lease: first.lease, result: { by: 'zombie' } });
    expect(late).toMatchObject({ errorCode: '409', body: { error: { code: 'AGENT.LEASE_LOST', retryable: false } } });
    const [refused] = await refusals.waitForCount(1);
    expect(refused.data).toMatchObject({
      type: 'agent_refused',
      agentId: 'zombie',
      route: 'agents.complete',
      tenantId: first.tenantId,
      reason: `stale lease epoch 1 for task ${taskId}`,
    });
    await refusals.stop();

    // Nothing changed: the record is the healthy agent's, the dispatcher still holds its lease
    // (one more round trip through the gateway after the refusal), and the message it holds is
    // still in the stream, delivered and not acked.
    expect(await task(taskId)).toMatchObject({ status: 'running', agentId: 'healthy' });
    const kept = await as('healthy', 'keepalive', second.dispatcher, { leases: [second.lease] });
    expect(kept.body).toEqual({ leases: [{ taskId, held: true }] });
    expect(await queue()).toEqual({ messages: 1, ackPending: 1 });

    // 4. The healthy agent completes: its result is the one stored, and the message goes away.
    const done = await as('healthy', 'complete', second.dispatcher, { lease: second.lease, result: { by: 'healthy' } });
    expect(done.errorCode).toBeUndefined();
    expect(done.body).toEqual({ status: 'succeeded' });
    expect(await task(taskId)).toMatchObject({
      status: 'succeeded',
      agentId: 'healthy',
      result: { by: 'healthy' },
      attempts: 2,
    });
    await eventually(async () => expect(await queue()).toEqual({ messages: 0, ackPending: 0 }), {
      description: 'the completed task’s message leaves the work queue',
    });
  });
});
