import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { SpanStatusCode, context, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { startTraceReceiver } from '@ferry/testing';

function tracer(exporter: OTLPTraceExporter | InMemorySpanExporter) {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'poller' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { provider, tracer: provider.getTracer('ferry-test') };
}

test('the trace receiver collects spans sent by the real OTLP/HTTP exporter, flattened with hex ids', async (t) => {
  const receiver = await startTraceReceiver();
  t.after(() => receiver.close());
  const { provider, tracer: tr } = tracer(new OTLPTraceExporter({ url: receiver.tracesUrl }));
  t.after(() => provider.shutdown());

  const parent = tr.startSpan('poll', { attributes: { 'ferry.app': 'web', 'ferry.count': 3, ok: true, tags: ['a', 'b'] } });
  parent.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  parent.end();
  await provider.forceFlush();

  const span = await receiver.waitFor((s) => s.name === 'poll', 5000);
  assert.equal(span.traceId, parent.spanContext().traceId);
  assert.equal(span.spanId, parent.spanContext().spanId);
  assert.equal(span.parentSpanId, undefined);
  assert.equal(span.serviceName, 'poller');
  assert.equal(span.scope, 'ferry-test');
  assert.deepEqual(span.attributes, { 'ferry.app': 'web', 'ferry.count': 3, ok: true, tags: ['a', 'b'] });
  assert.deepEqual(span.status, { code: 2, message: 'boom' });
  assert.match(span.startTimeUnixNano, /^\d{19}$/);
  assert.ok(BigInt(span.endTimeUnixNano) >= BigInt(span.startTimeUnixNano));

  receiver.clear();
  assert.deepEqual(receiver.spans(), []);
  await assert.rejects(receiver.waitFor((s) => s.name === 'never', 100), { name: 'WaitTimeoutError' });
});

test('the trace receiver decodes OTLP protobuf requests, including parent span ids', async (t) => {
  const receiver = await startTraceReceiver();
  t.after(() => receiver.close());
  const memory = new InMemorySpanExporter();
  const { provider, tracer: tr } = tracer(memory);
  t.after(() => provider.shutdown());
  const root = tr.startSpan('root');
  const child = tr.startSpan('child', { attributes: { n: 7 } }, trace.setSpan(context.active(), root));
  child.end();
  root.end();
  const body = ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans() as ReadableSpan[]);
  assert.ok(body);
  const res = await fetch(receiver.tracesUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-protobuf' },
    body,
  });
  assert.equal(res.status, 200);
  const spans = await receiver.waitForSpans((all) => all.length === 2);
  const received = spans.find((s) => s.name === 'child');
  assert.equal(received?.parentSpanId, root.spanContext().spanId);
  assert.equal(received?.traceId, root.spanContext().traceId);
  assert.deepEqual(received?.attributes, { n: 7 });
  assert.equal(received?.serviceName, 'poller');
});
