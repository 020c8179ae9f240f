import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { EventType } from '@ferry/contracts';
import {
  createEventBus,
  createLogger,
  createMetricsRegistry,
  natsNames,
  openArtifactStore,
  openJsonKv,
  provisionJetStream,
  startTracing,
  type Tracing,
} from '@ferry/runtime';
import { startNatsServer, tempDir, waitUntil, type NatsServerHandle, type TempDir } from '@ferry/testing';
import { REVISION_DURABLE, loadConfig, start, type DifferConfig, type StoredComparisonRecord } from '../../src/index.js';
import { application, artifact, configMap, revisionDetected, sha } from './helpers.js';

const logger = createLogger({ name: 'differ-lifecycle-test', level: 'silent' });
const DISCOVERY_DELAY_MS = 800;

/** A minimal API server whose discovery answers slowly, so a comparison is reliably in flight. */
async function startSlowApiServer(): Promise<{ server: Server; url: string; discoveryRequests: () => number }> {
  let discovery = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (body: unknown): void => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/api/v1') {
      discovery++;
      setTimeout(
        () =>
          json({
            kind: 'APIResourceList',
            groupVersion: 'v1',
            resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true, verbs: ['get', 'list', 'watch'] }],
          }),
        DISCOVERY_DELAY_MS,
      );
      return;
    }
    if (url.pathname === '/api/v1/configmaps' && url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      return; // held open until the client aborts
    }
    if (url.pathname === '/api/v1/configmaps')
      return json({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] });
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', status: 'Failure', code: 404, reason: 'NotFound', message: 'not found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, discoveryRequests: () => discovery };
}

describe('differ lifecycle', () => {
  let nats: NatsServerHandle;
  let dir: TempDir;
  let api: Awaited<ReturnType<typeof startSlowApiServer>>;
  let nc: NatsConnection;
  let config: DifferConfig;
  let tracing: Tracing;

  before(async () => {
    [nats, dir, api] = await Promise.all([startNatsServer(), tempDir('differ-lifecycle-'), startSlowApiServer()]);
    const kubeconfig = join(dir.path, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: slow, cluster: {server: "${api.url}"}}]\n` +
        `users: [{name: u, user: {token: t}}]\ncontexts: [{name: slow, context: {cluster: slow, user: u}}]\ncurrent-context: slow\n`,
    );
    config = loadConfig({
      FERRY_NATS_URL: nats.url,
      FERRY_KUBECONFIG: kubeconfig,
      FERRY_LOG_LEVEL: 'silent',
      FERRY_SHUTDOWN_GRACE_MS: '5000',
    });
    nc = await connect({ servers: nats.url });
    await provisionJetStream(nc, config, logger);
    tracing = await startTracing({ serviceName: 'differ', logger });
  });

  after(async () => {
    await nc?.close();
    await tracing?.shutdown();
    api?.server.closeAllConnections();
    await new Promise((resolve) => api?.server.close(resolve));
    await nats?.close();
    await dir?.cleanup();
  });

  it('close() is idempotent: every caller gets the same promise, readiness turns false and the probes stop answering', async () => {
    const differ = await start(config, { logger, registry: createMetricsRegistry({ service: 'differ' }), tracing });
    assert.equal((await fetch(`${differ.url}/readyz`)).status, 200);
    const first = differ.close();
    const second = differ.close();
    assert.equal(first, second);
    assert.equal(differ.isReady(), false);
    await Promise.all([first, second]);
    await assert.rejects(fetch(`${differ.url}/healthz`));
    assert.equal(await differ.compare('anything'), undefined, 'no comparison after close');
  });

  it('close() during a comparison lets it finish (record written, diff.computed published, event acknowledged)', async () => {
    const differ = await start(config, { logger, registry: createMetricsRegistry({ service: 'differ' }), tracing });
    const names = natsNames(config);
    const artifacts = await openArtifactStore(nc, names.objectStore);
    const appsKv = await openJsonKv<unknown>(nc, names.buckets.apps);
    const comparisonKv = await openJsonKv<StoredComparisonRecord>(nc, names.buckets.comparison);
    const revision = sha('f');
    const artifactKey = `slow.${revision}.0123456789abcdef`;
    await artifacts.putJson(artifactKey, artifact('slow', revision, [configMap('settings', { a: '1' })]));
    await appsKv.put('slow', application('slow', { server: 'https://kubernetes.default.svc', namespace: 'slow' }));
    const published: string[] = [];
    const sub = nc.subscribe('gitops.diff.computed.slow', {
      callback: (_e, msg) => void published.push(msg.headers?.get('Nats-Msg-Id') ?? ''),
    });
    const bus = createEventBus({ nc, config: { ...config, serviceName: 'poller' }, logger, tracer: tracing.tracer });
    const seen = api.discoveryRequests();
    await bus.publish(EventType.RevisionDetected, 'slow', revisionDetected('slow', revision, artifactKey, 1), {
      msgId: `revision.detected:slow:${artifactKey}`,
    });

    await waitUntil(() => api.discoveryRequests() > seen, { message: 'the comparison reached the cluster' });
    const closing = Date.now();
    await differ.close();
    assert.ok(Date.now() - closing < 5_000, 'close() stays within the grace period');

    const record = await comparisonKv.get('slow');
    assert.equal(record?.value.status, 'OutOfSync', 'the in-flight comparison was finished and recorded');
    assert.equal(record?.value.artifactKey, artifactKey);
    await waitUntil(() => published.length === 1, { message: 'diff.computed published once' });
    const info = await (await jetstreamManager(nc)).consumers.info(config.streamName, REVISION_DURABLE);
    assert.equal(info.num_ack_pending, 0, 'the revision.detected was acknowledged');
    assert.equal(info.num_pending, 0);
    sub.unsubscribe();
  });
});
