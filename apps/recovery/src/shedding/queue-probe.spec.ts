import { names } from '@sb/contracts';
import { queueSubjectParser } from './queue-probe';

describe('queueSubjectParser', () => {
  const n = names('sb');
  const parse = queueSubjectParser(n);

  it('reads back the capability and priority of every queue subject', () => {
    for (const priority of ['high', 'normal', 'low'] as const) {
      for (const capability of ['echo', 'code-analysis', 'a1']) expect(parse(n.queue.subject(capability, priority))).toEqual({ capability, priority });
    }
  });

  it('refuses other subjects: another prefix, no capability, an unknown priority, a non-queue subject', () => {
    for (const subject of [names('other').queue.subject('echo', 'low'), 'sb.q..low', 'sb.q.low', 'sb.q.echo.urgent', 'sb.dlq.echo', '', n.queue.all]) {
      expect(parse(subject)).toBeUndefined();
    }
  });
});
