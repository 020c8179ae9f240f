/** `ferry app diff`, `app sync` options, `app rollback` and `app delete --cascade` against the fake api. */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { sampleApp, startFakeApi, REVISION, type FakeApi } from './fake-api.js';
import { ferry, tempHome } from './run-ferry.js';

let home: ReturnType<typeof tempHome>;
const TOKEN = 'tok-admin';
const OLD = '1111111111111111111111111111111111111111';

before(() => {
  home = tempHome();
});
after(() => home.cleanup());

async function setup(t: TestContext): Promise<{ api: FakeApi; run: (args: string[]) => ReturnType<typeof ferry> }> {
  const api = await startFakeApi({ [TOKEN]: 'admin' });
  t.after(() => api.close());
  return { api, run: (args) => ferry([...args, '--server', api.url, '--token', TOKEN], { home: home.dir }) };
}

const deploymentDiff = ['--- live', '+++ desired', '@@ -5,1 +5,1 @@', '-  replicas: 1', '+  replicas: 2', ''].join('\n');

function storedDiff(resources: Array<Record<string, unknown>>): Record<string, unknown> {
  return { app: 'docs', revision: REVISION, comparedAt: '2025-01-02T10:00:05.000Z', resources };
}

const synced = {
  group: '',
  version: 'v1',
  kind: 'Service',
  namespace: 'skynet-docs',
  name: 'docs',
  status: 'Synced',
  diffState: 'Synced',
  diff: '',
  patch: [],
};

describe('app diff', { concurrency: true }, () => {
  test('prints an argocd-style header and the unified diff of each differing resource, and exits 1', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', sampleApp('docs'));
    api.diffs.set(
      'docs',
      storedDiff([
        synced,
        {
          group: 'apps',
          version: 'v1',
          kind: 'Deployment',
          namespace: 'skynet-docs',
          name: 'docs',
          status: 'OutOfSync',
          diffState: 'OutOfSync',
          diff: deploymentDiff,
          patch: [{ op: 'replace', path: '/spec/replicas', value: 2 }],
        },
        {
          group: '',
          version: 'v1',
          kind: 'Namespace',
          namespace: '',
          name: 'skynet-docs',
          status: 'OutOfSync',
          diffState: 'Missing',
          diff: '',
        },
      ]),
    );
    const result = await run(['app', 'diff', 'docs']);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(
      result.stdout,
      [
        '===== apps/Deployment skynet-docs/docs ======',
        '--- live',
        '+++ desired',
        '@@ -5,1 +5,1 @@',
        '-  replicas: 1',
        '+  replicas: 2',
        '===== /Namespace /skynet-docs ======',
        '(in Git, not in the cluster)',
        '',
      ].join('\n'),
    );
    assert.doesNotMatch(result.stdout, /Service/, 'a Synced resource is not printed');
    const json = await run(['app', 'diff', 'docs', '-o', 'json']);
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.stdout), api.diffs.get('docs'));
  });

  test('prints nothing and exits 0 when every resource is Synced', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', sampleApp('docs'));
    api.diffs.set('docs', storedDiff([synced]));
    const result = await run(['app', 'diff', 'docs']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
  });

  test('exits 2 with the error code on errors: no diff yet, unknown app, server down', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', sampleApp('docs'));
    const none = await run(['app', 'diff', 'docs']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^error FERRY_ERR_API_DIFF_NOT_FOUND: /);
    const missing = await run(['app', 'diff', 'nope']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error FERRY_ERR_APP_NOT_FOUND: /);
    const down = await ferry(['app', 'diff', 'docs', '--server', 'http://127.0.0.1:1', '--token', TOKEN], { home: home.dir });
    assert.equal(down.code, 2);
    assert.match(down.stderr, /^error FERRY_ERR_CLI_SERVER_UNREACHABLE: /);
  });
});

