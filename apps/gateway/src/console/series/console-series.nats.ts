/** What the console's charts hear on the bus: the task tallies and the collector's fleet samples. */
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Events } from '@sb/contracts';
import { ConsoleSeries } from './console-series';

@Controller()
export class ConsoleSeriesNatsController {
  constructor(@Inject(ConsoleSeries) private readonly series: ConsoleSeries) {}

  @EventPattern(Events.taskTally)
  taskTally(@Payload() tally: unknown) {
    this.series.onTally(tally);
  }

  @EventPattern(Events.fleetSamples)
  fleetSamples(@Payload() batch: unknown) {
    this.series.onFleetBatch(batch);
  }
}
