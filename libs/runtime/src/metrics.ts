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
export function createMetricsRegistry(options: CreateMetricsRegistryOptions): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.collectDefaults) collectDefaultMetrics({ register: registry });
  return registry;
}