describe('app sync options', { concurrency: true }, () => {
  test("sends --revision, --prune, --dry-run, --resource and --sync-option in Argo CD's body and waits", async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', sampleApp('docs', { syncPolicy: {} }));
    const result = await run([
      'app',
      'sync',
      'docs',
      '--revision',
      OLD,
      '--prune',
      '--dry-run',
      '--resource',
      'apps:Deployment:docs',
      '--resource',
      ':Service:skynet-docs/docs',
      '--sync-option',
      'PruneLast=true',
      '--sync-option',
      'CreateNamespace=true',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const sent = api.requests.find((r) => r.path === '/api/v1/applications/docs/sync');
    assert.deepEqual(sent?.body, {
      prune: true,
      revision: OLD,
      dryRun: true,
      resources: [
        { group: 'apps', kind: 'Deployment', name: 'docs' },
        { group: '', kind: 'Service', namespace: 'skynet-docs', name: 'docs' },
      ],
      syncOptions: { items: ['PruneLast=true', 'CreateNamespace=true'] },
    });
    assert.match(result.stdout, new RegExp(`^Sync Revision:\\s+${OLD}$`, 'm'));
  });

  test('without options sends only prune (as before)', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', sampleApp('docs'));
    const result = await run(['app', 'sync', 'docs', '--async']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(api.requests.find((r) => r.path.endsWith('/sync'))?.body, { prune: false });
  });

  test('a malformed --resource, a wildcard or an unsupported --sync-option is a usage error (exit 2) and nothing is sent', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', sampleApp('docs'));
    for (const args of [
      ['--resource', 'Deployment:docs'],
      ['--resource', 'apps:Deployment:*'],
      ['--resource', 'apps:Deployment:ns/'],
      ['--sync-option', 'Frobnicate=true'],
      ['--sync-option', 'Replace=maybe'],
      ['--revision', ''],
    ]) {
      const result = await run(['app', 'sync', 'docs', ...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /^error FERRY_ERR_CLI_USAGE: /);
    }
    const bad = await run(['app', 'sync', 'docs', '--sync-option', 'Frobnicate=true']);
    assert.match(bad.stderr, /Frobnicate is not supported/);
    assert.equal(api.requests.filter((r) => r.path.endsWith('/sync')).length, 0);
  });
});

describe('app rollback', { concurrency: true }, () => {
  function withHistory(automated: boolean) {
    const app = sampleApp('docs', automated ? {} : { syncPolicy: {} });
    const first = app.status!.history[0]!;
    app.status!.history = [
      { ...first, id: 0, revision: OLD },
      { ...first, id: 1, revision: REVISION },
    ];
    return app;
  }

  test('rolls back to the history entry, waits for the operation and prints it', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', withHistory(false));
    const result = await run(['app', 'rollback', 'docs', '0', '--prune']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(api.requests.find((r) => r.path.endsWith('/rollback'))?.body, { id: 0, prune: true });
    assert.match(result.stdout, new RegExp(`^Sync Revision:\\s+${OLD}$`, 'm'));
    assert.match(result.stdout, /^Phase:\s+Succeeded$/m);
  });

  test('without an id rolls back to the entry before the newest', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', withHistory(false));
    const result = await run(['app', 'rollback', 'docs', '--async', '-o', 'json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { id: number }).id, 0);
  });

  test('is refused while automated sync is on, unless --disable-auto-sync', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', withHistory(true));
    const refused = await run(['app', 'rollback', 'docs', '0']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error FERRY_ERR_API_ROLLBACK_AUTOSYNC: /);
    const done = await run(['app', 'rollback', 'docs', '0', '--disable-auto-sync']);
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual(api.requests.filter((r) => r.path.endsWith('/rollback')).at(-1)?.body, { id: 0, prune: false, disableAutoSync: true });
    assert.equal(api.apps.get('docs')?.spec.syncPolicy?.automated, undefined);
  });

  test('an unknown history id is the api 404; a non-numeric one a usage error', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('docs', withHistory(false));
    const unknown = await run(['app', 'rollback', 'docs', '9']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^error FERRY_ERR_API_HISTORY_NOT_FOUND: /);
    const usage = await run(['app', 'rollback', 'docs', 'latest']);
    assert.equal(usage.code, 2);
  });
});

describe('app delete cascade', { concurrency: true }, () => {
  test('--cascade=false orphans, --propagation-policy is passed on, the default sends no query', async (t) => {
    const { api, run } = await setup(t);
    for (const name of ['a', 'b', 'c']) api.apps.set(name, sampleApp(name));
    assert.equal((await run(['app', 'delete', 'a'])).code, 0);
    assert.equal((await run(['app', 'delete', 'b', '--cascade=false'])).code, 0);
    assert.equal((await run(['app', 'delete', 'c', '--propagation-policy', 'background'])).code, 0);
    const queries = api.requests.filter((r) => r.method === 'DELETE').map((r) => [r.path, r.query]);
    assert.deepEqual(queries, [
      ['/api/v1/applications/a', {}],
      ['/api/v1/applications/b', { cascade: 'false' }],
      ['/api/v1/applications/c', { propagationPolicy: 'background' }],
    ]);
  });

  test('a bad policy, or a policy with --cascade=false, is a usage error', async (t) => {
    const { api, run } = await setup(t);
    api.apps.set('a', sampleApp('a'));
    assert.equal((await run(['app', 'delete', 'a', '--propagation-policy', 'now'])).code, 2);
    assert.equal((await run(['app', 'delete', 'a', '--cascade=false', '--propagation-policy', 'foreground'])).code, 2);
    assert.equal(api.apps.has('a'), true);
  });
});
