/** The hot path of session checks: a beat costs no hash once its session was verified. */
import * as messaging from '@sb/messaging';
import { reg } from '../collector.fixture';
import { AgentDirectory } from './agent-directory';
import { AgentSessions, MAX_REFUSAL_EVENTS_PER_S } from './agent-sessions';

jest.mock('@sb/messaging', () => {
  const actual = jest.requireActual('@sb/messaging');
  return { ...actual, agentSessionMatches: jest.fn(actual.agentSessionMatches) };
});
const matches = messaging.agentSessionMatches as jest.MockedFunction<typeof messaging.agentSessionMatches>;

function setup() {
  let now = 0;
  const directory = new AgentDirectory();
  const events: messaging.SecurityEventInput[] = [];
  const reads: string[] = [];
  const sessions = new AgentSessions(directory, { read: async (id) => (reads.push(id), undefined) }, () => undefined, { dropped: () => undefined, securityEvent: (e) => events.push(e) }, { now: () => now });
  return { directory, sessions, events, reads, tick: (ms: number) => (now += ms) };
}

describe('AgentSessions', () => {
  beforeEach(() => matches.mockClear());

  it('hashes a session once, then compares strings; a new session is hashed once again', () => {
    const s = setup();
    const session = messaging.newAgentSession();
    s.directory.register(reg('a1'), 0, messaging.hashAgentSession(session));
    for (let i = 0; i < 1_000; i++) expect(s.sessions.check('heartbeat', 'a1', session)).toBe('ok');
    expect(matches).toHaveBeenCalledTimes(1);
    // Registered again under a new session (the registry's word): the old one no longer passes.
    const next = messaging.newAgentSession();
    s.directory.setSessionHash('a1', messaging.hashAgentSession(next));
    expect(s.sessions.check('heartbeat', 'a1', next)).toBe('ok');
    expect(s.sessions.check('heartbeat', 'a1', next)).toBe('ok');
    expect(matches).toHaveBeenCalledTimes(2);
  });

  it('caps security events fleet-wide, so a flood under ever new ids cannot fill the stream', () => {
    const s = setup();
    for (let i = 0; i < 500; i++) s.sessions.check('heartbeat', `forged-${i}`, undefined);
    expect(s.events).toHaveLength(MAX_REFUSAL_EVENTS_PER_S);
    expect(s.reads).toEqual([]); // nothing to look up without a session
    s.tick(1_000);
    s.sessions.check('heartbeat', 'forged-next', undefined);
    expect(s.events).toHaveLength(MAX_REFUSAL_EVENTS_PER_S + 1);
  });
});
