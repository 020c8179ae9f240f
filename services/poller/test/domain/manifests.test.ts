import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifests } from '../../src/domain/manifests.js';

const cm = (name: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

test('multi-document YAML yields one object per document with its starting line; empty documents are skipped', () => {
  const content = `# leading comment\n---\n${cm('a')}---\n---\n# only a comment\n---\n${cm('b')}...\n`;
  const { objects, problems } = parseManifests([{ file: 'k8s/all.yaml', format: 'yaml', content }]);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    objects.map((o) => [o.object.metadata.name, o.source.file, o.source.line]),
    [
      ['a', 'k8s/all.yaml', 3],
      ['b', 'k8s/all.yaml', 11],
    ],
  );
});

test('YAML is read as Kubernetes reads it: 0644 is octal, timestamps stay strings', () => {
  const content = `${cm('a')}data:\n  mode: 0644\n  when: 2024-01-02\n`;
  const { objects } = parseManifests([{ file: 'a.yaml', format: 'yaml', content }]);
  assert.deepEqual(objects[0]?.object['data'], { mode: 420, when: '2024-01-02' });
});

test('a JSON file yields its object; a List is expanded into its items with their lines', () => {
  const content = JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'y' } },
      ],
    },
    null,
    2,
  );
  const { objects, problems } = parseManifests([
    { file: 'list.json', format: 'json', content },
    { file: 'one.json', format: 'json', content: '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"n"}}' },
  ]);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    objects.map((o) => [o.object.kind, o.object.metadata.name, o.source.file, o.source.line]),
    [
      ['ConfigMap', 'x', 'list.json', 5],
      ['Secret', 'y', 'list.json', 12],
      ['Namespace', 'n', 'one.json', 1],
    ],
  );
});

test('a YAML ConfigMapList is expanded and a null items list yields nothing', () => {
  const content = `apiVersion: v1\nkind: ConfigMapList\nitems:\n- ${cm('p').trimEnd().replace(/\n/g, '\n  ')}\n---\napiVersion: v1\nkind: List\nitems: null\n`;
  const { objects, problems } = parseManifests([{ file: 'l.yaml', format: 'yaml', content }]);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    objects.map((o) => [o.object.metadata.name, o.source.line]),
    [['p', 4]],
  );
});

test('a generateName stands in for metadata.name (hooks use it)', () => {
  const content = 'apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\n';
  const { objects, problems } = parseManifests([{ file: 'j.yaml', format: 'yaml', content }]);
  assert.equal(problems.length, 0);
  assert.equal(objects.length, 1);
});

test('every problem of every file is reported with file, line and message', () => {
  const broken = `${cm('ok')}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n   name: bad\n  labels: {}\n`;
  const notObject = `${cm('fine')}---\nfoo: bar\n---\n- a\n- b\n`;
  const badJson = '{\n  "apiVersion": "v1",\n  "kind": "ConfigMap"\n  "metadata": {}\n}\n';
  const { problems } = parseManifests([
    { file: 'k8s/broken.yaml', format: 'yaml', content: broken },
    { file: 'k8s/other.yaml', format: 'yaml', content: notObject },
    { file: 'k8s/bad.json', format: 'json', content: badJson },
    { file: 'k8s/list.json', format: 'json', content: '{"apiVersion":"v1","kind":"List","items":[{"kind":"X"}]}' },
  ]);
  assert.deepEqual(
    problems.map((p) => [p.file, p.line]),
    [
      ['k8s/broken.yaml', 10],
      ['k8s/other.yaml', 6],
      ['k8s/other.yaml', 8],
      ['k8s/bad.json', 4],
      ['k8s/list.json', 1],
    ],
  );
  assert.match(problems[0]?.message ?? '', /same column|indent/i);
  assert.equal(problems[1]?.message, 'not a Kubernetes object: missing apiVersion, kind, metadata.name');
  assert.equal(problems[2]?.message, 'expected a Kubernetes object (a mapping), found a list');
  assert.match(problems[3]?.message ?? '', /Expected ',' or '}'/);
  assert.equal(problems[4]?.message, 'List item 0: not a Kubernetes object: missing apiVersion, metadata.name');
  for (const p of problems) assert.ok(!p.message.includes('\n'), 'messages are one line');
});

test('a truncated JSON file points at its last line', () => {
  const { problems } = parseManifests([{ file: 't.json', format: 'json', content: '{\n  "apiVersion": "v1",\n' }]);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.line, 2);
});

test('an alias bomb is refused instead of expanded', () => {
  let content = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 9; i++)
    content += `a${i}: &a${i} [${Array(10)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`;
  const { problems, objects } = parseManifests([{ file: 'bomb.yaml', format: 'yaml', content }]);
  assert.equal(objects.length, 0);
  assert.equal(problems.length, 1);
  assert.match(problems[0]?.message ?? '', /alias/i);
});
