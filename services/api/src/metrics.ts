import { Counter, Gauge, Histogram } from '@ferry/runtime';
import type { Registry } from '@ferry/runtime';

/** The route label of requests no route matched (never the raw URL: that would be unbounded). */
export const UNMATCHED_ROUTE = 'unmatched';

export interface ApiMetrics {
  /** ferry_api_requests_total{route,method,code}: `route` is the route template (`/api/v1/applications/:name`). */
  readonly requests: Counter<'route' | 'method' | 'code'>;
  /** ferry_api_request_duration_seconds{route,method}: time to the response (for event streams: to the headers). */
  readonly duration: Histogram<'route' | 'method'>;
  /** ferry_api_event_streams: open server-sent event streams. */
  readonly streams: { inc(): void; dec(): void };
  /** Records one finished request. */
  observe(route: string, method: string, code: number, seconds: number): void;
}

export function createApiMetrics(registry: Registry): ApiMetrics {
  const requests = new Counter({
    name: 'ferry_api_requests_total',
    help: 'API requests answered, by route template, method and HTTP status code.',
    labelNames: ['route', 'method', 'code'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'ferry_api_request_duration_seconds',
    help: 'Time to answer an API request, by route template and method.',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const streams = new Gauge({ name: 'ferry_api_event_streams', help: 'Open server-sent event streams.', registers: [registry] });
  return {
    requests,
    duration,
    streams: { inc: () => streams.inc(), dec: () => streams.dec() },
    observe(route, method, code, seconds) {
      requests.inc({ route, method, code: String(code) });
      duration.observe({ route, method }, seconds);
    },
  };
}
