/** What the route handlers share: config, logger, tracer, the event bus, NATS and the KV buckets. */
import { randomUUID } from 'node:crypto';
import { EventType } from '@ferry/contracts';
import type { RefreshRequested } from '@ferry/contracts';
import { SpanAttribute, withSpan } from '@ferry/runtime';
import type { ArtifactStore, EventBus, JsonKv, Logger, NatsConnection, Tracer } from '@ferry/runtime';
import { propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';
import type { ApiConfig } from '../config.js';
import type { ApiMetrics } from '../metrics.js';

export interface ApiBuckets {
  apps: JsonKv<unknown>;
  source: JsonKv<unknown>;
  comparison: JsonKv<unknown>;
  operation: JsonKv<unknown>;
  health: JsonKv<unknown>;
}

export interface ApiContext {
  readonly config: ApiConfig;
  readonly logger: Logger;
  readonly tracer: Tracer;
  readonly bus: EventBus;
  readonly nc: NatsConnection;
  readonly kv: ApiBuckets;
  /** The artifact object store (rendered sets; the differ's per-resource diffs under `diffs.<app>`). */
  readonly artifacts: ArtifactStore;
  readonly metrics: ApiMetrics;
  /** Who made the request (the token's name); set by the auth hook. */
  subjectOf(request: FastifyRequest): string;
  /** Marks a request as a long-lived stream (not in flight any more; its metrics are recorded by the handler). */
  detachRequest(request: FastifyRequest): void;
  /** Registers a long-lived response (an event stream) to end on close; returns the unregister function. */
  trackStream(end: () => void): () => void;
}

/**
 * The trace context a request's work runs in: the caller's W3C `traceparent` when it sent one (a CLI or
 * CI job that traces), else a fresh root, so each request's spans start their own trace.
 */
export function requestTraceContext(request: FastifyRequest): Context {
  const carrier: Record<string, string> = {};
  for (const name of ['traceparent', 'tracestate'] as const) {
    const v = request.headers[name];
    if (typeof v === 'string') carrier[name] = v;
  }
  return Object.keys(carrier).length === 0 ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, carrier);
}

/**
 * Publishes `refresh.requested` for `app` inside an `api.refresh` span (attribute `ferry.app`), so the
 * revision's trace begins at the user's request. Returns the request id (msgId `refresh.requested:<app>:<requestId>`).
 */
export async function publishRefresh(
  ctx: ApiContext,
  request: FastifyRequest,
  app: string,
  reason: RefreshRequested['reason'],
): Promise<string> {
  const requestId = randomUUID();
  const data: RefreshRequested = { app, reason, requestId };
  await withSpan(
    ctx.tracer,
    'api.refresh',
    { [SpanAttribute.App]: app, 'ferry.reason': reason, 'ferry.request_id': requestId, 'enduser.id': ctx.subjectOf(request) },
    () => ctx.bus.publish(EventType.RefreshRequested, app, data, { msgId: `refresh.requested:${app}:${requestId}` }),
    requestTraceContext(request),
  );
  return requestId;
}
