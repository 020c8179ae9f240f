import { context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span, TextMapGetter, TextMapSetter, Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { Logger } from './logger.js';

export type { Context, Span, Tracer } from '@opentelemetry/api';

/** Span attribute names Ferry uses on its own spans. */
export const SpanAttribute = {
  /** The application name. */
  App: 'ferry.app',
  /** The Git commit SHA being processed. */
  Revision: 'ferry.revision',
  /** A Kubernetes object as `Kind/namespace/name` (namespace empty for cluster-scoped). */
  Resource: 'ferry.resource',
} as const;
export type SpanAttribute = (typeof SpanAttribute)[keyof typeof SpanAttribute];
export const ATTR_FERRY_APP = SpanAttribute.App;
export const ATTR_FERRY_REVISION = SpanAttribute.Revision;
export const ATTR_FERRY_RESOURCE = SpanAttribute.Resource;

/** The `ferry.resource` value for an object: `Deployment/default/web`, `Namespace//web`. */
export function resourceAttribute(resource: { kind: string; namespace?: string; name: string }): string {
  return `${resource.kind}/${resource.namespace ?? ''}/${resource.name}`;
}

export interface StartTracingOptions {
  /** OTel `service.name`. */
  serviceName: string;
  /** OTLP/HTTP base URL; spans go to `<endpoint>/v1/traces` as JSON. Unset: spans are made, not exported. */
  otlpEndpoint?: string;
  logger: Logger;
  /** Extra span processors (tests add an in-memory exporter here). */
  spanProcessors?: SpanProcessor[];
  /** Batch export delay; default 200 ms. */
  scheduledDelayMillis?: number;
}

export interface Tracing {
  readonly tracer: Tracer;
  /** Flushes pending spans without shutting down. */
  forceFlush(): Promise<void>;
  /** Flushes and stops exporting. Idempotent (same promise to every caller). Never rejects. */
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();
let contextManagerInstalled = false;

/**
 * Ensures the global OTel context manager (AsyncLocalStorage) and W3C propagator are installed, so that
 * `context.with()` follows async work. Idempotent; keeps whatever another SDK already registered.
 */
export function installTraceContext(): void {
  if (contextManagerInstalled) return;
  contextManagerInstalled = true;
  // Both return false (and leave the existing one) when something is already registered.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(propagator);
}

/**
 * Starts tracing for a service: a BasicTracerProvider with a BatchSpanProcessor exporting OTLP/HTTP
 * JSON when an endpoint is set. The provider is registered globally when no other provider is (so
 * library instrumentation finds it), but `tracing.tracer` comes from this provider directly, so
 * several instances in one process (tests) each get their own spans.
 */
export async function startTracing(options: StartTracingOptions): Promise<Tracing> {
  installTraceContext();
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint !== undefined) {
    const url = `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`;
    processors.push(
      new BatchSpanProcessor(new OTLPTraceExporter({ url }), {
        scheduledDelayMillis: options.scheduledDelayMillis ?? 200,
        exportTimeoutMillis: 10_000,
      }),
    );
    options.logger.info({ url }, 'tracing: exporting spans over OTLP/HTTP');
  } else {
    options.logger.debug('tracing: no OTEL_EXPORTER_OTLP_ENDPOINT, spans are not exported');
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: processors,
  });
  const registered = trace.setGlobalTracerProvider(provider);
  const tracer = provider.getTracer(`ferry/${options.serviceName}`);
  let shutdownPromise: Promise<void> | undefined;
  return {
    tracer,
    async forceFlush() {
      try {
        await provider.forceFlush();
      } catch (error) {
        options.logger.warn({ err: error }, 'tracing: flush failed');
      }
    },
    shutdown() {
      shutdownPromise ??= (async () => {
        try {
          await provider.shutdown();
        } catch (error) {
          options.logger.warn({ err: error }, 'tracing: shutdown failed (spans may be lost)');
        }
        if (registered) trace.disable();
      })();
      return shutdownPromise;
    },
  };
}

const hdrSetter: TextMapSetter<MsgHdrs> = {
  set(carrier, key, value) {
    carrier.set(key, value);
  },
};

const hdrGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys(carrier) {
    return carrier ? carrier.keys() : [];
  },
  get(carrier, key) {
    // MsgHdrs.get() returns "" for a missing key; report it as missing.
    if (!carrier || !carrier.has(key)) return undefined;
    return carrier.get(key);
  },
};

/** Writes W3C `traceparent`/`tracestate` for `ctx` (default: the active context) into NATS headers. */
export function injectTraceHeaders(headers: MsgHdrs, ctx: Context = context.active()): void {
  propagator.inject(ctx, headers, hdrSetter);
}

/** The context carried by NATS headers (the active context, unchanged, when there is none). */
export function extractTraceContext(headers?: MsgHdrs, base: Context = context.active()): Context {
  if (!headers) return base;
  return propagator.extract(base, headers, hdrGetter);
}

/**
 * Runs `fn` inside a new active span: records an exception and sets ERROR status when `fn` throws
 * (rethrowing), OK otherwise; always ends the span. `parentContext` defaults to the active context.
 */
export async function withSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T> | T,
  parentContext?: Context,
): Promise<T> {
  const parent = parentContext ?? context.active();
  return tracer.startActiveSpan(name, { attributes }, parent, async (span) => {
    try {
      const result = await fn(span);
      span.setStatus({ code: SpanStatusCode.OK });
      return result;
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
