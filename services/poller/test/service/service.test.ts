import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  ConditionType,
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
  withSpan,
  type ArtifactStore,
  type EventBus,
  type JsonKv,
  type Registry,
  type Tracing,
} from '@ferry/runtime';
import {
  findExecutable,
  freePort,
  startGitServer,
  startNatsServer,
  tempDir,
  waitUntil,
  type GitRepoHandle,
  type GitServerHandle,
  type NatsServerHandle,
  type TempDir,
} from '@ferry/testing';
import { artifactKey, createGitClient, loadConfig, start, type Artifact, type GitClient, type PollerService } from '../../src/index.js';

const logger = createLogger({ name: 'poller-test', level: 'silent' });
const cm = (name: string, value = 'x') => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: "${value}"\n`;
const BROKEN = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  a: b\n   c: d\n';

function application(name: string, repoURL: string, source: { path?: string; targetRevision?: string } = {}): unknown {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd' },
    spec: {
      project: 'default',
      source: { repoURL, targetRevision: source.targetRevision ?? 'main', path: source.path ?? 'k8s' },
      destination: { server: 'https://kubernetes.default.svc', namespace: name },
    },
  };
}

interface Received {
  event: CloudEvent;
  traceparent: string | undefined;
}

interface Harness {
  nc: NatsConnection;
  bus: EventBus;
  apps: JsonKv<unknown>;
  status: JsonKv<SourceStatusRecord>;
  artifacts: ArtifactStore;
  events: Received[];
  sub: Subscription;
  detected(app: string): Array<CloudEvent<RevisionDetected> & { traceparent: string | undefined }>;
  failed(app: string): Array<CloudEvent<RevisionFailed>>;
  refresh(app: string, requestId: string, sync?: SyncIntent): Promise<void>;
  close(): Promise<void>;
}

async function harness(
  nats: NatsServerHandle,
  prefix: { subjectPrefix: string; streamName: string; bucketPrefix: string },
  tracing: Tracing,
): Promise<Harness> {
  const nc = await connect({ servers: nats.url });
  await provisionJetStream(nc, prefix, logger);
  const names = natsNames(prefix);
  const bus = createEventBus({ nc, config: { serviceName: 'api', ...prefix }, logger, tracer: tracing.tracer });
  const events: Received[] = [];
  const sub = nc.subscribe(`${prefix.subjectPrefix}.revision.>`, {
    callback: (error, msg) => {
      if (error) return;
      events.push({
        event: decodeEvent(msg.data),
        traceparent: msg.headers?.has('traceparent') ? msg.headers.get('traceparent') : undefined,
      });
    },
  });
  const h: Harness = {
    nc,
    bus,
    apps: await openJsonKv<unknown>(nc, names.buckets.apps),
    status: await openJsonKv<SourceStatusRecord>(nc, names.buckets.source),
    artifacts: await openArtifactStore(nc, names.objectStore),
    events,
    sub,
    detected: (app) =>
      events
        .filter((r) => r.event.type === EventType.RevisionDetected && r.event.subject === app)
        .map((r) => Object.assign(r.event as CloudEvent<RevisionDetected>, { traceparent: r.traceparent })),
    failed: (app) =>
      events
        .filter((r) => r.event.type === EventType.RevisionFailed && r.event.subject === app)
        .map((r) => r.event as CloudEvent<RevisionFailed>),
    refresh: (app, requestId, sync) =>
      bus.publish(
        EventType.RefreshRequested,
        app,
        { app, reason: sync ? 'sync' : 'manual', requestId, ...(sync ? { sync } : {}) },
        { msgId: `refresh.requested:${app}:${requestId}` },
      ),
    close: async () => {
      sub.unsubscribe();
      await nc.drain();
    },
  };
  return h;
}

function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (want.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

const lsRemotes = async (registry: Registry) =>
  metricValue(await registry.metrics(), 'ferry_poller_git_requests_total', { kind: 'ls-remote', result: 'ok' });

describe('poller service (real nats-server, real git smart-HTTP server)', () => {
  let nats: NatsServerHandle;
  let gitServer: GitServerHandle;
  let cache: TempDir;
  let tracing: Tracing;
  const exporter = new InMemorySpanExporter();
  let registry: Registry;
  let service: PollerService;
  let h: Harness;
  let repoWeb: GitRepoHandle;
  let repoBroken: GitRepoHandle;
  let repoMulti: GitRepoHandle;
  const prefix = { subjectPrefix: 'gitops', streamName: 'FERRY_EVENTS', bucketPrefix: 'ferry' };

  before(async () => {
    [nats, gitServer, cache] = await Promise.all([startNatsServer(), startGitServer(), tempDir('ferry-poller-cache')]);
    [repoWeb, repoBroken, repoMulti] = await Promise.all([
      gitServer.createRepo('web', { 'k8s/cm.yaml': cm('web', 'v1'), 'k8s/more.yaml': `${cm('web-a')}---\n${cm('web-b')}` }),
      gitServer.createRepo('broken', { 'k8s/cm.yaml': cm('good', 'v1') }),
      gitServer.createRepo('multi', { 'a/cm.yaml': cm('a'), 'b/cm.yaml': cm('b'), 'c/cm.yaml': cm('c') }),
    ]);
    tracing = await startTracing({ serviceName: 'poller', logger, spanProcessors: [new SimpleSpanProcessor(exporter)] });
    registry = createMetricsRegistry({ service: 'poller' });
    const config = loadConfig({
      FERRY_NATS_URL: nats.url,
      FERRY_POLL_INTERVAL_MS: '3600000',
      FERRY_GIT_CACHE_DIR: cache.path,
      FERRY_LOG_LEVEL: 'silent',
    });
    service = await start(config, { logger, registry, tracing });
    h = await harness(nats, prefix, tracing);
  });

  after(async () => {
    await service?.close();
    await h?.close();
    await tracing?.shutdown();
    await Promise.all([nats?.close(), gitServer?.close(), cache?.cleanup()]);
  });

  it('serves /readyz and /metrics with the poller metrics once started', async () => {
    assert.equal(service.isReady(), true);
    assert.equal((await fetch(`${service.url}/readyz`)).status, 200);
    const text = await (await fetch(`${service.url}/metrics`)).text();
    for (const name of [
      'ferry_poller_apps',
      'ferry_poller_git_requests_total',
      'ferry_poller_reconciles_total',
      'ferry_poller_render_duration_seconds',
    ]) {
      assert.match(text, new RegExp(`# TYPE ${name} `));
    }
  });

  it('a refresh request for a new app publishes revision.detected in the request trace, stores the artifact and writes the source status', async () => {
    await h.apps.put('web', application('web', repoWeb.url));
    const head = await repoWeb.head();
    let traceId = '';
    await withSpan(tracing.tracer, 'api.refresh', {}, async (span) => {
      traceId = span.spanContext().traceId;
      await h.refresh('web', 'req-1');
    });
    const [event] = await waitUntil(() => h.detected('web').length > 0 && h.detected('web'), {
      timeoutMs: 10_000,
      message: 'revision.detected for web',
    });
    assert.ok(event);
    const key = artifactKey('web', head, { path: 'k8s' });
    assert.equal(event.data.revision, head);
    assert.equal(event.data.artifactKey, key);
    assert.equal(event.data.changed, true);
    assert.equal(event.data.resourceCount, 3);
    assert.equal(event.data.sourceType, 'Directory');
    assert.equal(event.data.repoURL, repoWeb.url);
    assert.equal(event.id, `revision.detected:web:${key}`);
    assert.equal(event.data.sync, undefined);
    assert.ok(event.traceparent?.includes(traceId), `traceparent ${event.traceparent} continues trace ${traceId}`);

    const artifact = await h.artifacts.getJson<Artifact>(key);
    assert.ok(artifact);
    assert.equal(artifact.app, 'web');
    assert.equal(artifact.revision, head);
    assert.deepEqual(
      artifact.objects.map((o) => [o.object.metadata.name, o.source.file, o.source.line]),
      [
        ['web', 'k8s/cm.yaml', 1],
        ['web-a', 'k8s/more.yaml', 1],
        ['web-b', 'k8s/more.yaml', 8],
      ],
    );

    const status = await waitUntil(async () => (await h.status.get('web'))?.value, { message: 'source status of web' });
    assert.equal(status.revision, head);
    assert.equal(status.artifactKey, key);
    assert.equal(status.resourceCount, 3);
    assert.equal(status.error, undefined);
    assert.deepEqual(status.conditions, []);

    const detect = exporter.getFinishedSpans().find((s) => s.name === 'poller.detect' && s.attributes['ferry.app'] === 'web');
    assert.ok(detect, 'a poller.detect span');
    assert.equal(detect.spanContext().traceId, traceId);
    assert.equal(detect.attributes['ferry.revision'], head);
    assert.equal(detect.attributes['ferry.repo'], repoWeb.url);
  });

  it('a second commit is detected as changed; a refresh that finds the same commit publishes nothing', async () => {
    const second = await repoWeb.commit({ 'k8s/cm.yaml': cm('web', 'v2') }, 'v2');
    await h.refresh('web', 'req-2');
    const event = await waitUntil(() => h.detected('web').find((e) => e.data.revision === second), {
      timeoutMs: 10_000,
      message: 'second commit detected',
    });
    assert.equal(event.data.changed, true);
    const artifact = await h.artifacts.getJson<Artifact>(event.data.artifactKey);
    assert.equal(artifact?.objects[0]?.object['data'] && (artifact.objects[0].object['data'] as { value: string }).value, 'v2');

    const before = h.detected('web').length;
    const resolvedBefore = (await h.status.get('web'))?.value.resolvedAt ?? '';
    await sleep(5);
    await h.refresh('web', 'req-3');
    await waitUntil(async () => ((await h.status.get('web'))?.value.resolvedAt ?? '') > resolvedBefore, {
      timeoutMs: 10_000,
      message: 'status re-resolved',
    });
    await sleep(200);
    assert.equal(h.detected('web').length, before, 'no revision.detected for an unchanged commit');
    assert.equal((await h.status.get('web'))?.value.revision, second);
  });

  it('a refresh carrying a sync intent publishes revision.detected with it even when the commit is unchanged', async () => {
    const head = await repoWeb.head();
    const sync: SyncIntent = { requestId: 'sync-1', prune: true, initiatedBy: 'alice' };
    await h.refresh('web', 'sync-1', sync);
    const event = await waitUntil(() => h.detected('web').find((e) => e.data.sync?.requestId === 'sync-1'), {
      timeoutMs: 10_000,
      message: 'detected with sync',
    });
    assert.deepEqual(event.data.sync, sync);
    assert.equal(event.data.revision, head);
    assert.equal(event.data.changed, false);
    assert.equal(event.id, `revision.detected:web:${event.data.artifactKey}:sync-1`);
  });

  it('an artifact already in the object store is not rendered again', async () => {
    const renders = async () => metricValue(await registry.metrics(), 'ferry_poller_render_duration_seconds_count', {});
    const before = await renders();
    const status = (await h.status.get('web'))?.value;
    assert.ok(status?.artifactKey);
    // As after a lost status record (or a second replica): the commit is new to the status, not to the store.
    await h.status.delete('web');
    await h.refresh('web', 'req-4');
    const restored = await waitUntil(async () => (await h.status.get('web'))?.value, { timeoutMs: 10_000, message: 'status rewritten' });
    assert.equal(restored.artifactKey, status.artifactKey);
    assert.equal(restored.resourceCount, status.resourceCount);
    assert.equal(await renders(), before);
    assert.ok(before > 0);
  });

  it('a YAML file that does not parse yields revision.failed and a ComparisonError naming file and line; the next good commit clears it', async () => {
    await h.apps.put('broken', application('broken', repoBroken.url));
    await h.refresh('broken', 'b-1');
    const good = await waitUntil(() => h.detected('broken')[0], { timeoutMs: 10_000, message: 'first detection of broken' });

    const bad = await repoBroken.commit({ 'k8s/bad.yaml': BROKEN }, 'break it');
    await h.refresh('broken', 'b-2');
    const failure = await waitUntil(() => h.failed('broken')[0], { timeoutMs: 10_000, message: 'revision.failed' });
    assert.equal(failure.data.revision, bad);
    assert.equal(failure.data.error.code, ErrorCode.RenderParse);
    assert.equal(failure.id, `revision.failed:broken:${bad}:${ErrorCode.RenderParse}`);
    assert.deepEqual(failure.data.problems[0] && [failure.data.problems[0].file, failure.data.problems[0].line], ['k8s/bad.yaml', 6]);
    const status = (await h.status.get('broken'))?.value;
    assert.ok(status);
    assert.equal(status.error?.code, ErrorCode.RenderParse);
    assert.equal(status.error?.revision, bad);
    assert.equal(status.revision, good.data.revision, 'the last good revision stays recorded');
    const condition = status.conditions.find((c) => c.type === ConditionType.ComparisonError);
    assert.ok(condition);
    assert.match(condition.message, /^k8s\/bad\.yaml:6: /);
    assert.equal(h.detected('broken').filter((e) => e.data.revision === bad).length, 0, 'nothing of the broken revision is announced');

    // Polling the broken commit again does not announce the same failure again.
    await h.refresh('broken', 'b-3');
    await waitUntil(async () => ((await h.status.get('broken'))?.value.resolvedAt ?? '') > status.resolvedAt, { timeoutMs: 10_000 });
    await sleep(100);
    assert.equal(h.failed('broken').length, 1);

    const fixed = await repoBroken.commit({ 'k8s/bad.yaml': cm('bad') }, 'fix it');
    await h.refresh('broken', 'b-4');
    const event = await waitUntil(() => h.detected('broken').find((e) => e.data.revision === fixed), {
      timeoutMs: 10_000,
      message: 'fixed commit detected',
    });
    assert.equal(event.data.resourceCount, 2);
    const cleared = (await h.status.get('broken'))?.value;
    assert.equal(cleared?.error, undefined);
    assert.equal(cleared?.revision, fixed);
    assert.deepEqual(cleared?.conditions, []);
  });

  it('an unknown targetRevision is a status error and one revision.failed, not a retry storm', async () => {
    await h.apps.put('nobranch', application('nobranch', repoWeb.url, { targetRevision: 'no-such-branch' }));
    await h.refresh('nobranch', 'n-1');
    const failure = await waitUntil(() => h.failed('nobranch')[0], { timeoutMs: 10_000, message: 'revision.failed for nobranch' });
    assert.equal(failure.data.error.code, ErrorCode.GitRevisionNotFound);
    assert.equal(failure.data.revision, undefined);
    const status = (await h.status.get('nobranch'))?.value;
    assert.equal(status?.error?.code, ErrorCode.GitRevisionNotFound);
    assert.equal(status?.conditions[0]?.type, ConditionType.ComparisonError);
    await sleep(300);
    assert.equal(h.failed('nobranch').length, 1);
    await h.apps.delete('nobranch');
    await waitUntil(async () => (await h.status.get('nobranch')) === undefined, { message: 'status of a deleted app removed' });
  });

  it('three apps on one repository cost one ref listing per cycle; a refresh lists only its own repository', async () => {
    for (const name of ['multi-a', 'multi-b', 'multi-c']) {
      await h.apps.put(name, application(name, repoMulti.url, { path: name.slice(-1) }));
    }
    const known = ['web', 'broken', 'multi-a', 'multi-b', 'multi-c'];
    await waitUntil(async () => metricValue(await registry.metrics(), 'ferry_poller_apps', {}) === known.length || undefined, {
      message: 'apps gauge',
    });
    const beforeCycle = await lsRemotes(registry);
    const outcomes = await service.pollNow();
    assert.equal((await lsRemotes(registry)) - beforeCycle, 3, 'one ls-remote per repository (web, broken, multi)');
    assert.deepEqual(outcomes.map((o) => o.app).sort(), [...known].sort());
    for (const name of ['multi-a', 'multi-b', 'multi-c']) {
      assert.equal(outcomes.find((o) => o.app === name)?.result, 'detected', name);
      assert.equal(h.detected(name).length, 1, name);
    }
    const scheduled = exporter.getFinishedSpans().find((s) => s.name === 'poller.detect' && s.attributes['ferry.app'] === 'multi-a');
    assert.ok(scheduled);
    assert.equal(scheduled.parentSpanContext, undefined, 'a scheduled poll starts a new trace');
    const again = await service.pollNow();
    assert.ok(
      again.every((o) => o.result === 'unchanged'),
      JSON.stringify(again),
    );

    const beforeRefresh = await lsRemotes(registry);
    const done = h.status.get('multi-b').then((v) => v?.value.resolvedAt ?? '');
    await h.refresh('multi-b', 'm-1');
    const resolvedBefore = await done;
    await waitUntil(async () => ((await h.status.get('multi-b'))?.value.resolvedAt ?? '') > resolvedBefore, { timeoutMs: 10_000 });
    assert.equal((await lsRemotes(registry)) - beforeRefresh, 1);
    const text = await registry.metrics();
    assert.ok(metricValue(text, 'ferry_poller_reconciles_total', { result: 'detected' }) >= 6);
    assert.ok(metricValue(text, 'ferry_poller_reconciles_total', { result: 'unchanged' }) >= 5);
    assert.ok(metricValue(text, 'ferry_poller_reconciles_total', { result: 'failed' }) >= 2);
  });

  it('an unreachable Git server on a scheduled poll is a status error without an event, left for the next cycle', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/gone.git`;
    await h.apps.put('gone', application('gone', url));
    await waitUntil(async () => metricValue(await registry.metrics(), 'ferry_poller_apps', {}) === 6 || undefined);
    const outcomes = await service.pollNow();
    const gone = outcomes.find((o) => o.app === 'gone');
    assert.equal(gone?.result, 'failed');
    assert.equal(gone?.transient, true);
    const status = (await h.status.get('gone'))?.value;
    assert.equal(status?.error?.code, ErrorCode.GitUnreachable);
    assert.equal(h.failed('gone').length, 0);
    await h.apps.delete('gone');
  });

  it('serves metrics that promtool check metrics accepts', async (t) => {
    const promtool = findExecutable('promtool');
    if (promtool === undefined) {
      t.skip('promtool not found on PATH (Debian package prometheus)');
      return;
    }
    const text = await registry.metrics();
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(promtool, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      child.on('close', (code) => resolve({ code, output }));
      child.stdin.end(text);
    });
    assert.equal(result.code, 0, result.output);
    assert.match(text, /ferry_poller_git_requests_total\{[^}]*kind="ls-remote"/);
  });
});

describe('poller lifecycle', () => {
  let nats: NatsServerHandle;
  let gitServer: GitServerHandle;
  let cache: TempDir;
  let tracing: Tracing;

  before(async () => {
    [nats, gitServer, cache] = await Promise.all([startNatsServer(), startGitServer(), tempDir('ferry-poller-cache')]);
    tracing = await startTracing({ serviceName: 'poller', logger });
  });
  after(async () => {
    await tracing?.shutdown();
    await Promise.all([nats?.close(), gitServer?.close(), cache?.cleanup()]);
  });

  const configFor = () =>
    loadConfig({ FERRY_NATS_URL: nats.url, FERRY_POLL_INTERVAL_MS: '3600000', FERRY_GIT_CACHE_DIR: cache.path, FERRY_LOG_LEVEL: 'silent' });

  it('close() twice returns the same promise; readiness goes false and pollNow is refused', async () => {
    const service = await start(configFor(), { logger, tracing, registry: createMetricsRegistry({ service: 'poller' }) });
    const first = service.close();
    const second = service.close();
    assert.equal(first, second);
    await first;
    assert.equal(service.isReady(), false);
    await assert.rejects(service.pollNow());
    await assert.rejects(fetch(`${service.url}/healthz`));
  });

  it('close() during a poll waits for the poll to finish its status write', async () => {
    const repo = await gitServer.createRepo('slow', { 'k8s/cm.yaml': cm('slow') });
    const real: GitClient = createGitClient({ cacheDir: cache.path });
    let listing = false;
    const slowGit: GitClient = {
      async listRefs(url) {
        listing = true;
        await sleep(400);
        return real.listRefs(url);
      },
      checkout: (url, commit) => real.checkout(url, commit),
    };
    const service = await start(configFor(), { logger, tracing, git: slowGit, registry: createMetricsRegistry({ service: 'poller' }) });
    const h = await harness(nats, { subjectPrefix: 'gitops', streamName: 'FERRY_EVENTS', bucketPrefix: 'ferry' }, tracing);
    try {
      await h.apps.put('slow', application('slow', repo.url));
      await sleep(100);
      const poll = service.pollNow();
      await waitUntil(() => listing, { message: 'poll started' });
      await service.close();
      const outcomes = await poll;
      assert.equal(outcomes.find((o) => o.app === 'slow')?.result, 'detected');
      assert.equal((await h.status.get('slow'))?.value.revision, await repo.head());
    } finally {
      await service.close();
      await h.close();
    }
  });
});

describe('poller with a private repository', () => {
  it('uses FERRY_GIT_CREDENTIALS_FILE for a server that requires authentication, and keeps the password out of events and status', async () => {
    const password = 'pw-private-4711';
    const [nats, gitServer, dir] = await Promise.all([
      startNatsServer(),
      startGitServer({ auth: { username: 'ferry', password } }),
      tempDir('ferry-poller-private'),
    ]);
    const tracing = await startTracing({ serviceName: 'poller', logger });
    let service: PollerService | undefined;
    let h: Harness | undefined;
    try {
      const repo = await gitServer.createRepo('private', { 'k8s/cm.yaml': cm('secret-app') });
      const credentials = join(dir.path, 'credentials.yaml');
      await writeFile(credentials, `${gitServer.url}/: { username: ferry, password: ${password} }\n`);
      service = await start(
        loadConfig({
          FERRY_NATS_URL: nats.url,
          FERRY_POLL_INTERVAL_MS: '3600000',
          FERRY_GIT_CACHE_DIR: join(dir.path, 'cache'),
          FERRY_GIT_CREDENTIALS_FILE: credentials,
          FERRY_LOG_LEVEL: 'silent',
        }),
        { logger, tracing, registry: createMetricsRegistry({ service: 'poller' }) },
      );
      h = await harness(nats, { subjectPrefix: 'gitops', streamName: 'FERRY_EVENTS', bucketPrefix: 'ferry' }, tracing);
      const hh = h;
      await hh.apps.put('private', application('private', repo.url));
      await hh.refresh('private', 'p-1');
      const event = await waitUntil(() => hh.detected('private')[0], { timeoutMs: 10_000, message: 'private repo detected' });
      assert.equal(event.data.revision, await repo.head());
      const status = await hh.status.get('private');
      assert.doesNotMatch(JSON.stringify([hh.events.map((r) => r.event), status]), new RegExp(password));
    } finally {
      await service?.close();
      await h?.close();
      await tracing.shutdown();
      await Promise.all([nats.close(), gitServer.close(), dir.cleanup()]);
    }
  });
});
