/**
 * End to end, with every part real: nats-server, a Git smart-HTTP server, the sandbox cluster
 * (checked with real kubectl), and the six services each in its own process, exporting traces over
 * OTLP to a test receiver and notifying a test webhook.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  application as scenarioApplication,
  configMapYaml,
  createFerryApi,
  createKubectl,
  deploymentYaml,
  serviceYaml,
  type AppView,
  type LiveDeployment,
} from '../lib/scenario.js';
import {
  freePort,
  kubectlPath,
  startGitServer,
  startNatsServer,
  startSandbox,
  startServiceProcess,
  startTraceReceiver,
  startWebhookReceiver,
  tempDir,
  waitUntil,
  type GitRepoHandle,
  type GitServerHandle,
  type NatsServerHandle,
  type Sandbox,
  type ServiceProcess,
  type TraceReceiver,
  type WebhookReceiver,
} from '@ferry/testing';

const root = new URL('../../', import.meta.url).pathname;
const token = 'e2e-token-0123456789abcdef';
const kubectl = kubectlPath();

const deployment = (replicas: number): string => deploymentYaml(replicas, 'nginx:1.27');

describe('Ferry end to end, each service its own process', { skip: kubectl ? false : 'kubectl not found at /usr/bin/kubectl or on PATH' }, () => {
  let nats: NatsServerHandle;
  let sandbox: Sandbox;
  let git: GitServerHandle;
  let repo: GitRepoHandle;
  let webhook: WebhookReceiver;
  let traces: TraceReceiver;
  let work: { path: string; cleanup(): Promise<void> };
  let apiUrl: string;
  const services: ServiceProcess[] = [];
  const httpPorts: Record<string, number> = {};

  const ferry = createFerryApi(() => apiUrl, token);
  const cluster = createKubectl(kubectl as string, () => sandbox.kubeconfigPath);
  const api = <T,>(method: string, path: string, body?: unknown): Promise<T> => ferry.request<T>(method, path, body);
  const kube = (...args: string[]): ReturnType<typeof cluster.run> => cluster.run(...args);
  const liveDeployment = (namespace: string): Promise<LiveDeployment> => cluster.deployment(namespace);
  const application = (name: string, namespace: string, selfHeal: boolean): unknown => scenarioApplication(name, namespace, repo.url, selfHeal);
  const waitForApp = (name: string, predicate: (app: AppView) => boolean, message: string, timeoutMs = 30_000): Promise<AppView> =>
    ferry.waitForApp(name, predicate, message, timeoutMs);

  before(async () => {
    work = await tempDir('ferry-e2e-');
    [nats, sandbox, git, webhook, traces] = await Promise.all([
      startNatsServer(),
      startSandbox({ rolloutMs: 100 }),
      startGitServer(),
      startWebhookReceiver(),
      startTraceReceiver(),
    ]);
    repo = await git.createRepo('shop', {
      'k8s/deployment.yaml': deployment(2),
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
      FERRY_KUBECONFIG: sandbox.kubeconfigPath,
      FERRY_HTTP_PORT: '0',
      FERRY_LOG_LEVEL: 'info',
      FERRY_POLL_INTERVAL_MS: '600000',
      FERRY_GIT_CACHE_DIR: join(work.path, 'git-cache'),
      FERRY_API_TOKENS: `admin=${token}`,
      FERRY_NOTIFIER_CONFIG: notifierConfig,
      OTEL_EXPORTER_OTLP_ENDPOINT: traces.url,
    };
    const names = ['poller', 'differ', 'applier', 'health', 'notifier', 'api'];
    for (const name of names) httpPorts[name] = name === 'api' ? apiPort : await freePort();
    services.push(
      ...(await Promise.all(
        names.map((name) =>
          startServiceProcess({
            name,
            entry: join(root, 'services', name, 'src', 'main.ts'),
            env: { ...env, FERRY_HTTP_PORT: String(httpPorts[name]) },
            timeoutMs: 30_000,
          }),
        ),
      )),
    );
  });

  after(async () => {
    await Promise.allSettled(services.map((s) => s.stop()));
    await Promise.allSettled([nats?.close(), sandbox?.close(), git?.close(), webhook?.close(), traces?.close()]);
    await work?.cleanup();
  });

  let firstRevision = '';

  test('a pushed commit and a refresh: resources appear, the app is Synced and Healthy, on-deployed arrives once, history has the revision', async () => {
    firstRevision = await repo.head();
    await api('PUT', '/api/v1/applications/shop', application('shop', 'shop', true));
    await api('POST', '/api/v1/applications/shop/refresh');
    const app = await waitForApp(
      'shop',
      (a) => a.status.sync.status === 'Synced' && a.status.health.status === 'Healthy' && a.status.sync.revision === firstRevision,
      'shop Synced and Healthy at the first commit',
    );
    assert.ok(app.status.history.some((h) => h.revision === firstRevision), 'history has the revision');
    const live = await liveDeployment('shop');
    assert.equal(live.metadata.annotations?.['ferry.dev/tracking-id'], 'shop:apps/Deployment:shop/web');
    assert.equal((await kube('get', 'configmap', 'settings', '-n', 'shop')).code, 0);

    const deployed = (r: { json: unknown }): boolean => {
      const body = r.json as { trigger?: string; app?: string; revision?: string } | undefined;
      return body?.trigger === 'on-deployed' && body.app === 'shop' && body.revision === firstRevision;
    };
    await webhook.waitForCount(1, deployed, 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(webhook.requests().filter(deployed).length, 1, 'on-deployed is sent once');
    const signed = webhook.requests().find(deployed);
    assert.match(String(signed?.headers['x-ferry-signature'] ?? ''), /^sha256=[0-9a-f]{64}$/);
  });

  test('one trace per revision: poller, differ, applier, health and notifier spans share its trace id', async () => {
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
    }, 20_000);
    // The revision was synced once: that sync's trace holds every service's spans for the revision.
    const syncTraces = new Set(
      spans.filter((s) => s.name.startsWith('applier.sync') && s.attributes['ferry.app'] === 'shop' && s.attributes['ferry.revision'] === firstRevision).map((s) => s.traceId),
    );
    assert.equal(syncTraces.size, 1, `one sync trace for the revision, got ${syncTraces.size}`);
    const [traceId] = [...syncTraces];
    const services = new Set(spans.filter((s) => s.traceId === traceId).map((s) => String(s.serviceName).replace(/^ferry-/, '')));
    for (const w of wanted) assert.ok(services.has(w), `the revision's trace has ${w} spans (has ${[...services].join(', ')})`);
    const detect = spans.find((s) => s.traceId === traceId && s.name.startsWith('poller.'));
    assert.equal(detect?.attributes['ferry.revision'], firstRevision, 'the poller span names the revision');
  });

  test('a commit that removes a resource prunes it', async () => {
    const revision = await repo.commit({ 'k8s/configmap.yaml': null }, 'drop the settings ConfigMap');
    await api('POST', '/api/v1/applications/shop/refresh');
    await waitForApp('shop', (a) => a.status.sync.status === 'Synced' && a.status.sync.revision === revision, 'shop Synced at the pruning commit');
    await waitUntil(async () => (await kube('get', 'configmap', 'settings', '-n', 'shop')).code !== 0 || undefined, {
      timeoutMs: 10_000,
      message: 'the ConfigMap is pruned',
    });
  });

  test('a commit that breaks a YAML file leaves the cluster untouched and names the file and line', async () => {
    const before = await liveDeployment('shop');
    const goodRevision = await repo.head();
    await repo.commit({ 'k8s/deployment.yaml': deployment(3).replace('  replicas: 3', '  replicas: 3\n   bad: indentation') }, 'break the YAML');
    await api('POST', '/api/v1/applications/shop/refresh');
    const app = await waitForApp(
      'shop',
      (a) => a.status.conditions.some((c) => c.message.includes('k8s/deployment.yaml:')),
      'a condition naming k8s/deployment.yaml and a line',
    );
    const condition = app.status.conditions.find((c) => c.message.includes('k8s/deployment.yaml:'));
    assert.match(condition?.message ?? '', /k8s\/deployment\.yaml:\d+/);
    // As in Argo CD, a revision whose manifests cannot be generated leaves the sync status Unknown; the last sync stays the good one.
    assert.equal(app.status.sync.status, 'Unknown');
    assert.equal(app.status.history.at(-1)?.revision, goodRevision, 'the last sync is still the good revision');
    const after = await liveDeployment('shop');
    assert.equal(after.metadata.generation, before.metadata.generation, 'the Deployment spec was not changed');
    assert.equal(after.spec.replicas, 2);

    const fixed = await repo.commit({ 'k8s/deployment.yaml': deployment(2) }, 'fix the YAML');
    await api('POST', '/api/v1/applications/shop/refresh');
    await waitForApp(
      'shop',
      (a) => a.status.sync.revision === fixed && a.status.sync.status === 'Synced' && !a.status.conditions.some((c) => c.message.includes('k8s/deployment.yaml:')),
      'the fix clears the condition',
    );
  });

  test('kubectl scale is reverted when selfHeal is on', async () => {
    const scaled = await kube('scale', 'deployment', 'web', '-n', 'shop', '--replicas=5');
    assert.equal(scaled.code, 0, scaled.stderr);
    await waitUntil(async () => ((await liveDeployment('shop')).spec.replicas === 2 ? true : undefined), {
      timeoutMs: 15_000,
      message: 'selfHeal puts replicas back to 2',
    });
  });

  test('kubectl scale is reported OutOfSync when selfHeal is off', async () => {
    await api('PUT', '/api/v1/applications/shop-noheal', application('shop-noheal', 'shop-noheal', false));
    await waitForApp('shop-noheal', (a) => a.status.sync.status === 'Synced' && a.status.health.status === 'Healthy', 'shop-noheal Synced and Healthy');
    const scaled = await kube('scale', 'deployment', 'web', '-n', 'shop-noheal', '--replicas=4');
    assert.equal(scaled.code, 0, scaled.stderr);
    const app = await waitForApp('shop-noheal', (a) => a.status.sync.status === 'OutOfSync', 'shop-noheal reported OutOfSync', 10_000);
    const drifted = app.status.resources.find((r) => r.kind === 'Deployment' && r.name === 'web');
    assert.equal(drifted?.status, 'OutOfSync');
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal((await liveDeployment('shop-noheal')).spec.replicas, 4, 'nothing reverted it');
  });

  test('every service serves /metrics with its ferry_ metrics, accepted by promtool check metrics', async (t) => {
    const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
    const expected: Record<string, string> = {
      poller: 'ferry_poller_git_requests_total',
      differ: 'ferry_differ_comparisons_total',
      applier: 'ferry_applier_syncs_total',
      health: 'ferry_health_app_status',
      notifier: 'ferry_notifier_notifications_total',
      api: 'ferry_api_requests_total',
    };
    for (const [name, metric] of Object.entries(expected)) {
      const response = await fetch(`http://127.0.0.1:${httpPorts[name]}/metrics`);
      assert.equal(response.status, 200, `${name} /metrics`);
      const text = await response.text();
      assert.ok(text.includes(`${metric}`), `${name} exposes ${metric}`);
      if (!promtool) continue;
      const child = execFile(promtool, ['check', 'metrics']);
      const done = new Promise<{ code: number; out: string }>((resolve) => {
        let out = '';
        child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', (code) => resolve({ code: code ?? 1, out }));
      });
      child.stdin?.end(text);
      const { code, out } = await done;
      assert.equal(code, 0, `promtool check metrics on ${name}: ${out}`);
    }
    if (!promtool) t.diagnostic('promtool not found (apt-get install -y prometheus): metrics were fetched but not linted');
  });
});
