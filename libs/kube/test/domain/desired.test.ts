import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TRACKING_ANNOTATION, prepareDesired, type KubeObject } from '@ferry/kube';

const scopes: Record<string, boolean> = { 'v1/Namespace': false, 'v1/ConfigMap': true, 'apps/v1/Deployment': true };
const lookup = (apiVersion: string, kind: string): boolean | undefined => scopes[`${apiVersion}/${kind}`];

test('namespaced objects get the destination namespace, cluster-scoped ones lose theirs, all get the tracking id', () => {
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'other' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web', namespace: 'oops' } },
  ];
  const prepared = prepareDesired('shop', objects, { defaultNamespace: 'web', isNamespaced: lookup });
  assert.deepEqual(
    prepared.map((o) => o.metadata.namespace),
    ['web', 'other', undefined],
  );
  assert.deepEqual(
    prepared.map((o) => o.metadata.annotations?.[TRACKING_ANNOTATION]),
    ['shop:/ConfigMap:web/a', 'shop:/ConfigMap:other/b', 'shop:/Namespace:/web'],
  );
  assert.equal(objects[0]?.metadata.namespace, undefined, 'the input is not modified');
});

test('a custom resource the cluster does not serve yet is scoped by its CRD in the same set', () => {
  const objects: KubeObject[] = [
    {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: { group: 'example.com', names: { kind: 'Widget' }, scope: 'Cluster' },
    },
    { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'x' } },
    { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g' } },
  ];
  const prepared = prepareDesired('shop', objects, { defaultNamespace: 'web', isNamespaced: () => undefined });
  assert.equal(prepared[1]?.metadata.namespace, undefined);
  assert.equal(prepared[2]?.metadata.namespace, 'web');
});
