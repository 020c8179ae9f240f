import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeRef, groupOf, refOf, resourceKey, versionOf } from '../../src/domain/identity.js';
import type { KubeObject } from '../../src/types.js';

describe('identity', () => {
  it('splits apiVersion into group and version, the core group being empty', () => {
    assert.equal(groupOf('apps/v1'), 'apps');
    assert.equal(versionOf('apps/v1'), 'v1');
    assert.equal(groupOf('v1'), '');
    assert.equal(versionOf('v1'), 'v1');
    assert.equal(groupOf('apiextensions.k8s.io/v1'), 'apiextensions.k8s.io');
  });

  it('keys objects by group/kind/namespace/name, the same for an object and its ref', () => {
    const object: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' } };
    assert.equal(resourceKey(object), 'apps/Deployment/default/web');
    assert.equal(resourceKey(refOf(object)), 'apps/Deployment/default/web');
    assert.equal(
      resourceKey({ apiVersion: 'apps/v1beta1', kind: 'Deployment', namespace: 'default', name: 'web' }),
      'apps/Deployment/default/web',
    );
  });

  it('keys core and cluster-scoped objects with empty segments', () => {
    assert.equal(resourceKey({ apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'web' }), '/Service/default/web');
    assert.equal(resourceKey({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }), '/Namespace//shop');
  });

  it('describes objects for messages', () => {
    assert.equal(
      describeRef({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web' }),
      'apps/Deployment default/web',
    );
    assert.equal(describeRef({ apiVersion: 'v1', kind: 'Namespace', name: 'shop' }), 'Namespace shop');
  });
});
