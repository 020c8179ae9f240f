import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPatch, jsonPatch } from '../../src/domain/json-patch.js';

const pairs: Array<[string, unknown, unknown]> = [
  ['equal documents', { a: 1, b: [1, 2] }, { a: 1, b: [1, 2] }],
  ['a changed scalar', { spec: { replicas: 2 } }, { spec: { replicas: 5 } }],
  ['added and removed keys (escaped)', { metadata: { labels: { 'a/b': 'x', 'c~d': 'y' } } }, { metadata: { labels: { 'e/f': 'z' } } }],
  ['a list grown and shrunk', { l: [1, 2, 3] }, { l: [1, 9] }],
  ['a list grown', { l: [1] }, { l: [1, 2, 3] }],
  [
    'named items removed, added and changed',
    {
      c: [
        { name: 'a', v: 1 },
        { name: 'b', v: 2 },
        { name: 'c', v: 3 },
      ],
    },
    {
      c: [
        { name: 'b', v: 20 },
        { name: 'd', v: 4 },
        { name: 'c', v: 3 },
      ],
    },
  ],
  ['named items reordered', { c: [{ name: 'a' }, { name: 'b' }] }, { c: [{ name: 'b' }, { name: 'a' }] }],
  ['a type change', { a: { b: 1 } }, { a: [1] }],
  ['missing → object (root)', null, { kind: 'ConfigMap' }],
  ['object → nothing (root)', { kind: 'ConfigMap' }, null],
];

for (const [name, from, to] of pairs) {
  test(`applying jsonPatch(from, to) to from gives to: ${name}`, () => {
    const ops = jsonPatch(from, to);
    assert.deepEqual(applyPatch(from, ops), to);
    assert.equal(ops.length === 0, JSON.stringify(from) === JSON.stringify(to));
  });
}

test('patches of random documents round-trip', () => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const gen = (depth: number): unknown => {
    const k = rand(depth > 2 ? 3 : 6);
    if (k === 0) return rand(5);
    if (k === 1) return ['x', 'y', 'z'][rand(3)];
    if (k === 2) return rand(2) === 0;
    if (k === 3) return Array.from({ length: rand(4) }, () => gen(depth + 1));
    if (k === 4) return Array.from({ length: rand(4) }, (_, i) => ({ name: `n${rand(6)}${i}`, v: gen(depth + 1) }));
    return Object.fromEntries(Array.from({ length: rand(4) }, () => [['a', 'b/c', 'd~e', 'f'][rand(4)] as string, gen(depth + 1)]));
  };
  for (let i = 0; i < 300; i++) {
    const a = gen(0);
    const b = gen(0);
    assert.deepEqual(applyPatch(a, jsonPatch(a, b)), b, `${JSON.stringify(a)} → ${JSON.stringify(b)}`);
  }
});

test('named list items are patched by name: removing the first item is one remove, not a cascade of replaces', () => {
  const ops = jsonPatch({ c: [{ name: 'injected' }, { name: 'web', image: 'a' }] }, { c: [{ name: 'web', image: 'b' }] });
  assert.deepEqual(ops, [
    { op: 'remove', path: '/c/0' },
    { op: 'replace', path: '/c/0/image', value: 'b' },
  ]);
});

test('applyPatch refuses paths that do not resolve', () => {
  assert.throws(() => applyPatch({}, [{ op: 'replace', path: '/a', value: 1 }]));
  assert.throws(() => applyPatch({ l: [] }, [{ op: 'remove', path: '/l/0' }]));
});
