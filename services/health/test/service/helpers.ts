/** Shared fixtures of the health service tests. */
import type { SyncEvent } from '@ferry/contracts';
import { withTracking, type KubeObject } from '@ferry/kube';

export function application(name: string): unknown {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd' },
    spec: {
      project: 'default',
      source: { repoURL: 'https://git.example.invalid/apps.git', targetRevision: 'main', path: name },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'default' },
    },
  };
}

export function deployment(app: string, name: string, image: string, replicas = 2): KubeObject {
  return withTracking(app, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      progressDeadlineSeconds: 10,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
    },
  });
}

export const deploymentId = (name: string) => ({ group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'default', name });

export function syncSucceeded(app: string, revision: string, names: string[]): SyncEvent {
  const at = new Date().toISOString();
  return {
    app,
    syncId: `${app}-${revision.slice(0, 6)}`,
    revision,
    trigger: 'automated',
    phase: 'Succeeded',
    message: 'successfully synced',
    startedAt: at,
    finishedAt: at,
    resources: names.map((n) => ({ ...deploymentId(n), status: 'Synced' as const, message: 'applied' })),
  };
}

