/**
 * An app's trace context kept as a W3C `traceparent` string (in memory and in the comparison record),
 * so that drift comparisons join the trace of the revision they compare against.
 */
import { ROOT_CONTEXT, defaultTextMapGetter, defaultTextMapSetter, trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const propagator = new W3CTraceContextPropagator();

/** The `traceparent` of `ctx`'s span, or undefined when it carries no valid span context. */
export function traceparentOf(ctx: Context): string | undefined {
  if (!trace.getSpanContext(ctx)) return undefined;
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, defaultTextMapSetter);
  return carrier['traceparent'];
}

/** A context whose remote parent is `traceparent`; the root context when it is absent or malformed. */
export function contextOf(traceparent: string | undefined): Context {
  if (traceparent === undefined) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
}
