import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, FerryError } from '@ferry/contracts';
import { HealthInputError, HealthParseError, assessFiles, parseManifests } from '../../src/domain/assess-files.js';

let root = '';

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  generation: 1
spec:
  replicas: 2
status:
  observedGeneration: 1
  replicas: 2
  updatedReplicas: 2
  availableReplicas: 1
`;

const configMapAndService = `# leading comment
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  a: b
---
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: ClusterIP
`;

const list = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: PersistentVolumeClaim
    metadata:
      name: data
    status:
      phase: Pending
  - apiVersion: batch/v1
    kind: Job
    metadata:
      name: migrate
    status:
      conditions:
        - type: Failed
          status: "True"
          message: Job has reached the specified backoff limit
`;

const json = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'worker-' }, spec: { restartPolicy: 'Always' }, status: { phase: 'Pending' } }, null, '\t');

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ferry-health-files-'));
  await mkdir(join(root, 'app', 'nested'), { recursive: true });
  await mkdir(join(root, 'app', '.git'), { recursive: true });
  await writeFile(join(root, 'app', 'a-deployment.yaml'), deployment);
  await writeFile(join(root, 'app', 'b-multi.yml'), configMapAndService);
  await writeFile(join(root, 'app', 'nested', 'list.yaml'), list);
  await writeFile(join(root, 'app', 'nested', 'pod.json'), json);
  await writeFile(join(root, 'app', 'nested', 'values.yaml'), 'replicaCount: 3\nimage: {tag: v1}\n');
  await writeFile(join(root, 'app', 'README.md'), '# not a manifest\n');
  await writeFile(join(root, 'app', '.git', 'config.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata: {name: hidden}\n');
  await writeFile(join(root, 'manifest.txt'), deployment);
  await writeFile(join(root, 'broken.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n  labels: {}\n');
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('a directory is walked recursively in name order, every object with file, line and health', async () => {
  const results = await assessFiles([join(root, 'app')]);
  assert.deepEqual(results, [
    {
      file: join(root, 'app', 'a-deployment.yaml'),
      line: 1,
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      namespace: 'shop',
      name: 'web',
      status: 'Progressing',
      message: 'Waiting for rollout to finish: 1 of 2 updated replicas are available...',
    },
    { file: join(root, 'app', 'b-multi.yml'), line: 2, kind: 'ConfigMap', apiVersion: 'v1', name: 'settings', status: 'None' },
    { file: join(root, 'app', 'b-multi.yml'), line: 10, kind: 'Service', apiVersion: 'v1', name: 'web', status: 'Healthy' },
    { file: join(root, 'app', 'nested', 'list.yaml'), line: 4, kind: 'PersistentVolumeClaim', apiVersion: 'v1', name: 'data', status: 'Progressing' },
    {
      file: join(root, 'app', 'nested', 'list.yaml'),
      line: 10,
      kind: 'Job',
      apiVersion: 'batch/v1',
      name: 'migrate',
      status: 'Degraded',
      message: 'Job has reached the specified backoff limit',
    },
    { file: join(root, 'app', 'nested', 'pod.json'), line: 1, kind: 'Pod', apiVersion: 'v1', name: 'worker-', status: 'Progressing' },
  ]);
});

test('a file named explicitly is read whatever its extension', async () => {
  const results = await assessFiles([join(root, 'manifest.txt')]);
  assert.equal(results.length, 1);
  assert.equal(results[0]?.kind, 'Deployment');
  assert.equal(results[0]?.status, 'Progressing');
});

test('several paths are assessed in the order given', async () => {
  const results = await assessFiles([join(root, 'manifest.txt'), join(root, 'app', 'b-multi.yml')]);
  assert.deepEqual(results.map((r) => r.kind), ['Deployment', 'ConfigMap', 'Service']);
});

test('a document that does not parse is a HealthParseError naming the file and line', async () => {
  const file = join(root, 'broken.yaml');
  await assert.rejects(assessFiles([file]), (error: unknown) => {
    assert.ok(error instanceof HealthParseError);
    assert.ok(error instanceof FerryError);
    assert.equal(error.code, ErrorCode.HealthParse);
    assert.equal(error.code, 'FERRY_ERR_HEALTH_PARSE');
    assert.equal(error.name, 'HealthParseError');
    assert.equal(error.file, file);
    assert.ok(error.line !== undefined && error.line >= 8 && error.line <= 10, `line ${error.line}`);
    assert.ok(error.message.startsWith(`${file}:${error.line}`), error.message);
    assert.ok(error.problem.length > 0);
    return true;
  });
});

test('a path that does not exist is a HealthInputError', async () => {
  const missing = join(root, 'nope');
  await assert.rejects(assessFiles([missing]), (error: unknown) => {
    assert.ok(error instanceof HealthInputError);
    assert.ok(error instanceof FerryError);
    assert.equal(error.name, 'HealthInputError');
    assert.equal(error.code, 'FERRY_ERR_HEALTH_INPUT_UNREADABLE');
    assert.equal(error.path, missing);
    assert.match(error.message, /no such file or directory/);
    return true;
  });
});

test('duplicate keys are accepted, the last one winning, as the corpus needs', () => {
  const [found] = parseManifests('dup.yaml', 'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n');
  assert.equal((found?.object['metadata'] as { name: string }).name, 'b');
});

test('an empty file holds no objects', () => {
  assert.deepEqual(parseManifests('empty.yaml', ''), []);
  assert.deepEqual(parseManifests('comments.yaml', '# nothing\n---\n'), []);
});
