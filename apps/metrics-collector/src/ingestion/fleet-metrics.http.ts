/** HTTP adapter: the fleet-wide Prometheus exposition of every agent's latest series. No logic here. */
import { Controller, Get, Header, Inject } from '@nestjs/common';
import { FleetCollector } from '../collector';
import { EXPOSITION_CONTENT_TYPE, renderExposition } from './exposition';

@Controller()
export class FleetMetricsHttpController {
  constructor(@Inject(FleetCollector) private readonly collector: FleetCollector) {}

  @Get('/metrics/fleet')
  @Header('Content-Type', EXPOSITION_CONTENT_TYPE)
  scrape(): string {
    return renderExposition(this.collector.series);
  }
}
