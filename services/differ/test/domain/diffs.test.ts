import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '@ferry/kube';
import { compareApp } from '../../src/domain/compare.js';
import { appDiffs, diffsHash, diffsKey, resourceDiffEntry } from '../../src/domain/diffs.js';
import { applyPatch } from '../../src/domain/json-patch.js';

const key = (o: KubeObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const cm = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', resourceVersion: '7', uid: 'u' },
  data,
});

test('each resource gets a unified YAML diff (sorted keys, live → desired) and a patch that applies', () => {
  const live = cm('settings', { b: '2', a: '1' });
  const desired = cm('settings', { a: '1', b: '3', c: '4' });
  const result = compareApp([desired], new Map([[key(live), live]]), [live], key, { fieldManager: 'ferry' });
  const doc = appDiffs('shop', 'abc', '2026-01-01T00:00:00Z', result.resources);
  assert.equal(diffsKey('shop'), 'diffs.shop');
  const entry = doc.resources[0];
  assert.ok(entry);
  assert.equal(entry.diffState, 'OutOfSync');
  assert.equal(
    entry.diff,
    [
      '--- live ConfigMap default/settings',
      '+++ desired ConfigMap default/settings',
      '@@ -1,7 +1,8 @@',
      ' apiVersion: v1',
      ' data:',
      '   a: "1"',
      '-  b: "2"',
      '+  b: "3"',
      '+  c: "4"',
      ' kind: ConfigMap',
      ' metadata:',
      '   name: settings',
      '',
    ].join('\n'),
  );
  assert.deepEqual(entry.patch, [
    { op: 'replace', path: '/data/b', value: '3' },
    { op: 'add', path: '/data/c', value: '4' },
  ]);
  const r = result.resources[0];
  assert.deepEqual(applyPatch(r?.live, entry.patch), r?.target);
  assert.doesNotMatch(entry.diff, /resourceVersion|uid/, 'server-owned metadata is not shown');
});

test('synced resources have an empty diff and patch; missing and extra ones show the whole object', () => {
  const same = cm('same', { a: '1' });
  const result = compareApp([same, cm('new', { a: '1' })], new Map([[key(same), same]]), [same, cm('old', { z: '9' })], key, {
    fieldManager: 'ferry',
  });
  const doc = appDiffs('shop', 'abc', 'now', result.resources);
  assert.deepEqual(
    doc.resources.map((r) => [r.name, r.diffState, r.diff === '', r.patch.length]),
    [
      ['same', 'Synced', true, 0],
      ['new', 'Missing', false, 1],
      ['old', 'Extra', false, 1],
    ],
  );
  assert.match(doc.resources[1]?.diff ?? '', /^\+kind: ConfigMap$/m);
  assert.match(doc.resources[2]?.diff ?? '', /^-  z: "9"$/m);
  assert.deepEqual(doc.resources[2]?.patch, [{ op: 'replace', path: '', value: null }]);
  assert.equal(doc.resources[2]?.requiresPruning, true);
});

test('a diff larger than the bound is cut at a line with a note, and the entry says truncated', () => {
  const big = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`k${i}`, 'v'.repeat(40)]));
  const live = cm('big', {});
  const result = compareApp([cm('big', big)], new Map([[key(live), live]]), [live], key, { fieldManager: 'ferry' });
  const r = result.resources[0];
  assert.ok(r);
  const entry = resourceDiffEntry(r, 4096);
  assert.equal(entry.truncated, true);
  assert.ok(Buffer.byteLength(entry.diff) < 4096 + 100);
  assert.match(entry.diff, /\.\.\. \(diff truncated: \d+ more bytes\)\n$/);
  assert.ok(Buffer.byteLength(JSON.stringify(entry.patch)) <= 4096);
  assert.equal(resourceDiffEntry(r).truncated, undefined, 'under the default 64 KiB bound nothing is cut');
});

test('the diffs hash ignores the comparison time and changes with the content', () => {
  const live = cm('c', { a: '1' });
  const resources = compareApp([cm('c', { a: '2' })], new Map([[key(live), live]]), [live], key, { fieldManager: 'ferry' }).resources;
  const a = diffsHash(appDiffs('shop', 'r1', 't1', resources));
  assert.equal(diffsHash(appDiffs('shop', 'r1', 't2', resources)), a);
  const other = compareApp([cm('c', { a: '3' })], new Map([[key(live), live]]), [live], key, { fieldManager: 'ferry' }).resources;
  assert.notEqual(diffsHash(appDiffs('shop', 'r1', 't1', other)), a);
});
