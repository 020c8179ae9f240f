import { Counter, Histogram } from '@ferry/runtime';
import type { Registry } from '@ferry/runtime';

/** The notifier's metrics, on the injected registry. Labels are bounded: trigger, channel (from the config file), result. */
export interface NotifierMetrics {
  /** ferry_notifier_notifications_total{trigger,channel,result}: deliveries finished, result `sent` or `failed`. */
  readonly notifications: Counter<'trigger' | 'channel' | 'result'>;
  /** ferry_notifier_send_duration_seconds{channel,result}: one delivery including its retries. */
  readonly sendDuration: Histogram<'channel' | 'result'>;
  /** ferry_notifier_deduplicated_total{trigger}: fired triggers skipped because they were already delivered. */
  readonly deduplicated: Counter<'trigger'>;
  /** ferry_notifier_events_total{type,outcome}: consumed events by CloudEvents type and handler outcome (ack, nak, term). */
  readonly events: Counter<'type' | 'outcome'>;
}

export function createNotifierMetrics(registry: Registry): NotifierMetrics {
  return {
    notifications: new Counter({
      name: 'ferry_notifier_notifications_total',
      help: 'Notifications delivered (sent) or given up on (failed), by trigger and channel.',
      labelNames: ['trigger', 'channel', 'result'] as const,
      registers: [registry],
    }),
    sendDuration: new Histogram({
      name: 'ferry_notifier_send_duration_seconds',
      help: 'Time to deliver one notification to one channel, retries included.',
      labelNames: ['channel', 'result'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    deduplicated: new Counter({
      name: 'ferry_notifier_deduplicated_total',
      help: 'Fired triggers not sent again because that trigger, app and revision was already delivered.',
      labelNames: ['trigger'] as const,
      registers: [registry],
    }),
    events: new Counter({
      name: 'ferry_notifier_events_total',
      help: 'Events consumed by the notifier, by type and outcome.',
      labelNames: ['type', 'outcome'] as const,
      registers: [registry],
    }),
  };
}
