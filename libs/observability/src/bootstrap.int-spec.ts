/** Nest's own logs reach the service's pino logger through nestjs-pino: JSON, the service's name, redaction. */
import { Writable } from 'node:stream';
import { Logger, Module } from '@nestjs/common';
import { createServiceApp } from './bootstrap';
import { createLogger } from './logger';
import { ObservabilityModule } from './observability.module';

@Module({})
class EmptyModule {}

describe('service boot logging', () => {
  it("writes Nest's framework logs as the service's JSON lines, secrets redacted", async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    });
    const logger = createLogger('probe', 'info', stream);
    const config = { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: 1_000 };
    const { app } = await createServiceApp({ service: 'probe', config, logger, module: (l) => ({ module: EmptyModule, imports: [ObservabilityModule.forRoot({ service: 'probe', logger: l, config })] }) });
    await app.init();
    new Logger('Probe').log({ msg: 'with a secret', authorization: 'Bearer sbk_topsecret' });
    await app.close();
    expect(lines).toContainEqual(expect.objectContaining({ service: 'probe', level: 'info', context: 'NestApplication', msg: 'Nest application successfully started' }));
    expect(lines).toContainEqual(expect.objectContaining({ service: 'probe', context: 'Probe', msg: 'with a secret' }));
    expect(JSON.stringify(lines)).not.toContain('sbk_topsecret');
  });
});
