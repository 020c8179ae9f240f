/** Shared fixtures of the differ's service tests: apps, artifacts, objects, revision events. */
import type { Application, RevisionDetected, SyncIntent } from '@ferry/contracts';
import type { KubeObject } from '@ferry/kube';

export function application(name: string, destination: Application['spec']['destination']): Application {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd' },
    spec: {
      project: 'default',
      source: { repoURL: 'https://git.example.com/platform/apps.git', targetRevision: 'main', path: `apps/${name}` },
      destination,
    },
  };
}

/** A Deployment as Git declares it: no defaults, no namespace (the destination's is used). */
export function deployment(name: string, replicas: number, image = 'nginx:1.27'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name, image, ports: [{ containerPort: 80 }], resources: { requests: { cpu: '0.1', memory: '32Mi' } } }] },
      },
    },
  };
}

/** A Service as Git declares it: the server adds clusterIP, type, protocol, targetPort, sessionAffinity. */
export function service(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels: { app: name } },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80 }] },
  };
}

export function configMap(name: string, data: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data };
}

/** `{ app, revision, objects: [{ object, source }] }`, the poller's artifact format. */
export function artifact(app: string, revision: string, objects: KubeObject[]): unknown {
  return { app, revision, objects: objects.map((object, i) => ({ object, source: { file: `apps/${app}/all.yaml`, line: 1 + i * 20 } })) };
}

export function revisionDetected(
  app: string,
  revision: string,
  artifactKey: string,
  resourceCount: number,
  sync?: SyncIntent,
): RevisionDetected {
  return {
    app,
    revision,
    repoURL: 'https://git.example.com/platform/apps.git',
    targetRevision: 'main',
    path: `apps/${app}`,
    artifactKey,
    resourceCount,
    sourceType: 'Directory',
    detectedAt: new Date().toISOString(),
    changed: true,
    ...(sync === undefined ? {} : { sync }),
  };
}

/** A commit SHA made of one repeated hex digit. */
export const sha = (c: string): string => c.repeat(40);
