import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unifiedDiff } from '../../src/domain/unified-diff.js';

const lines = (n: number, change?: Record<number, string>): string =>
  Array.from({ length: n }, (_, i) => change?.[i + 1] ?? `line ${i + 1}`).join('\n') + '\n';

test('equal texts have an empty diff', () => {
  assert.equal(unifiedDiff('a\nb\n', 'a\nb\n', 'x', 'y'), '');
});

test('one changed line gives one hunk with three lines of context and correct ranges', () => {
  const diff = unifiedDiff(lines(10), lines(10, { 5: 'line five' }), 'live', 'desired');
  assert.equal(
    diff,
    [
      '--- live',
      '+++ desired',
      '@@ -2,7 +2,7 @@',
      ' line 2',
      ' line 3',
      ' line 4',
      '-line 5',
      '+line five',
      ' line 6',
      ' line 7',
      ' line 8',
      '',
    ].join('\n'),
  );
});

test('changes far apart are separate hunks; near ones are merged', () => {
  const far = unifiedDiff(lines(30), lines(30, { 3: 'x', 25: 'y' }), 'a', 'b');
  assert.equal(far.match(/^@@/gm)?.length, 2);
  const near = unifiedDiff(lines(30), lines(30, { 3: 'x', 8: 'y' }), 'a', 'b');
  assert.equal(near.match(/^@@/gm)?.length, 1);
});

test('additions and removals at the ends, and from or to nothing', () => {
  assert.equal(unifiedDiff('a\n', 'a\nb\n', 'l', 'd'), '--- l\n+++ d\n@@ -1,1 +1,2 @@\n a\n+b\n');
  assert.equal(unifiedDiff('', 'a\nb\n', 'l', 'd'), '--- l\n+++ d\n@@ -0,0 +1,2 @@\n+a\n+b\n');
  assert.equal(unifiedDiff('a\n', '', 'l', 'd'), '--- l\n+++ d\n@@ -1,1 +0,0 @@\n-a\n');
});

test('the diff is minimal: an inserted block shows only the block', () => {
  const diff = unifiedDiff('a\nb\nc\nd\n', 'a\nb\nX\nY\nc\nd\n', 'l', 'd');
  assert.deepEqual(
    diff.split('\n').filter((l) => /^[+-][^+-]/.test(l)),
    ['+X', '+Y'],
  );
});
