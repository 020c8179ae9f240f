/**
 * The end-to-end scenario's pieces (manifests, the Application, an api client, kubectl), shared by
 * the suite against the sandbox (tests/e2e) and the one against real k3s (tests/k3s).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ApplicationStatus } from '@ferry/contracts';
import { waitUntil } from '@ferry/testing';

const run = promisify(execFile);

export const deploymentYaml = (replicas: number, image: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: ${image}
          ports:
            - containerPort: 80
`;

export const serviceYaml = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports:
    - port: 80
      targetPort: 80
`;

export const configMapYaml = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  GREETING: hello
`;

/** An Argo CD Application for `path: k8s` of `repoURL` on `main`, automated with prune. */
export const application = (name: string, namespace: string, repoURL: string, selfHeal: boolean): unknown => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name, namespace: 'argocd' },
  spec: {
    project: 'default',
    source: { repoURL, targetRevision: 'main', path: 'k8s' },
    destination: { server: 'https://kubernetes.default.svc', namespace },
    syncPolicy: { automated: { prune: true, selfHeal }, syncOptions: ['CreateNamespace=true'] },
  },
});

export interface AppView {
  metadata: { name: string };
  status: ApplicationStatus;
}

export interface FerryApi {
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
  waitForApp(name: string, predicate: (app: AppView) => boolean, message: string, timeoutMs?: number): Promise<AppView>;
}

export function createFerryApi(baseUrl: () => string, token: string): FerryApi {
  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${path} -> ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
  return {
    request,
    async waitForApp(name, predicate, message, timeoutMs = 60_000) {
      let last: AppView | undefined;
      try {
        return await waitUntil(
          async () => {
            last = await request<AppView>('GET', `/api/v1/applications/${name}`);
            return predicate(last) ? last : undefined;
          },
          { timeoutMs, intervalMs: 250, message },
        );
      } catch (error) {
        // A timeout says what was seen last: against a real cluster that is usually a pod not Ready yet.
        const s = last?.status;
        const seen = s && {
          sync: s.sync,
          health: s.health,
          conditions: s.conditions,
          operation: s.operationState && { phase: s.operationState.phase, message: s.operationState.message },
          resources: s.resources.map((r) => `${r.kind}/${r.name} ${r.status} ${r.health?.status ?? ''} ${r.health?.message ?? ''}`),
        };
        throw new Error(`${(error as Error).message}; last status seen: ${JSON.stringify(seen)}`, { cause: error });
      }
    },
  };
}

export interface LiveDeployment {
  metadata: { generation: number; annotations?: Record<string, string> };
  spec: { replicas: number };
  status?: { readyReplicas?: number };
}

export interface Kubectl {
  run(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }>;
  deployment(namespace: string, name?: string): Promise<LiveDeployment>;
}

/** Real kubectl against the cluster of `kubeconfigPath()` (read at each call). */
export function createKubectl(kubectl: string, kubeconfigPath: () => string): Kubectl {
  async function runKubectl(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
    try {
      const { stdout, stderr } = await run(kubectl, args, { env: { ...process.env, KUBECONFIG: kubeconfigPath() }, timeout: 30_000 });
      return { stdout, stderr, code: 0 };
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; code?: number | string };
      return { stdout: e.stdout ?? '', stderr: e.stderr ?? String(error), code: typeof e.code === 'number' ? e.code : 1 };
    }
  }
  return {
    run: runKubectl,
    async deployment(namespace, name = 'web') {
      const { stdout, stderr, code } = await runKubectl('get', 'deployment', name, '-n', namespace, '-o', 'json');
      assert.equal(code, 0, stderr);
      return JSON.parse(stdout) as LiveDeployment;
    },
  };
}
