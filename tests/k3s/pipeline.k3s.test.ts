/**
 * The end-to-end scenario of tests/e2e/pipeline.test.ts against a real cluster: k3s and NATS
 * (JetStream) in containers (testcontainers), the Git smart-HTTP server, webhook and trace receivers
 * and the six services as processes on the host, kubectl against k3s's kubeconfig.
 *
 * It runs where a container runtime (Docker) exists; elsewhere the whole suite is skipped with the
 * runtime's error as the reason. FERRY_TEST_K3S=skip skips it on purpose. The workload is a
 * Deployment of the pause image (see containers.ts): the node still pulls images, so the Docker host
 * needs registry access (or the images preloaded).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePort,
  kubectlPath,
  startGitServer,
  startServiceProcess,
  startTraceReceiver,
  startWebhookReceiver,
  tempDir,
  waitUntil,
  type GitRepoHandle,
  type GitServerHandle,
  type ServiceProcess,
  type TempDir,
  type TraceReceiver,
  type WebhookReceiver,
} from '@ferry/testing';
import {
  containerRuntimeProblem,
  startK3s,
  startNatsContainer,
  workloadImage,
  type K3sCluster,
  type NatsInContainer,
} from './containers.js';
import { application, configMapYaml, createFerryApi, createKubectl, deploymentYaml, serviceYaml } from '../lib/scenario.js';

const root = new URL('../../', import.meta.url).pathname;
const token = 'k3s-e2e-token-0123456789abcdef';
const kubectl = kubectlPath();

// Decided once, before any suite is declared: a skipped suite says why in the test output.
const runtimeProblem = kubectl === undefined ? undefined : await containerRuntimeProblem();
const skip =
  kubectl === undefined
    ? 'kubectl not found at /usr/bin/kubectl or on PATH'
    : runtimeProblem !== undefined
      ? `no container runtime: ${runtimeProblem} — this suite runs where Docker exists`
      : false;

describe('Ferry end to end against a real k3s cluster (testcontainers)', { skip }, () => {
  let cluster: K3sCluster | undefined;
  let nats: NatsInContainer | undefined;
  let git: GitServerHandle | undefined;
  let webhook: WebhookReceiver | undefined;
  let traces: TraceReceiver | undefined;
  let work: TempDir | undefined;
  let repo: GitRepoHandle;
  let apiUrl = '';
  const services: ServiceProcess[] = [];

  const api = createFerryApi(() => apiUrl, token);
  const kube = createKubectl(kubectl ?? 'kubectl', () => {
    assert.ok(cluster, 'k3s is running');
    return cluster.kubeconfigPath;
  });

  before(
    async () => {
      work = await tempDir('ferry-k3s-e2e-');
      // allSettled: whatever did start is assigned, so `after` stops it even when another part failed.
      const [k3sResult, natsResult, gitResult, webhookResult, tracesResult] = await Promise.allSettled([
        startK3s(),
        startNatsContainer(),
        startGitServer(),
        startWebhookReceiver(),
        startTraceReceiver(),
      ]);
      if (k3sResult.status === 'fulfilled') cluster = k3sResult.value;
      if (natsResult.status === 'fulfilled') nats = natsResult.value;
      if (gitResult.status === 'fulfilled') git = gitResult.value;
      if (webhookResult.status === 'fulfilled') webhook = webhookResult.value;
      if (tracesResult.status === 'fulfilled') traces = tracesResult.value;
      for (const result of [k3sResult, natsResult, gitResult, webhookResult, tracesResult]) {
        if (result.status === 'rejected') throw result.reason;
      }
      assert.ok(cluster && nats && git && webhook && traces);

      const ready = await kube.run('wait', '--for=condition=Ready', 'node', '--all', '--timeout=120s');
      assert.equal(ready.code, 0, `the k3s node becomes Ready: ${ready.stderr}`);

      repo = await git.createRepo('shop', {
        'k8s/deployment.yaml': deploymentYaml(2, workloadImage),
        'k8s/service.yaml': serviceYaml,
        'k8s/configmap.yaml': configMapYaml,
      });
      const notifierConfig = join(work.path, 'notifications.yaml');
      writeFileSync(
        notifierConfig,
        `channels:\n  - name: e2e\n    type: webhook\n    url: ${webhook.url}/hook\n    secret: e2e-secret\nsubscriptions:\n  - triggers: [on-deployed, on-sync-failed, on-health-degraded]\n    channels: [e2e]\n`,
      );
      const apiPort = await freePort();
      apiUrl = `http://127.0.0.1:${apiPort}`;
      const env = {
        FERRY_NATS_URL: nats.url,
        FERRY_KUBECONFIG: cluster.kubeconfigPath,
        FERRY_HTTP_PORT: '0',
        FERRY_LOG_LEVEL: 'info',
        FERRY_POLL_INTERVAL_MS: '600000',
        FERRY_GIT_CACHE_DIR: join(work.path, 'git-cache'),
        FERRY_API_TOKENS: `admin=${token}`,
        FERRY_NOTIFIER_CONFIG: notifierConfig,
        OTEL_EXPORTER_OTLP_ENDPOINT: traces.url,
      };
      const started = await Promise.allSettled(
        ['poller', 'differ', 'applier', 'health', 'notifier', 'api'].map((name) =>
          startServiceProcess({
            name,
            entry: join(root, 'services', name, 'src', 'main.ts'),
            env: name === 'api' ? { ...env, FERRY_HTTP_PORT: String(apiPort) } : env,
            timeoutMs: 60_000,
          }),
        ),
      );
      for (const result of started) if (result.status === 'fulfilled') services.push(result.value);
      for (const result of started) if (result.status === 'rejected') throw result.reason;
    },
    { timeout: 420_000 },
  );

  after(
    async () => {
      await Promise.allSettled(services.map((s) => s.stop()));
      await Promise.allSettled([
        cluster?.close(),
        nats?.container.stop({ timeout: 5_000 }),
        git?.close(),
        webhook?.close(),
        traces?.close(),
      ]);
      await work?.cleanup();
    },
    { timeout: 120_000 },
  );

  let firstRevision = '';

  test(
    'a pushed commit and a refresh: pods run on the node, the app is Synced and Healthy, on-deployed arrives once, history has the revision',
    { timeout: 300_000 },
    async () => {
      assert.ok(webhook);
      firstRevision = await repo.head();
      await api.request('PUT', '/api/v1/applications/shop', application('shop', 'shop', repo.url, true));
      await api.request('POST', '/api/v1/applications/shop/refresh');
      // The first pods wait for image pulls on a fresh node: minutes on a slow registry.
      const app = await api.waitForApp(
        'shop',
        (a) => a.status.sync.status === 'Synced' && a.status.health.status === 'Healthy' && a.status.sync.revision === firstRevision,
        'shop Synced and Healthy at the first commit',
        240_000,
      );
      assert.ok(
        app.status.history.some((h) => h.revision === firstRevision),
        'history has the revision',
      );
      const live = await kube.deployment('shop');
      assert.equal(live.metadata.annotations?.['ferry.dev/tracking-id'], 'shop:apps/Deployment:shop/web');
      assert.equal(live.status?.readyReplicas, 2, 'the kubelet runs both pods');
      assert.equal((await kube.run('get', 'configmap', 'settings', '-n', 'shop')).code, 0);

      const deployed = (r: { json: unknown }): boolean => {
        const body = r.json as { trigger?: string; app?: string; revision?: string } | undefined;
        return body?.trigger === 'on-deployed' && body.app === 'shop' && body.revision === firstRevision;
      };
      await webhook.waitForCount(1, deployed, 30_000);
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(webhook.requests().filter(deployed).length, 1, 'on-deployed is sent once');
    },
  );

  test('one trace per revision: poller, differ, applier, health and notifier spans share its trace id', { timeout: 60_000 }, async () => {
    assert.ok(traces);
    const wanted = ['poller', 'differ', 'applier', 'health', 'notifier'];
    const spans = await traces.waitForSpans((all) => {
      const byTrace = new Map<string, Set<string>>();
      for (const s of all) {
        if (s.attributes['ferry.app'] !== 'shop') continue;
        const set = byTrace.get(s.traceId) ?? new Set<string>();
        set.add(String(s.serviceName).replace(/^ferry-/, ''));
        byTrace.set(s.traceId, set);
      }
      return [...byTrace.values()].some((set) => wanted.every((w) => set.has(w)));
    }, 30_000);
    // The revision was synced once: that sync's trace holds every service's spans for the revision.
    const syncTraces = new Set(
      spans
        .filter(
          (s) =>
            s.name.startsWith('applier.sync') && s.attributes['ferry.app'] === 'shop' && s.attributes['ferry.revision'] === firstRevision,
        )
        .map((s) => s.traceId),
    );
    assert.equal(syncTraces.size, 1, `one sync trace for the revision, got ${syncTraces.size}`);
    const [traceId] = [...syncTraces];
    const inTrace = new Set(spans.filter((s) => s.traceId === traceId).map((s) => String(s.serviceName).replace(/^ferry-/, '')));
    for (const w of wanted) assert.ok(inTrace.has(w), `the revision's trace has ${w} spans (has ${[...inTrace].join(', ')})`);
    const detect = spans.find((s) => s.traceId === traceId && s.name.startsWith('poller.'));
    assert.equal(detect?.attributes['ferry.revision'], firstRevision, 'the poller span names the revision');
  });

  test('a commit that removes a resource prunes it from the cluster', { timeout: 120_000 }, async () => {
    const revision = await repo.commit({ 'k8s/configmap.yaml': null }, 'drop the settings ConfigMap');
    await api.request('POST', '/api/v1/applications/shop/refresh');
    await api.waitForApp(
      'shop',
      (a) => a.status.sync.status === 'Synced' && a.status.sync.revision === revision,
      'shop Synced at the pruning commit',
    );
    await waitUntil(async () => (await kube.run('get', 'configmap', 'settings', '-n', 'shop')).code !== 0 || undefined, {
      timeoutMs: 30_000,
      intervalMs: 500,
      message: 'the ConfigMap is pruned',
    });
  });

  test('a commit that breaks a YAML file leaves the cluster untouched and names the file and line', { timeout: 180_000 }, async () => {
    const before = await kube.deployment('shop');
    const goodRevision = await repo.head();
    await repo.commit(
      { 'k8s/deployment.yaml': deploymentYaml(3, workloadImage).replace('  replicas: 3', '  replicas: 3\n   bad: indentation') },
      'break the YAML',
    );
    await api.request('POST', '/api/v1/applications/shop/refresh');
    const app = await api.waitForApp(
      'shop',
      (a) => a.status.conditions.some((c) => c.message.includes('k8s/deployment.yaml:')),
      'a condition naming k8s/deployment.yaml and a line',
    );
    const condition = app.status.conditions.find((c) => c.message.includes('k8s/deployment.yaml:'));
    assert.match(condition?.message ?? '', /k8s\/deployment\.yaml:\d+/);
    // As in Argo CD, a revision whose manifests cannot be generated leaves the sync status Unknown; the last sync stays the good one.
    assert.equal(app.status.sync.status, 'Unknown');
    assert.equal(app.status.history.at(-1)?.revision, goodRevision, 'the last sync is still the good revision');
    const after = await kube.deployment('shop');
    assert.equal(after.metadata.generation, before.metadata.generation, 'the Deployment spec was not changed');
    assert.equal(after.spec.replicas, 2);

    const fixed = await repo.commit({ 'k8s/deployment.yaml': deploymentYaml(2, workloadImage) }, 'fix the YAML');
    await api.request('POST', '/api/v1/applications/shop/refresh');
    await api.waitForApp(
      'shop',
      (a) =>
        a.status.sync.revision === fixed &&
        a.status.sync.status === 'Synced' &&
        !a.status.conditions.some((c) => c.message.includes('k8s/deployment.yaml:')),
      'the fix clears the condition',
    );
  });

  test('kubectl scale on the real cluster is reverted when selfHeal is on', { timeout: 120_000 }, async () => {
    const scaled = await kube.run('scale', 'deployment', 'web', '-n', 'shop', '--replicas=5');
    assert.equal(scaled.code, 0, scaled.stderr);
    await waitUntil(async () => ((await kube.deployment('shop')).spec.replicas === 2 ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 500,
      message: 'selfHeal puts replicas back to 2',
    });
  });

  test('kubectl scale on the real cluster is reported OutOfSync when selfHeal is off', { timeout: 300_000 }, async () => {
    await api.request('PUT', '/api/v1/applications/shop-noheal', application('shop-noheal', 'shop-noheal', repo.url, false));
    await api.waitForApp(
      'shop-noheal',
      (a) => a.status.sync.status === 'Synced' && a.status.health.status === 'Healthy',
      'shop-noheal Synced and Healthy',
      240_000,
    );
    const scaled = await kube.run('scale', 'deployment', 'web', '-n', 'shop-noheal', '--replicas=4');
    assert.equal(scaled.code, 0, scaled.stderr);
    const app = await api.waitForApp('shop-noheal', (a) => a.status.sync.status === 'OutOfSync', 'shop-noheal reported OutOfSync', 30_000);
    const drifted = app.status.resources.find((r) => r.kind === 'Deployment' && r.name === 'web');
    assert.equal(drifted?.status, 'OutOfSync');
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await kube.deployment('shop-noheal')).spec.replicas, 4, 'nothing reverted it');
  });
});
