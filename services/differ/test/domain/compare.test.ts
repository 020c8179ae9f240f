import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { IgnoreDifference } from '@ferry/contracts';
import { compileIgnoreDifferences, type KubeObject } from '@ferry/kube';
import { compareApp, compareResource } from '../../src/domain/compare.js';
import { applyPatch } from '../../src/domain/json-patch.js';
import { parseQuantity } from '../../src/domain/quantity.js';

interface Case {
  description: string;
  expect: 'Synced' | 'OutOfSync';
  differences?: string[];
  ignoreDifferences?: IgnoreDifference[];
  desired: KubeObject;
  live?: KubeObject;
}

const dir = new URL('./fixtures/', import.meta.url);
const options = { fieldManager: 'ferry' };

for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()) {
  const c = parse(readFileSync(new URL(file, dir), 'utf8')) as Case;
  test(`${c.description} (${file})`, () => {
    const result = compareResource(c.desired, c.live, { ...options, ignore: compileIgnoreDifferences(c.ignoreDifferences) });
    assert.equal(result.status, c.expect, `differences: ${result.differences.join(', ')}`);
    assert.equal(result.diffState, c.live ? c.expect : 'Missing');
    if (c.differences) assert.deepEqual(result.differences, c.differences);
    // The patch turns the normalised live object into the predicted one.
    assert.deepEqual(applyPatch(result.live, result.patch), result.target);
    assert.equal(result.patch.length === 0, c.expect === 'Synced');
  });
}

const key = (o: KubeObject): string =>
  `${o.apiVersion.split('/').slice(0, -1).join('/')}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

test('an app is OutOfSync when a tracked object is no longer in Git, and that object requires pruning', () => {
  const cm = (name: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'default' },
    data: { a: '1' },
  });
  const live = new Map([
    [key(cm('keep')), cm('keep')],
    [key(cm('old')), cm('old')],
  ]);
  const result = compareApp([cm('keep')], live, [cm('keep'), cm('old')], key, options);
  assert.equal(result.syncStatus, 'OutOfSync');
  assert.deepEqual(
    result.resources.map((r) => [r.name, r.status, r.requiresPruning ?? false]),
    [
      ['keep', 'Synced', false],
      ['old', 'OutOfSync', true],
    ],
  );
});

test('an app whose every object matches is Synced; an object being deleted is not an extra', () => {
  const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' } };
  const going: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'b', namespace: 'default', deletionTimestamp: '2026-01-01T00:00:00Z' },
  };
  const result = compareApp([cm], new Map([[key(cm), cm]]), [cm, going], key, options);
  assert.equal(result.syncStatus, 'Synced');
  assert.equal(result.resources.length, 1);
});

test('quantities compare by value, not by spelling', () => {
  assert.equal(parseQuantity('500m'), 0.5);
  assert.equal(parseQuantity('1Gi'), 1024 ** 3);
  assert.equal(parseQuantity('1e3'), 1000);
  assert.equal(parseQuantity('web'), undefined);
});
