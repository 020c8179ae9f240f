/**
 * A sync intent naming a revision (`ferry app sync --revision`, a rollback): the poller resolves,
 * renders and announces THAT revision, without making it the target's. Real git smart-HTTP server,
 * real nats-server, the whole poller service.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  ErrorCode,
  EventType,
  decodeEvent,
  type CloudEvent,
  type RevisionDetected,
  type RevisionFailed,
  type SourceStatusRecord,
  type SyncIntent,
} from '@ferry/contracts';
import {
  createEventBus,
  createLogger,
  createMetricsRegistry,
  natsNames,
  openArtifactStore,
  openJsonKv,
  provisionJetStream,
  startTracing,
  type ArtifactStore,
  type EventBus,
  type JsonKv,
  type Tracing,
} from '@ferry/runtime';
import {
  startGitServer,
  startNatsServer,
  tempDir,
  waitUntil,
  type GitRepoHandle,
  type GitServerHandle,
  type NatsServerHandle,
  type TempDir,
} from '@ferry/testing';
import { artifactKey, loadConfig, start, type Artifact, type PollerService } from '../../src/index.js';

const logger = createLogger({ name: 'poller-test', level: 'silent' });
const cm = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: "${value}"\n`;
const prefix = { subjectPrefix: 'gitops', streamName: 'FERRY_EVENTS', bucketPrefix: 'ferry' };

function application(name: string, repoURL: string): unknown {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd' },
    spec: {
      project: 'default',
      source: { repoURL, targetRevision: 'main', path: 'k8s' },
      destination: { server: 'https://kubernetes.default.svc', namespace: name },
    },
  };
}

describe('a sync intent naming a revision (real git smart-HTTP server, real nats-server)', () => {
  let nats: NatsServerHandle;
  let gitServer: GitServerHandle;
  let cache: TempDir;
  let tracing: Tracing;
  let service: PollerService;
  let nc: NatsConnection;
  let bus: EventBus;
  let sub: Subscription;
  let apps: JsonKv<unknown>;
  let status: JsonKv<SourceStatusRecord>;
  let artifacts: ArtifactStore;
  let repo: GitRepoHandle;
  let first: string;
  let second: string;
  let head: string;
  const events: CloudEvent[] = [];
  const detected = (requestId?: string) =>
    events
      .filter((e) => e.type === EventType.RevisionDetected)
      .map((e) => e as CloudEvent<RevisionDetected>)
      .filter((e) => (requestId === undefined ? e.data.sync === undefined : e.data.sync?.requestId === requestId));
  const failed = (requestId: string) =>
    events
      .filter((e) => e.type === EventType.RevisionFailed)
      .map((e) => e as CloudEvent<RevisionFailed>)
      .filter((e) => e.data.sync?.requestId === requestId);
  const refresh = (requestId: string, sync?: SyncIntent) =>
    bus.publish(
      EventType.RefreshRequested,
      'web',
      { app: 'web', reason: sync ? 'sync' : 'manual', requestId, ...(sync ? { sync } : {}) },
      { msgId: `refresh.requested:web:${requestId}` },
    );
  const intent = (requestId: string, revision: string): SyncIntent => ({
    requestId,
    prune: false,
    initiatedBy: 'alice',
    revision,
    kind: 'rollback',
    historyId: 0,
  });
  const valueOf = async (key: string) => {
    const artifact = await artifacts.getJson<Artifact>(key);
    return (artifact?.objects[0]?.object['data'] as { value?: string } | undefined)?.value;
  };

  before(async () => {
    [nats, gitServer, cache] = await Promise.all([startNatsServer(), startGitServer(), tempDir('ferry-poller-cache')]);
    repo = await gitServer.createRepo('web', { 'k8s/cm.yaml': cm('web', 'v1') });
    first = await repo.head();
    await repo.tag('v1');
    second = await repo.commit({ 'k8s/cm.yaml': cm('web', 'v2') }, 'v2');
    head = await repo.commit({ 'k8s/cm.yaml': cm('web', 'v3') }, 'v3');
    tracing = await startTracing({ serviceName: 'poller', logger });
    const config = loadConfig({
      FERRY_NATS_URL: nats.url,
      FERRY_POLL_INTERVAL_MS: '3600000',
      FERRY_GIT_CACHE_DIR: cache.path,
      FERRY_LOG_LEVEL: 'silent',
    });
    service = await start(config, { logger, registry: createMetricsRegistry({ service: 'poller' }), tracing });
    nc = await connect({ servers: nats.url });
    await provisionJetStream(nc, prefix, logger);
    const names = natsNames(prefix);
    bus = createEventBus({ nc, config: { serviceName: 'api', ...prefix }, logger, tracer: tracing.tracer });
    sub = nc.subscribe(`${prefix.subjectPrefix}.revision.>`, {
      callback: (error, msg) => {
        if (!error) events.push(decodeEvent(msg.data));
      },
    });
    apps = await openJsonKv<unknown>(nc, names.buckets.apps);
    status = await openJsonKv<SourceStatusRecord>(nc, names.buckets.source);
    artifacts = await openArtifactStore(nc, names.objectStore);
    await apps.put('web', application('web', repo.url));
  });

  after(async () => {
    await service?.close();
    sub?.unsubscribe();
    await nc?.drain();
    await tracing?.shutdown();
    await Promise.all([nats?.close(), gitServer?.close(), cache?.cleanup()]);
  });

  it('renders an older commit named by SHA (no ref points at it; fetched on demand) and announces it with the intent, changed false', async () => {
    const sync = intent('rb-1', first);
    await refresh('rb-1', sync);
    const [event] = await waitUntil(() => detected('rb-1').length > 0 && detected('rb-1'), { timeoutMs: 15_000, message: 'detected' });
    assert.ok(event);
    const key = artifactKey('web', first, { path: 'k8s' });
    assert.equal(event.data.revision, first);
    assert.equal(event.data.artifactKey, key);
    assert.equal(event.data.targetRevision, 'main', 'the app target is reported as it is');
    assert.equal(event.data.changed, false, 'a requested revision does not move the target');
    assert.deepEqual(event.data.sync, sync);
    assert.equal(event.id, `revision.detected:web:${key}:rb-1`);
    assert.equal(await valueOf(key), 'v1');

    const record = await waitUntil(async () => (await status.get('web'))?.value.requested, { message: 'requested recorded' });
    assert.deepEqual({ ...record, resolvedAt: '' }, { revision: first, requestId: 'rb-1', commit: first, artifactKey: key, resolvedAt: '' });
    assert.equal((await status.get('web'))?.value.revision, undefined, 'the target was never resolved: no target revision recorded');
  });

  it('the next poll of the target announces the head again and clears the requested record', async () => {
    await refresh('t-1');
    const event = await waitUntil(() => detected().find((e) => e.data.revision === head), { timeoutMs: 15_000, message: 'head' });
    assert.equal(event.data.sync, undefined);
    assert.equal(await valueOf(event.data.artifactKey), 'v3');
    const record = await waitUntil(
      async () => {
        const v = (await status.get('web'))?.value;
        return v?.revision === head && v;
      },
      { message: 'target status' },
    );
    assert.equal(record.requested, undefined);
    assert.equal(record.artifactKey, event.data.artifactKey);
  });

  it('after a requested revision the target is announced again even though it did not move (changed false)', async () => {
    await refresh('rb-2', intent('rb-2', second));
    const [rb] = await waitUntil(() => detected('rb-2').length > 0 && detected('rb-2'), { timeoutMs: 15_000, message: 'rb-2' });
    assert.equal(rb?.data.revision, second);
    assert.equal(await valueOf(rb?.data.artifactKey ?? ''), 'v2');
    const kept = (await status.get('web'))?.value;
    assert.equal(kept?.revision, head, 'the target status keeps the head');
    assert.equal(kept?.requested?.commit, second);

    const before = detected().length;
    await refresh('t-2');
    const again = await waitUntil(() => detected().length > before && detected().at(-1), { timeoutMs: 15_000, message: 're-announced' });
    assert.equal(again.data.revision, head);
    assert.equal(again.data.changed, false);
    await waitUntil(async () => (await status.get('web'))?.value.requested === undefined, { message: 'requested cleared' });

    // and once the target is back, an unchanged target is not announced again
    await refresh('t-3');
    await sleep(500);
    assert.equal(detected().length, before + 1);
  });

  it('resolves a tag named by the intent', async () => {
    await refresh('rb-3', intent('rb-3', 'v1'));
    const [event] = await waitUntil(() => detected('rb-3').length > 0 && detected('rb-3'), { timeoutMs: 15_000, message: 'rb-3' });
    assert.equal(event?.data.revision, first);
    assert.equal(event?.data.changed, false);
    assert.equal(event?.data.sync?.revision, 'v1');
  });

  it('an intent naming the target revision itself is a detection of the target', async () => {
    await refresh('t-4'); // settle the target after rb-3
    await waitUntil(async () => (await status.get('web'))?.value.requested === undefined, { timeoutMs: 15_000, message: 'settled' });
    await refresh('s-1', { requestId: 's-1', prune: false, initiatedBy: 'alice', revision: 'main' });
    const [event] = await waitUntil(() => detected('s-1').length > 0 && detected('s-1'), { timeoutMs: 15_000, message: 's-1' });
    assert.equal(event?.data.revision, head);
    await sleep(200);
    assert.equal((await status.get('web'))?.value.requested, undefined);
  });

  it('an unknown revision is revision.failed with the intent; the target status keeps no error', async () => {
    const sync = intent('rb-4', 'no-such-ref');
    await refresh('rb-4', sync);
    const [failure] = await waitUntil(() => failed('rb-4').length > 0 && failed('rb-4'), { timeoutMs: 15_000, message: 'failed' });
    assert.equal(failure?.data.error.code, ErrorCode.GitRevisionNotFound);
    assert.deepEqual(failure?.data.sync, sync);
    assert.equal(failure?.id, `revision.failed:web:unresolved:${ErrorCode.GitRevisionNotFound}:rb-4`);
    const record = await waitUntil(
      async () => {
        const v = (await status.get('web'))?.value;
        return v?.requested?.requestId === 'rb-4' && v;
      },
      { message: 'requested failure recorded' },
    );
    assert.equal(record.requested?.error?.code, ErrorCode.GitRevisionNotFound);
    assert.equal(record.error, undefined);
    assert.deepEqual(record.conditions, []);
    assert.equal(record.revision, head);
  });

  it('an unknown full SHA fails the same way after a fetch', async () => {
    const sha = 'deadbeef'.repeat(5);
    await refresh('rb-5', intent('rb-5', sha));
    const [failure] = await waitUntil(() => failed('rb-5').length > 0 && failed('rb-5'), { timeoutMs: 15_000, message: 'failed' });
    assert.equal(failure?.data.error.code, ErrorCode.GitRevisionNotFound);
    assert.equal(failure?.data.revision, sha);
  });
});
