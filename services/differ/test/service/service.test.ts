import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { EventType, decodeEvent, type CloudEvent, type DiffComputed, type RevisionDetected } from '@ferry/contracts';
import { prepareDesired, resolveClusters, withTracking, type ClusterClient, type ClusterRegistry, type KubeObject } from '@ferry/kube';
import { startSandbox, type Sandbox } from '@ferry/kube-sandbox';
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
import { freePort, kubectlPath, startNatsServer, tempDir, waitUntil, type NatsServerHandle, type TempDir } from '@ferry/testing';
import {
  loadConfig,
  start,
  statusesHash,
  type AppDiffs,
  type DifferConfig,
  type DifferService,
  type StoredComparisonRecord,
} from '../../src/index.js';
import { application, artifact, configMap, deployment, revisionDetected, service, sha } from './helpers.js';

const run = promisify(execFile);
const logger = createLogger({ name: 'differ-test', level: 'silent' });
const IN_CLUSTER = { server: 'https://kubernetes.default.svc' };

interface Received {
  event: CloudEvent<DiffComputed>;
  traceparent: string | undefined;
  at: number;
}

describe('differ service (real nats-server, sandbox cluster, kubectl)', () => {
  let nats: NatsServerHandle;
  let sandbox: Sandbox;
  let dir: TempDir;
  let clusters: ClusterRegistry;
  let kube: ClusterClient;
  let nc: NatsConnection;
  let sub: Subscription;
  let bus: EventBus;
  let testTracing: Tracing;
  let serviceTracing: Tracing;
  let spans: InMemorySpanExporter;
  let appsKv: JsonKv<unknown>;
  let comparisonKv: JsonKv<StoredComparisonRecord>;
  let artifacts: ArtifactStore;
  let config: DifferConfig;
  let registry: Registry;
  let differ: DifferService;
  const received: Received[] = [];
  /** Every subject published under gitops.> (to prove drift involves no Git traffic). */
  const published: Array<{ subject: string; at: number }> = [];
  let all: Subscription;

  before(async () => {
    [nats, sandbox, dir] = await Promise.all([startNatsServer(), startSandbox({ rolloutMs: 100 }), tempDir('differ-test-')]);
    clusters = resolveClusters({ kubeconfigPath: sandbox.kubeconfigPath, env: {} });
    kube = clusters.defaultClient();
    // A named cluster nobody listens on: comparisons against it fail transiently.
    const deadPort = await freePort();
    const deadKubeconfig = join(dir.path, 'dead.kubeconfig');
    writeFileSync(
      deadKubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: dead, cluster: {server: "http://127.0.0.1:${deadPort}"}}]\n` +
        `users: [{name: u, user: {token: t}}]\ncontexts: [{name: dead, context: {cluster: dead, user: u}}]\ncurrent-context: dead\n`,
    );
    writeFileSync(join(dir.path, 'clusters.yaml'), 'clusters:\n  - name: dead\n    kubeconfig: dead.kubeconfig\n');
    config = loadConfig({
      FERRY_NATS_URL: nats.url,
      FERRY_KUBECONFIG: sandbox.kubeconfigPath,
      FERRY_CLUSTERS_FILE: join(dir.path, 'clusters.yaml'),
      FERRY_DIFF_DEBOUNCE_MS: '50',
      FERRY_DIFF_RETRY_MS: '200',
      FERRY_LOG_LEVEL: 'silent',
      FERRY_SHUTDOWN_GRACE_MS: '3000',
    });
    nc = await connect({ servers: nats.url });
    await provisionJetStream(nc, config, logger);
    const names = natsNames(config);
    appsKv = await openJsonKv(nc, names.buckets.apps);
    comparisonKv = await openJsonKv(nc, names.buckets.comparison);
    artifacts = await openArtifactStore(nc, names.objectStore);
    testTracing = await startTracing({ serviceName: 'poller-test', logger });
    spans = new InMemorySpanExporter();
    serviceTracing = await startTracing({ serviceName: 'differ', logger, spanProcessors: [new SimpleSpanProcessor(spans)] });
    bus = createEventBus({ nc, config: { ...config, serviceName: 'poller' }, logger, tracer: testTracing.tracer });
    sub = nc.subscribe('gitops.diff.computed.>', {
      callback: (_err, msg) => {
        const event = decodeEvent(msg.data) as CloudEvent<DiffComputed>;
        received.push({ event, traceparent: msg.headers?.has('traceparent') ? msg.headers.get('traceparent') : undefined, at: Date.now() });
      },
    });
    all = nc.subscribe('gitops.>', { callback: (_err, msg) => void published.push({ subject: msg.subject, at: Date.now() }) });
    registry = createMetricsRegistry({ service: 'differ' });
    // The service builds its own cluster registry from the config (default cluster + clusters file).
    differ = await start(config, { logger, registry, tracing: serviceTracing });
  });

  after(async () => {
    await differ?.close();
    sub?.unsubscribe();
    all?.unsubscribe();
    await nc?.close();
    await testTracing?.shutdown();
    await serviceTracing?.shutdown();
    await clusters?.close();
    await Promise.allSettled([nats?.close(), sandbox?.close()]);
    await dir?.cleanup();
  });

  const eventsOf = (app: string): Received[] => received.filter((r) => r.event.data.app === app);
  const metricsText = async (): Promise<string> => (await fetch(`${differ.url}/metrics`)).text();

  async function publishRevision(data: RevisionDetected): Promise<string> {
    return withSpan(testTracing.tracer, 'poller.detect', {}, async (span) => {
      const id = `revision.detected:${data.app}:${data.artifactKey}${data.sync ? `:${data.sync.requestId}` : ''}`;
      await bus.publish(EventType.RevisionDetected, data.app, data, { msgId: id });
      return span.spanContext().traceId;
    });
  }

  async function register(
    app: string,
    namespace: string,
    revision: string,
    objects: KubeObject[],
    sync?: RevisionDetected['sync'],
  ): Promise<{ artifactKey: string; traceId: string }> {
    const artifactKey = `${app}.${revision}.0123456789abcdef`;
    await artifacts.putJson(artifactKey, artifact(app, revision, objects));
    await appsKv.put(app, application(app, { ...IN_CLUSTER, namespace }));
    const traceId = await publishRevision(revisionDetected(app, revision, artifactKey, objects.length, sync));
    return { artifactKey, traceId };
  }

  /** What the applier would apply: namespace settled, tracking annotation set, field manager ferry. */
  async function applyAsFerry(app: string, namespace: string, objects: KubeObject[]): Promise<void> {
    await kube.ensureNamespace(namespace);
    for (const object of prepareDesired(app, objects, { defaultNamespace: namespace, isNamespaced: () => undefined })) {
      await kube.apply(withTracking(app, object), { fieldManager: 'ferry' });
    }
  }

  async function nextEvent(
    app: string,
    after: number,
    predicate: (e: DiffComputed) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<Received> {
    return waitUntil(
      () =>
        eventsOf(app)
          .slice(after)
          .find((r) => predicate(r.event.data)),
      { timeoutMs, message: what },
    );
  }

  it('is ready and serves probes and metrics once started', async () => {
    assert.equal(differ.isReady(), true);
    assert.equal((await fetch(`${differ.url}/readyz`)).status, 200);
    assert.equal((await fetch(`${differ.url}/healthz`)).status, 200);
    const text = await metricsText();
    assert.match(text, /ferry_differ_comparisons_total\{reason="revision",result="synced",service="differ"\} 0/);
    assert.match(text, /ferry_differ_drift_events_total\{service="differ"\} 0/);
  });

  it('compares a new revision OutOfSync (resources missing), Synced once applied, and OutOfSync again within 2 s of kubectl scale', async () => {
    const revision = sha('a');
    const objects = [deployment('web', 2), service('web')];
    const { artifactKey, traceId } = await register('web', 'web', revision, objects);

    // 1. Nothing is in the cluster yet.
    const first = await nextEvent('web', 0, () => true, 10_000, 'diff.computed for web');
    const d = first.event.data;
    assert.equal(d.reason, 'revision');
    assert.equal(d.syncStatus, 'OutOfSync');
    assert.equal(d.revision, revision);
    assert.equal(d.artifactKey, artifactKey);
    assert.deepEqual(
      d.resources.map((r) => [r.group, r.version, r.kind, r.namespace, r.name, r.status]),
      [
        ['apps', 'v1', 'Deployment', 'web', 'web', 'OutOfSync'],
        ['', 'v1', 'Service', 'web', 'web', 'OutOfSync'],
      ],
    );
    assert.equal(first.event.id, `diff.computed:web:${artifactKey}:${statusesHash('OutOfSync', d.resources)}`);
    assert.equal(first.traceparent?.split('-')[1], traceId, 'diff.computed continues the revision trace');
    const record = await comparisonKv.get('web');
    assert.equal(record?.value.status, 'OutOfSync');
    assert.equal(record?.value.artifactKey, artifactKey);
    assert.equal(record?.value.revision, revision);
    assert.deepEqual(record?.value.conditions, []);

    // 2. The applier's sync: the watch sees it, the app compares Synced (server defaults are not drift).
    const before = eventsOf('web').length;
    const applyStart = Date.now();
    await applyAsFerry('web', 'web', objects);
    const synced = await nextEvent(
      'web',
      before,
      (e) => e.syncStatus === 'Synced',
      2_000 + (Date.now() - applyStart),
      'Synced after apply',
    );
    assert.ok(synced.at - applyStart < 2_000, `Synced ${synced.at - applyStart} ms after the apply began`);
    assert.equal(synced.event.data.reason, 'drift');
    assert.deepEqual(
      synced.event.data.resources.map((r) => r.status),
      ['Synced', 'Synced'],
    );
    assert.match(synced.event.id, new RegExp(`^diff.computed:web:${artifactKey.replaceAll('.', '\\.')}:[0-9a-f]{12}:drift-\\d+$`));
    assert.equal(synced.traceparent?.split('-')[1], traceId, 'drift results join the revision trace');
    const live = await kube.get({ apiVersion: 'v1', kind: 'Service', namespace: 'web', name: 'web' });
    assert.ok((live?.spec as { clusterIP?: string }).clusterIP, 'the sandbox defaulted the Service');

    // The rollout (status updates, ReplicaSets, Pods) does not re-publish an unchanged result.
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(eventsOf('web').filter((r) => r.event.data.syncStatus === 'Synced').length, 1, 'one Synced result');

    // 3. Someone scales the Deployment by hand.
    const kubectl = kubectlPath();
    assert.ok(kubectl, 'kubectl is installed (/usr/bin/kubectl)');
    const beforeScale = eventsOf('web').length;
    const scaleAt = Date.now();
    await run(kubectl, ['--kubeconfig', sandbox.kubeconfigPath, 'scale', 'deployment/web', '-n', 'web', '--replicas=5']);
    const drift = await nextEvent('web', beforeScale, (e) => e.syncStatus === 'OutOfSync', 3_000, 'OutOfSync after scale');
    assert.ok(drift.at - scaleAt < 2_000, `drift noticed ${drift.at - scaleAt} ms after kubectl scale`);
    assert.equal(drift.event.data.reason, 'drift');
    assert.deepEqual(
      drift.event.data.resources.map((r) => [r.kind, r.status]),
      [
        ['Deployment', 'OutOfSync'],
        ['Service', 'Synced'],
      ],
    );
    assert.equal((await comparisonKv.get('web'))?.value.status, 'OutOfSync');
    // No Git work: nothing but diff.computed was published between the scale and the drift result.
    assert.deepEqual(
      published.filter((p) => p.at >= scaleAt && p.at <= drift.at).map((p) => p.subject.split('.').slice(0, 3).join('.')),
      ['gitops.diff.computed'],
    );
    // The per-resource diff shows the change: live 5 replicas, Git 2.
    const diffs = await waitUntil(
      async () => {
        const doc = await artifacts.getJson<AppDiffs>('diffs.web');
        return doc?.resources.find((r) => r.kind === 'Deployment')?.diffState === 'OutOfSync' ? doc : undefined;
      },
      { timeoutMs: 2_000, message: 'diffs.web shows the Deployment OutOfSync' },
    );
    assert.equal(diffs.app, 'web');
    assert.equal(diffs.revision, revision);
    const deploymentDiff = diffs.resources.find((r) => r.kind === 'Deployment');
    assert.match(deploymentDiff?.diff ?? '', /^-  replicas: 5$/m);
    assert.match(deploymentDiff?.diff ?? '', /^\+  replicas: 2$/m);
    assert.deepEqual(deploymentDiff?.patch, [{ op: 'replace', path: '/spec/replicas', value: 2 }]);
    const serviceDiff = diffs.resources.find((r) => r.kind === 'Service');
    assert.deepEqual([serviceDiff?.diffState, serviceDiff?.diff, serviceDiff?.patch], ['Synced', '', []]);

    // Spans: every comparison of this revision is in its trace, with app and revision attributes.
    const compareSpans = spans.getFinishedSpans().filter((s) => s.name === 'differ.compare' && s.attributes['ferry.app'] === 'web');
    assert.ok(compareSpans.length >= 3);
    for (const s of compareSpans) {
      assert.equal(s.spanContext().traceId, traceId);
      assert.equal(s.attributes['ferry.revision'], revision);
    }
    const text = await metricsText();
    assert.match(text, /ferry_differ_comparisons_total\{reason="revision",result="out_of_sync",service="differ"\} [1-9]/);
    assert.match(text, /ferry_differ_comparisons_total\{reason="drift",result="synced",service="differ"\} [1-9]/);
    assert.match(text, /ferry_differ_app_sync_status\{app="web",status="OutOfSync",service="differ"\} 1/);
    assert.match(text, /ferry_differ_app_sync_status\{app="web",status="Synced",service="differ"\} 0/);
    assert.match(text, /ferry_differ_drift_events_total\{service="differ"\} [1-9]/);
    assert.match(text, /ferry_differ_comparison_duration_seconds_count\{service="differ"\} [1-9]/);
  });

  it('marks a tracked object that Git no longer declares as requiring pruning, and carries a sync intent through', async () => {
    // The next commit drops the Service and sets replicas back to 2; a manual sync asked for it.
    const revision = sha('b');
    const intent = { requestId: 'req-1', prune: true, initiatedBy: 'alice' };
    const before = eventsOf('web').length;
    const { artifactKey } = await register('web', 'web', revision, [deployment('web', 2)], intent);
    const got = await nextEvent('web', before, (e) => e.revision === revision, 5_000, 'diff.computed for the second revision');
    const d = got.event.data;
    assert.equal(d.reason, 'revision');
    assert.deepEqual(d.sync, intent);
    assert.equal(got.event.id, `diff.computed:web:${artifactKey}:${statusesHash(d.syncStatus, d.resources)}:req-1`);
    assert.equal(d.syncStatus, 'OutOfSync');
    assert.deepEqual(
      d.resources.map((r) => [r.kind, r.name, r.status, r.requiresPruning ?? false]),
      [
        ['Deployment', 'web', 'OutOfSync', false], // still scaled to 5 by hand
        ['Service', 'web', 'OutOfSync', true],
      ],
    );

    // The applier syncs with prune: the Deployment goes back to 2 replicas, the Service is deleted.
    const beforeSync = eventsOf('web').length;
    await applyAsFerry('web', 'web', [deployment('web', 2)]);
    await kube.delete({ apiVersion: 'v1', kind: 'Service', namespace: 'web', name: 'web' });
    const synced = await nextEvent('web', beforeSync, (e) => e.syncStatus === 'Synced', 3_000, 'Synced after the pruning sync');
    assert.deepEqual(
      synced.event.data.resources.map((r) => r.kind),
      ['Deployment'],
    );
    assert.equal(synced.event.data.sync, undefined, 'drift results carry no sync intent');
  });

  it('treats objects of a kind the cluster does not serve yet (CRD in the same set) as missing, and watches the kind once it exists', async () => {
    const crd: KubeObject = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    };
    const widget: KubeObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } };
    await register('widgets', 'widgets', sha('c'), [crd, widget]);
    const first = await nextEvent('widgets', 0, () => true, 10_000, 'diff.computed for widgets');
    assert.equal(first.event.data.syncStatus, 'OutOfSync');
    assert.deepEqual(
      first.event.data.resources.map((r) => [r.kind, r.namespace, r.status]),
      [
        ['CustomResourceDefinition', '', 'OutOfSync'],
        ['Widget', 'widgets', 'OutOfSync'],
      ],
    );
    assert.deepEqual((await comparisonKv.get('widgets'))?.value.conditions, [], 'an unknown kind is not a comparison error');

    const before = eventsOf('widgets').length;
    await applyAsFerry('widgets', 'widgets', [crd]);
    await new Promise((r) => setTimeout(r, 100));
    await applyAsFerry('widgets', 'widgets', [{ ...widget, metadata: { ...widget.metadata, namespace: 'widgets' } }]);
    const synced = await nextEvent('widgets', before, (e) => e.syncStatus === 'Synced', 5_000, 'widgets Synced');
    assert.deepEqual(
      synced.event.data.resources.map((r) => r.status),
      ['Synced', 'Synced'],
    );
  });

  it('reports an unknown cluster as a ComparisonError (Unknown) and an unreachable one as transient (retried, nothing published)', async () => {
    await register('lost', 'lost', sha('d'), [configMap('settings', { a: '1' })]);
    await appsKv.put('lost', application('lost', { name: 'nowhere', namespace: 'lost' }));
    const lost = await nextEvent('lost', 0, () => true, 5_000, 'diff.computed for lost');
    assert.equal(lost.event.data.syncStatus, 'Unknown');
    const record = await waitUntil(async () => (await comparisonKv.get('lost'))?.value, { message: 'record of lost' });
    assert.equal(record.status, 'Unknown');
    assert.equal(record.conditions[0]?.type, 'ComparisonError');
    assert.match(record.conditions[0]?.message ?? '', /^FERRY_ERR_KUBE_CLUSTER_UNKNOWN: /);

    // The cluster named in the clusters file does not answer: recorded Unknown, redelivered, not published.
    const revision = sha('e');
    const artifactKey = `down.${revision}.0123456789abcdef`;
    await artifacts.putJson(artifactKey, artifact('down', revision, [configMap('settings', { a: '1' })]));
    await appsKv.put('down', application('down', { name: 'dead', namespace: 'down' }));
    await publishRevision(revisionDetected('down', revision, artifactKey, 1));
    const down = await waitUntil(async () => (await comparisonKv.get('down'))?.value, { timeoutMs: 5_000, message: 'record of down' });
    assert.equal(down.status, 'Unknown');
    assert.match(down.conditions[0]?.message ?? '', /^FERRY_ERR_KUBE_REQUEST: /);
    await waitUntil(
      async () =>
        /ferry_differ_comparisons_total\{reason="revision",result="error",service="differ"\} ([3-9]|\d\d)/.test(await metricsText()),
      { timeoutMs: 5_000, message: 'the revision is retried' },
    );
    assert.equal(eventsOf('down').length, 0, 'a transient failure publishes nothing');
  });

  it('resumes after a restart: re-loads the desired set from the recorded artifact and reports drift that happened while it was down', async () => {
    await differ.close();
    assert.equal(differ.isReady(), false);
    // While the differ is down, the Deployment is scaled again.
    await run(kubectlPath() as string, ['--kubeconfig', sandbox.kubeconfigPath, 'scale', 'deployment/web', '-n', 'web', '--replicas=3']);
    const before = eventsOf('web').length;
    differ = await start(config, { logger, registry: createMetricsRegistry({ service: 'differ' }), tracing: serviceTracing });
    const drift = await nextEvent('web', before, () => true, 5_000, 'drift found after restart');
    assert.equal(drift.event.data.reason, 'drift');
    assert.equal(drift.event.data.revision, sha('b'));
    assert.deepEqual(
      drift.event.data.resources.map((r) => [r.kind, r.status]),
      [['Deployment', 'OutOfSync']],
    );
    // The restarted differ keeps following the cluster.
    const beforeFix = eventsOf('web').length;
    await run(kubectlPath() as string, ['--kubeconfig', sandbox.kubeconfigPath, 'scale', 'deployment/web', '-n', 'web', '--replicas=2']);
    const fixed = await nextEvent('web', beforeFix, (e) => e.syncStatus === 'Synced', 3_000, 'Synced after scaling back');
    assert.equal(fixed.event.data.reason, 'drift');
  });
  it('applies spec.ignoreDifferences (scaling an ignored field is no drift), excludes hooks, and reports an unsupported jq expression as a ComparisonError', async () => {
    const app = 'ignoring';
    const hook: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'pre', annotations: { 'argocd.argoproj.io/hook': 'PreSync' } },
      data: { a: '1' },
    };
    const objects = [deployment(app, 2), hook];
    await applyAsFerry(app, app, [deployment(app, 2)]);
    const spec = application(app, { ...IN_CLUSTER, namespace: app });
    spec.spec.ignoreDifferences = [{ group: 'apps', kind: 'Deployment', jsonPointers: ['/spec/replicas'] }];
    const artifactKey = `${app}.${sha('f')}.0123456789abcdef`;
    await artifacts.putJson(artifactKey, artifact(app, sha('f'), objects));
    await appsKv.put(app, spec);
    await publishRevision(revisionDetected(app, sha('f'), artifactKey, objects.length));
    const first = await nextEvent(app, 0, () => true, 10_000, 'diff.computed for ignoring');
    assert.equal(first.event.data.syncStatus, 'Synced', 'the hook is not part of the desired set');
    assert.deepEqual(
      first.event.data.resources.map((r) => [r.kind, r.diffState]),
      [['Deployment', 'Synced']],
    );

    // Scaling the ignored field: no drift. Changing the image: drift.
    const kubectl = kubectlPath() as string;
    await run(kubectl, ['--kubeconfig', sandbox.kubeconfigPath, 'scale', `deployment/${app}`, '-n', app, '--replicas=4']);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(eventsOf(app).length, 1, 'scaling an ignored field publishes nothing');
    await run(kubectl, ['--kubeconfig', sandbox.kubeconfigPath, 'set', 'image', `deployment/${app}`, '-n', app, `${app}=nginx:1.26`]);
    const drift = await nextEvent(app, 1, (e) => e.syncStatus === 'OutOfSync', 3_000, 'OutOfSync after set image');
    assert.deepEqual(
      drift.event.data.resources.map((r) => [r.kind, r.diffState]),
      [['Deployment', 'OutOfSync']],
    );
    const doc = await waitUntil(async () => {
      const d = await artifacts.getJson<AppDiffs>(`diffs.${app}`);
      return d?.resources[0]?.diffState === 'OutOfSync' ? d : undefined;
    });
    assert.deepEqual(
      doc.resources[0]?.patch.map((op) => op.path),
      ['/spec/template/spec/containers/0/image'],
      'the ignored replicas are not in the patch',
    );

    // A jq expression outside the supported subset: Unknown with a ComparisonError naming it.
    const before = eventsOf(app).length;
    spec.spec.ignoreDifferences = [{ group: 'apps', kind: 'Deployment', jqPathExpressions: ['.spec | keys'] }];
    await appsKv.put(app, spec);
    const unknown = await nextEvent(app, before, (e) => e.syncStatus === 'Unknown', 3_000, 'Unknown after a bad jq expression');
    assert.equal(unknown.event.data.reason, 'drift');
    const record = (await comparisonKv.get(app))?.value;
    assert.equal(record?.conditions[0]?.type, 'ComparisonError');
    assert.match(
      record?.conditions[0]?.message ?? '',
      /^FERRY_ERR_APP_INVALID: spec\.ignoreDifferences\[0\]\.jqPathExpressions\[0\] "\.spec \| keys"/,
    );
  });
});
