import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ErrorCode, parseApplication, type Application, type SourceStatusRecord } from '@ferry/contracts';
import {
  createEventBus,
  createLogger,
  createMetricsRegistry,
  natsNames,
  openArtifactStore,
  openJsonKv,
  provisionJetStream,
  startTracing,
  type JsonKv,
  type Tracing,
} from '@ferry/runtime';
import {
  startGitServer,
  startNatsServer,
  tempDir,
  waitUntil,
  type GitServerHandle,
  type NatsServerHandle,
  type TempDir,
} from '@ferry/testing';
import {
  GitError,
  createGitClient,
  createPollerMetrics,
  createSourcePoller,
  type GitClient,
  type RefListing,
  type SourcePoller,
} from '../../src/index.js';

const logger = createLogger({ name: 'poller-test', level: 'silent' });
const cm = (name: string, value = 'x') => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: "${value}"\n`;
const names = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);

function application(name: string, repoURL: string, path: string): Application {
  return parseApplication({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd' },
    spec: {
      project: 'default',
      source: { repoURL, targetRevision: 'main', path },
      destination: { server: 'https://kubernetes.default.svc', namespace: name },
    },
  });
}

/**
 * The real Git client over the real server, counting ref listings with `onRequest`; `hold` makes
 * every listing that has read the server's refs wait before returning (a listing "in flight"),
 * `failNext` makes the next listing fail (after reading) as an unreachable server would.
 */
function instrumentedGit(cacheDir: string) {
  const listings: Array<{ url: string; ok: boolean }> = [];
  const real = createGitClient({
    cacheDir,
    onRequest: (kind, url, _ms, ok) => {
      if (kind === 'ls-remote') listings.push({ url, ok });
    },
  });
  let hold: Promise<void> | undefined;
  let failNext = false;
  let inFlight = 0;
  const git: GitClient = {
    async listRefs(url: string): Promise<RefListing> {
      inFlight++;
      try {
        const fail = failNext;
        failNext = false;
        const listing = await real.listRefs(url);
        await hold;
        if (fail) throw new GitError(ErrorCode.GitUnreachable, `listing refs of ${url}: connection reset`, { repoURL: url });
        return listing;
      } finally {
        inFlight--;
      }
    },
    checkout: (url, commit) => real.checkout(url, commit),
  };
  return {
    git,
    listings,
    get inFlight() {
      return inFlight;
    },
    /** Holds listings until the returned function is called. */
    hold(): () => void {
      let release!: () => void;
      hold = new Promise<void>((resolve) => (release = resolve));
      return () => {
        hold = undefined;
        release();
      };
    },
    failNextListing() {
      failNext = true;
    },
  };
}

describe('ref listings shared per repository (real git smart-HTTP server, real nats-server)', () => {
  let nats: NatsServerHandle;
  let gitServer: GitServerHandle;
  let cache: TempDir;
  let tracing: Tracing;
  let nc: NatsConnection;
  let status: JsonKv<SourceStatusRecord>;
  let make: (gitCacheSuffix: string) => { poller: SourcePoller; probe: ReturnType<typeof instrumentedGit> };

  before(async () => {
    [nats, gitServer, cache] = await Promise.all([startNatsServer(), startGitServer(), tempDir('ferry-poller-coalesce')]);
    tracing = await startTracing({ serviceName: 'poller', logger });
    nc = await connect({ servers: nats.url });
    const prefix = { subjectPrefix: 'gitops', streamName: 'FERRY_EVENTS', bucketPrefix: 'ferry' };
    await provisionJetStream(nc, prefix, logger);
    const n = natsNames(prefix);
    status = await openJsonKv<SourceStatusRecord>(nc, n.buckets.source);
    const artifacts = await openArtifactStore(nc, n.objectStore);
    const bus = createEventBus({ nc, config: { serviceName: 'poller', ...prefix }, logger, tracer: tracing.tracer });
    make = (suffix) => {
      const probe = instrumentedGit(`${cache.path}/${suffix}`);
      const poller = createSourcePoller({
        git: probe.git,
        artifacts,
        statusKv: status,
        bus,
        tracer: tracing.tracer,
        logger,
        metrics: createPollerMetrics(createMetricsRegistry({ service: 'poller' })),
        concurrency: 4,
      });
      return { poller, probe };
    };
  });

  after(async () => {
    await nc?.drain();
    await tracing?.shutdown();
    await Promise.all([nats?.close(), gitServer?.close(), cache?.cleanup()]);
  });

  it('50 refresh requests for 50 apps of one repository at once cost at most 3 listings, and every app is detected at the head', async () => {
    const apps = names(50, 'burst');
    const repo = await gitServer.createRepo('burst', Object.fromEntries(apps.map((a) => [`apps/${a}/cm.yaml`, cm(a)])));
    const head = await repo.head();
    const { poller, probe } = make('burst');
    const outcomes = await Promise.all(apps.map((a) => poller.pollApp(application(a, repo.url, `apps/${a}`), { requestId: `r-${a}` })));
    assert.ok(probe.listings.length >= 1 && probe.listings.length <= 3, `${probe.listings.length} ref listings for 50 refreshes`);
    for (const outcome of outcomes) {
      assert.equal(outcome.result, 'detected', outcome.app);
      assert.equal(outcome.revision, head, outcome.app);
    }
    for (const a of apps) assert.equal((await status.get(a))?.value.revision, head, `status of ${a}`);
  });

  it('a refresh requested after a push, while an older listing is in flight, detects the pushed commit', async () => {
    const repo = await gitServer.createRepo('race', { 'a/cm.yaml': cm('a', 'v1'), 'b/cm.yaml': cm('b', 'v1') });
    const old = await repo.head();
    const { poller, probe } = make('race');
    const release = probe.hold();
    // App a's listing reads the refs (old commit) and is then held "in flight".
    const first = poller.pollApp(application('race-a', repo.url, 'a'), { requestId: 'r-a' });
    await waitUntil(() => probe.listings.length === 1, { message: 'the first listing read the refs' });
    assert.equal(probe.inFlight, 1);
    const pushed = await repo.commit({ 'b/cm.yaml': cm('b', 'v2') }, 'v2');
    // The refresh arrives after the push, while the first listing is still in flight.
    const second = poller.pollApp(application('race-b', repo.url, 'b'), { requestId: 'r-b' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(probe.listings.length, 1, 'the second request waits for its own listing instead of starting a third');
    release();
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.revision, old, 'the first request is answered by the listing it started');
    assert.equal(b.revision, pushed, 'the later request sees the commit pushed before it');
    assert.equal(b.result, 'detected');
    assert.equal(probe.listings.length, 2);
  });

  it('a scheduled cycle lists each repository once however many apps use it', async () => {
    const [one, two] = await Promise.all([
      gitServer.createRepo('cycle-one', Object.fromEntries(names(20, 'one').map((a) => [`apps/${a}/cm.yaml`, cm(a)]))),
      gitServer.createRepo('cycle-two', Object.fromEntries(names(5, 'two').map((a) => [`apps/${a}/cm.yaml`, cm(a)]))),
    ]);
    const { poller, probe } = make('cycle');
    const apps = [
      ...names(20, 'one').map((a) => application(a, one.url, `apps/${a}`)),
      ...names(5, 'two').map((a) => application(a, `${two.url}/`, `apps/${a}`)),
    ];
    const outcomes = await poller.pollCycle(apps);
    assert.equal(outcomes.length, 25);
    assert.ok(
      outcomes.every((o) => o.result === 'detected'),
      JSON.stringify(outcomes.filter((o) => o.result !== 'detected')),
    );
    assert.deepEqual(probe.listings.map((l) => l.url).sort(), [one.url, two.url].sort());
    await poller.pollCycle(apps);
    assert.equal(probe.listings.length, 4, 'the next cycle lists again, once per repository');
  });

  it('a cycle and refresh requests arriving while its listing runs share the next listing', async () => {
    const repo = await gitServer.createRepo('mixed', Object.fromEntries(names(10, 'mixed').map((a) => [`apps/${a}/cm.yaml`, cm(a)])));
    const { poller, probe } = make('mixed');
    const apps = names(10, 'mixed').map((a) => application(a, repo.url, `apps/${a}`));
    const release = probe.hold();
    const refreshFirst = poller.pollApp(apps[0] as Application, { requestId: 'm-0' });
    await waitUntil(() => probe.listings.length === 1, { message: 'first listing in flight' });
    const cycle = poller.pollCycle(apps.slice(1, 5));
    const refreshes = apps.slice(5).map((app, i) => poller.pollApp(app, { requestId: `m-${i + 5}` }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    const all = [await refreshFirst, ...(await cycle), ...(await Promise.all(refreshes))];
    assert.equal(all.length, 10);
    assert.ok(all.every((o) => o.result === 'detected'));
    assert.equal(probe.listings.length, 2, 'the cycle and the later refreshes joined one queued listing');
  });

  it('a failing listing fails only the requests that joined it', async () => {
    const repo = await gitServer.createRepo('flaky', { 'a/cm.yaml': cm('a'), 'b/cm.yaml': cm('b'), 'c/cm.yaml': cm('c') });
    const head = await repo.head();
    const { poller, probe } = make('flaky');
    const release = probe.hold();
    probe.failNextListing();
    const doomed = poller.pollApp(application('flaky-a', repo.url, 'a'), { requestId: 'f-a' });
    await waitUntil(() => probe.listings.length === 1, { message: 'the failing listing is in flight' });
    const joined = ['b', 'c'].map((p) => poller.pollApp(application(`flaky-${p}`, repo.url, p), { requestId: `f-${p}` }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    const a = await doomed;
    assert.equal(a.result, 'failed');
    assert.equal(a.error?.code, ErrorCode.GitUnreachable);
    assert.equal(a.transient, true, 'left for a redelivery');
    for (const outcome of await Promise.all(joined)) {
      assert.equal(outcome.result, 'detected', outcome.app);
      assert.equal(outcome.revision, head, outcome.app);
    }
    assert.equal(probe.listings.length, 2);
  });
});
