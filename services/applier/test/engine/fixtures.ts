/** Argo CD-style manifests and an engine runner for the sync engine tests (sandbox cluster, no NATS). */
import { parseApplication, type Application, type IgnoreDifference, type ResourceComparison, type SyncIntent } from '@ferry/contracts';
import { resolveClusters, type ClusterClient, type ClusterRegistry, type KubeObject } from '@ferry/kube';
import { startSandbox, type Sandbox } from '@ferry/testing';
import { executeSync, type EngineOutcome } from '../../src/engine/execute.js';
import { prepareSync } from '../../src/engine/prepare.js';

export const WAVE = 'argocd.argoproj.io/sync-wave';
export const HOOK = 'argocd.argoproj.io/hook';
export const HOOK_DELETE_POLICY = 'argocd.argoproj.io/hook-delete-policy';
export const SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';

export function app(
  name: string,
  options: { syncOptions?: string[]; ignoreDifferences?: IgnoreDifference[]; namespace?: string } = {},
): Application {
  return parseApplication({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd' },
    spec: {
      project: 'default',
      source: { repoURL: 'https://git.example.invalid/apps.git', targetRevision: 'main', path: name },
      destination: { server: 'https://kubernetes.default.svc', namespace: options.namespace ?? name },
      syncPolicy: { syncOptions: ['CreateNamespace=true', ...(options.syncOptions ?? [])] },
      ...(options.ignoreDifferences ? { ignoreDifferences: options.ignoreDifferences } : {}),
    },
  });
}

export function configMap(
  name: string,
  data: Record<string, string> = { key: name },
  annotations: Record<string, string> = {},
): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, annotations }, data };
}

export function deployment(
  name: string,
  options: { image?: string; replicas?: number; annotations?: Record<string, string>; progressDeadlineSeconds?: number } = {},
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, annotations: options.annotations ?? {} },
    spec: {
      replicas: options.replicas ?? 1,
      ...(options.progressDeadlineSeconds === undefined ? {} : { progressDeadlineSeconds: options.progressDeadlineSeconds }),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image: options.image ?? 'nginx:1.25' }] },
      },
    },
  };
}

/** A hook Job (backoffLimit 0 so a failing image fails at once). `name` ending in '-' is a generateName. */
export function hookJob(name: string, hook: string, options: { image?: string; deletePolicy?: string; wave?: number } = {}): KubeObject {
  const annotations: Record<string, string> = { [HOOK]: hook };
  if (options.deletePolicy) annotations[HOOK_DELETE_POLICY] = options.deletePolicy;
  if (options.wave !== undefined) annotations[WAVE] = String(options.wave);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { ...(name.endsWith('-') ? { generateName: name } : { name }), annotations },
    spec: {
      backoffLimit: 0,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'run', image: options.image ?? 'busybox:1.36' }] } },
    },
  };
}

export interface EngineRun {
  app?: Application;
  syncOptions?: string[];
  prune?: boolean;
  intent?: Partial<SyncIntent>;
  comparisons?: ResourceComparison[];
  waveTimeoutMs?: number;
}

export class EngineHarness {
  sandbox!: Sandbox;
  clusters!: ClusterRegistry;
  client!: ClusterClient;

  async start(): Promise<void> {
    const start = (): Promise<Sandbox> => startSandbox({ rolloutMs: 100 });
    this.sandbox = await start().catch(start);
    this.clusters = resolveClusters({ kubeconfigPath: this.sandbox.kubeconfigPath, env: {} });
    this.client = this.clusters.defaultClient();
  }

  async stop(): Promise<void> {
    await this.clusters?.close();
    await this.sandbox?.close();
  }

  /** Prepares and executes one sync of `objects` for app `name` (CreateNamespace=true). */
  async sync(name: string, objects: KubeObject[], run: EngineRun = {}): Promise<EngineOutcome> {
    const application = run.app ?? app(name, { ...(run.syncOptions ? { syncOptions: run.syncOptions } : {}) });
    const intent = run.intent
      ? ({ requestId: 'r', prune: run.prune ?? false, initiatedBy: 'test', ...run.intent } as SyncIntent)
      : undefined;
    const prepared = await prepareSync({
      client: this.client,
      app: application,
      objects,
      comparisons: run.comparisons ?? [],
      prune: run.prune ?? false,
      ...(intent ? { intent } : {}),
    });
    return executeSync(prepared, {
      fieldManager: 'ferry',
      waveTimeoutMs: run.waveTimeoutMs ?? 10_000,
      pollMs: 20,
      signal: new AbortController().signal,
      checkAbort: () => undefined,
    });
  }

  async get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
    return this.client.get({ apiVersion, kind, name, ...(namespace ? { namespace } : {}) });
  }
}

/** `[name, status]` of every result, in order. */
export function summary(outcome: EngineOutcome): Array<[string, string]> {
  return outcome.resources.map((r) => [r.name, r.status]);
}
