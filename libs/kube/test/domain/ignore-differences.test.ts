import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../src/index.js';
import {
  IgnoreDifferencesError,
  compileIgnoreDifferences,
  compileJqPath,
  copyPointers,
  getPointer,
  ignoredPointers,
  managedFieldsPointers,
  removePointers,
  respectIgnoredFields,
  withoutIgnored,
} from '../../src/index.js';

const deployment = (): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', annotations: { 'a/b': 'x', 'key.with.dots': 'y' } },
  spec: {
    replicas: 3,
    template: {
      spec: {
        initContainers: [{ name: 'injected-init-container', image: 'istio' }],
        containers: [
          {
            name: 'web',
            image: 'nginx',
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
          },
          { name: 'log', image: 'busybox', env: [{ name: 'A', value: '3' }] },
        ],
      },
    },
  },
});

const jq = (expression: string, doc: unknown = deployment()): string[] => compileJqPath(expression).pointers(doc);

test('jq paths: fields, quoted and bracketed keys, indexes, iteration', () => {
  assert.deepEqual(jq('.spec.replicas'), ['/spec/replicas']);
  assert.deepEqual(jq('.metadata.annotations["key.with.dots"]'), ['/metadata/annotations/key.with.dots']);
  assert.deepEqual(jq('.metadata.annotations."a/b"'), ['/metadata/annotations/a~1b']);
  assert.deepEqual(jq('.spec.template.spec.containers[1].image'), ['/spec/template/spec/containers/1/image']);
  assert.deepEqual(jq('.spec.template.spec.containers[-1].name'), ['/spec/template/spec/containers/1/name']);
  assert.deepEqual(jq('.spec.template.spec.containers[].image'), [
    '/spec/template/spec/containers/0/image',
    '/spec/template/spec/containers/1/image',
  ]);
  assert.deepEqual(jq('.metadata.annotations[]'), ['/metadata/annotations/a~1b', '/metadata/annotations/key.with.dots']);
  // A path to a missing field is still a path (jq's path(.a.b) on null); iterating a missing list yields nothing.
  assert.deepEqual(jq('.spec.missing.deep'), ['/spec/missing/deep']);
  assert.deepEqual(jq('.spec.missing[]?'), []);
  assert.deepEqual(jq('.spec.missing[]'), []);
});

test('jq select with ==, != and literals of each type, chained with |', () => {
  assert.deepEqual(jq('.spec.template.spec.initContainers[] | select(.name == "injected-init-container")'), [
    '/spec/template/spec/initContainers/0',
  ]);
  assert.deepEqual(jq('.spec.template.spec.containers[] | select(.name != "web") | .image'), ['/spec/template/spec/containers/1/image']);
  assert.deepEqual(jq('.spec.template.spec.containers[].env[] | select(.name == "A") | .value'), [
    '/spec/template/spec/containers/0/env/0/value',
    '/spec/template/spec/containers/1/env/0/value',
  ]);
  const doc = {
    items: [
      { n: 1, b: true, z: null },
      { n: 2, b: false },
    ],
  };
  assert.deepEqual(jq('.items[] | select(.n == 2)', doc), ['/items/1']);
  assert.deepEqual(jq('.items[] | select(.b == true)', doc), ['/items/0']);
  assert.deepEqual(jq('.items[] | select(.z == null)', doc), ['/items/0', '/items/1']);
  assert.deepEqual(jq('.items[]? | select(.n != 1) | .b', doc), ['/items/1/b']);
});

test('jq expressions outside the subset are rejected at compile time, naming the expression and the part', () => {
  for (const [expression, part] of [
    ['.spec | keys', 'keys'],
    ['.a[] | select(.name | startswith("x"))', 'startswith'],
    ['.a[] | select(.x == "a" and .y == "b")', 'and'],
    ['..', '..'],
    ['.a[1:2]', ':2'],
    ['del(.a)', 'del'],
    ['.a // .b', '/'],
  ] as const) {
    assert.throws(
      () => compileIgnoreDifferences([{ kind: 'Deployment', group: 'apps', jqPathExpressions: ['.ok', expression] }]),
      (error: unknown) => {
        assert.ok(error instanceof IgnoreDifferencesError);
        assert.equal(error.code, 'FERRY_ERR_APP_INVALID');
        assert.equal(error.path, 'spec.ignoreDifferences[0].jqPathExpressions[1]');
        assert.equal(error.expression, expression);
        assert.ok(error.message.includes(expression), error.message);
        assert.ok(error.message.includes(part), `${error.message} names ${part}`);
        return true;
      },
    );
  }
});

