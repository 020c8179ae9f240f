/** `ferry app …` against a fake api that implements the REST contract: output formats, flags, exit codes, errors. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { sampleApp, startFakeApi, REVISION, type FakeApi } from './fake-api.js';
import { ferry, tempHome } from './run-ferry.js';

let home: ReturnType<typeof tempHome>;
const TOKEN = 'tok-admin';

before(() => {
  home = tempHome();
});
after(() => home.cleanup());

/** A fake api of the test's own (so tests run concurrently) and `ferry` logged in to it by flags. */
async function setup(t: TestContext): Promise<{ api: FakeApi; run: (args: string[]) => ReturnType<typeof ferry> }> {
  const api = await startFakeApi({ [TOKEN]: 'admin' });
  t.after(() => api.close());
  return { api, run: (args) => ferry([...args, '--server', api.url, '--token', TOKEN], { home: home.dir }) };
}

/** The cells of a text table's row whose first cell is `first` (columns split on 2+ spaces). */
function row(table: string, first: string): string[] | undefined {
  return table
    .split('\n')
    .map((line) => line.split(/\s{2,}/))
    .find((cells) => cells[0] === first);
}

describe('app list', { concurrency: true }, () => {
  test('prints argocd-style aligned columns with one row per app, sorted by name', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('web', sampleApp('web', { syncPolicy: {} }));
    api.apps.set('docs', sampleApp('docs'));
    const result = await run(['app', 'list']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.deepEqual(lines[0]?.split(/\s+/), [
      'NAME',
      'CLUSTER',
      'NAMESPACE',
      'PROJECT',
      'STATUS',
      'HEALTH',
      'SYNCPOLICY',
      'CONDITIONS',
      'REPO',
      'PATH',
      'TARGET',
    ]);
    assert.equal(lines.length, 3);
    assert.match(lines[1] ?? '', /^docs /);
    assert.deepEqual(row(result.stdout, 'docs'), [
      'docs',
      'https://kubernetes.default.svc',
      'skynet-docs',
      'default',
      'Synced',
      'Healthy',
      'Auto-Prune',
      '<none>',
      'https://git.example.com/skynet-gitops.git',
      'k8s',
      'main',
    ]);
    assert.equal(row(result.stdout, 'web')?.[6], 'Manual');
    // aligned: every column starts at the same offset on every line
    const statusAt = (lines[0] ?? '').indexOf('STATUS');
    assert.equal((lines[1] ?? '').indexOf('Synced'), statusAt);
    assert.equal((lines[2] ?? '').indexOf('Synced'), statusAt);
    assert.equal(api.requests[0]?.authorization, `Bearer ${TOKEN}`);
  });

  test('-o json prints the array of applications with their status', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', sampleApp('docs'));
    const result = await run(['app', 'list', '-o', 'json']);
    assert.equal(result.code, 0, result.stderr);
    const apps = JSON.parse(result.stdout) as Array<{ metadata: { name: string }; status: { health: { status: string } } }>;
    assert.equal(apps.length, 1);
    assert.equal(apps[0]?.metadata.name, 'docs');
    assert.equal(apps[0]?.status.health.status, 'Healthy');
  });

  test('--project is passed to the api as ?project=', async (t) => {
    const { api, run } = await setup(t);
    await run(['app', 'list', '--project', 'platform']);
    assert.equal(api.requests[0]?.query['project'], 'platform');
  });

  test('conditions are summarised by type with counts', async (t) => {
    const { api, run } = await setup(t);
    const app = sampleApp('docs');
    app.status!.conditions = [
      { type: 'ComparisonError', message: 'a', lastTransitionTime: '2025-01-02T10:00:00Z' },
      { type: 'ComparisonError', message: 'b', lastTransitionTime: '2025-01-02T10:00:00Z' },
      { type: 'SyncError', message: 'c', lastTransitionTime: '2025-01-02T10:00:00Z' },
    ];
    api.apps.set('docs', app);
    const result = await run(['app', 'list']);
    assert.equal(row(result.stdout, 'docs')?.[7], 'ComparisonError(2),SyncError');
  });
});

