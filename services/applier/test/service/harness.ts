/** Shared fixtures of the applier service tests: a real nats-server, the sandbox cluster, kubectl. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  EventType,
  decodeEvent,
  type CloudEvent,
  type DiffComputed,
  type RefreshRequested,
  type ResourceComparison,
  type SyncEvent,
  type SyncIntent,
} from '@ferry/contracts';
import type { KubeObject } from '@ferry/kube';
import { startSandbox } from '@ferry/kube-sandbox';
import {
  createEventBus,
  createLogger,
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
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { kubectlPath, startNatsServer, waitUntil, type NatsServerHandle } from '@ferry/testing';
import { loadConfig, type ApplierConfig, type StoredOperationRecord } from '../../src/index.js';

const run = promisify(execFile);
type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

export const logger = createLogger({ name: 'applier-test', level: process.env['APPLIER_TEST_LOG'] === 'debug' ? 'debug' : 'silent' });

export interface AppOptions {
  namespace?: string;
  automated?: { prune?: boolean; selfHeal?: boolean; allowEmpty?: boolean };
  syncOptions?: string[];
  revisionHistoryLimit?: number;
}

export function application(name: string, options: AppOptions = {}): unknown {
  const syncPolicy = {
    ...(options.automated ? { automated: options.automated } : {}),
    ...(options.syncOptions ? { syncOptions: options.syncOptions } : {}),
  };
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd' },
    spec: {
      project: 'default',
      source: { repoURL: 'https://git.example.invalid/apps.git', targetRevision: 'main', path: name },
      destination: { server: 'https://kubernetes.default.svc', namespace: options.namespace ?? name },
      ...(Object.keys(syncPolicy).length > 0 ? { syncPolicy } : {}),
      ...(options.revisionHistoryLimit === undefined ? {} : { revisionHistoryLimit: options.revisionHistoryLimit }),
    },
  };
}

export function configMap(name: string, data: Record<string, string> = { key: name }, namespace?: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(namespace ? { namespace } : {}) }, data };
}

export function namespaceObject(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

export const revision = (n: number): string => n.toString(16).padStart(40, '0');

export interface Received<T> {
  event: CloudEvent<T>;
  subject: string;
  at: number;
}

/** Everything a test needs, started once per file. */
export class Harness {
  nats!: NatsServerHandle;
  sandbox!: Sandbox;
  nc!: NatsConnection;
  bus!: EventBus;
  tracing!: Tracing;
  /** Every span ended in this process (the tests' and the in-process appliers'). */
  readonly spans = new InMemorySpanExporter();
  appsKv!: JsonKv<unknown>;
  operationKv!: JsonKv<StoredOperationRecord>;
  artifacts!: ArtifactStore;
  readonly syncEvents: Array<Received<SyncEvent>> = [];
  readonly refreshEvents: Array<Received<RefreshRequested>> = [];
  private subs: Subscription[] = [];
  private clock = Date.now();
  private seq = 0;

  async start(): Promise<void> {
    // One retry: the sandbox's random certificate serial is occasionally not valid DER ("illegal padding").
    const sandbox = (): Promise<Sandbox> => startSandbox({ rolloutMs: 50 });
    [this.nats, this.sandbox] = await Promise.all([startNatsServer(), sandbox().catch(sandbox)]);
    const config = this.config();
    this.nc = await connect({ servers: this.nats.url });
    await provisionJetStream(this.nc, config, logger);
    const names = natsNames(config);
    this.appsKv = await openJsonKv(this.nc, names.buckets.apps);
    this.operationKv = await openJsonKv(this.nc, names.buckets.operation);
    this.artifacts = await openArtifactStore(this.nc, names.objectStore);
    this.tracing = await startTracing({ serviceName: 'applier-test', logger, spanProcessors: [new SimpleSpanProcessor(this.spans)] });
    this.bus = createEventBus({
      nc: this.nc,
      config: { serviceName: 'differ', subjectPrefix: 'gitops', streamName: 'FERRY_EVENTS' },
      logger,
      tracer: this.tracing.tracer,
    });
    this.subs.push(
      this.nc.subscribe('gitops.sync.*.*', {
        callback: (_err, msg) => {
          const event = decodeEvent(msg.data);
          if (event.type !== EventType.SyncRequested)
            this.syncEvents.push({ event: event as CloudEvent<SyncEvent>, subject: msg.subject, at: Date.now() });
        },
      }),
      this.nc.subscribe('gitops.refresh.requested.*', {
        callback: (_err, msg) => {
          this.refreshEvents.push({ event: decodeEvent(msg.data) as CloudEvent<RefreshRequested>, subject: msg.subject, at: Date.now() });
        },
      }),
    );
  }

  async stop(): Promise<void> {
    for (const sub of this.subs) sub.unsubscribe();
    await this.nc?.close();
    await this.tracing?.shutdown();
    await Promise.allSettled([this.nats?.close(), this.sandbox?.close()]);
  }

