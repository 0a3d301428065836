import { Controller, Get, Header, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ReadinessRegistry } from './readiness';
import { ServiceMetrics } from './metrics';

const PROBE_TIMEOUT_MS = 2_000;

@Controller()
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
  ) {}

  /** Alive while the event loop turns: no dependency is consulted. */
  @Get('/health/live')
  @HealthCheck()
  live() {
    return this.health.check([async () => this.indicators.check('process').up({ uptimeSeconds: Math.round(process.uptime()) })]);
  }

  /** Ready when every registered dependency answers a real round trip. */
  @Get('/health/ready')
  @HealthCheck()
  ready() {
    return this.health.check(
      this.readiness.all().map((c) => async () => {
        const session = this.indicators.check(c.name);
        try {
          const details = await withTimeout(c.check(), PROBE_TIMEOUT_MS, c.name);
          return session.up(details ?? {});
        } catch (e) {
          return session.down({ message: e instanceof Error ? e.message : String(e) });
        }
      }),
    );
  }

  @Get('/metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
