/** `ferry` against the real api service (`start()` from @ferry/api) on a real nats-server. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig, start, type ApiService } from '@ferry/api';
import { createLogger, createMetricsRegistry } from '@ferry/runtime';
import { natsServerPath, startNatsServer, waitUntil, type NatsServerHandle } from '@ferry/testing';
import { ferry, tempHome } from './run-ferry.js';

const TOKEN = 'cli-integration-token-0123456789';
let nats: NatsServerHandle | undefined;
let api: ApiService | undefined;
let home: ReturnType<typeof tempHome>;

before(async () => {
  home = tempHome();
  if (!natsServerPath()) return;
  nats = await startNatsServer();
  const config = loadConfig({
    FERRY_NATS_URL: nats.url,
    FERRY_HTTP_PORT: '0',
    FERRY_API_TOKENS: `cli=${TOKEN}`,
    FERRY_LOG_LEVEL: 'silent',
  });
  api = await start(config, {
    logger: createLogger({ name: 'api', level: 'silent' }),
    registry: createMetricsRegistry({ service: 'api' }),
  });
});

after(async () => {
  await api?.close();
  await nats?.close();
  home.cleanup();
});

const manifest = `# an Argo CD Application, as its users declare it
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: skynet-docs
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://git.example.invalid/skynet-gitops.git
    targetRevision: main
    path: k8s
  destination:
    server: https://kubernetes.default.svc
    namespace: skynet-docs
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
`;

test('login, app create -f, app list and app get work against the real api', async (t) => {
  if (!api) return t.skip('nats-server not found: apt-get install -y nats-server');
  const url = api.url;
  const loggedIn = await ferry(['login', '--server', url, '--token', TOKEN], { home: home.dir });
  assert.equal(loggedIn.code, 0, loggedIn.stderr);

  const file = join(home.dir, 'skynet-docs.yaml');
  writeFileSync(file, manifest);
  const created = await ferry(['app', 'create', '-f', file], { home: home.dir });
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout, "application 'skynet-docs' created\n");

  const again = await ferry(['app', 'create', '-f', file], { home: home.dir });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^error FERRY_ERR_APP_EXISTS: /);
  const upserted = await ferry(['app', 'create', '-f', file, '--upsert'], { home: home.dir });
  assert.equal(upserted.code, 0, upserted.stderr);
  assert.equal(upserted.stdout, "application 'skynet-docs' updated\n");

  // the reads run side by side (each is its own process)
  const [list, get, json, history, sync, missing, version] = await Promise.all(
    [
      ['app', 'list'],
      ['app', 'get', 'skynet-docs'],
      ['app', 'get', 'skynet-docs', '-o', 'json'],
      ['app', 'history', 'skynet-docs', '-o', 'json'],
      ['app', 'sync', 'skynet-docs', '--async'],
      ['app', 'get', 'nope'],
      ['version', '-o', 'json'],
    ].map((args) => ferry(args, { home: home.dir })),
  );
  assert.ok(list && get && json && history && sync && missing && version);
  assert.equal(list.code, 0, list.stderr);
  const [header, row] = list.stdout.trimEnd().split('\n');
  assert.match(header ?? '', /^NAME\s+CLUSTER\s+NAMESPACE\s+PROJECT\s+STATUS\s+HEALTH\s+SYNCPOLICY\s+CONDITIONS\s+REPO\s+PATH\s+TARGET$/);
  const cells = (row ?? '').split(/\s{2,}/);
  assert.deepEqual(
    [cells[0], cells[1], cells[2], cells[3], cells[6], cells[8], cells[9], cells[10]],
    [
      'skynet-docs',
      'https://kubernetes.default.svc',
      'skynet-docs',
      'default',
      'Auto-Prune',
      'https://git.example.invalid/skynet-gitops.git',
      'k8s',
      'main',
    ],
  );

  assert.equal(get.code, 0, get.stderr);
  assert.match(get.stdout, /^Name:\s+skynet-docs$/m);
  assert.match(get.stdout, /^Sync Policy:\s+Automated Prune SelfHeal$/m);
  assert.match(get.stdout, /^GROUP\s+KIND\s+NAMESPACE\s+NAME\s+STATUS\s+HEALTH\s+MESSAGE$/m);

  const app = JSON.parse(json.stdout) as { metadata: { name: string }; status: { sync: { status: string }; history: unknown[] } };
  assert.equal(app.metadata.name, 'skynet-docs');
  assert.equal(typeof app.status.sync.status, 'string');

  assert.equal(history.code, 0, history.stderr);
  assert.deepEqual(JSON.parse(history.stdout), []);

  assert.equal(sync.code, 0, sync.stderr);
  assert.match(sync.stdout, /^sync requested for application 'skynet-docs' \(request \S+\)$/m);

  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error FERRY_ERR_APP_NOT_FOUND: /);

  assert.equal(version.code, 0, version.stderr);
  assert.deepEqual(JSON.parse(version.stdout), { client: '0.1.0', server: '0.1.0', url });
});

test('an unsupported field is rejected locally with file:line before the real api sees it', async (t) => {
  if (!api) return t.skip('nats-server not found: apt-get install -y nats-server');
  const file = join(home.dir, 'helm.yaml');
  writeFileSync(file, manifest.replace('    path: k8s\n', '    path: k8s\n    helm:\n      releaseName: docs\n'));
  const result = await ferry(['app', 'create', '-f', file, '--server', api.url, '--token', TOKEN], { home: home.dir });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error FERRY_ERR_APP_INVALID: /);
  assert.match(result.stderr, /helm\.yaml:13: spec\.source\.helm is not a supported field/);
});

test('app diff, sync options, rollback and delete --cascade=false work against the real api', async (t) => {
  if (!api || !nats) return t.skip('nats-server not found: apt-get install -y nats-server');
  const { connect } = await import('@nats-io/transport-node');
  const { decodeEvent } = await import('@ferry/contracts');
  const { natsNames, openArtifactStore, openJsonKv } = await import('@ferry/runtime');
  const nc = await connect({ servers: nats.url });
  t.after(() => nc.close());
  const events: Array<{ subject: string; data: Record<string, unknown> }> = [];
  nc.subscribe('gitops.>', {
    callback: (_e, msg) => {
      events.push({ subject: msg.subject, data: decodeEvent(msg.data).data as Record<string, unknown> });
    },
  });
  await nc.flush();
  const names = natsNames({ streamName: 'FERRY_EVENTS', bucketPrefix: 'ferry' });
  const flags = ['--server', api.url, '--token', TOKEN];
  const run = (args: string[]) => ferry([...args, ...flags], { home: home.dir });
  const file = join(home.dir, 'engine.yaml');
  writeFileSync(file, manifest.replace('name: skynet-docs\n', 'name: engine\n'));
  assert.equal((await run(['app', 'create', '-f', file])).code, 0);

  // diff: an error (exit 2) until the differ stored one; then exit 1 with argocd's header
  const none = await run(['app', 'diff', 'engine']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^error FERRY_ERR_API_DIFF_NOT_FOUND: /);
  const artifacts = await openArtifactStore(nc, names.objectStore);
  await artifacts.putJson('diffs.engine', {
    app: 'engine',
    revision: 'c'.repeat(40),
    comparedAt: new Date().toISOString(),
    resources: [
      {
        group: '',
        version: 'v1',
        kind: 'ConfigMap',
        namespace: 'skynet-docs',
        name: 'cfg',
        status: 'OutOfSync',
        diffState: 'OutOfSync',
        diff: '-a: 1\n+a: 2\n',
        patch: [],
      },
    ],
  });
  const diff = await run(['app', 'diff', 'engine']);
  assert.equal(diff.code, 1, diff.stderr);
  assert.equal(diff.stdout, '===== /ConfigMap skynet-docs/cfg ======\n-a: 1\n+a: 2\n');

  // sync with options (a dry run at another revision is allowed while automated)
  const sync = await run([
    'app',
    'sync',
    'engine',
    '--async',
    '--dry-run',
    '--revision',
    'v1',
    '--resource',
    ':ConfigMap:skynet-docs/cfg',
    '--sync-option',
    'Validate=false',
    '-o',
    'json',
  ]);
  assert.equal(sync.code, 0, sync.stderr);
  const { requestId } = JSON.parse(sync.stdout) as { requestId: string };
  const requested = await waitUntil(() => events.find((e) => e.data['requestId'] === requestId), { message: 'sync.requested' });
  assert.deepEqual(requested.data, {
    app: 'engine',
    requestId,
    prune: false,
    initiatedBy: 'cli',
    kind: 'sync',
    revision: 'v1',
    dryRun: true,
    resources: [{ group: '', kind: 'ConfigMap', namespace: 'skynet-docs', name: 'cfg' }],
    syncOptions: ['Validate=false'],
  });
  const refused = await run(['app', 'sync', 'engine', '--async', '--revision', 'v1']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error FERRY_ERR_API_SYNC_AUTOSYNC: /);

  // rollback: refused while automated; --disable-auto-sync turns it off and publishes the rollback
  const operation = await openJsonKv<unknown>(nc, names.buckets.operation);
  const entry = (id: number, revision: string) => ({
    id,
    revision,
    deployStartedAt: '2025-01-01T00:00:00.000Z',
    deployedAt: '2025-01-01T00:00:01.000Z',
    source: { repoURL: 'https://git.example.invalid/skynet-gitops.git', targetRevision: 'main', path: 'k8s' },
    initiatedBy: { username: 'cli' },
    syncId: `s${id}`,
    phase: 'Succeeded',
    resources: [],
  });
  await operation.put('engine', { app: 'engine', history: [entry(0, 'a'.repeat(40)), entry(1, 'b'.repeat(40))], conditions: [] });
  const blocked = await run(['app', 'rollback', 'engine', '0']);
  assert.equal(blocked.code, 1);
  assert.match(blocked.stderr, /^error FERRY_ERR_API_ROLLBACK_AUTOSYNC: /);
  const rollback = await run(['app', 'rollback', 'engine', '0', '--disable-auto-sync', '--async', '-o', 'json']);
  assert.equal(rollback.code, 0, rollback.stderr);
  const rb = JSON.parse(rollback.stdout) as { requestId: string; revision: string };
  assert.equal(rb.revision, 'a'.repeat(40));
  const rbEvent = await waitUntil(() => events.find((e) => e.data['requestId'] === rb.requestId), { message: 'rollback sync.requested' });
  assert.equal(rbEvent.data['kind'], 'rollback');
  assert.equal(rbEvent.data['historyId'], 0);
  const app = JSON.parse((await run(['app', 'get', 'engine', '-o', 'json'])).stdout) as { spec: { syncPolicy?: unknown } };
  assert.equal(app.spec.syncPolicy, undefined);

  // delete without cascading
  const deleted = await run(['app', 'delete', 'engine', '--cascade=false']);
  assert.equal(deleted.code, 0, deleted.stderr);
  const gone = await waitUntil(() => events.find((e) => e.subject === 'gitops.app.deleted.engine'), { message: 'app.deleted' });
  assert.equal(gone.data['cascade'], 'orphan');
});
