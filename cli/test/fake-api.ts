/**
 * A small in-memory HTTP server implementing the api's REST contract (brief API.md) for the CLI's
 * unit-level tests: it records every request and lets a test shape apps, statuses and sync outcomes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApplicationInvalidError,
  IN_CLUSTER_SERVER,
  parseApplication,
  type ApplicationStatus,
  type HistoryEntry,
  type OperationState,
  type ResourceResult,
} from '@ferry/contracts';
import type { AppResource } from '@ferry/cli';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
  body: unknown;
}

export interface SyncBehaviour {
  /** How the operation ends; `never` leaves it Running; `ComparisonError` starts none and adds that condition. */
  outcome: 'Succeeded' | 'Failed' | 'never' | 'ComparisonError';
  /** ms until the operation appears (Running) and until it completes. */
  startAfterMs: number;
  finishAfterMs: number;
}

export interface FakeApi {
  readonly url: string;
  readonly apps: Map<string, AppResource>;
  readonly requests: RecordedRequest[];
  /** Per app; default: Succeeded after 100/250 ms. */
  readonly syncBehaviour: Map<string, SyncBehaviour>;
  /** Per app: what `GET …/diff` answers (absent: 404 FERRY_ERR_API_DIFF_NOT_FOUND). */
  readonly diffs: Map<string, unknown>;
  close(): Promise<void>;
}

export const REVISION = '4f2c1a9e8b7d6c5a4f3e2d1c0b9a8f7e6d5c4b3a';

export function sampleStatus(): ApplicationStatus {
  const resources: ResourceResult[] = [
    {
      group: '',
      version: 'v1',
      kind: 'Service',
      namespace: 'skynet-docs',
      name: 'docs',
      status: 'Synced',
      message: 'service/docs serverside-applied',
    },
    {
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      namespace: 'skynet-docs',
      name: 'docs',
      status: 'Synced',
      message: 'deployment.apps/docs serverside-applied',
    },
  ];
  const source = { repoURL: 'https://git.example.com/skynet-gitops.git', targetRevision: 'main', path: 'k8s' };
  return {
    sync: { status: 'Synced', revision: REVISION },
    health: { status: 'Healthy' },
    resources: [
      {
        group: '',
        version: 'v1',
        kind: 'Service',
        namespace: 'skynet-docs',
        name: 'docs',
        status: 'Synced',
        health: { status: 'Healthy' },
      },
      {
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        namespace: 'skynet-docs',
        name: 'docs',
        status: 'Synced',
        health: { status: 'Healthy' },
      },
    ],
    history: [
      {
        id: 0,
        revision: REVISION,
        deployStartedAt: '2025-01-02T10:00:00.000Z',
        deployedAt: '2025-01-02T10:00:03.000Z',
        source,
        initiatedBy: { automated: true },
        syncId: 'sync-0',
        phase: 'Succeeded',
        resources,
      },
    ],
    conditions: [],
    operationState: {
      operation: { sync: { revision: REVISION, prune: true }, initiatedBy: { automated: true } },
      phase: 'Succeeded',
      message: 'successfully synced (all tasks run)',
      startedAt: '2025-01-02T10:00:00.000Z',
      finishedAt: '2025-01-02T10:00:03.000Z',
      syncId: 'sync-0',
      trigger: 'automated',
      syncResult: { revision: REVISION, resources },
    },
    reconciledAt: '2025-01-02T10:00:05.000Z',
    sourceType: 'Directory',
    summary: {},
  };
}

export function sampleApp(name: string, overrides: Partial<AppResource['spec']> = {}): AppResource {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd' },
    spec: {
      project: 'default',
      source: { repoURL: 'https://git.example.com/skynet-gitops.git', targetRevision: 'main', path: 'k8s' },
      destination: { server: IN_CLUSTER_SERVER, namespace: 'skynet-docs' },
      syncPolicy: { automated: { prune: true, selfHeal: true } },
      ...overrides,
    },
    status: sampleStatus(),
  };
}