describe('app get', { concurrency: true }, () => {
  test('prints the summary, the last operation and the resources table', async (t) => {
    const { api, run } = await setup(t);
    const app = sampleApp('docs');
    app.status!.resources[1]!.health = { status: 'Progressing', message: 'Waiting for rollout to finish' };
    api.apps.set('docs', app);
    const result = await run(['app', 'get', 'docs']);
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout;
    assert.match(out, /^Name:\s+docs$/m);
    assert.match(out, /^Project:\s+default$/m);
    assert.match(out, /^Server:\s+https:\/\/kubernetes\.default\.svc$/m);
    assert.match(out, /^Namespace:\s+skynet-docs$/m);
    assert.match(out, /^Repo:\s+https:\/\/git\.example\.com\/skynet-gitops\.git$/m);
    assert.match(out, /^Target:\s+main$/m);
    assert.match(out, /^Path:\s+k8s$/m);
    assert.match(out, /^Sync Policy:\s+Automated Prune SelfHeal$/m);
    assert.match(out, new RegExp(`^Sync Status:\\s+Synced to main \\(${REVISION.slice(0, 7)}\\)$`, 'm'));
    assert.match(out, /^Health Status:\s+Healthy$/m);
    assert.match(out, /^Conditions:\s+<none>$/m);
    assert.match(out, /^Phase:\s+Succeeded$/m);
    assert.match(out, /^Start:\s+2025-01-02 10:00:00 \+0000$/m);
    assert.match(out, /^Duration:\s+3s$/m);
    assert.match(out, /^GROUP\s+KIND\s+NAMESPACE\s+NAME\s+STATUS\s+HEALTH\s+MESSAGE$/m);
    assert.deepEqual(row(out, 'apps'), [
      'apps',
      'Deployment',
      'skynet-docs',
      'docs',
      'Synced',
      'Progressing',
      'Waiting for rollout to finish',
    ]);
  });

  test('-o json prints the application as the api served it; -o yaml as YAML', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', sampleApp('docs'));
    const json = await run(['app', 'get', 'docs', '-o', 'json']);
    assert.deepEqual(JSON.parse(json.stdout), sampleApp('docs'));
    const yaml = await run(['app', 'get', 'docs', '-o', 'yaml']);
    assert.match(yaml.stdout, /^kind: Application$/m);
  });

  test('--hard-refresh asks the api for a hard refresh', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', sampleApp('docs'));
    await run(['app', 'get', 'docs', '--hard-refresh']);
    assert.equal(api.requests[0]?.query['refresh'], 'hard');
  });

  test('an unknown app prints the api error code on stderr and exits 1', async (t) => {
    const { run } = await setup(t);
    const result = await run(['app', 'get', 'nope']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^error FERRY_ERR_APP_NOT_FOUND: /);
  });

  test('a wrong token prints the 401 code and never the token', async (t) => {
    const { api } = await setup(t);
    const result = await ferry(['app', 'get', 'docs', '--server', api.url, '--token', 'wrong-token-value'], { home: home.dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error FERRY_ERR_API_UNAUTHENTICATED: /);
    assert.doesNotMatch(result.stderr + result.stdout, /wrong-token-value/);
  });
});

