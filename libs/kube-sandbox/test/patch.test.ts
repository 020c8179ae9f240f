import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PatchError, jsonPatch, mergePatch, strategicMergePatch } from '../src/patch.js';
import type { SchemaContext } from '../src/schema.js';

const deploymentCtx: SchemaContext = { kind: 'Deployment', builtin: true };
const serviceCtx: SchemaContext = { kind: 'Service', builtin: true };

describe('JSON merge patch', () => {
  it('merges maps, deletes with null and replaces lists', () => {
    const target = { a: { b: 1, c: 2 }, list: [1, 2], keep: true };
    const out = mergePatch(target, { a: { b: null, d: 3 }, list: [3] });
    assert.deepEqual(out, { a: { c: 2, d: 3 }, list: [3], keep: true });
    assert.deepEqual(target, { a: { b: 1, c: 2 }, list: [1, 2], keep: true }, 'the target is not changed');
  });
});

describe('JSON patch', () => {
  it('applies add, replace, remove, move, copy and test operations in order', () => {
    const out = jsonPatch({ a: 1, list: ['x'], o: { p: 1 } }, [
      { op: 'test', path: '/a', value: 1 },
      { op: 'replace', path: '/a', value: 2 },
      { op: 'add', path: '/list/-', value: 'y' },
      { op: 'add', path: '/list/0', value: 'w' },
      { op: 'remove', path: '/o/p' },
      { op: 'copy', from: '/a', path: '/b' },
      { op: 'move', from: '/b', path: '/o/moved' },
      { op: 'add', path: '/with~1slash', value: true },
    ]);
    assert.deepEqual(out, { a: 2, list: ['w', 'x', 'y'], o: { moved: 2 }, 'with/slash': true });
  });

  it('fails on a failed test or a missing path without touching the input', () => {
    const target = { a: 1 };
    assert.throws(
      () => jsonPatch(target, [{ op: 'test', path: '/a', value: 2 }]),
      (e: unknown) => e instanceof PatchError && e.unprocessable,
    );
    assert.throws(
      () => jsonPatch(target, [{ op: 'remove', path: '/nope' }]),
      (e: unknown) => e instanceof PatchError && e.unprocessable,
    );
    assert.throws(
      () => jsonPatch(target, { op: 'add' }),
      (e: unknown) => e instanceof PatchError && !e.unprocessable,
    );
    assert.deepEqual(target, { a: 1 });
  });
});

describe('strategic merge patch', () => {
  const deployment = {
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'app',
              image: 'app:1',
              env: [{ name: 'A', value: '1' }],
              ports: [{ containerPort: 80 }],
              volumeMounts: [{ mountPath: '/a', name: 'a' }],
            },
            { name: 'sidecar', image: 'side:1' },
          ],
          volumes: [{ name: 'a', emptyDir: {} }],
          tolerations: [{ key: 'x' }],
        },
      },
    },
  };

  it('merges containers by name, env by name, ports by containerPort and volumeMounts by mountPath', () => {
    const out = strategicMergePatch(
      deployment,
      {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: 'app',
                  image: 'app:2',
                  env: [{ name: 'B', value: '2' }],
                  ports: [{ containerPort: 80, name: 'http' }],
                  volumeMounts: [{ mountPath: '/b', name: 'b' }],
                },
              ],
              volumes: [{ name: 'b', emptyDir: {} }],
            },
          },
        },
      },
      deploymentCtx,
    ) as typeof deployment;
    const spec = out.spec.template.spec;
    assert.deepEqual(
      spec.containers.map((c) => c.name),
      ['app', 'sidecar'],
    );
    const app = spec.containers[0]!;
    assert.equal(app.image, 'app:2');
    assert.deepEqual(app.env, [
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
    assert.deepEqual(app.ports, [{ containerPort: 80, name: 'http' }]);
    assert.deepEqual(
      app.volumeMounts!.map((m) => m.mountPath),
      ['/a', '/b'],
    );
    assert.deepEqual(
      spec.volumes.map((v) => v.name),
      ['a', 'b'],
    );
  });

  it('deletes list items with $patch: delete and replaces lists without merge keys', () => {
    const out = strategicMergePatch(
      deployment,
      { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }], tolerations: [{ key: 'y' }] } } } },
      deploymentCtx,
    ) as typeof deployment;
    assert.deepEqual(
      out.spec.template.spec.containers.map((c) => c.name),
      ['app'],
    );
    assert.deepEqual(out.spec.template.spec.tolerations, [{ key: 'y' }]);
  });

  it('replaces a map with $patch: replace and honours $retainKeys and $deleteFromPrimitiveList', () => {
    const out = strategicMergePatch(
      {
        metadata: { labels: { a: '1', b: '2' }, finalizers: ['x', 'y'] },
        spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } },
      },
      {
        metadata: { labels: { $patch: 'replace', c: '3' }, '$deleteFromPrimitiveList/finalizers': ['x'] },
        spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } },
      },
      deploymentCtx,
    ) as Record<string, any>;
    assert.deepEqual(out.metadata.labels, { c: '3' });
    assert.deepEqual(out.metadata.finalizers, ['y']);
    assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
  });

  it('merges Service ports by port', () => {
    const out = strategicMergePatch(
      { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } },
      { spec: { ports: [{ port: 80, targetPort: 9090 }] } },
      serviceCtx,
    ) as Record<string, any>;
    assert.deepEqual(out.spec.ports, [{ port: 80, targetPort: 9090 }, { port: 443 }]);
  });
});
