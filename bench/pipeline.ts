/**
 * Benchmark of the whole pipeline (prints one JSON object on stdout; progress on stderr).
 *
 * Starts the system as the end-to-end test does — a real nats-server, the Git smart-HTTP server of
 * @ferry/testing, the sandbox cluster (here in its own process, so its memory is measured apart),
 * and the six services each as its own process (poll interval 10 min, so only refresh requests
 * drive the pipeline) — and measures:
 * 1. commit → applied and commit → healthy after a refresh request, over BENCH_COMMITS commits of
 *    one app (each commit changes a ConfigMap value and the Deployment's pod-template annotation, so
 *    every sync is followed by a rollout). t0 is taken just before POST …/refresh; "applied" is the
 *    arrival of sync.succeeded for that revision on core NATS, "healthy" the arrival of the
 *    health.changed Healthy for that revision after which no other health.changed of the app
 *    arrives within BENCH_SETTLE_MS. Per-stage arrival times come from the same events.
 * 2. BENCH_APPS apps of 5 resources each (one repository, one directory per app) from the first
 *    PUT to every app Synced (its last diff.computed) and Healthy (its last health.changed), then
 *    confirmed through GET /api/v1/applications; peak memory (VmHWM and 200 ms VmRSS samples) and
 *    CPU seconds of every process.
 *
 * Usage: npm run bench:pipeline   (env: BENCH_COMMITS=20 BENCH_APPS=200 BENCH_TIMEOUT_MS=300000
 *        BENCH_ROLLOUT_MS=50 BENCH_SETTLE_MS=1000 BENCH_LOG_LEVEL=info BENCH_PUT_CONCURRENCY=16;
 *        BENCH_NODE_ARGS_<SERVICE>="--cpu-prof --cpu-prof-dir=/tmp/prof" adds node arguments to one service)
 */
import { join } from 'node:path';
import { EventType, type CloudEvent, type EventPayloads } from '@ferry/contracts';
import {
  freePort,
  startGitServer,
  startNatsServer,
  startServiceProcess,
  tempDir,
  type GitRepoHandle,
  type GitServerHandle,
  type NatsServerHandle,
  type ServiceProcess,
  type TempDir,
} from '@ferry/testing';
import { createCleanups, machine, progressLogger, sleep } from './lib/run.js';
import { startEventLog, type EventLog, type SeenEvent } from './lib/event-log.js';
import { scrapeHistograms, summariseHistograms, type HistogramTotals } from './lib/metrics-scrape.js';
import { childProcesses, startProcSampler, type ProcessFigures } from './lib/proc-sampler.js';
import type { SandboxProcessReady } from './lib/sandbox-process.js';
import { percentile, round, summary } from './lib/stats.js';

const intEnv = (name: string, fallback: number, min = 0): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${raw}`);
  return value;
};

const COMMITS = intEnv('BENCH_COMMITS', 20, 1);
const APPS = intEnv('BENCH_APPS', 200, 1);
const RESOURCES_PER_APP = 5;
const TIMEOUT_MS = intEnv('BENCH_TIMEOUT_MS', 300_000, 1000);
const ROLLOUT_MS = intEnv('BENCH_ROLLOUT_MS', 50);
const SETTLE_MS = intEnv('BENCH_SETTLE_MS', 1000);
const PUT_CONCURRENCY = intEnv('BENCH_PUT_CONCURRENCY', 16, 1);
const LOG_LEVEL = process.env['BENCH_LOG_LEVEL'] || 'info';
const TARGETS = { commitToAppliedP50Ms: 1000, registrationToSyncedHealthyMs: 30_000, peakRssMiBPerService: 200 } as const;
const SERVICES = ['poller', 'differ', 'applier', 'health', 'notifier', 'api'] as const;

const root = new URL('../', import.meta.url).pathname;
const token = 'bench-token-0123456789abcdef';
const benchStart = performance.now();

const progress = progressLogger('bench', benchStart);


// ---- manifests -----------------------------------------------------------------------------------

const deployment = (name: string, marker: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: { app: ${name} }
spec:
  replicas: 1
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
      annotations:
        bench.ferry.dev/commit: "${marker}"
    spec:
      containers:
        - name: ${name}
          image: nginx:1.27
          ports:
            - containerPort: 80
`;
const service = (name: string): string => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector: { app: ${name} }
  ports:
    - port: 80
      targetPort: 80
