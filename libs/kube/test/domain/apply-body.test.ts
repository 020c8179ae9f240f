import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyBody } from '../../src/domain/apply-body.js';
import type { KubeObject } from '../../src/types.js';

describe('applyBody', () => {
  const live: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'default',
      labels: { app: 'web' },
      uid: 'u-1',
      resourceVersion: '42',
      generation: 3,
      creationTimestamp: '2024-01-01T00:00:00Z',
      managedFields: [{ manager: 'kubectl' }],
    },
    spec: { replicas: 2 },
    status: { readyReplicas: 2 },
  };

  it('strips status and server-owned metadata, keeping everything the user declares', () => {
    assert.deepEqual(applyBody(live), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
      spec: { replicas: 2 },
    });
  });

  it('does not modify its input', () => {
    applyBody(live);
    assert.equal(live.metadata.resourceVersion, '42');
    assert.ok(live.status);
  });

  it('drops the namespace of a cluster-scoped object', () => {
    const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', namespace: 'default' } };
    assert.deepEqual(applyBody(ns, { clusterScoped: true }).metadata, { name: 'shop' });
  });
});