  /** The environment of an applier pointed at this harness. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      FERRY_NATS_URL: this.nats.url,
      FERRY_KUBECONFIG: this.sandbox.kubeconfigPath,
      FERRY_LOG_LEVEL: 'silent',
      FERRY_SHUTDOWN_GRACE_MS: '5000',
      FERRY_APPLIER_RETRY_MS: '50',
      FERRY_APPLIER_ACK_WAIT_MS: '2000',
      FERRY_SELF_HEAL_INTERVAL_MS: '200',
      ...extra,
    };
  }

  config(extra: Record<string, string> = {}): ApplierConfig {
    return loadConfig(this.nats ? this.env(extra) : {});
  }

  async putApp(name: string, options: AppOptions = {}): Promise<void> {
    await this.appsKv.put(name, application(name, options));
  }

  /** Stores a rendered set and returns its artifact key. */
  async putArtifact(app: string, rev: string, objects: KubeObject[]): Promise<string> {
    const key = `${app}.${rev}.${(this.seq++).toString(16).padStart(16, '0')}`;
    await this.artifacts.putJson(key, {
      app,
      revision: rev,
      sourceType: 'Directory',
      objects: objects.map((object) => ({ object, source: { file: 'x.yaml', line: 1 } })),
    });
    return key;
  }

  /** Publishes a diff.computed as the differ would; returns its event id. Each diff is compared later than the one before. */
  async publishDiff(
    app: string,
    artifactKey: string,
    rev: string,
    options: {
      syncStatus?: 'Synced' | 'OutOfSync';
      reason?: 'revision' | 'drift';
      resources?: ResourceComparison[];
      sync?: SyncIntent;
      id?: string;
    } = {},
  ): Promise<string> {
    this.clock = Math.max(this.clock + 1, Date.now());
    const data: DiffComputed = {
      app,
      revision: rev,
      artifactKey,
      syncStatus: options.syncStatus ?? 'OutOfSync',
      reason: options.reason ?? 'revision',
      resources: options.resources ?? [],
      comparedAt: new Date(this.clock).toISOString(),
      ...(options.sync ? { sync: options.sync } : {}),
    };
    const id = options.id ?? `diff.computed:${app}:${artifactKey}:${this.seq++}`;
    await this.bus.publish(EventType.DiffComputed, app, data, { msgId: id });
    return id;
  }

  async publishSyncRequest(app: string, requestId: string, prune = false): Promise<void> {
    await this.bus.publish(
      EventType.SyncRequested,
      app,
      { app, requestId, prune, initiatedBy: 'alice' },
      { msgId: `sync.requested:${app}:${requestId}` },
    );
  }

  eventsOf(app: string, type?: EventType): Array<CloudEvent<SyncEvent>> {
    return this.syncEvents.filter((r) => r.event.subject === app && (type === undefined || r.event.type === type)).map((r) => r.event);
  }

  /** Waits for the operation record of `app` to show a completed sync (optionally of `rev`) and returns it. */
  async completed(app: string, rev?: string, timeoutMs = 8_000): Promise<StoredOperationRecord> {
    return waitUntil(
      async () => {
        const record = (await this.operationKv.get(app))?.value;
        const state = record?.operationState;
        if (!state || state.phase === 'Running' || (rev !== undefined && state.operation.sync.revision !== rev)) return undefined;
        return record;
      },
      { timeoutMs, message: `a completed sync of ${app}${rev ? ` at ${rev.slice(-4)}` : ''}` },
    );
  }

  /** Stored message count per subject in the event stream (what JetStream kept after de-duplication). */
  async storedCount(subjectFilter: string): Promise<Record<string, number>> {
    const jsm = await jetstreamManager(this.nc);
    const info = await jsm.streams.info('FERRY_EVENTS', { subjects_filter: subjectFilter });
    return (info.state.subjects ?? {}) as Record<string, number>;
  }

  /** `kubectl get` as JSON, or undefined when NotFound. */
  async kubectlGet(kind: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
    const kubectl = kubectlPath();
    if (!kubectl) throw new Error('kubectl not found');
    try {
      const { stdout } = await run(kubectl, [
        '--kubeconfig',
        this.sandbox.kubeconfigPath,
        'get',
        kind,
        name,
        ...(namespace ? ['-n', namespace] : []),
        '-o',
        'json',
        '--show-managed-fields',
      ]);
      return JSON.parse(stdout) as KubeObject;
    } catch (error) {
      if (/NotFound|not found/.test(String((error as { stderr?: string }).stderr ?? error))) return undefined;
      throw error;
    }
  }

  async kubectl(...args: string[]): Promise<string> {
    const kubectl = kubectlPath();
    if (!kubectl) throw new Error('kubectl not found');
    const { stdout } = await run(kubectl, ['--kubeconfig', this.sandbox.kubeconfigPath, ...args]);
    return stdout;
  }
}
