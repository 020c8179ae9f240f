/** `ferry health -f`: offline health of manifest files, compared with Argo CD's expected results. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ferry, tempHome } from './run-ferry.js';

const corpus = new URL('../../../shared/corpus/argo-health/', import.meta.url).pathname;
const testdata = join(corpus, 'testdata');
let home: ReturnType<typeof tempHome>;

before(() => {
  home = tempHome();
});
after(() => home.cleanup());

interface Row {
  file: string;
  line?: number;
  kind: string;
  name: string;
  namespace?: string;
  status: string;
  message?: string;
}

/** expected.tsv rows: file → expected status (`<nil>` = no health check = None). */
function expected(): Map<string, string> {
  const rows = readFileSync(join(corpus, 'expected.tsv'), 'utf8').trim().split('\n').slice(1);
  return new Map(rows.map((r) => r.split('\t')).map(([file, , status]) => [file ?? '', status === '<nil>' ? 'None' : (status ?? '')]));
}

test('health -f <dir> -o json agrees with Argo CD on the corpus', async (t) => {
  if (!existsSync(testdata)) return t.skip(`corpus not found at ${testdata}`);
  const result = await ferry(['health', '-f', testdata, '-o', 'json'], { home: home.dir });
  assert.equal(result.code, 0, result.stderr);
  const rows = JSON.parse(result.stdout) as Row[];
  const want = expected();
  let compared = 0;
  for (const file of [
    'nginx.yaml',
    'deployment-degraded.yaml',
    'deployment-progressing.yaml',
    'deployment-suspended.yaml',
    'job-failed.yaml',
    'pvc-pending.yaml',
    'knative-service.yaml',
    'svc-loadbalancer-unassigned.yaml',
  ]) {
    const status = want.get(file);
    if (status === undefined) continue;
    const found = rows.filter((r) => r.file === join(testdata, file));
    assert.equal(found.length, 1, file);
    assert.equal(found[0]?.status, status, file);
    compared++;
  }
  assert.ok(compared >= 6, `compared ${compared} rows`);
  const nginx = rows.find((r) => r.file.endsWith('/nginx.yaml'));
  assert.deepEqual(
    Object.keys(nginx ?? {}).sort(),
    ['file', 'kind', 'line', 'message', 'name', 'namespace', 'status']
      .filter((k) => k !== 'message' || nginx?.message !== undefined)
      .sort(),
  );
  assert.equal(nginx?.kind, 'Deployment');
});

test('health -f <file> prints a table with file:line, kind, namespace, name and health', async () => {
  const result = await ferry(['health', '-f', join(testdata, 'deployment-degraded.yaml')], { home: home.dir, cwd: testdata });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split('\n');
  assert.deepEqual(lines[0]?.split(/\s{2,}/), ['FILE', 'KIND', 'NAMESPACE', 'NAME', 'HEALTH', 'MESSAGE']);
  const cells = lines[1]?.split(/\s{2,}/) ?? [];
  assert.equal(cells[0], `${join(testdata, 'deployment-degraded.yaml')}:1`);
  assert.deepEqual(cells.slice(1, 5), ['Deployment', 'default', 'guestbook-ui', 'Degraded']);
});

test('a broken YAML file is reported as file:line, the other files are still assessed, exit 1', async () => {
  const dir = join(home.dir, 'manifests');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(testdata, 'nginx.yaml'), join(dir, 'a-nginx.yaml'));
  writeFileSync(join(dir, 'b-broken.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  key: value\n  - item\n');
  const result = await ferry(['health', '-f', dir, '-o', 'json'], { home: home.dir });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    new RegExp(`^error FERRY_ERR_HEALTH_PARSE: ${join(dir, 'b-broken.yaml').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:7:\\d+: `, 'm'),
  );
  const rows = JSON.parse(result.stdout) as Row[];
  assert.deepEqual(
    rows.map((r) => [r.kind, r.status]),
    [['Deployment', 'Healthy']],
  );
});

test('a path that does not exist is FERRY_ERR_HEALTH_INPUT_UNREADABLE; no -f is a usage error', async () => {
  const missing = await ferry(['health', '-f', join(home.dir, 'nope.yaml')], { home: home.dir });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error FERRY_ERR_HEALTH_INPUT_UNREADABLE: /);
  const usage = await ferry(['health'], { home: home.dir });
  assert.equal(usage.code, 2);
});