/** Starts the fake on a free port. `tokens`: token → subject name. */
export async function startFakeApi(tokens: Record<string, string> = { 'tok-admin': 'admin' }): Promise<FakeApi> {
  const apps = new Map<string, AppResource>();
  const requests: RecordedRequest[] = [];
  const syncBehaviour = new Map<string, SyncBehaviour>();
  const diffs = new Map<string, unknown>();
  const timers = new Set<NodeJS.Timeout>();
  let syncs = 0;

  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    timers.add(timer);
  };

  function send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  function startSync(name: string, prune: boolean, user: string, revision: string = REVISION): void {
    const behaviour = syncBehaviour.get(name) ?? { outcome: 'Succeeded', startAfterMs: 100, finishAfterMs: 250 };
    const syncId = `sync-manual-${++syncs}`;
    later(behaviour.startAfterMs, () => {
      const app = apps.get(name);
      if (!app?.status) return;
      if (behaviour.outcome === 'ComparisonError') {
        const message = 'k8s/broken.yaml:7: A block sequence may not be used as an implicit map key';
        app.status.conditions.push({ type: 'ComparisonError', message, lastTransitionTime: new Date().toISOString() });
        return;
      }
      const op: OperationState = {
        operation: { sync: { revision, prune }, initiatedBy: { username: user } },
        phase: 'Running',
        message: 'syncing',
        startedAt: new Date().toISOString(),
        syncId,
        trigger: 'manual',
      };
      app.status.operationState = op;
    });
    const outcome = behaviour.outcome;
    if (outcome === 'never' || outcome === 'ComparisonError') return;
    later(behaviour.finishAfterMs, () => {
      const app = apps.get(name);
      const op = app?.status?.operationState;
      if (!app?.status || !op) return;
      const failed = outcome === 'Failed';
      const resources: ResourceResult[] = [
        {
          group: 'apps',
          version: 'v1',
          kind: 'Deployment',
          namespace: 'skynet-docs',
          name: 'docs',
          status: failed ? 'SyncFailed' : 'Synced',
          message: failed
            ? 'Deployment.apps "docs" is invalid: spec.replicas: Invalid value: -1'
            : 'deployment.apps/docs serverside-applied',
        },
      ];
      const finishedAt = new Date().toISOString();
      app.status.operationState = {
        ...op,
        phase: outcome,
        message: failed ? 'one or more resources failed to sync' : 'successfully synced (all tasks run)',
        finishedAt,
        syncResult: { revision, resources },
      };
      const entry: HistoryEntry = {
        id: Math.max(-1, ...app.status.history.map((h) => h.id)) + 1,
        revision,
        deployStartedAt: op.startedAt,
        deployedAt: finishedAt,
        source: app.spec.source,
        initiatedBy: { username: user },
        syncId,
        phase: outcome,
        resources,
      };
      app.status.history.push(entry);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return send(res, 400, { code: 'FERRY_ERR_API_BAD_REQUEST', message: 'body is not JSON' });
    }
    const authorization = req.headers.authorization;
    requests.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), authorization, body });
    if (url.pathname === '/api/version') return send(res, 200, { version: '0.1.0' });
    const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
    const user = token === undefined ? undefined : tokens[token];
    if (user === undefined) return send(res, 401, { code: 'FERRY_ERR_API_UNAUTHENTICATED', message: 'missing or unknown bearer token' });
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent); // api v1 applications [name] [action]
    if (parts[0] !== 'api' || parts[1] !== 'v1' || parts[2] !== 'applications')
      return send(res, 404, { code: 'FERRY_ERR_API_ROUTE_NOT_FOUND', message: 'no route' });
    const name = parts[3];
    const action = parts[4];
    if (name === undefined) {
      if (req.method === 'GET') {
        const project = url.searchParams.get('project');
        return send(res, 200, { items: [...apps.values()].filter((a) => !project || (a.spec.project ?? 'default') === project) });
      }
      if (req.method === 'POST') {
        try {
          const app = parseApplication(body);
          const exists = apps.has(app.metadata.name);
          if (exists && url.searchParams.get('upsert') !== 'true') {
            return send(res, 409, { code: 'FERRY_ERR_APP_EXISTS', message: `application ${app.metadata.name} already exists` });
          }
          const stored: AppResource = { ...app, status: apps.get(app.metadata.name)?.status ?? sampleStatus() };
          apps.set(app.metadata.name, stored);
          return send(res, exists ? 200 : 201, stored);
        } catch (error) {
          if (error instanceof ApplicationInvalidError) {
            return send(res, 400, { code: error.code, message: error.message, details: error.problems });
          }
          throw error;
        }
      }
    }
    const app = name === undefined ? undefined : apps.get(name);
    if (!app || name === undefined) return send(res, 404, { code: 'FERRY_ERR_APP_NOT_FOUND', message: `application ${name} not found` });
    if (action === undefined && req.method === 'GET') return send(res, 200, app);
    if (action === undefined && req.method === 'DELETE') {
      apps.delete(name);
      return send(res, 200, {});
    }
    if (action === 'refresh' && req.method === 'POST') return send(res, 202, { requestId: `refresh-${requests.length}` });
    if (action === 'history' && req.method === 'GET') return send(res, 200, { items: app.status?.history ?? [] });
    if (action === 'sync' && req.method === 'POST') {
      const b = body as { prune?: boolean; revision?: string } | undefined;
      startSync(name, b?.prune === true, user, b?.revision ?? REVISION);
      return send(res, 202, { requestId: `sync-${requests.length}` });
    }
    if (action === 'rollback' && req.method === 'POST') {
      const b = (body ?? {}) as { id?: number; prune?: boolean; disableAutoSync?: boolean };
      const entry = app.status?.history.find((h) => h.id === b.id);
      if (!entry) return send(res, 404, { code: 'FERRY_ERR_API_HISTORY_NOT_FOUND', message: `no history entry ${String(b.id)}` });
      if (app.spec.syncPolicy?.automated) {
        if (!b.disableAutoSync) {
          return send(res, 409, {
            code: 'FERRY_ERR_API_ROLLBACK_AUTOSYNC',
            message: 'rollback cannot be initiated while automated sync is on',
          });
        }
        const { automated: _automated, ...policy } = app.spec.syncPolicy;
        app.spec = { ...app.spec, syncPolicy: policy };
      }
      startSync(name, b.prune === true, user, entry.revision);
      return send(res, 202, { requestId: `rollback-${requests.length}`, id: entry.id, revision: entry.revision });
    }
    if (action === 'diff' && req.method === 'GET') {
      const diff = diffs.get(name);
      if (diff === undefined) return send(res, 404, { code: 'FERRY_ERR_API_DIFF_NOT_FOUND', message: `no diff stored for ${name} yet` });
      return send(res, 200, diff);
    }
    return send(res, 404, { code: 'FERRY_ERR_API_ROUTE_NOT_FOUND', message: 'no route' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { code: 'FERRY_ERR_API_INTERNAL', message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    apps,
    requests,
    syncBehaviour,
    diffs,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
