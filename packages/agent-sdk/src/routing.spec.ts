import { defineAgent, type AgentTask } from './agent';
import { AgentRouter } from './routing';

const task = (capability: string, input: unknown = {}): AgentTask => ({
  taskId: 't1',
  tenantId: 'acme',
  capability,
  priority: 'normal',
  input,
  metadata: {},
  idempotencyKey: 't1',
  deliveryCount: 1,
  deadlineAt: new Date(Date.now() + 60_000).toISOString(),
});
const handle = async () => null;

describe('AgentRouter', () => {
  const english = defineAgent<{ lang: string }>({ name: 'english', capabilities: ['translate'], canHandle: (t) => t.input.lang === 'en', handle });
  const anyLang = defineAgent({ name: 'any', capabilities: ['translate', 'summarize'], handle });
  const picky = defineAgent({ name: 'picky', capabilities: ['classify'], canHandle: () => false, handle });

  it('lists each capability once', () => {
    expect(new AgentRouter([english, anyLang, picky]).capabilities).toEqual(['translate', 'summarize', 'classify']);
  });

  it('gives a task to the first agent, in the order given, whose canHandle accepts it', () => {
    const router = new AgentRouter([english, anyLang]);
    expect(router.route(task('translate', { lang: 'en' })).agent).toBe(english);
    expect(router.route(task('translate', { lang: 'fr' })).agent).toBe(anyLang);
    expect(router.route(task('summarize')).agent).toBe(anyLang);
    // Order matters: an agent without canHandle first takes everything.
    expect(new AgentRouter([anyLang, english]).route(task('translate', { lang: 'en' })).agent).toBe(anyLang);
  });

  it('finds no agent when every candidate refuses, or none serves the capability', () => {
    const router = new AgentRouter([english, picky]);
    const refused = router.route(task('translate', { lang: 'fr' }));
    expect(refused.agent).toBeUndefined();
    expect(refused).toMatchObject({ reason: expect.stringContaining('english') });
    expect(router.route(task('classify')).agent).toBeUndefined();
    expect(router.route(task('unknown')).agent).toBeUndefined();
  });

  it('treats a canHandle that throws or returns a promise as a refusal, and says so', () => {
    const broken = defineAgent({ name: 'broken', capabilities: ['translate'], canHandle: () => { throw new Error('bug'); }, handle });
    const asyncCheck = defineAgent({ name: 'async', capabilities: ['translate'], canHandle: (async () => true) as never, handle });
    const errors: string[] = [];
    const route = new AgentRouter([broken, asyncCheck, anyLang]).route(task('translate'), (a, err) => errors.push(`${a.name}: ${(err as Error).message}`));
    expect(route.agent).toBe(anyLang);
    expect(errors).toEqual(['broken: bug', expect.stringContaining('async: canHandle of async returned a promise')]);
  });
});

describe('defineAgent', () => {
  it('checks the definition', () => {
    expect(() => defineAgent({ name: 'x', capabilities: [], handle })).toThrow(/capability/);
    expect(() => defineAgent({ name: 'x', capabilities: ['Not Valid'], handle })).toThrow(/must match/);
    expect(() => defineAgent({ name: 'x', capabilities: ['ok'] } as never)).toThrow(/handle/);
    expect(defineAgent({ name: 'x', capabilities: ['a', 'a', 'b'], handle }).capabilities).toEqual(['a', 'b']);
  });
});