`;
const configMap = (value: string): string => `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  VALUE: "${value}"
`;
const secret = `apiVersion: v1
kind: Secret
metadata:
  name: creds
type: Opaque
data:
  password: c2VjcmV0
`;
const serviceAccount = (name: string): string => `apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${name}
`;

const application = (name: string, repoURL: string, path: string, namespace: string): unknown => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name, namespace: 'argocd' },
  spec: {
    project: 'default',
    source: { repoURL, targetRevision: 'main', path },
    destination: { server: 'https://kubernetes.default.svc', namespace },
    syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['CreateNamespace=true'] },
  },
});

// ---- the run -------------------------------------------------------------------------------------

interface StageTimes {
  refreshRequested?: number;
  revisionDetected?: number;
  diffComputed?: number;
  syncStarted?: number;
  syncSucceeded?: number;
  healthy?: number;
}

interface ApiApp {
  metadata: { name: string };
  status?: { sync?: { status?: string; revision?: string }; health?: { status?: string } };
}

const result: Record<string, unknown> = {};
const cleanups = createCleanups(progress);
const cleanup = (): Promise<void> => cleanups.run();


async function run(): Promise<void> {
  const work: TempDir = await tempDir('ferry-bench-');
  cleanups.push({ name: 'temp dir', run: () => work.cleanup() });

  progress('starting nats-server, git server and the sandbox cluster');
  const [nats, git]: [NatsServerHandle, GitServerHandle] = await Promise.all([startNatsServer(), startGitServer()]);
  cleanups.push({ name: 'nats-server', run: () => nats.close() });
  cleanups.push({ name: 'git server', run: () => git.close() });
  const sandboxProcess = await startServiceProcess({
    name: 'sandbox',
    entry: join(root, 'bench', 'lib', 'sandbox-process.ts'),
    env: { BENCH_SANDBOX_KUBECONFIG: join(work.path, 'kubeconfig'), BENCH_SANDBOX_ROLLOUT_MS: String(ROLLOUT_MS) },
    timeoutMs: 30_000,
  });
  cleanups.push({ name: 'sandbox', run: () => sandboxProcess.stop('SIGTERM', 5000) });
  const sandboxReady = JSON.parse(await sandboxProcess.waitForLog(/"msg":"ready"/)) as SandboxProcessReady;

  const events: EventLog = await startEventLog(nats.url);
  cleanups.push({ name: 'event log', run: () => events.close() });

  const sampler = startProcSampler(200);
  cleanups.push({ name: 'sampler', run: async () => sampler.stop() });
  sampler.add('nats', nats.pid);
  sampler.add('sandbox', sandboxProcess.pid);
  const gitServerPid = (await childProcesses(process.pid)).find((c) => c.cmdline.includes('git-http-server'))?.pid;
  if (gitServerPid !== undefined) sampler.add('gitServer', gitServerPid);

  progress('starting the six services');
  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const env = {
    FERRY_NATS_URL: nats.url,
    FERRY_KUBECONFIG: sandboxReady.kubeconfigPath,
    FERRY_HTTP_PORT: '0',
    FERRY_LOG_LEVEL: LOG_LEVEL,
    FERRY_POLL_INTERVAL_MS: '600000',
    FERRY_GIT_CACHE_DIR: join(work.path, 'git-cache'),
    FERRY_API_TOKENS: `admin=${token}`,
  };
  const ports: Record<string, number> = { api: apiPort };
  for (const name of SERVICES) ports[name] ??= await freePort();
  const services: ServiceProcess[] = await Promise.all(
    SERVICES.map((name) => {
      const nodeArgs = (process.env[`BENCH_NODE_ARGS_${name.toUpperCase()}`] ?? '').split(' ').filter(Boolean);
      return startServiceProcess({
        name,
        entry: join(root, 'services', name, 'src', 'main.ts'),
        env: { ...env, FERRY_HTTP_PORT: String(ports[name]) },
        nodeArgs,
        timeoutMs: 60_000,
      });
    }),
  );
  const scrapeAll = async (): Promise<Record<string, Map<string, HistogramTotals>>> =>
    Object.fromEntries(
      await Promise.all(SERVICES.map(async (name) => [name, await scrapeHistograms(`http://127.0.0.1:${ports[name]}`)] as const)),
    );
  for (const s of services) {
    cleanups.push({ name: s.name, run: () => s.stop('SIGTERM', 10_000) });
    sampler.add(s.name, s.pid);
  }
  result['logs'] = Object.fromEntries(services.map((s) => [s.name, s.logFile]));
  progress(`services ready (logs: ${services.map((s) => s.logFile).join(' ')})`);

  async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} -> ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  const isType = <K extends EventType>(
    seen: SeenEvent,
    type: K,
    app: string,
  ): seen is SeenEvent & { event: CloudEvent<EventPayloads[K]> } => seen.event.type === type && seen.event.subject === app;

  /** Waits for Healthy at `revision` with no further health.changed of `app` for SETTLE_MS; returns the arrival of that Healthy. */
  async function settledHealthy(
    app: string,
    revision: string,
    from: number,
    timeoutMs: number,
  ): Promise<{ at: number; transitions: string[] }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const healthEvents = events.events.slice(from).filter((s) => isType(s, EventType.HealthChanged, app));
      const last = healthEvents.at(-1);
      const lastData = last?.event.data as EventPayloads[typeof EventType.HealthChanged] | undefined;
      if (last && lastData?.status === 'Healthy' && lastData.revision === revision && performance.now() - last.at >= SETTLE_MS) {
        return {
          at: last.at,
          transitions: healthEvents.map(
            (s) =>
              `${(s.event.data as { status: string }).status}@${String((s.event.data as { revision?: string }).revision ?? '').slice(0, 7)}`,
          ),
        };
      }
      if (performance.now() > deadline) {
        throw new Error(
          `timed out waiting for ${app} Healthy at ${revision.slice(0, 7)} (health events: ${healthEvents.map((s) => JSON.stringify(s.event.data)).join(', ')})`,
        );
      }
      await sleep(50);
    }
  }

  // ---- phase 1: commit → applied / healthy ---------------------------------------------------------
  progress(`phase 1: ${COMMITS} commits of one app, each followed by POST /refresh`);
  const latencyFiles = (i: number): Record<string, string> => ({
    'k8s/deployment.yaml': deployment('web', `c${i}`),
    'k8s/service.yaml': service('web'),
    'k8s/configmap.yaml': configMap(`value-${i}`),
  });
  const repo: GitRepoHandle = await git.createRepo('latency', latencyFiles(0));
  {
    const from = events.events.length;
    const head = await repo.head();
    await api('PUT', '/api/v1/applications/latency', application('latency', repo.url, 'k8s', 'latency'));
    await events.waitFor(
      (s) => isType(s, EventType.SyncSucceeded, 'latency') && s.event.data.revision === head,
      60_000,
      'the first sync of latency',
      from,
    );
    await settledHealthy('latency', head, from, 60_000);
    progress('latency app synced and healthy (warm-up done)');
  }
  const samples: Array<{ revision: string; stages: StageTimes; healthTransitions: string[] }> = [];
  for (let i = 1; i <= COMMITS; i++) {
    const revision = await repo.commit(latencyFiles(i), `bench commit ${i}`);
    const from = events.events.length;
    const t0 = performance.now();
    const { requestId } = await api<{ requestId: string }>('POST', '/api/v1/applications/latency/refresh');
    const applied = await events.waitFor(
      (s) => isType(s, EventType.SyncSucceeded, 'latency') && s.event.data.revision === revision,
      30_000,
      `sync.succeeded of latency at ${revision.slice(0, 7)}`,
      from,
    );
    const healthy = await settledHealthy('latency', revision, from, 30_000);
    const after = events.events.slice(from);
    const first = (pred: (s: SeenEvent) => boolean): number | undefined => {
      const found = after.find(pred);
      return found ? round(found.at - t0) : undefined;
    };
    const stages: StageTimes = {
      refreshRequested: first((s) => isType(s, EventType.RefreshRequested, 'latency') && s.event.data.requestId === requestId),
      revisionDetected: first((s) => isType(s, EventType.RevisionDetected, 'latency') && s.event.data.revision === revision),
      diffComputed: first((s) => isType(s, EventType.DiffComputed, 'latency') && s.event.data.revision === revision),
      syncStarted: first((s) => isType(s, EventType.SyncStarted, 'latency') && s.event.data.revision === revision),
      syncSucceeded: round(applied.at - t0),
      healthy: round(healthy.at - t0),
    };
    samples.push({ revision, stages, healthTransitions: healthy.transitions });
    progress(
      `commit ${i}/${COMMITS}: applied ${stages.syncSucceeded} ms, healthy ${stages.healthy} ms (${healthy.transitions.join(' → ')})`,
    );
  }
  const appliedMs = samples.map((s) => s.stages.syncSucceeded as number);
  const healthyMs = samples.map((s) => s.stages.healthy as number);
  const stageNames = ['refreshRequested', 'revisionDetected', 'diffComputed', 'syncStarted', 'syncSucceeded', 'healthy'] as const;
  const stageP50 = Object.fromEntries(
    stageNames.map((n) => [n, round(percentile(samples.map((s) => s.stages[n] ?? Number.NaN).filter(Number.isFinite), 50))]),
  );
  const deltas: Record<string, number> = {};
  for (let k = 1; k < stageNames.length; k++) {
    const a = stageNames[k - 1] as (typeof stageNames)[number];
    const b = stageNames[k] as (typeof stageNames)[number];
    const values = samples.map((s) => (s.stages[b] ?? Number.NaN) - (s.stages[a] ?? Number.NaN)).filter(Number.isFinite);
    deltas[`${a}→${b}`] = round(percentile(values, 50));
  }
  result['commitToApplied'] = { p50Ms: round(percentile(appliedMs, 50)), p95Ms: round(percentile(appliedMs, 95)), samples: appliedMs };
  result['commitToHealthy'] = { p50Ms: round(percentile(healthyMs, 50)), p95Ms: round(percentile(healthyMs, 95)), samples: healthyMs };
  result['stages'] = {
    description:
      'ms after t0 (just before POST /refresh) at which each event arrived on core NATS, p50 over the commits; deltas are p50 of per-commit differences',
    sinceT0P50Ms: stageP50,
    deltaP50Ms: deltas,
    perCommit: samples.map((s) => ({ revision: s.revision.slice(0, 12), ...s.stages, health: s.healthTransitions.join(' → ') })),
  };
  const phase1Figures = await sampler.figures();
  const phase1Metrics = await scrapeAll();
  result['stages'] = {
    ...(result['stages'] as object),
    serviceHistograms: Object.fromEntries(SERVICES.map((n) => [n, summariseHistograms(phase1Metrics[n] ?? new Map())])),
  };

  // ---- phase 2: many apps from registration to Synced and Healthy ----------------------------------
  progress(`phase 2: ${APPS} apps × ${RESOURCES_PER_APP} resources in one repository`);
  const appName = (i: number): string => `app-${String(i).padStart(3, '0')}`;
  const fleetFiles: Record<string, string> = {};
  for (let i = 0; i < APPS; i++) {
    const dir = `apps/${appName(i)}`;
    fleetFiles[`${dir}/deployment.yaml`] = deployment('web', 'v1');
    fleetFiles[`${dir}/service.yaml`] = service('web');
    fleetFiles[`${dir}/configmap.yaml`] = configMap(`${appName(i)}-v1`);
    fleetFiles[`${dir}/secret.yaml`] = secret;
    fleetFiles[`${dir}/serviceaccount.yaml`] = serviceAccount('web');
  }
  const fleet = await git.createRepo('fleet', fleetFiles);
  const fleetHead = await fleet.head();
  const names = Array.from({ length: APPS }, (_, i) => appName(i));
  const wanted = new Set(names);
  interface AppTrack {
    putAt?: number;
    detected?: number;
    diff?: number;
    syncSucceeded?: number;
    firstHealthy?: number;
    sync?: string;
    health?: string;
  }
  const track = new Map<string, AppTrack>(names.map((n) => [n, {}]));
  let ready = 0;
  let readyAt: number | undefined;
  let resolveAllReady: (() => void) | undefined;
  const allReady = new Promise<void>((r) => (resolveAllReady = r));
  const isReady = (t: AppTrack): boolean => t.sync === 'Synced' && t.health === 'Healthy';
  const stopListening = events.onEvent((seen) => {
    const app = seen.event.subject;
    const t = wanted.has(app) ? track.get(app) : undefined;
    if (!t) return;
    const wasReady = isReady(t);
    const data = seen.event.data as Record<string, unknown>;
    switch (seen.event.type) {
      case EventType.RevisionDetected:
        t.detected ??= seen.at;
        break;
      case EventType.DiffComputed:
        t.diff ??= seen.at;
        t.sync = String(data['syncStatus']);
        break;
      case EventType.SyncSucceeded:
        t.syncSucceeded ??= seen.at;
        break;
      case EventType.HealthChanged:
        t.health = String(data['status']);
        if (t.health === 'Healthy' && t.syncSucceeded !== undefined) t.firstHealthy ??= seen.at;
        break;
      default:
        return;
    }
    const nowReady = isReady(t);
    if (nowReady !== wasReady) ready += nowReady ? 1 : -1;
    if (ready === APPS && readyAt === undefined) {
      readyAt = seen.at;
      resolveAllReady?.();
    }
  });

  await sampler.resetWindow();
  const scaleT0 = performance.now();
  let nextApp = 0;
  await Promise.all(
    Array.from({ length: Math.min(PUT_CONCURRENCY, APPS) }, async () => {
      while (nextApp < APPS) {
        const i = nextApp++;
        const name = appName(i);
        (track.get(name) as AppTrack).putAt = performance.now();
        await api(
          'PUT',
          `/api/v1/applications/${name}`,
          application(name, fleet.url, `apps/${name}`, `fleet-${String(i).padStart(3, '0')}`),
        );
      }
    }),
  );
  const registeredMs = round(performance.now() - scaleT0);
  progress(`${APPS} apps registered in ${registeredMs} ms; waiting for all Synced and Healthy`);
  const progressTimer = setInterval(() => {
    const counts = { detected: 0, diff: 0, synced: 0, healthy: 0 };
    for (const t of track.values()) {
      if (t.detected !== undefined) counts.detected++;
      if (t.diff !== undefined) counts.diff++;
      if (t.syncSucceeded !== undefined) counts.synced++;
      if (t.health === 'Healthy') counts.healthy++;
    }
    progress(
      `  detected ${counts.detected}, compared ${counts.diff}, sync.succeeded ${counts.synced}, Healthy ${counts.healthy}, Synced+Healthy ${ready}/${APPS}`,
    );
  }, 2000);
  progressTimer.unref();
  const scaleDeadline = Math.max(10_000, TIMEOUT_MS - (performance.now() - benchStart) - 20_000);
  let scaleError: string | undefined;
  await Promise.race([
    allReady,
    sleep(scaleDeadline).then(() => (scaleError = `not all apps Synced and Healthy within ${round(scaleDeadline)} ms`)),
  ]);
  const eventsReadyMs = readyAt === undefined ? undefined : round(readyAt - scaleT0);
  if (eventsReadyMs !== undefined)
    progress(`all ${APPS} apps Synced and Healthy by events after ${eventsReadyMs} ms; confirming through the api`);

  let apiConfirmedMs: number | undefined;
  if (!scaleError) {
    const confirmDeadline = performance.now() + 30_000;
    for (;;) {
      const list = await api<{ items: ApiApp[] }>('GET', '/api/v1/applications');
      const good = list.items.filter(
        (a) =>
          wanted.has(a.metadata.name) &&
          a.status?.sync?.status === 'Synced' &&
          a.status.health?.status === 'Healthy' &&
          a.status.sync.revision === fleetHead,
      ).length;
      if (good === APPS) {
        apiConfirmedMs = round(performance.now() - scaleT0);
        break;
      }
      if (performance.now() > confirmDeadline) {
        scaleError = `the api shows ${good}/${APPS} apps Synced and Healthy at ${fleetHead.slice(0, 7)} 30 s after the events did`;
        break;
      }
      await sleep(250);
    }
  }
  clearInterval(progressTimer);
  stopListening();
  const scaleFigures = await sampler.figures();
  const scaleMetrics = await scrapeAll();

  const since = (pick: (t: AppTrack) => number | undefined): number[] =>
    [...track.values()]
      .map((t) => (pick(t) !== undefined && t.putAt !== undefined ? (pick(t) as number) - t.putAt : Number.NaN))
      .filter(Number.isFinite);
  const perProcess = (figures: Record<string, ProcessFigures>, key: keyof ProcessFigures): Record<string, number> =>
    Object.fromEntries(Object.entries(figures).map(([name, f]) => [name, f[key]]));
  const peakRss: Record<string, number> = Object.fromEntries(
    Object.entries(scaleFigures).map(([name, f]) => [name, Math.max(f.hwmMiB, f.sampledPeakRssMiB)]),
  );
  result['scale'] = {
    apps: APPS,
    resourcesPerApp: RESOURCES_PER_APP,
    registrationToSyncedHealthyMs: eventsReadyMs ?? null,
    apiConfirmedMs: apiConfirmedMs ?? null,
    registrationMs: registeredMs,
    ...(scaleError ? { error: scaleError } : {}),
    perAppSincePutMs: {
      revisionDetected: summary(since((t) => t.detected)),
      diffComputed: summary(since((t) => t.diff)),
      syncSucceeded: summary(since((t) => t.syncSucceeded)),
      healthy: summary(since((t) => t.firstHealthy)),
    },
    peakRssMiB: peakRss,
    sampledPeakRssMiBDuringScale: perProcess(scaleFigures, 'sampledPeakRssMiB'),
    rssAtEndMiB: perProcess(scaleFigures, 'lastRssMiB'),
    cpuSecondsDuringScale: perProcess(scaleFigures, 'cpuSeconds'),
    rssAfterPhase1MiB: perProcess(phase1Figures, 'lastRssMiB'),
    serviceHistograms: Object.fromEntries(SERVICES.map((n) => [n, summariseHistograms(scaleMetrics[n] ?? new Map(), phase1Metrics[n])])),
    events: events.events.length,
    invalidEvents: events.invalid,
  };

  const appliedP50 = (result['commitToApplied'] as { p50Ms: number }).p50Ms;
  const servicePeaks = SERVICES.map((s) => peakRss[s] ?? Number.POSITIVE_INFINITY);
  const maxServiceRss = Math.max(...servicePeaks);
  const met = {
    commitToAppliedP50Ms: appliedP50 < TARGETS.commitToAppliedP50Ms,
    registrationToSyncedHealthyMs:
      eventsReadyMs !== undefined && apiConfirmedMs !== undefined && eventsReadyMs < TARGETS.registrationToSyncedHealthyMs,
    peakRssMiBPerService: maxServiceRss < TARGETS.peakRssMiBPerService,
  };
  result['targets'] = {
    commitToAppliedP50Ms: { target: TARGETS.commitToAppliedP50Ms, value: appliedP50, met: met.commitToAppliedP50Ms },
    registrationToSyncedHealthyMs: {
      target: TARGETS.registrationToSyncedHealthyMs,
      value: eventsReadyMs ?? null,
      met: met.registrationToSyncedHealthyMs,
    },
    peakRssMiBPerService: {
      target: TARGETS.peakRssMiBPerService,
      value: maxServiceRss,
      met: met.peakRssMiBPerService,
      note: 'the six services; nats and sandbox are reported, not judged',
    },
    met: met.commitToAppliedP50Ms && met.registrationToSyncedHealthyMs && met.peakRssMiBPerService,
  };
}