describe('app create', { concurrency: true }, () => {
  const manifest = (name: string, extra = ''): string =>
    [
      'apiVersion: argoproj.io/v1alpha1',
      'kind: Application',
      'metadata:',
      `  name: ${name}`,
      '  namespace: argocd',
      'spec:',
      '  project: default',
      '  source:',
      '    repoURL: https://git.example.com/skynet-gitops.git',
      '    targetRevision: main',
      '    path: k8s',
      extra,
      '  destination:',
      '    server: https://kubernetes.default.svc',
      '    namespace: skynet-docs',
      '',
    ]
      .filter((l) => l !== '')
      .join('\n');

  test('creates every document of a multi-document YAML file and says so', async (t) => {
    const { api, run } = await setup(t);
    const file = join(home.dir, 'apps.yaml');
    writeFileSync(file, `${manifest('one')}\n---\n${manifest('two')}\n`);
    const result = await run(['app', 'create', '-f', file]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "application 'one' created\napplication 'two' created\n");
    const posts = api.requests.filter((r) => r.method === 'POST');
    assert.deepEqual(
      posts.map((r) => (r.body as { metadata: { name: string } }).metadata.name),
      ['one', 'two'],
    );
    assert.equal(posts[0]?.query['upsert'], undefined);
  });

  test('reads JSON; an existing app fails with FERRY_ERR_APP_EXISTS unless --upsert', async (t) => {
    const { api, run } = await setup(t);
    const file = join(home.dir, 'app.json');
    api.apps.set('one', sampleApp('one'));
    const { parse } = await import('yaml');
    writeFileSync(file, JSON.stringify(parse(manifest('one'))));
    const conflict = await run(['app', 'create', '-f', file]);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /^error FERRY_ERR_APP_EXISTS: .*app\.json:1: application 'one'/);
    const upsert = await run(['app', 'create', '-f', file, '--upsert', '-o', 'json']);
    assert.equal(upsert.code, 0, upsert.stderr);
    assert.equal(api.requests.at(-1)?.query['upsert'], 'true');
    assert.equal((JSON.parse(upsert.stdout) as Array<{ metadata: { name: string } }>)[0]?.metadata.name, 'one');
  });

  test('an unsupported field is reported as file:line: path, and nothing is sent', async (t) => {
    const { api, run } = await setup(t);
    const file = join(home.dir, 'bad.yaml');
    writeFileSync(file, `${manifest('good')}\n---\n${manifest('bad', '    helm:\n      valueFiles: [values.yaml]')}\n`);
    const result = await run(['app', 'create', '-f', file]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error FERRY_ERR_APP_INVALID: /);
    // the second document starts on line 16; `helm:` is its 12th line
    assert.match(
      result.stderr,
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:27: spec\\.source\\.helm is not a supported field`),
    );
    assert.equal(api.requests.length, 0);
  });

  test('a file that does not parse names file and line', async (t) => {
    const { run } = await setup(t);
    const file = join(home.dir, 'broken.yaml');
    writeFileSync(file, 'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: [unclosed\n');
    const result = await run(['app', 'create', '-f', file]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error FERRY_ERR_CLI_FILE_INVALID: .*broken\.yaml:\d+:\d+: /);
  });

  test('without -f it is a usage error (exit 2)', async (t) => {
    const { run } = await setup(t);
    const result = await run(['app', 'create']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error FERRY_ERR_CLI_USAGE: /);
  });
});

describe('app sync', { concurrency: true }, () => {
  test('waits for the operation it started and prints its result', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', sampleApp('docs'));
    const result = await run(['app', 'sync', 'docs', '--prune']);
    assert.equal(result.code, 0, result.stderr);
    const sync = api.requests.find((r) => r.method === 'POST');
    assert.equal(sync?.path, '/api/v1/applications/docs/sync');
    assert.deepEqual(sync?.body, { prune: true });
    assert.match(result.stdout, /^Phase:\s+Succeeded$/m);
    assert.match(result.stdout, /^Initiated By:\s+admin$/m);
    assert.match(result.stdout, /^Prune:\s+true$/m);
    assert.match(result.stdout, /^GROUP\s+KIND\s+NAMESPACE\s+NAME\s+STATUS\s+MESSAGE$/m);
    assert.match(result.stdout, /deployment\.apps\/docs serverside-applied/);
    // it polled until completion: more than one GET after the POST
    assert.ok(api.requests.filter((r) => r.method === 'GET').length >= 3);
  });

  test('exits 1 with FERRY_ERR_CLI_SYNC_FAILED when the operation fails; -o json still prints the app', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', sampleApp('docs'));
    api.syncBehaviour.set('docs', { outcome: 'Failed', startAfterMs: 50, finishAfterMs: 150 });
    const result = await run(['app', 'sync', 'docs', '-o', 'json']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error FERRY_ERR_CLI_SYNC_FAILED: sync of 'docs' ended Failed/);
    const app = JSON.parse(result.stdout) as { status: { operationState: { phase: string; trigger: string } } };
    assert.equal(app.status.operationState.phase, 'Failed');
    assert.equal(app.status.operationState.trigger, 'manual');
  });

  test('does not mistake the previous operation for the new one', async (t) => {
    const { api, run } = await setup(t);
    // The previous operation (sync-0, Succeeded) is visible until the new one starts 400 ms later.
    api.apps.set('docs', sampleApp('docs'));
    api.syncBehaviour.set('docs', { outcome: 'Failed', startAfterMs: 400, finishAfterMs: 600 });
    const result = await run(['app', 'sync', 'docs']);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /FERRY_ERR_CLI_SYNC_FAILED/);
  });

  test('fails fast with FERRY_ERR_CLI_SYNC_FAILED when the refresh it caused reports a ComparisonError', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', sampleApp('docs'));
    api.syncBehaviour.set('docs', { outcome: 'ComparisonError', startAfterMs: 50, finishAfterMs: 0 });
    const result = await run(['app', 'sync', 'docs', '--timeout', '30']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error FERRY_ERR_CLI_SYNC_FAILED: sync of 'docs' .*could not start/);
    assert.match(result.stderr, /^  ComparisonError: k8s\/broken\.yaml:7: /m);
  });

  test('--async prints the request id and does not wait', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', sampleApp('docs'));
    api.syncBehaviour.set('docs', { outcome: 'never', startAfterMs: 50, finishAfterMs: 0 });
    const result = await run(['app', 'sync', 'docs', '--async', '-o', 'json']);
    assert.equal(result.code, 0, result.stderr);
    assert.match((JSON.parse(result.stdout) as { requestId: string }).requestId, /^sync-/);
  });

  test('--timeout gives up with FERRY_ERR_CLI_TIMEOUT while the operation is still running', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', sampleApp('docs'));
    api.syncBehaviour.set('docs', { outcome: 'never', startAfterMs: 50, finishAfterMs: 0 });
    const started = Date.now();
    const result = await run(['app', 'sync', 'docs', '--timeout', '1']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error FERRY_ERR_CLI_TIMEOUT: sync of 'docs' .* within 1s: the operation is still Running/);
    assert.ok(Date.now() - started < 30_000, 'gave up long before the default 300 s timeout');
  });
});

describe('app wait', { concurrency: true }, () => {
  test('exits 0 once the app is Synced and Healthy', async (t) => {
    const { api, run } = await setup(t);
    const app = sampleApp('docs');
    app.status!.health = { status: 'Progressing' };
    api.apps.set('docs', app);
    // becomes Healthy only after the CLI has seen it Progressing once
    const flip = setInterval(() => {
      if (api.requests.length === 0) return;
      app.status!.health = { status: 'Healthy' };
      clearInterval(flip);
    }, 10);
    flip.unref();
    const result = await run(['app', 'wait', 'docs', '--timeout', '10']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Health Status:\s+Healthy$/m);
    assert.ok(api.requests.length >= 2, 'polled more than once');
  });

  test('--sync alone does not wait for health', async (t) => {
    const { api, run } = await setup(t);
    const app = sampleApp('docs');
    app.status!.health = { status: 'Degraded' };
    api.apps.set('docs', app);
    const result = await run(['app', 'wait', 'docs', '--sync', '--timeout', '1']);
    assert.equal(result.code, 0, result.stderr);
  });

  test('times out with FERRY_ERR_CLI_TIMEOUT naming the statuses it saw', async (t) => {
    const { api, run } = await setup(t);
    const app = sampleApp('docs');
    app.status!.health = { status: 'Degraded' };
    api.apps.set('docs', app);
    const result = await run(['app', 'wait', 'docs', '--health', '--timeout', '0.5']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^error FERRY_ERR_CLI_TIMEOUT: application 'docs' was not Healthy within 0.5s \(sync: Synced, health: Degraded\)/,
    );
  });
});

describe('app history, refresh, delete', { concurrency: true }, () => {
  test('history prints ID DATE REVISION RESULT, oldest first', async (t) => {
    const { api, run } = await setup(t);
    const app = sampleApp('docs');
    app.status!.history.push({ ...app.status!.history[0]!, id: 1, phase: 'Failed', deployedAt: '2025-01-03T08:30:00Z' });
    api.apps.set('docs', app);
    const result = await run(['app', 'history', 'docs']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.deepEqual(lines[0]?.split(/\s{2,}/), ['ID', 'DATE', 'REVISION', 'RESULT']);
    assert.deepEqual(lines[1]?.split(/\s{2,}/), ['0', '2025-01-02 10:00:03 +0000', `main (${REVISION.slice(0, 7)})`, 'Succeeded']);
    assert.deepEqual(lines[2]?.split(/\s{2,}/), ['1', '2025-01-03 08:30:00 +0000', `main (${REVISION.slice(0, 7)})`, 'Failed']);
    const json = await run(['app', 'history', 'docs', '-o', 'json']);
    assert.equal((JSON.parse(json.stdout) as unknown[]).length, 2);
  });

  test('refresh posts a refresh request and prints its id', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', sampleApp('docs'));
    const result = await run(['app', 'refresh', 'docs']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^refresh requested for application 'docs' \(request refresh-\d+\)$/m);
    assert.equal(api.requests[0]?.path, '/api/v1/applications/docs/refresh');
  });

  test('delete without a terminal does not ask and deletes', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', sampleApp('docs'));
    const result = await run(['app', 'delete', 'docs']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "application 'docs' deleted\n");
    assert.equal(api.apps.has('docs'), false);
  });
});

describe('usage', { concurrency: true }, () => {
  test("the bin prints a command's help with exit 0 and a usage error with exit 2 (the full matrix is in cli.test.ts)", async (t) => {
    const { run } = await setup(t);
    const help = await run(['app', 'wait', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--timeout <seconds>/);
    assert.match(help.stdout, /-o, --output <format>/);
    const usage = await run(['app', 'list', '--bogus']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^error FERRY_ERR_CLI_USAGE: /);
  });

  test('version prints the client version and the server version when logged in', async (t) => {
    const { api, run } = await setup(t);
    const result = await run(['version']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^ferry: 0\.1\.0$/m);
    assert.match(result.stdout, new RegExp(`^server: 0\\.1\\.0 \\(${api.url}\\)$`, 'm'));
    const client = await run(['version', '--client', '-o', 'json']);
    assert.deepEqual(JSON.parse(client.stdout), { client: '0.1.0' });
  });
});
