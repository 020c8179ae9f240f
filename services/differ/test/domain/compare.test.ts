import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { IgnoreDifference } from '@ferry/contracts';
import { compileIgnoreDifferences, type KubeObject } from '@ferry/kube';
import { compareApp, compareOptionsOf, compareResource } from '../../src/domain/compare.js';
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

const cmObj = (name: string, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', ...(annotations ? { annotations } : {}) },
  data: { a: '1' },
});

test('diffState: Missing for objects not live, Extra for tracked objects not in Git, else as the status', () => {
  const changed = { ...cmObj('changed'), data: { a: '2' } };
  const live = new Map([
    [key(cmObj('same')), cmObj('same')],
    [key(cmObj('changed')), cmObj('changed')],
  ]);
  const result = compareApp([cmObj('same'), changed, cmObj('new')], live, [cmObj('same'), cmObj('changed'), cmObj('old')], key, options);
  assert.deepEqual(
    result.resources.map((r) => [r.name, r.status, r.diffState]),
    [
      ['same', 'Synced', 'Synced'],
      ['changed', 'OutOfSync', 'OutOfSync'],
      ['new', 'OutOfSync', 'Missing'],
      ['old', 'OutOfSync', 'Extra'],
    ],
  );
});

test('hooks (any argocd.argoproj.io/hook value, Skip included) are neither compared nor pruned', () => {
  const hook = cmObj('migrate', { 'argocd.argoproj.io/hook': 'PreSync' });
  const skipped = cmObj('skipped', { 'argocd.argoproj.io/hook': 'Skip' });
  const liveHook = cmObj('old-hook', { 'argocd.argoproj.io/hook': 'PostSync' });
  const result = compareApp(
    [cmObj('a'), hook, skipped],
    new Map([[key(cmObj('a')), cmObj('a')]]),
    [cmObj('a'), hook, liveHook],
    key,
    options,
  );
  assert.equal(result.syncStatus, 'Synced');
  assert.deepEqual(
    result.resources.map((r) => r.name),
    ['a'],
  );
});

test('an extra object annotated compare-options IgnoreExtraneous is listed for pruning but leaves the app Synced', () => {
  const extra = cmObj('generated', { 'argocd.argoproj.io/compare-options': 'IgnoreExtraneous' });
  const result = compareApp([cmObj('a')], new Map([[key(cmObj('a')), cmObj('a')]]), [cmObj('a'), extra], key, options);
  assert.equal(result.syncStatus, 'Synced');
  assert.deepEqual(
    result.resources.map((r) => [r.name, r.status, r.diffState, r.requiresPruning ?? false]),
    [
      ['a', 'Synced', 'Synced', false],
      ['generated', 'OutOfSync', 'Extra', true],
    ],
  );
  // Without the annotation the extra object makes the app OutOfSync.
  assert.equal(
    compareApp([cmObj('a')], new Map([[key(cmObj('a')), cmObj('a')]]), [cmObj('a'), cmObj('x')], key, options).syncStatus,
    'OutOfSync',
  );
  // IgnoreExtraneous on an object that is in Git does not hide its drift.
  const declared = cmObj('b', { 'argocd.argoproj.io/compare-options': 'IgnoreExtraneous' });
  const drifted = { ...declared, data: { a: 'changed' } };
  assert.equal(compareApp([declared], new Map([[key(declared), drifted]]), [drifted], key, options).syncStatus, 'OutOfSync');
});

test('compare-options parse like Argo CD: IgnoreExtraneous and ServerSideDiff=true are accepted', () => {
  const o = cmObj('a', { 'argocd.argoproj.io/compare-options': 'IgnoreExtraneous, ServerSideDiff=true' });
  assert.deepEqual(
    [...compareOptionsOf(o)],
    [
      ['IgnoreExtraneous', ''],
      ['ServerSideDiff', 'true'],
    ],
  );
});
