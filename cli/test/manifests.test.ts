/** Field path → line in manifest files, for `ferry app create -f` messages. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifestText, pathSegments, validateManifests } from '@ferry/cli';

const yaml = `---
# leading comment
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: docs
spec:
  source:
    repoURL: https://git.example.com/x.git
    helm: {}
  destination:
    server: https://kubernetes.default.svc
  syncPolicy:
    syncOptions:
      - CreateNamespace=true
      - Retry=true
`;

test('paths split into keys and indexes', () => {
  assert.deepEqual(pathSegments('spec.syncPolicy.syncOptions[1]'), ['spec', 'syncPolicy', 'syncOptions', 1]);
  assert.deepEqual(pathSegments('(root)'), []);
});

test('a field, a list item, a missing field (its parent) and the root are located on their lines', () => {
  const [doc] = parseManifestText('app.yaml', yaml);
  assert.ok(doc);
  assert.equal(doc.line, 3);
  assert.equal(doc.locate('spec.source.helm'), 10);
  assert.equal(doc.locate('spec.syncPolicy.syncOptions[1]'), 16);
  assert.equal(doc.locate('spec.source.path'), 8, 'missing: the parent key');
  assert.equal(doc.locate('(root)'), 3);
});

test('validation reports every problem of every document with file and line', () => {
  // three documents of 16 lines each (the first line of each is its `---`)
  const noHelm = yaml.replace('    helm: {}\n', '    path: k8s\n');
  const docs = parseManifestText('apps.yaml', `${yaml}${yaml.replace('name: docs', 'name: Docs_2')}${noHelm}`);
  assert.equal(docs.length, 3);
  const { valid, problems } = validateManifests(docs);
  assert.equal(valid.length, 0);
  assert.deepEqual(
    problems.map((p) => `${p.file}:${p.line}: ${p.path}`),
    [
      'apps.yaml:10: spec.source.helm',
      'apps.yaml:22: metadata.name',
      'apps.yaml:26: spec.source.helm',
      'apps.yaml:48: spec.syncPolicy.syncOptions[1]',
    ],
  );
});

test('JSON files are located too', () => {
  const json = JSON.stringify(
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'a' },
      spec: { source: { repoURL: 'r', helm: {} }, destination: { name: 'in-cluster' } },
    },
    null,
    2,
  );
  const [doc] = parseManifestText('app.json', json);
  const { problems } = validateManifests(doc ? [doc] : []);
  assert.deepEqual(
    problems.map((p) => [p.path, p.line]),
    [['spec.source.helm', 10]],
  );
});
