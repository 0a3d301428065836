/**
 * NATS adapter: the engine's inputs, declared for the bus transport. Every replica receives each
 * event (each evaluates everything; state transitions are compare-and-set, so only one
 * publishes). No logic here: EngineInputsHandler validates and hands them to the engine.
 * Agents' metrics arrive only as the collector validated them: alerting does not listen to
 * `agents.metrics.*`, where any client could publish.
 */
import { Controller, Inject } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { Events } from '@sb/contracts';
import { EngineInputsHandler } from './engine-inputs.handler';

@Controller()
export class EngineInputsController {
  constructor(@Inject(EngineInputsHandler) private readonly inputs: EngineInputsHandler) {}

  @EventPattern(Events.validatedMetrics)
  agentMetrics(body: unknown) {
    this.inputs.metrics(body);
  }

  @EventPattern(Events.fleetSamples)
  fleetSamples(body: unknown) {
    this.inputs.fleetSamples(body);
  }

  @EventPattern(Events.agentDown)
  agentDown(body: unknown) {
    this.inputs.liveness(body);
  }

  @EventPattern(Events.agentUp)
  agentUp(body: unknown) {
    this.inputs.liveness(body);
  }

  @EventPattern(Events.agentLeft)
  agentLeft(body: unknown) {
    this.inputs.liveness(body);
  }

  @EventPattern(Events.raiseAlert)
  raiseAlert(body: unknown) {
    this.inputs.raise(body);
  }
}
