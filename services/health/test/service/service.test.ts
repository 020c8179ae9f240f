import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { EventType, decodeEvent, type CloudEvent, type ComparisonStatusRecord, type HealthChanged, type SyncEvent } from '@ferry/contracts';
import { resolveClusters, type ClusterClient, type ClusterRegistry } from '@ferry/kube';
import { startSandbox } from '@ferry/kube-sandbox';
import {
  createEventBus,
  createLogger,
  createMetricsRegistry,
  natsNames,
  openJsonKv,
  provisionJetStream,
  startTracing,
  withSpan,
  type EventBus,
  type JsonKv,
  type Tracing,
} from '@ferry/runtime';
import { findExecutable, startNatsServer, waitUntil, type NatsServerHandle } from '@ferry/testing';
import { loadConfig, start, type HealthService, type StoredHealthRecord } from '../../src/index.js';
import { application, deployment, deploymentId, syncSucceeded } from './helpers.js';

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

const logger = createLogger({ name: 'health-test', level: 'silent' });

interface Received {
  event: CloudEvent<HealthChanged>;
  traceparent: string | undefined;
  at: number;
}

describe('health service (real nats-server, sandbox cluster)', () => {
  let nats: NatsServerHandle;
  let sandbox: Sandbox;
  let clusters: ClusterRegistry;
  let kube: ClusterClient;
  let nc: NatsConnection;
  let sub: Subscription;
  let bus: EventBus;
  let testTracing: Tracing;
  let serviceTracing: Tracing;
  let spans: InMemorySpanExporter;
  let appsKv: JsonKv<unknown>;
  let healthKv: JsonKv<StoredHealthRecord>;
  let comparisonKv: JsonKv<ComparisonStatusRecord>;
  let service: HealthService;
  const received: Received[] = [];
  const env = (natsUrl: string, kubeconfig: string) => ({
    FERRY_NATS_URL: natsUrl,
    FERRY_KUBECONFIG: kubeconfig,
    FERRY_HEALTH_DEBOUNCE_MS: '30',
    FERRY_LOG_LEVEL: 'silent',
    FERRY_SHUTDOWN_GRACE_MS: '3000',
  });

  before(async () => {
    [nats, sandbox] = await Promise.all([startNatsServer(), startSandbox({ rolloutMs: 300, progressDeadlineScaleMs: 100 })]);
    clusters = resolveClusters({ kubeconfigPath: sandbox.kubeconfigPath, env: {} });
    kube = clusters.defaultClient();
    const config = loadConfig(env(nats.url, sandbox.kubeconfigPath));
    nc = await connect({ servers: nats.url });
    await provisionJetStream(nc, config, logger);
    const names = natsNames(config);
    appsKv = await openJsonKv(nc, names.buckets.apps);
    healthKv = await openJsonKv(nc, names.buckets.health);
    comparisonKv = await openJsonKv(nc, names.buckets.comparison);
    testTracing = await startTracing({ serviceName: 'applier-test', logger });
    spans = new InMemorySpanExporter();
    serviceTracing = await startTracing({ serviceName: 'health', logger, spanProcessors: [new SimpleSpanProcessor(spans)] });
    bus = createEventBus({ nc, config: { ...config, serviceName: 'applier' }, logger, tracer: testTracing.tracer });
    sub = nc.subscribe('gitops.health.changed.>', {
      callback: (_err, msg) => {
        const event = decodeEvent(msg.data) as CloudEvent<HealthChanged>;
        received.push({ event, traceparent: msg.headers?.has('traceparent') ? msg.headers.get('traceparent') : undefined, at: Date.now() });
      },
    });
    service = await start(config, { logger, registry: createMetricsRegistry({ service: 'health' }), tracing: serviceTracing, clusters });
  });

  after(async () => {
    await service?.close();
    sub?.unsubscribe();
    await nc?.close();
    await testTracing?.shutdown();
    await serviceTracing?.shutdown();
    await clusters?.close();
    await Promise.allSettled([nats?.close(), sandbox?.close()]);
  });

  const eventsOf = (app: string) => received.filter((r) => r.event.data.app === app);
  const statusesOf = (app: string) => eventsOf(app).map((r) => r.event.data.status);

  async function publishSync(data: SyncEvent): Promise<string> {
    return withSpan(testTracing.tracer, 'applier.sync', {}, async (span) => {
      await bus.publish(EventType.SyncSucceeded, data.app, data, { msgId: `sync.succeeded:${data.app}:${data.syncId}` });
      return span.spanContext().traceId;
    });
  }

  it('is ready and serves probes and metrics once started', async () => {
    assert.equal(service.isReady(), true);
    const ready = await fetch(`${service.url}/readyz`);
    assert.equal(ready.status, 200);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    assert.match(metrics, /ferry_health_assessments_total\{result="changed",service="health"\} 0/);
  });

  it('follows a rollout after a sync: Progressing, then Healthy, in the trace of the sync', async () => {
    const revision = 'a'.repeat(40);
    await appsKv.put('web', application('web'));
    await kube.apply(deployment('web', 'web', 'nginx:1.27'));
    const traceId = await publishSync(syncSucceeded('web', revision, ['web']));

    const record = await waitUntil(async () => {
      const r = await healthKv.get('web');
      return r?.value.status === 'Healthy' ? r.value : undefined;
    }, { timeoutMs: 10_000, message: 'web Healthy' });
    assert.equal(record.revision, revision);
    assert.deepEqual(record.resources.map((r) => [r.kind, r.name, r.status]), [['Deployment', 'web', 'Healthy']]);
    await waitUntil(() => statusesOf('web').includes('Healthy'), { message: 'health.changed Healthy for web' });

    const events = eventsOf('web');
    assert.deepEqual(statusesOf('web'), ['Progressing', 'Healthy']);
    assert.equal(events[1]?.event.data.previousStatus, 'Progressing');
    assert.equal(events[0]?.event.id, `health.changed:web:${revision}:Progressing:1`);
    assert.equal(events[1]?.event.id, `health.changed:web:${revision}:Healthy:2`);
    assert.equal(record.sequence, 2);
    for (const e of events) assert.equal(e.traceparent?.split('-')[1], traceId, 'health.changed carries the sync trace');
    const assessSpans = spans.getFinishedSpans().filter((s) => s.name === 'health.assess' && s.attributes['ferry.app'] === 'web');
    assert.ok(assessSpans.length >= 2);
    for (const s of assessSpans) {
      assert.equal(s.spanContext().traceId, traceId);
      assert.equal(s.attributes['ferry.revision'], revision);
    }

    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    assert.match(metrics, /ferry_health_app_status\{app="web",status="Healthy",service="health"\} 1/);
    assert.match(metrics, /ferry_health_app_status\{app="web",status="Progressing",service="health"\} 0/);
    assert.match(metrics, /ferry_health_assessment_duration_seconds_count\{service="health"\} [1-9]/);
  });

  it('serves metrics that promtool accepts', async (t) => {
    const promtool = findExecutable('promtool');
    if (!promtool) {
      t.skip('promtool not found (apt-get install -y prometheus)');
      return;
    }
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    const result = spawnSync(promtool, ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  });

  it('ends Degraded when the pods crash-loop past the progress deadline', async () => {
    await appsKv.put('crash', application('crash'));
    await kube.apply(deployment('crash', 'crash', 'nginx:crashloop', 1));
    await publishSync(syncSucceeded('crash', 'b'.repeat(40), ['crash']));
    const record = await waitUntil(async () => {
      const r = await healthKv.get('crash');
      return r?.value.status === 'Degraded' ? r.value : undefined;
    }, { timeoutMs: 10_000, message: 'crash Degraded' });
    assert.match(record.message ?? '', /Deployment default\/crash: .*exceeded its progress deadline/);
    await waitUntil(() => statusesOf('crash').at(-1) === 'Degraded', { message: 'health.changed Degraded' });
    assert.equal(statusesOf('crash')[0], 'Progressing');
  });

  it('reports a deleted resource that Git still declares as Missing', async () => {
    const revision = 'c'.repeat(40);
    await appsKv.put('gone', application('gone'));
    await comparisonKv.put('gone', {
      app: 'gone',
      revision,
      artifactKey: 'gone-artifact',
      status: 'Synced',
      resources: [{ ...deploymentId('gone'), status: 'Synced' }],
      comparedAt: new Date().toISOString(),
      conditions: [],
    });
    await kube.apply(deployment('gone', 'gone', 'nginx:1.27', 1));
    await publishSync(syncSucceeded('gone', revision, ['gone']));
    await waitUntil(async () => (await healthKv.get('gone'))?.value.status === 'Healthy', { timeoutMs: 10_000, message: 'gone Healthy' });

    await kube.delete({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'gone' });
    const record = await waitUntil(async () => {
      const r = await healthKv.get('gone');
      return r?.value.status === 'Missing' ? r.value : undefined;
    }, { timeoutMs: 5_000, message: 'gone Missing' });
    assert.deepEqual(record.resources.map((r) => [r.name, r.status]), [['gone', 'Missing']]);
    await waitUntil(() => statusesOf('gone').at(-1) === 'Missing', { message: 'health.changed Missing' });
  });

  it('forgets an app deleted from ferry-apps: its record and its metric series go', async () => {
    await waitUntil(async () => (await healthKv.get('gone')) !== undefined, { message: 'gone has a record' });
    await appsKv.delete('gone');
    await waitUntil(async () => (await healthKv.get('gone')) === undefined, { message: 'gone record deleted' });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    assert.doesNotMatch(metrics, /ferry_health_app_status\{app="gone"/);
  });
});
