import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { headers } from '@nats-io/transport-node';
import { context, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { extractTraceContext, injectTraceHeaders, resourceAttribute, SpanAttribute, startTracing, withSpan } from '../src/tracing.js';
import { captureLogger, waitFor } from './helpers/logs.js';

describe('tracing', () => {
  it('exports spans as OTLP/HTTP JSON to <endpoint>/v1/traces and flushes on shutdown', async () => {
    const bodies: Array<{ url: string; type: string; body: string }> = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push({ url: req.url ?? '', type: String(req.headers['content-type']), body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as AddressInfo).port;
    const { logger } = captureLogger();
    const tracing = await startTracing({ serviceName: 'poller', otlpEndpoint: `http://127.0.0.1:${port}/`, logger });
    await withSpan(tracing.tracer, 'poll web', { [SpanAttribute.App]: 'web', [SpanAttribute.Revision]: 'abc123' }, async () => 42);
    const p1 = tracing.shutdown();
    assert.equal(tracing.shutdown(), p1);
    await p1;
    await waitFor(() => bodies.length > 0, 5_000, 'export');
    receiver.close();
    const got = bodies[0]!;
    assert.equal(got.url, '/v1/traces');
    assert.match(got.type, /application\/json/);
    const json = JSON.parse(got.body) as { resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: Array<{ name: string; attributes: Array<{ key: string }> }> }> }> };
    const rs = json.resourceSpans[0]!;
    assert.ok(rs.resource.attributes.some((a) => a.key === 'service.name' && a.value.stringValue === 'poller'));
    const span = rs.scopeSpans[0]!.spans[0]!;
    assert.equal(span.name, 'poll web');
    assert.deepEqual(span.attributes.map((a) => a.key).sort(), ['ferry.app', 'ferry.revision']);
  });

  it('withSpan records the exception, sets error status, rethrows, and nests spans in one trace', async () => {
    const exporter = new InMemorySpanExporter();
    const { logger } = captureLogger();
    const tracing = await startTracing({ serviceName: 't', logger, spanProcessors: [new SimpleSpanProcessor(exporter)] });
    await assert.rejects(
      withSpan(tracing.tracer, 'outer', {}, () =>
        withSpan(tracing.tracer, 'inner', { [SpanAttribute.Resource]: resourceAttribute({ kind: 'Deployment', namespace: 'default', name: 'web' }) }, async () => {
          throw new Error('nope');
        }),
      ),
      /nope/,
    );
    const spans = exporter.getFinishedSpans(); // before shutdown: the in-memory exporter forgets on shutdown
    await tracing.shutdown();
    const inner = spans.find((s) => s.name === 'inner')!;
    const outer = spans.find((s) => s.name === 'outer')!;
    assert.equal(inner.status.code, SpanStatusCode.ERROR);
    assert.equal(inner.events[0]?.name, 'exception');
    assert.equal(inner.attributes['ferry.resource'], 'Deployment/default/web');
    assert.equal(inner.spanContext().traceId, outer.spanContext().traceId);
    assert.equal(inner.parentSpanContext?.spanId, outer.spanContext().spanId);
  });

  it('carries trace context through NATS headers and ignores missing ones', async () => {
    const exporter = new InMemorySpanExporter();
    const { logger } = captureLogger();
    const tracing = await startTracing({ serviceName: 't', logger, spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const span = tracing.tracer.startSpan('s');
    const h = headers();
    injectTraceHeaders(h, trace.setSpan(context.active(), span));
    assert.match(h.get('traceparent'), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const ctx = extractTraceContext(h, ROOT_CONTEXT);
    assert.equal(trace.getSpanContext(ctx)?.traceId, span.spanContext().traceId);
    assert.equal(trace.getSpanContext(extractTraceContext(headers(), ROOT_CONTEXT)), undefined);
    assert.equal(trace.getSpanContext(extractTraceContext(undefined, ROOT_CONTEXT)), undefined);
    span.end();
    await tracing.shutdown();
  });
});