async function main(): Promise<number> {
  result['config'] = {
    commits: COMMITS,
    apps: APPS,
    rolloutMs: ROLLOUT_MS,
    settleMs: SETTLE_MS,
    logLevel: LOG_LEVEL,
    timeoutMs: TIMEOUT_MS,
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`global timeout of ${TIMEOUT_MS} ms reached`)), TIMEOUT_MS);
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    progress(`${signal}: stopping`);
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let code = 0;
  try {
    await Promise.race([run(), timeout]);
  } catch (error) {
    result['error'] = (error as Error).message;
    progress(`failed: ${(error as Error).stack ?? String(error)}`);
    code = 1;
  } finally {
    clearTimeout(timer);
  }
  result['machine'] = machine();
  result['durationMs'] = round(performance.now() - benchStart);
  progress('stopping everything');
  await Promise.race([cleanup(), sleep(30_000)]);
  const ordered = Object.fromEntries(
    ['commitToApplied', 'commitToHealthy', 'stages', 'scale', 'targets', 'machine', 'config', 'durationMs', 'error', 'logs']
      .filter((k) => k in result)
      .map((k) => [k, result[k]]),
  );
  process.stdout.write(`${JSON.stringify(ordered, null, 2)}\n`);
  return code;
}

process.exit(await main());
