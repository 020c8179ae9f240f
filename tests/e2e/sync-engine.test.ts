/**
 * The sync engine end to end (issue 4), every part real and each service its own process, as in
 * tests/e2e/pipeline.test.ts: waves and a PreSync hook applied in order, automatic rollback of a
 * revision that never becomes ready (with history, the rollback.completed event, the on-rollback
 * webhook and automated sync paused until a new commit), `ferry app diff` exit codes around a
 * `kubectl scale`, and app deletion with and without cascade.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  decodeEvent,
  EventType,
  type ApplicationStatus,
  type CloudEvent,
  type ResourceResult,
  type RollbackCompleted,
} from '@ferry/contracts';
import {
  freePort,
  kubectlPath,
  startGitServer,
  startNatsServer,
  startSandbox,
  startServiceProcess,
  startWebhookReceiver,
  tempDir,
  waitUntil,
  type GitRepoHandle,
  type GitServerHandle,
  type NatsServerHandle,
  type Sandbox,
  type ServiceProcess,
  type WebhookReceiver,
} from '@ferry/testing';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const token = 'e2e-sync-token-0123456789abcdef';
const kubectl = kubectlPath();
const FERRY_BIN = join(root, 'cli', 'bin', 'ferry.mjs');

// ---- manifests -----------------------------------------------------------------------------------

const wave = (n: number): string => `\n  annotations:\n    argocd.argoproj.io/sync-wave: "${n}"`;
const configMap = (name: string, annotations = ''): string => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}${annotations}
data:
  NAME: ${name}
`;
const deployment = (
  options: { image?: string; replicas?: number; annotations?: string; progressDeadlineSeconds?: number } = {},
): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }${options.annotations ?? ''}
spec:
  replicas: ${options.replicas ?? 2}${options.progressDeadlineSeconds ? `\n  progressDeadlineSeconds: ${options.progressDeadlineSeconds}` : ''}
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: ${options.image ?? 'nginx:1.27'}
          ports:
            - containerPort: 80
`;
const preSyncJob = `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    argocd.argoproj.io/hook: PreSync
    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: busybox:1.36
          command: ['sh', '-c', 'echo migrating']
`;

interface AppView {
  metadata: { name: string };
  status: ApplicationStatus;
}

interface SeenEvent {
  at: number;
  event: CloudEvent;
}

describe(
  'the sync engine end to end, each service its own process',
  { skip: kubectl ? false : 'kubectl not found at /usr/bin/kubectl or on PATH' },
  () => {
    let nats: NatsServerHandle;
    let sandbox: Sandbox;
    let git: GitServerHandle;
    let webhook: WebhookReceiver;
    let work: { path: string; cleanup(): Promise<void> };
    let apiUrl: string;
    let bus: NatsConnection;
    const seen: SeenEvent[] = [];
    const services: ServiceProcess[] = [];

    async function apiCall(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }> {
      const response = await fetch(`${apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: response.status, json, text };
    }

    async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
      const r = await apiCall(method, path, body);
      assert.ok(r.status >= 200 && r.status < 300, `${method} ${path} -> ${r.status} ${r.text}`);
      return r.json as T;
    }

    async function kube(...args: string[]): Promise<{ stdout: string; code: number; stderr: string }> {
      try {
        const { stdout, stderr } = await run(kubectl as string, args, { env: { ...process.env, KUBECONFIG: sandbox.kubeconfigPath } });
        return { stdout, stderr, code: 0 };
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string; code?: number };
        return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? 1 };
      }
    }

    async function kubeJson<T>(...args: string[]): Promise<T> {
      const { stdout, code, stderr } = await kube(...args, '-o', 'json');
      assert.equal(code, 0, `kubectl ${args.join(' ')}: ${stderr}`);
      return JSON.parse(stdout) as T;
    }

    function ferry(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
      return new Promise((resolve) => {
        execFile(
          process.execPath,
          [FERRY_BIN, ...args, '--server', apiUrl, '--token', token],
          {
            timeout: 30_000,
            env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: work.path, XDG_CONFIG_HOME: join(work.path, 'config'), TZ: 'UTC' },
          },
          (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
        );
      });
    }

    const application = (
      name: string,
      repo: GitRepoHandle,
      options: { selfHeal?: boolean; annotations?: Record<string, string>; automated?: boolean } = {},
    ): unknown => ({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name, namespace: 'argocd', ...(options.annotations ? { annotations: options.annotations } : {}) },
      spec: {
        project: 'default',
        source: { repoURL: repo.url, targetRevision: 'main', path: 'k8s' },
        destination: { server: 'https://kubernetes.default.svc', namespace: name },
        syncPolicy: {
          ...(options.automated === false ? {} : { automated: { prune: true, selfHeal: options.selfHeal ?? false } }),
          syncOptions: ['CreateNamespace=true'],
        },
      },
    });

    async function waitForApp(name: string, predicate: (app: AppView) => boolean, message: string, timeoutMs = 30_000): Promise<AppView> {
      let last: AppView | undefined;
      try {
        return await waitUntil(
          async () => {
            last = await api<AppView>('GET', `/api/v1/applications/${name}`);
            return predicate(last) ? last : undefined;
          },
          { timeoutMs, intervalMs: 200, message },
        );
      } catch (error) {
        const s = last?.status;
        const view = s && {
          sync: s.sync,
          health: s.health,
          conditions: s.conditions,
          operation: s.operationState && {
            phase: s.operationState.phase,
            message: s.operationState.message,
            revision: s.operationState.operation.sync.revision,
          },
          history: s.history.map((h) => `${h.id}:${h.revision.slice(0, 7)}:${h.phase}`),
          resources: s.resources.map((r) => `${r.kind}/${r.name} ${r.status} ${r.health?.status ?? ''}`),
        };
        throw new Error(`${(error as Error).message}; last status seen: ${JSON.stringify(view)}`, { cause: error });
      }
    }

    function waitForEvent(predicate: (e: SeenEvent) => boolean, timeoutMs: number, message: string, from = 0): Promise<SeenEvent> {
      return waitUntil(() => seen.slice(from).find(predicate), { timeoutMs, intervalMs: 50, message });
    }

    const eventOf = (type: EventType, app: string) => (e: SeenEvent) => e.event.type === type && e.event.subject === app;

    before(async () => {
      work = await tempDir('ferry-e2e-sync-');
      [nats, sandbox, git, webhook] = await Promise.all([
        startNatsServer(),
        startSandbox({ rolloutMs: 100 }),
        startGitServer(),
        startWebhookReceiver(),
      ]);
      bus = await connect({ servers: nats.url });
      bus.subscribe('gitops.>', {
        callback: (error, msg) => {
          if (error) return;
          try {
            seen.push({ at: Date.now(), event: decodeEvent(msg.data) });
          } catch {
            // not an event
          }
        },
      });
      await bus.flush();
      const notifierConfig = join(work.path, 'notifications.yaml');
      writeFileSync(
        notifierConfig,
        `channels:\n  - name: e2e\n    type: webhook\n    url: ${webhook.url}/hook\n    secret: e2e-secret\nsubscriptions:\n  - triggers: [on-rollback, on-sync-failed]\n    channels: [e2e]\n`,
      );
      const apiPort = await freePort();
      apiUrl = `http://127.0.0.1:${apiPort}`;
      const env = {
        FERRY_NATS_URL: nats.url,
        FERRY_KUBECONFIG: sandbox.kubeconfigPath,
        FERRY_LOG_LEVEL: 'info',
        FERRY_POLL_INTERVAL_MS: '600000',
        FERRY_GIT_CACHE_DIR: join(work.path, 'git-cache'),
        FERRY_API_TOKENS: `admin=${token}`,
        FERRY_NOTIFIER_CONFIG: notifierConfig,
      };
      const names = ['poller', 'differ', 'applier', 'health', 'notifier', 'api'];
      services.push(
        ...(await Promise.all(
          names.map(async (name) =>
            startServiceProcess({
              name,
              entry: join(root, 'services', name, 'src', 'main.ts'),
              env: { ...env, FERRY_HTTP_PORT: String(name === 'api' ? apiPort : await freePort()) },
              timeoutMs: 30_000,
            }),
          ),
        )),
      );
    });

    after(async () => {
      await Promise.allSettled(services.map((s) => s.stop()));
      await bus?.close().catch(() => undefined);
      await Promise.allSettled([nats?.close(), sandbox?.close(), git?.close(), webhook?.close()]);
      await work?.cleanup();
    });

    test('sync waves apply in order (-1, 0, 1, 2) after a PreSync hook Job that completed before the Deployment', async () => {
      const repo = await git.createRepo('waves', {
        'k8s/a-late.yaml': configMap('late', wave(2)),
        'k8s/b-zero.yaml': configMap('zero'),
        'k8s/c-early.yaml': configMap('early', wave(-1)),
        'k8s/d-deployment.yaml': deployment({ annotations: wave(1) }),
        'k8s/e-migrate.yaml': preSyncJob,
      });
      const revision = await repo.head();
      await api('PUT', '/api/v1/applications/waves', application('waves', repo));
      const app = await waitForApp(
        'waves',
        (a) =>
          a.status.sync.status === 'Synced' && a.status.sync.revision === revision && a.status.history.some((h) => h.revision === revision),
        'waves Synced at its first commit',
        40_000,
      );
      const entry = app.status.history.find((h) => h.revision === revision);
      assert.equal(entry?.phase, 'Succeeded');
      const result = (kind: string, name: string): ResourceResult => {
        const r = entry?.resources.find((x) => x.kind === kind && x.name === name);
        assert.ok(r, `the history entry has ${kind}/${name}: ${JSON.stringify(entry?.resources)}`);
        return r;
      };
      const job = result('Job', 'migrate');
      assert.equal(job.hookType, 'PreSync');
      assert.equal(job.syncPhase, 'PreSync');
      const ordered = [
        job,
        result('ConfigMap', 'early'),
        result('ConfigMap', 'zero'),
        result('Deployment', 'web'),
        result('ConfigMap', 'late'),
      ];
      assert.deepEqual(
        ordered.slice(1).map((r) => r.wave),
        [-1, 0, 1, 2],
      );
      for (const r of ordered) assert.ok(r.appliedAt, `${r.kind}/${r.name} carries appliedAt`);
      const times = ordered.map((r) => Date.parse(r.appliedAt as string));
      for (let i = 1; i < times.length; i++) {
        assert.ok(
          (times[i - 1] as number) < (times[i] as number),
          `${ordered[i - 1]?.name} (${ordered[i - 1]?.appliedAt}) is applied before ${ordered[i]?.name} (${ordered[i]?.appliedAt})`,
        );
      }
      // The cluster agrees: ConfigMaps are never written again, so their resourceVersions are creation order.
      const rv = async (name: string): Promise<number> =>
        Number(
          (await kubeJson<{ metadata: { resourceVersion: string } }>('get', 'configmap', name, '-n', 'waves')).metadata.resourceVersion,
        );
      const [early, zero, late] = [await rv('early'), await rv('zero'), await rv('late')];
      assert.ok(early < zero && zero < late, `creation order early ${early} < zero ${zero} < late ${late}`);
      const liveJob = await kubeJson<{ status: { succeeded?: number; completionTime?: string } }>('get', 'job', 'migrate', '-n', 'waves');
      assert.equal(liveJob.status.succeeded, 1, 'the PreSync Job completed');
      const liveDeployment = await kubeJson<{ metadata: { creationTimestamp: string } }>('get', 'deployment', 'web', '-n', 'waves');
      assert.ok(
        Date.parse(liveJob.status.completionTime as string) <= Date.parse(liveDeployment.metadata.creationTimestamp),
        'the Job completed before the Deployment was created',
      );
      assert.ok(!app.status.resources.some((r) => r.kind === 'Job'), 'the hook is not part of the compared resources');
    });

    test('auto-rollback: a revision that never becomes ready is rolled back to the last healthy one, reported, and automated sync waits for a new commit', async () => {
      const progressDeadlineSeconds = 200; // × the sandbox's 5 ms per second = 1 s
      const repo = await git.createRepo('rollme', { 'k8s/deployment.yaml': deployment({ progressDeadlineSeconds }) });
      const good = await repo.head();
      await api('PUT', '/api/v1/applications/rollme', application('rollme', repo, { annotations: { 'ferry.dev/auto-rollback': 'true' } }));
      await waitForApp(
        'rollme',
        (a) => a.status.sync.status === 'Synced' && a.status.health.status === 'Healthy' && a.status.sync.revision === good,
        'rollme Synced and Healthy at commit A',
      );

      const from = seen.length;
      const bad = await repo.commit(
        { 'k8s/deployment.yaml': deployment({ progressDeadlineSeconds, image: 'nginx:crashloop' }) },
        'B: an image that never becomes ready',
      );
      await api('POST', '/api/v1/applications/rollme/refresh');
      const completed = await waitForEvent(eventOf(EventType.RollbackCompleted, 'rollme'), 40_000, 'rollback.completed for rollme', from);
      const data = completed.event.data as RollbackCompleted;
      assert.equal(data.automatic, true);
      assert.equal(data.fromRevision, bad);
      assert.equal(data.toRevision, good);
      assert.equal(data.result, 'succeeded');

      const app = await waitForApp(
        'rollme',
        (a) => a.status.history.at(-1)?.revision === good && a.status.history.some((h) => h.revision === bad),
        'history ends with the rollback to A, after B',
      );
      const ids = app.status.history.map((h) => h.revision);
      assert.ok(ids.lastIndexOf(bad) < ids.lastIndexOf(good), `B then the rollback to A in history: ${ids.join(', ')}`);
      const live = await kubeJson<{ spec: { template: { spec: { containers: Array<{ image: string }> } } } }>(
        'get',
        'deployment',
        'web',
        '-n',
        'rollme',
      );
      assert.equal(live.spec.template.spec.containers[0]?.image, 'nginx:1.27', 'the Deployment runs A again');

      await webhook.waitFor((r) => {
        const body = r.json as { trigger?: string; app?: string } | undefined;
        return body?.trigger === 'on-rollback' && body.app === 'rollme';
      }, 15_000);

      // Paused: B stays the target, but no automated sync of B follows the rollback.
      const afterRollback = seen.length;
      await new Promise((r) => setTimeout(r, 3000));
      const resynced = seen
        .slice(afterRollback)
        .some((e) => eventOf(EventType.SyncStarted, 'rollme')(e) && (e.event.data as { revision?: string }).revision === bad);
      assert.equal(resynced, false, 'automated sync does not retry B');
      const still = await kubeJson<{ spec: { template: { spec: { containers: Array<{ image: string }> } } } }>(
        'get',
        'deployment',
        'web',
        '-n',
        'rollme',
      );
      assert.equal(still.spec.template.spec.containers[0]?.image, 'nginx:1.27');

      const fixed = await repo.commit(
        { 'k8s/deployment.yaml': deployment({ progressDeadlineSeconds, image: 'nginx:1.28' }) },
        'C: a good image',
      );
      await api('POST', '/api/v1/applications/rollme/refresh');
      await waitForApp(
        'rollme',
        (a) => a.status.sync.status === 'Synced' && a.status.sync.revision === fixed && a.status.history.at(-1)?.revision === fixed,
        'commit C is synced automatically',
      );
      const now = await kubeJson<{ spec: { template: { spec: { containers: Array<{ image: string }> } } } }>(
        'get',
        'deployment',
        'web',
        '-n',
        'rollme',
      );
      assert.equal(now.spec.template.spec.containers[0]?.image, 'nginx:1.28');
    });

    test('syncPolicy.retry: a sync that fails is retried with backoff inside one operation, and succeeds once the cause is fixed', async () => {
      const repo = await git.createRepo('retrier', {
        'k8s/settings.yaml': configMap('settings'),
        'k8s/elsewhere.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: elsewhere\n  namespace: retrier-later\ndata:\n  K: v\n`,
      });
      const revision = await repo.head();
      const manifest = application('retrier', repo) as { spec: { syncPolicy: Record<string, unknown> } };
      manifest.spec.syncPolicy['retry'] = { limit: 4, backoff: { duration: '1s', factor: 2, maxDuration: '4s' } };
      const from = seen.length;
      await api('PUT', '/api/v1/applications/retrier', manifest);
      const retrying = await waitForApp(
        'retrier',
        (a) => /Retrying attempt #1/.test(a.status.operationState?.message ?? ''),
        'the first attempt fails (namespace retrier-later missing) and a retry is scheduled',
      );
      assert.equal(retrying.status.operationState?.phase, 'Running', 'the operation stays Running between attempts');
      const created = await kube('create', 'namespace', 'retrier-later');
      assert.equal(created.code, 0, created.stderr);
      const app = await waitForApp(
        'retrier',
        (a) => a.status.sync.status === 'Synced' && a.status.history.some((h) => h.revision === revision && h.phase === 'Succeeded'),
        'a retry succeeds once the namespace exists',
        20_000,
      );
      const entry = app.status.history.find((h) => h.revision === revision);
      assert.ok(((entry as { retryCount?: number } | undefined)?.retryCount ?? 0) >= 1, `retryCount recorded: ${JSON.stringify(entry)}`);
      const started = seen.slice(from).filter((e) => eventOf(EventType.SyncStarted, 'retrier')(e));
      const failed = seen.slice(from).filter((e) => eventOf(EventType.SyncFailed, 'retrier')(e));
      assert.equal(started.length, 1, 'one sync.started for the whole operation');
      assert.equal(failed.length, 0, 'no sync.failed: the retries are part of the operation');
      const startedAt = Date.parse((started[0]?.event.data as { startedAt: string }).startedAt);
      assert.ok(Date.parse(entry?.deployedAt ?? '') - startedAt >= 1000, 'at least the first backoff (1 s) passed before success');
    });

    test('ferry app rollback is refused while automated sync is on, and with --disable-auto-sync syncs the history entry and reports it', async () => {
      const before = await api<AppView & { spec: { syncPolicy?: { automated?: unknown } } }>('GET', '/api/v1/applications/rollme');
      const first = before.status.history.find((h) => h.id === Math.min(...before.status.history.map((x) => x.id)));
      assert.ok(first, 'rollme has history');
      const refused = await ferry(['app', 'rollback', 'rollme', String(first.id)]);
      assert.notEqual(refused.code, 0, 'refused while automated sync is on');
      assert.match(refused.stderr, /FERRY_ERR_API_ROLLBACK_AUTOSYNC/);

      const from = seen.length;
      const done = await ferry(['app', 'rollback', 'rollme', String(first.id), '--disable-auto-sync']);
      assert.equal(done.code, 0, `${done.stdout}${done.stderr}`);
      const completed = await waitForEvent(
        eventOf(EventType.RollbackCompleted, 'rollme'),
        20_000,
        'rollback.completed of the manual rollback',
        from,
      );
      const data = completed.event.data as RollbackCompleted;
      assert.equal(data.automatic, false);
      assert.equal(data.toRevision, first.revision);
      assert.equal(data.historyId, first.id);
      const after = await waitForApp(
        'rollme',
        (a) => a.status.history.at(-1)?.revision === first.revision,
        'history ends with the rollback',
      );
      assert.equal(
        (after as unknown as { spec: { syncPolicy?: { automated?: unknown } } }).spec.syncPolicy?.automated,
        undefined,
        'automated sync was turned off',
      );
      assert.equal((after.status.history.at(-1) as { kind?: string } | undefined)?.kind, 'rollback');
      const live = await kubeJson<{ spec: { template: { spec: { containers: Array<{ image: string }> } } } }>(
        'get',
        'deployment',
        'web',
        '-n',
        'rollme',
      );
      assert.equal(live.spec.template.spec.containers[0]?.image, 'nginx:1.27', 'the Deployment runs the first revision again');
    });

    test('ferry app diff exits 1 after kubectl scale on a selfHeal-off app, and 0 once a manual sync put it back', async () => {
      const repo = await git.createRepo('drifty', { 'k8s/deployment.yaml': deployment(), 'k8s/settings.yaml': configMap('settings') });
      const revision = await repo.head();
      await api('PUT', '/api/v1/applications/drifty', application('drifty', repo, { selfHeal: false }));
      await waitForApp('drifty', (a) => a.status.sync.status === 'Synced' && a.status.sync.revision === revision, 'drifty Synced');
      const clean = await ferry(['app', 'diff', 'drifty']);
      assert.equal(clean.code, 0, `no difference yet: ${clean.stdout}${clean.stderr}`);

      const scaled = await kube('scale', 'deployment', 'web', '-n', 'drifty', '--replicas=4');
      assert.equal(scaled.code, 0, scaled.stderr);
      await waitForApp('drifty', (a) => a.status.sync.status === 'OutOfSync', 'drifty OutOfSync after the scale', 10_000);
      const drift = await ferry(['app', 'diff', 'drifty']);
      assert.equal(drift.code, 1, `ferry app diff exits 1 on drift: ${drift.stdout}${drift.stderr}`);
      assert.match(drift.stdout, /replicas/, 'the diff shows the replicas field');
      assert.match(drift.stdout, /Deployment/);

      // A dry run reports the change and changes nothing: replicas stay 4, history does not grow.
      const historyBefore = (await api<AppView>('GET', '/api/v1/applications/drifty')).status.history.length;
      const fromDry = seen.length;
      await api('POST', '/api/v1/applications/drifty/sync', { dryRun: true });
      const dry = await waitForEvent(
        (e) =>
          (eventOf(EventType.SyncSucceeded, 'drifty')(e) || eventOf(EventType.SyncFailed, 'drifty')(e)) &&
          (e.event.data as { dryRun?: boolean }).dryRun === true,
        15_000,
        'the dry-run sync of drifty completes',
        fromDry,
      );
      assert.equal(dry.event.type, EventType.SyncSucceeded, JSON.stringify(dry.event.data).slice(0, 1000));
      assert.equal(
        (await kubeJson<{ spec: { replicas: number } }>('get', 'deployment', 'web', '-n', 'drifty')).spec.replicas,
        4,
        'the dry run changed nothing',
      );
      assert.equal(
        (await api<AppView>('GET', '/api/v1/applications/drifty')).status.history.length,
        historyBefore,
        'a dry run is not in history',
      );

      await api('POST', '/api/v1/applications/drifty/sync', {});
      await waitUntil(
        async () =>
          (await kubeJson<{ spec: { replicas: number } }>('get', 'deployment', 'web', '-n', 'drifty')).spec.replicas === 2
            ? true
            : undefined,
        { timeoutMs: 15_000, message: 'the manual sync puts replicas back to 2' },
      );
      await waitForApp('drifty', (a) => a.status.sync.status === 'Synced', 'drifty Synced after the manual sync', 10_000);
      const synced = await ferry(['app', 'diff', 'drifty']);
      assert.equal(synced.code, 0, `ferry app diff exits 0 once Synced: ${synced.stdout}${synced.stderr}`);
    });

    test('deleting an app with cascade removes its objects; with cascade=false they stay', async () => {
      const removed = await apiCall('DELETE', '/api/v1/applications/drifty');
      assert.ok(removed.status < 300, `DELETE drifty -> ${removed.status} ${removed.text}`);
      await waitUntil(
        async () =>
          (await kube('get', 'deployment', 'web', '-n', 'drifty')).code !== 0 &&
          (await kube('get', 'configmap', 'settings', '-n', 'drifty')).code !== 0
            ? true
            : undefined,
        { timeoutMs: 15_000, message: "drifty's Deployment and ConfigMap are deleted" },
      );

      const orphaned = await apiCall('DELETE', '/api/v1/applications/waves?cascade=false');
      assert.ok(orphaned.status < 300, `DELETE waves?cascade=false -> ${orphaned.status} ${orphaned.text}`);
      await waitUntil(async () => ((await apiCall('GET', '/api/v1/applications/waves')).status === 404 ? true : undefined), {
        timeoutMs: 5000,
        message: 'waves is gone from the api',
      });
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal((await kube('get', 'deployment', 'web', '-n', 'waves')).code, 0, 'the Deployment of waves is kept');
      assert.equal((await kube('get', 'configmap', 'late', '-n', 'waves')).code, 0, 'the ConfigMaps of waves are kept');
    });
  },
);
