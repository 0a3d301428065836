import { Writable } from 'node:stream';
import { createLogger } from './logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, stream };
}

describe('logger', () => {
  it('writes JSON with the service name and redacts secrets wherever they sit', () => {
    const { lines, stream } = capture();
    const log = createLogger('gateway', 'info', stream);
    log.info({ authorization: 'Bearer sbk_secret1', key: 'sbk_secret2', req: { headers: { authorization: 'Bearer sbk_secret3' } }, body: { apiKey: 'sbk_secret4', ok: 1 } }, 'hello');
    expect(lines[0]).toMatchObject({ level: 'info', service: 'gateway', msg: 'hello', body: { ok: 1 } });
    expect(JSON.stringify(lines)).not.toMatch(/sbk_secret/);
  });
});
