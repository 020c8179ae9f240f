import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { decodeEvent, type CloudEvent, type ComparisonStatusRecord, type HealthChanged } from '@ferry/contracts';
import { resolveClusters, type ClusterClient, type ClusterRegistry } from '@ferry/kube';
import { startSandbox } from '@ferry/kube-sandbox';
import { createLogger, createMetricsRegistry, natsNames, openJsonKv, provisionJetStream, type JsonKv } from '@ferry/runtime';
import { FixtureStartError, startNatsServer, startServiceProcess, waitUntil, type NatsServerHandle } from '@ferry/testing';
import { loadConfig, start, type HealthConfig, type HealthService, type StoredHealthRecord } from '../../src/index.js';
import { application, deployment, deploymentId } from './helpers.js';

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;
const logger = createLogger({ name: 'health-test', level: 'silent' });
const mainTs = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

describe('health service lifecycle', () => {
  let nats: NatsServerHandle;
  let sandbox: Sandbox;
  let clusters: ClusterRegistry;
  let kube: ClusterClient;
  let nc: NatsConnection;
  let sub: Subscription;
  let config: HealthConfig;
  let appsKv: JsonKv<unknown>;
  let healthKv: JsonKv<StoredHealthRecord>;
  let comparisonKv: JsonKv<ComparisonStatusRecord>;
  const received: Array<{ event: CloudEvent<HealthChanged>; at: number }> = [];
  const services: HealthService[] = [];

  const startService = async (): Promise<HealthService> => {
    const s = await start(config, { logger, registry: createMetricsRegistry({ service: 'health' }), clusters });
    services.push(s);
    return s;
  };

  async function declare(app: string, image: string): Promise<void> {
    await appsKv.put(app, application(app));
    await comparisonKv.put(app, {
      app,
      revision: 'd'.repeat(40),
      artifactKey: `${app}-artifact`,
      status: 'Synced',
      resources: [{ ...deploymentId(app), status: 'Synced' }],
      comparedAt: new Date().toISOString(),
      conditions: [],
    });
    await kube.apply(deployment(app, app, image, 1));
  }

  before(async () => {
    [nats, sandbox] = await Promise.all([startNatsServer(), startSandbox({ rolloutMs: 100, progressDeadlineScaleMs: 100 })]);
    clusters = resolveClusters({ kubeconfigPath: sandbox.kubeconfigPath, env: {} });
    kube = clusters.defaultClient();
    config = loadConfig({
      FERRY_NATS_URL: nats.url,
      FERRY_KUBECONFIG: sandbox.kubeconfigPath,
      FERRY_HEALTH_DEBOUNCE_MS: '20',
      FERRY_LOG_LEVEL: 'silent',
      FERRY_SHUTDOWN_GRACE_MS: '3000',
    });
    nc = await connect({ servers: nats.url });
    await provisionJetStream(nc, config, logger);
    const names = natsNames(config);
    appsKv = await openJsonKv(nc, names.buckets.apps);
    healthKv = await openJsonKv(nc, names.buckets.health);
    comparisonKv = await openJsonKv(nc, names.buckets.comparison);
    sub = nc.subscribe('gitops.health.changed.>', {
      callback: (_err, msg) => {
        received.push({ event: decodeEvent(msg.data) as CloudEvent<HealthChanged>, at: Date.now() });
      },
    });
  });

  after(async () => {
    await Promise.allSettled(services.map((s) => s.close()));
    sub?.unsubscribe();
    await nc?.close();
    await clusters?.close();
    await Promise.allSettled([nats?.close(), sandbox?.close()]);
  });

  it('gives every caller of close() the same promise, turns readiness off and stops serving', async () => {
    const service = await startService();
    assert.equal((await fetch(`${service.url}/readyz`)).status, 200);
    const first = service.close();
    const second = service.close();
    assert.equal(first, second);
    assert.equal(service.isReady(), false);
    await first;
    await assert.rejects(fetch(`${service.url}/healthz`));
  });

  it('finishes an assessment that is in flight when close() is called, and publishes nothing after', async () => {
    await declare('inflight', 'nginx:1.27');
    const service = await startService();
    // The start assessed the app once; a change makes the next assessment write and publish.
    await waitUntil(async () => (await healthKv.get('inflight'))?.value.status === 'Healthy', { timeoutMs: 5_000, message: 'inflight Healthy' });
    await kube.apply(deployment('inflight', 'inflight', 'nginx:crashloop', 1));
    await waitUntil(async () => (await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'inflight' }))?.metadata.generation === 2);
    const assessment = service.assess('inflight');
    const closed = service.close();
    await Promise.all([assessment, closed]);
    const closedAt = Date.now();
    await sleep(1_500);
    assert.deepEqual(received.filter((r) => r.event.data.app === 'inflight' && r.at > closedAt), []);
    const record = await healthKv.get('inflight');
    const events = received.filter((r) => r.event.data.app === 'inflight');
    // Whatever the assessment got to before close: the record and the events agree.
    assert.equal(record?.value.sequence, events.length);
    assert.equal(record?.value.status, events.at(-1)?.event.data.status);
  });

  it('continues the event sequence after a restart and reacts to the cluster only while running', async () => {
    await declare('restart', 'nginx:1.27');
    const first = await startService();
    await waitUntil(async () => (await healthKv.get('restart'))?.value.status === 'Healthy', { timeoutMs: 5_000, message: 'restart Healthy' });
    const before = (await healthKv.get('restart'))?.value;
    assert.ok(before);
    await first.close();

    const closedAt = Date.now();
    await kube.apply(deployment('restart', 'restart', 'nginx:crashloop', 1));
    await sleep(1_500);
    assert.deepEqual(received.filter((r) => r.event.data.app === 'restart' && r.at > closedAt), [], 'no events while stopped');
    assert.equal((await healthKv.get('restart'))?.value.sequence, before.sequence);

    await startService();
    await waitUntil(() => received.some((r) => r.event.data.app === 'restart' && r.event.data.status === 'Degraded'), { timeoutMs: 8_000, message: 'Degraded after restart' });
    const ids = received.filter((r) => r.event.data.app === 'restart').map((r) => r.event.id);
    assert.equal(new Set(ids).size, ids.length, 'no message id repeats');
    const sequences = ids.map((id) => Number(id.split(':').at(-1)));
    assert.deepEqual(sequences, sequences.map((_, i) => i + 1), `ids number the changes 1, 2, 3… across the restart: ${ids.join(', ')}`);
    assert.ok(sequences.length > before.sequence, 'the restarted service published');
  });

  it('runs as its own process: ready line, /readyz, clean exit on SIGTERM', async () => {
    const proc = await startServiceProcess({
      name: 'health',
      entry: mainTs,
      env: { FERRY_NATS_URL: nats.url, FERRY_KUBECONFIG: sandbox.kubeconfigPath, FERRY_LOG_LEVEL: 'info' },
    });
    try {
      const line = await proc.waitForLog(/"msg":"http server listening"/);
      const url = (JSON.parse(line) as { url: string }).url;
      assert.equal((await fetch(`${url}/readyz`)).status, 200);
      const exit = await proc.stop('SIGTERM');
      assert.equal(exit.code, 0);
      assert.match(proc.logs(), /"msg":"stopped"/);
    } finally {
      if (proc.running) await proc.kill();
    }
  });

  it('exits 1 naming FERRY_ERR_CONFIG_INVALID when the configuration is invalid', async () => {
    await assert.rejects(
      startServiceProcess({ name: 'health-bad', entry: mainTs, env: { FERRY_HEALTH_DEBOUNCE_MS: 'soon' }, timeoutMs: 5_000 }),
      (error: FixtureStartError) => error instanceof FixtureStartError && /FERRY_ERR_CONFIG_INVALID/.test(error.output) && /FERRY_HEALTH_DEBOUNCE_MS/.test(error.output),
    );
  });
});