test('rules match by group (missing = core, globs), kind, and optional name and namespace', () => {
  const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' }, data: { a: '1' } };
  const ptr = (rules: Parameters<typeof compileIgnoreDifferences>[0], o: KubeObject): string[] =>
    ignoredPointers(compileIgnoreDifferences(rules), o);
  assert.deepEqual(ptr([{ kind: 'ConfigMap', jsonPointers: ['/data/a'] }], cm), ['/data/a']);
  assert.deepEqual(ptr([{ group: '', kind: 'ConfigMap', jsonPointers: ['/data/a'] }], cm), ['/data/a']);
  assert.deepEqual(ptr([{ group: 'apps', kind: 'ConfigMap', jsonPointers: ['/data/a'] }], cm), []);
  assert.deepEqual(ptr([{ kind: 'Deployment', jsonPointers: ['/spec/replicas'] }], deployment()), [], 'missing group = core only');
  assert.deepEqual(ptr([{ group: 'apps', kind: 'Deployment', jsonPointers: ['/spec/replicas'] }], deployment()), ['/spec/replicas']);
  assert.deepEqual(ptr([{ group: '*', kind: '*', jsonPointers: ['/x'] }], deployment()), ['/x']);
  assert.deepEqual(ptr([{ kind: 'ConfigMap', name: 'c', namespace: 'shop', jsonPointers: ['/data'] }], cm), ['/data']);
  assert.deepEqual(ptr([{ kind: 'ConfigMap', name: 'other', jsonPointers: ['/data'] }], cm), []);
  assert.deepEqual(ptr([{ kind: 'ConfigMap', namespace: 'other', jsonPointers: ['/data'] }], cm), []);
  assert.throws(() => compileIgnoreDifferences([{ kind: 'ConfigMap', jsonPointers: ['data'] }]), { code: 'FERRY_ERR_APP_INVALID' });
  assert.equal(compileIgnoreDifferences(undefined).empty, true);
});

test('removePointers removes values (array items without index drift), ignores missing paths, leaves the input alone', () => {
  const input = deployment();
  const before = JSON.stringify(input);
  const out = removePointers(input, [
    '/spec/template/spec/containers/0/env/0',
    '/spec/template/spec/containers/0/env/1',
    '/spec/replicas',
    '/metadata/annotations/a~1b',
    '/spec/nothing/here',
    '/spec/template/spec/containers/9',
  ]);
  assert.equal(JSON.stringify(input), before);
  assert.deepEqual((out.spec as { template: { spec: { containers: Array<{ env: unknown[] }> } } }).template.spec.containers[0]?.env, []);
  assert.equal(getPointer(out, '/spec/replicas').found, false);
  assert.deepEqual(out.metadata.annotations, { 'key.with.dots': 'y' });
});

test('copyPointers takes from-values (creating parents) and removes what from lacks', () => {
  const live = { spec: { replicas: 7, template: { metadata: { annotations: { restarted: 'now' } } } } };
  const desired = { spec: { replicas: 2, paused: true } };
  const out = copyPointers(live, desired, ['/spec/replicas', '/spec/template/metadata/annotations/restarted', '/spec/paused']);
  assert.deepEqual(out, { spec: { replicas: 7, template: { metadata: { annotations: { restarted: 'now' } } } } });
  assert.deepEqual(desired, { spec: { replicas: 2, paused: true } });
});

const hpaLive = (): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'shop',
    labels: { app: 'web', team: 'a' },
    managedFields: [
      {
        manager: 'ferry',
        operation: 'Apply',
        fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:template': {} } },
      },
      { manager: 'horizontal-pod-autoscaler', operation: 'Update', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
      {
        manager: 'kubectl-edit',
        operation: 'Update',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:team': {} } },
          'f:spec': {
            'f:template': {
              'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {} } } },
            },
          },
          'f:status': { 'f:replicas': {} },
        },
      },
    ],
  },
  spec: {
    replicas: 7,
    template: {
      spec: {
        containers: [
          { name: 'log', image: 'b' },
          { name: 'web', image: 'nginx:edited' },
        ],
      },
    },
  },
  status: { replicas: 7 },
});

test('managedFieldsManagers: the leaves a manager owns, resolved in the target (keyed list items by key), status skipped', () => {
  const live = hpaLive();
  assert.deepEqual(managedFieldsPointers(live, ['horizontal-pod-autoscaler']), ['/spec/replicas']);
  assert.deepEqual(managedFieldsPointers(live, ['kubectl-edit']).sort(), [
    '/metadata/labels/team',
    '/spec/template/spec/containers/1/image',
  ]);
  // Resolved against the desired object (other order, no team label) with the live managedFields.
  const desired = { spec: { replicas: 2, template: { spec: { containers: [{ name: 'web', image: 'nginx:1' }] } } } };
  assert.deepEqual(managedFieldsPointers(desired, ['kubectl-edit', 'horizontal-pod-autoscaler'], live).sort(), [
    '/spec/replicas',
    '/spec/template/spec/containers/0/image',
  ]);
});

test('withoutIgnored normalises both sides; respectIgnoredFields puts the live values of ignored fields into the apply', () => {
  const rules = compileIgnoreDifferences([
    { group: 'apps', kind: 'Deployment', managedFieldsManagers: ['horizontal-pod-autoscaler'] },
    { group: 'apps', kind: 'Deployment', jqPathExpressions: ['.spec.template.spec.containers[] | select(.name == "web") | .image'] },
  ]);
  const live = hpaLive();
  const desired: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'web', image: 'nginx:1' }] } } },
  };
  const both = withoutIgnored(rules, desired, live);
  assert.deepEqual(both.desired.spec, { template: { spec: { containers: [{ name: 'web' }] } } });
  assert.deepEqual((both.live.spec as Record<string, unknown>)['template'], {
    spec: { containers: [{ name: 'log', image: 'b' }, { name: 'web' }] },
  });
  assert.equal(getPointer(both.live, '/spec/replicas').found, false);

  const applied = respectIgnoredFields(rules, desired, live);
  assert.equal((applied.spec as { replicas: number }).replicas, 7);
  // The jq pointer names the live list's item 1; the desired list has "web" at 0: matched by name.
  assert.deepEqual((applied.spec as Record<string, unknown>)['template'], {
    spec: { containers: [{ name: 'web', image: 'nginx:edited' }] },
  });
  assert.equal(respectIgnoredFields(rules, desired, undefined), desired);
});
