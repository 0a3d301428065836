/** Alert events onto `<prefix>.v1.alerts.<severity>.<state>` through JetStream: stored in the alerts stream and delivered to core subscribers. */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { AlertEvent, Names } from '@sb/contracts';
import { encode } from '@sb/messaging';
import type { AlertEventSink } from './engine-deps';

export class JetStreamEventSink implements AlertEventSink {
  constructor(
    private readonly js: JetStreamClient,
    private readonly n: Names,
  ) {}

  async publish(event: AlertEvent, msgId: string): Promise<void> {
    await this.js.publish(this.n.alerts.event(event.severity, event.state), encode(event), { msgID: msgId });
  }
}
