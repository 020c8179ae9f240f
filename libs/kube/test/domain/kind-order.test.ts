import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KIND_ORDER, kindOrder, sortForApply, sortForPrune } from '../../src/domain/kind-order.js';
import type { KubeObject } from '../../src/types.js';

function obj(kind: string, name: string, apiVersion = 'v1'): KubeObject {
  return { apiVersion, kind, metadata: { name } };
}

describe('kindOrder', () => {
  it('puts namespaces first, CRDs before RBAC, services before workloads, ingresses and APIServices last of the known kinds', () => {
    assert.equal(kindOrder('Namespace'), 0);
    assert.ok(kindOrder('CustomResourceDefinition') < kindOrder('ClusterRole'));
    assert.ok(kindOrder('ConfigMap') < kindOrder('Deployment'));
    assert.ok(kindOrder('Service') < kindOrder('Deployment'));
    assert.ok(kindOrder('Deployment') < kindOrder('HorizontalPodAutoscaler'));
    assert.ok(kindOrder('IngressClass') < kindOrder('Ingress'));
    assert.equal(kindOrder('APIService'), KIND_ORDER.length - 1);
  });

  it('ranks every other kind (custom resources) after all known kinds, equally', () => {
    assert.equal(kindOrder('Certificate'), KIND_ORDER.length);
    assert.equal(kindOrder('Widget'), kindOrder('Certificate'));
  });

  it('lists exactly Argo CD kinds, in Argo CD order', () => {
    assert.deepEqual(KIND_ORDER, [
      'Namespace',
      'NetworkPolicy',
      'ResourceQuota',
      'LimitRange',
      'PodSecurityPolicy',
      'PodDisruptionBudget',
      'ServiceAccount',
      'Secret',
      'SecretList',
      'ConfigMap',
      'StorageClass',
      'PersistentVolume',
      'PersistentVolumeClaim',
      'CustomResourceDefinition',
      'ClusterRole',
      'ClusterRoleList',
      'ClusterRoleBinding',
      'ClusterRoleBindingList',
      'Role',
      'RoleList',
      'RoleBinding',
      'RoleBindingList',
      'Service',
      'DaemonSet',
      'Pod',
      'ReplicationController',
      'ReplicaSet',
      'Deployment',
      'HorizontalPodAutoscaler',
      'StatefulSet',
      'Job',
      'CronJob',
      'IngressClass',
      'Ingress',
      'APIService',
    ]);
  });
});

describe('sortForApply and sortForPrune', () => {
  const input = [
    obj('Widget', 'w1', 'example.com/v1'),
    obj('Deployment', 'web', 'apps/v1'),
    obj('Service', 'web'),
    obj('Namespace', 'shop'),
    obj('CustomResourceDefinition', 'widgets.example.com', 'apiextensions.k8s.io/v1'),
    obj('ConfigMap', 'b'),
    obj('ConfigMap', 'a'),
  ];

  it('orders by kind, then by name, without modifying the input', () => {
    const copy = [...input];
    const sorted = sortForApply(input).map((o) => `${o.kind}/${o.metadata.name}`);
    assert.deepEqual(sorted, [
      'Namespace/shop',
      'ConfigMap/a',
      'ConfigMap/b',
      'CustomResourceDefinition/widgets.example.com',
      'Service/web',
      'Deployment/web',
      'Widget/w1',
    ]);
    assert.deepEqual(input, copy);
  });

  it('keeps input order for objects equal in kind and name (stable)', () => {
    const a: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'one' } };
    const b: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'two' } };
    assert.deepEqual(sortForApply([b, a]), [b, a]);
    assert.deepEqual(sortForApply([a, b]), [a, b]);
  });

  it('prunes in the reverse order: custom resources and workloads before their namespace', () => {
    const pruned = sortForPrune(input).map((o) => o.kind);
    assert.deepEqual(pruned, ['Widget', 'Deployment', 'Service', 'CustomResourceDefinition', 'ConfigMap', 'ConfigMap', 'Namespace']);
  });
});
