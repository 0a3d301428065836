/** sb_notifications_total{channel_type,outcome} and the attempt duration histogram, in the service's registry. */
import type { DeliveryOutcome } from '@sb/contracts';
import type { ServiceMetrics } from '@sb/observability';
import type { DeliveryMetricsPort } from './delivery-attempt.handler';

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function deliveryMetrics(m: ServiceMetrics): DeliveryMetricsPort {
  const total = m.counter('sb_notifications_total', 'Notification delivery attempts by channel type and outcome (delivered|retrying|failed|gave_up|skipped|dropped)', ['channel_type', 'outcome']);
  const duration = m.histogram('sb_notification_delivery_duration_seconds', 'Time of one delivery attempt (HTTP POST to the receiver) by channel type and outcome', ['channel_type', 'outcome'], DURATION_BUCKETS);
  return {
    record(channelType: string, outcome: DeliveryOutcome, seconds: number | null) {
      total.inc({ channel_type: channelType, outcome });
      if (seconds !== null) duration.observe({ channel_type: channelType, outcome }, seconds);
    },
  };
}
