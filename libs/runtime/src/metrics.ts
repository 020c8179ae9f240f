import { collectDefaultMetrics, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface CreateMetricsRegistryOptions {
  /** Value of the `service` label added to every metric. */
  service: string;
  /** Also collect prom-client's default Node.js metrics (process_*, nodejs_*). Default false (tests). */
  collectDefaults?: boolean;
}

/**
 * A fresh prom-client Registry (never the global one) labelled `{ service }`. Name metrics
 * `ferry_<area>_<what>_<unit>` (`ferry_git_request_duration_seconds`, `ferry_sync_total`), labels
 * bounded (app, result, phase — never a SHA or an error message).
 */
const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export function createMetricsRegistry(options: CreateMetricsRegistryOptions): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.collectDefaults) {
    collectDefaultMetrics({ register: registry });
    // prom-client also exports these three as gauges named `_total`, which the exposition format
    // reserves for counters (promtool check metrics rejects them); the same values remain under
    // nodejs_active_handles, nodejs_active_requests and nodejs_active_resources.
    for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name);
  }
  return registry;
}
