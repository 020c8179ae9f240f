import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { EventType, ErrorCode, FerryError } from '@ferry/contracts';
import type { CloudEvent } from '@ferry/contracts';
import { connectNats, provisionJetStream } from '../src/nats.js';
import type { NatsConnection } from '../src/nats.js';
import { createEventBus, subscribeEvents } from '../src/event-bus.js';
import type { DeliveryContext, EventBus, HandlerResult } from '../src/event-bus.js';
import { startTracing } from '../src/tracing.js';
import { createMetricsRegistry } from '../src/metrics.js';
import type { Tracing } from '../src/tracing.js';
import { captureLogger, waitFor } from './helpers/logs.js';
import { natsServerMissing, startNatsServer } from './helpers/nats-server.js';
import type { TestNatsServer } from './helpers/nats-server.js';

const skip = natsServerMissing();
const config = { serviceName: 'test', subjectPrefix: 'gitops', streamName: 'FERRY_EVENTS', bucketPrefix: 'ferry' };
const refresh = (app: string, requestId: string) => ({ app, reason: 'manual', requestId });

describe('event bus over JetStream', { skip }, () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let tracing: Tracing;
  const exporter = new InMemorySpanExporter();
  const { logger, lines } = captureLogger();
  let bus: EventBus;
  const registry = createMetricsRegistry({ service: 'test' });

  before(async () => {
    server = await startNatsServer();
    nc = await connectNats({ servers: [server.url], name: 'test', logger });
    await provisionJetStream(nc, config, logger);
    tracing = await startTracing({ serviceName: 'test', logger, spanProcessors: [new SimpleSpanProcessor(exporter)] });
    bus = createEventBus({ nc, config, logger, tracer: tracing.tracer, registry });
  });
  after(async () => {
    await nc?.drain();
    await tracing?.shutdown();
    await server?.stop();
  });

  async function streamMessages(subject: string): Promise<number> {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(config.streamName, { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  }

  it('stores a message published twice with the same msgId once', async () => {
    await bus.publish(EventType.RefreshRequested, 'dedup', refresh('dedup', 'r1'), { msgId: 'dedup-1' });
    await bus.publish(EventType.RefreshRequested, 'dedup', refresh('dedup', 'r1'), { msgId: 'dedup-1' });
    await bus.publish(EventType.RefreshRequested, 'dedup', refresh('dedup', 'r2'), { msgId: 'dedup-2' });
    assert.equal(await streamMessages('gitops.refresh.requested.dedup'), 2);
  });

  it('rejects data that does not match the event schema without publishing', async () => {
    await assert.rejects(
      bus.publish(EventType.RefreshRequested, 'bad', { app: 'bad' }, { msgId: 'bad-1' }),
      (e: unknown) => e instanceof FerryError && e.code === ErrorCode.EventInvalid,
    );
    await assert.rejects(
      bus.publish('dev.ferry.nothing.v1', 'bad', {}, { msgId: 'bad-2' }),
      (e: unknown) => e instanceof FerryError && e.code === ErrorCode.EventInvalid,
    );
    assert.equal(await streamMessages('gitops.refresh.requested.bad'), 0);
  });

  it('acks after a successful handler so the message is not delivered again', async () => {
    const seen: Array<{ event: CloudEvent; ctx: DeliveryContext }> = [];
    const consumer = await bus.consume({ durable: 'ack-test', filterSubject: 'gitops.refresh.requested.acked' }, async (event, ctx) => {
      seen.push({ event, ctx });
      return { kind: 'ack' };
    });
    await bus.publish(EventType.RefreshRequested, 'acked', refresh('acked', 'a1'), { msgId: 'acked-1' });
    await waitFor(() => seen.length === 1, 5_000, 'delivery');
    const first = seen[0]!;
    assert.equal(first.event.id, 'acked-1');
    assert.equal(first.event.subject, 'acked');
    assert.equal(first.event.source, 'ferry/test');
    assert.deepEqual(first.event.data, refresh('acked', 'a1'));
    assert.equal(first.ctx.subject, 'gitops.refresh.requested.acked');
    assert.equal(first.ctx.deliveryCount, 1);
    assert.ok(first.ctx.streamSequence > 0);
    const jsm = await jetstreamManager(nc);
    await waitFor(async () => {
      const ci = await jsm.consumers.info(config.streamName, 'ack-test');
      return ci.num_ack_pending === 0 && ci.num_pending === 0 && ci.ack_floor.stream_seq === first.ctx.streamSequence;
    }, 5_000, 'ack floor');
    await consumer.stop();
    assert.equal(seen.length, 1);
    const text = await registry.metrics();
    assert.match(text, /ferry_events_handled_total\{durable="ack-test",type="dev.ferry.refresh.requested.v1",result="ack",service="test"\} 1/);
    assert.match(text, /ferry_events_published_total\{type="dev.ferry.refresh.requested.v1",result="ok",service="test"\} \d+/);
  });

  it('redelivers a nak-ed message after the requested delay', async () => {
    const deliveries: Array<{ at: number; count: number }> = [];
    const consumer = await bus.consume({ durable: 'nak-test', filterSubject: 'gitops.refresh.requested.naked' }, async (_e, ctx) => {
      deliveries.push({ at: Date.now(), count: ctx.deliveryCount });
      return ctx.deliveryCount === 1 ? { kind: 'nak', delayMs: 400 } : { kind: 'ack' };
    });
    await bus.publish(EventType.RefreshRequested, 'naked', refresh('naked', 'n1'), { msgId: 'naked-1' });
    await waitFor(() => deliveries.length === 2, 5_000, 'redelivery');
    await consumer.stop();
    assert.deepEqual(deliveries.map((d) => d.count), [1, 2]);
    assert.ok(deliveries[1]!.at - deliveries[0]!.at >= 350, `redelivered after ${deliveries[1]!.at - deliveries[0]!.at} ms`);
  });

  it('never redelivers a message the handler terminated', async () => {
    let calls = 0;
    const consumer = await bus.consume(
      { durable: 'term-test', filterSubject: 'gitops.refresh.requested.termed', ackWaitMs: 1_000 },
      async () => {
        calls++;
        return { kind: 'term', reason: 'poison' };
      },
    );
    await bus.publish(EventType.RefreshRequested, 'termed', refresh('termed', 't1'), { msgId: 'termed-1' });
    await waitFor(() => calls === 1, 5_000, 'delivery');
    await new Promise((r) => setTimeout(r, 1_500));
    await consumer.stop();
    assert.equal(calls, 1);
    assert.ok(lines.some((l) => l['msg'] === 'event terminated by handler' && l['reason'] === 'poison'));
  });

  it('terminates a message that is not a valid event and never hands it to the handler', async () => {
    let calls = 0;
    const consumer = await bus.consume(
      { durable: 'poison-test', filterSubject: 'gitops.refresh.requested.poison', ackWaitMs: 1_000 },
      async () => {
        calls++;
        return { kind: 'ack' };
      },
    );
    const { jetstream } = await import('@nats-io/jetstream');
    await jetstream(nc).publish('gitops.refresh.requested.poison', 'not json', { msgID: 'poison-1' });
    const jsm = await jetstreamManager(nc);
    await waitFor(async () => (await jsm.consumers.info(config.streamName, 'poison-test')).num_ack_pending === 0 &&
      (await jsm.consumers.info(config.streamName, 'poison-test')).delivered.stream_seq > 0, 5_000, 'term');
    await new Promise((r) => setTimeout(r, 1_300));
    const info = await jsm.consumers.info(config.streamName, 'poison-test');
    await consumer.stop();
    assert.equal(calls, 0);
    assert.equal(info.num_redelivered, 0);
    assert.ok(lines.some((l) => l['msg'] === 'undecodable message terminated' && l['code'] === ErrorCode.EventInvalid));
  });

  it('redelivers after about a second when the handler throws, and logs the error', async () => {
    const at: number[] = [];
    const consumer = await bus.consume({ durable: 'throw-test', filterSubject: 'gitops.refresh.requested.thrown' }, async (_e, ctx) => {
      at.push(Date.now());
      if (ctx.deliveryCount === 1) throw new Error('boom');
      return { kind: 'ack' };
    });
    await bus.publish(EventType.RefreshRequested, 'thrown', refresh('thrown', 'x1'), { msgId: 'thrown-1' });
    await waitFor(() => at.length === 2, 6_000, 'redelivery after throw');
    await consumer.stop();
    assert.ok(at[1]! - at[0]! >= 900, `redelivered after ${at[1]! - at[0]!} ms`);
    assert.ok(lines.some((l) => l['msg'] === 'event handler failed' && l['retryInMs'] === 1000));
  });

  it('keeps a slow handler\'s message from being redelivered by sending in-progress', async () => {
    let calls = 0;
    const consumer = await bus.consume(
      { durable: 'slow-test', filterSubject: 'gitops.refresh.requested.slow', ackWaitMs: 1_000 },
      async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 2_500));
        return { kind: 'ack' };
      },
    );
    await bus.publish(EventType.RefreshRequested, 'slow', refresh('slow', 's1'), { msgId: 'slow-1' });
    await waitFor(() => calls === 1, 5_000, 'delivery');
    await consumer.stop();
    const jsm = await jetstreamManager(nc);
    const info = await jsm.consumers.info(config.streamName, 'slow-test');
    assert.equal(calls, 1);
    assert.equal(info.num_redelivered, 0);
    assert.equal(info.num_ack_pending, 0);
  });

  it('spreads the work of one durable over two consumers', async () => {
    const byConsumer = [0, 0];
    const seen = new Set<string>();
    const make = (i: number) => async (event: CloudEvent): Promise<HandlerResult> => {
      byConsumer[i]!++;
      seen.add(event.id);
      await new Promise((r) => setTimeout(r, 30));
      return { kind: 'ack' };
    };
    const opts = { durable: 'shared', filterSubject: 'gitops.refresh.requested.*' };
    // A separate prefix keeps this test's messages apart: use apps named shared-N on the wildcard.
    const a = await bus.consume({ ...opts, filterSubject: 'gitops.refresh.requested.>' }, make(0));
    const b = await bus.consume({ ...opts, filterSubject: 'gitops.refresh.requested.>' }, make(1));
    const before = (await (await jetstreamManager(nc)).consumers.info(config.streamName, 'shared')).num_pending;
    for (let i = 0; i < 20; i++) {
      await bus.publish(EventType.RefreshRequested, `shared-${i}`, refresh(`shared-${i}`, `s${i}`), { msgId: `shared-${i}` });
    }
    await waitFor(() => [...seen].filter((id) => id.startsWith('shared-')).length === 20, 10_000, 'all 20');
    await Promise.all([a.stop(), b.stop()]);
    void before;
    assert.ok(byConsumer[0]! > 0 && byConsumer[1]! > 0, `split ${byConsumer.join('/')}`);
  });

  it('carries the trace context from publish to the handler', async () => {
    let handlerTraceId: string | undefined;
    let activeTraceId: string | undefined;
    const consumer = await bus.consume({ durable: 'trace-test', filterSubject: 'gitops.refresh.requested.traced' }, async (_e, ctx) => {
      handlerTraceId = trace.getSpanContext(ctx.traceContext)?.traceId;
      activeTraceId = trace.getActiveSpan()?.spanContext().traceId;
      return { kind: 'ack' };
    });
    const root = tracing.tracer.startSpan('root');
    const rootTraceId = root.spanContext().traceId;
    await context.with(trace.setSpan(context.active(), root), () =>
      bus.publish(EventType.RefreshRequested, 'traced', refresh('traced', 'tr1'), { msgId: 'traced-1' }),
    );
    root.end();
    await waitFor(() => handlerTraceId !== undefined, 5_000, 'delivery');
    await consumer.stop();
    assert.equal(handlerTraceId, rootTraceId);
    assert.equal(activeTraceId, rootTraceId);
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === rootTraceId);
    assert.ok(spans.some((s) => s.name === `process ${EventType.RefreshRequested}`));
    assert.ok(spans.some((s) => s.name === `publish ${EventType.RefreshRequested}`));
  });

  it('hands a message published after one replica stopped to the other replica promptly', async () => {
    const got: string[] = [];
    const opts = { durable: 'handover', filterSubject: 'gitops.refresh.requested.handover', ackWaitMs: 10_000 };
    const a = await bus.consume(opts, async () => ({ kind: 'ack' }));
    const b = await bus.consume(opts, async (e) => {
      got.push(e.id);
      return { kind: 'ack' };
    });
    await new Promise((r) => setTimeout(r, 200));
    await a.stop();
    const t0 = Date.now();
    await bus.publish(EventType.RefreshRequested, 'handover', refresh('handover', 'h1'), { msgId: 'handover-1' });
    await waitFor(() => got.length === 1, 9_000, 'delivery to the remaining replica');
    await b.stop();
    assert.ok(Date.now() - t0 < 3_000, `took ${Date.now() - t0} ms`);
  });

  it('updates an existing durable whose settings changed', async () => {
    const a = await bus.consume({ durable: 'changing', filterSubject: 'gitops.refresh.requested.changing', ackWaitMs: 30_000 }, async () => ({ kind: 'ack' }));
    await a.stop();
    const b = await bus.consume(
      { durable: 'changing', filterSubject: 'gitops.refresh.requested.changing', ackWaitMs: 2_000, maxDeliver: 5 },
      async () => ({ kind: 'ack' }),
    );
    await b.stop();
    const info = await (await jetstreamManager(nc)).consumers.info(config.streamName, 'changing');
    assert.equal(info.config.ack_wait, 2_000 * 1e6);
    assert.equal(info.config.max_deliver, 5);
  });

  it('stop() waits for the handler in flight and its ack', async () => {
    let started = false;
    let finished = false;
    const consumer = await bus.consume({ durable: 'inflight', filterSubject: 'gitops.refresh.requested.inflight' }, async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 300));
      finished = true;
      return { kind: 'ack' };
    });
    await bus.publish(EventType.RefreshRequested, 'inflight', refresh('inflight', 'i1'), { msgId: 'inflight-1' });
    await waitFor(() => started, 5_000, 'handler start');
    await consumer.stop();
    assert.equal(finished, true);
    const info = await (await jetstreamManager(nc)).consumers.info(config.streamName, 'inflight');
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.num_pending, 0);
  });

  it('stop() is idempotent and returns the same promise', async () => {
    const consumer = await bus.consume({ durable: 'stop-test', filterSubject: 'gitops.refresh.requested.stopped' }, async () => ({ kind: 'ack' }));
    const p1 = consumer.stop();
    const p2 = consumer.stop();
    assert.equal(p1, p2);
    await p1;
  });

  it('delivers live events to a core subscription with decoding', async () => {
    const got: CloudEvent[] = [];
    const sub = subscribeEvents(nc, 'gitops.refresh.requested.live', (e) => {
      got.push(e);
    });
    await nc.flush();
    nc.publish('gitops.refresh.requested.live', 'garbage', { headers: headers() });
    await bus.publish(EventType.RefreshRequested, 'live', refresh('live', 'l1'), { msgId: 'live-1' });
    await waitFor(() => got.length === 1, 5_000, 'live event');
    await sub.stop();
    assert.equal(got[0]!.id, 'live-1');
  });
});
