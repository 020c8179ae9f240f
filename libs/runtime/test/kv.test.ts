import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kvm } from '@nats-io/kv';
import { ErrorCode, FerryError } from '@ferry/contracts';
import { connectNats, natsNames, provisionJetStream } from '../src/nats.js';
import type { NatsConnection } from '../src/nats.js';
import { openArtifactStore, openJsonKv } from '../src/kv.js';
import type { JsonKv } from '../src/kv.js';
import { acquireLease } from '../src/lease.js';
import type { Lease } from '../src/lease.js';
import { captureLogger, waitFor } from './helpers/logs.js';
import { natsServerMissing, startNatsServer } from './helpers/nats-server.js';
import type { TestNatsServer } from './helpers/nats-server.js';

const skip = natsServerMissing();
const config = { subjectPrefix: 'gitops', streamName: 'FERRY_EVENTS', bucketPrefix: 'ferry' };
const names = natsNames(config);

describe('JSON KV, artifacts and leases', { skip }, () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  const { logger } = captureLogger();

  before(async () => {
    server = await startNatsServer();
    nc = await connectNats({ servers: [server.url], name: 'kv', logger });
    await provisionJetStream(nc, config, logger);
  });
  after(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('creates only when absent and updates only at the expected revision', async () => {
    const kv = await openJsonKv<{ n: number }>(nc, names.buckets.apps);
    const r1 = await kv.create('a', { n: 1 });
    assert.equal(typeof r1, 'number');
    assert.equal(await kv.create('a', { n: 2 }), undefined);
    assert.deepEqual(await kv.get('a'), { value: { n: 1 }, revision: r1 });
    const r2 = await kv.update('a', { n: 3 }, r1!);
    assert.ok(r2 !== undefined && r2 > r1!);
    assert.equal(await kv.update('a', { n: 4 }, r1!), undefined, 'stale revision must fail');
    assert.deepEqual((await kv.get('a'))?.value, { n: 3 });
    const r3 = await kv.put('b', { n: 5 });
    assert.ok(r3 > r2!);
    assert.deepEqual((await kv.keys()).sort(), ['a', 'b']);
    assert.deepEqual(
      (await kv.values()).map((v) => [v.key, v.value.n]).sort(),
      [['a', 3], ['b', 5]],
    );
    assert.equal(await kv.delete('b', r1), false, 'delete at a stale revision must fail');
    assert.equal(await kv.delete('b'), true);
    assert.equal(await kv.get('b'), undefined);
    assert.deepEqual(await kv.keys(), ['a']);
    assert.equal(typeof (await kv.create('b', { n: 6 })), 'number', 'create after delete works');
  });

  it('watches initial values, then updates, with undefined for deletes', async () => {
    const kv = await openJsonKv<string>(nc, names.buckets.source);
    await kv.put('x', 'one');
    await kv.put('y', 'two');
    const seen: Array<[string, string | undefined]> = [];
    const w = await kv.watch((k, v) => seen.push([k, v]));
    // watch() resolves after the initial values.
    assert.deepEqual(seen, [['x', 'one'], ['y', 'two']]);
    await kv.put('x', 'three');
    await kv.delete('y');
    await waitFor(() => seen.length === 4, 5_000, 'updates');
    assert.deepEqual(seen.slice(2), [['x', 'three'], ['y', undefined]]);
    await w.stop();
    await w.stop();
    await kv.put('x', 'four');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(seen.length, 4, 'no events after stop');
  });

  it('watch on an empty bucket resolves at once', async () => {
    const kv = await openJsonKv<string>(nc, names.buckets.notifier);
    const t0 = Date.now();
    const w = await kv.watch(() => undefined);
    assert.ok(Date.now() - t0 < 2_000);
    await w.stop();
  });

  it('reports a value that is not JSON with FERRY_ERR_KV_VALUE_INVALID', async () => {
    const raw = await new Kvm(nc).open(names.buckets.health);
    await raw.put('broken', 'not json{');
    const kv = await openJsonKv<unknown>(nc, names.buckets.health);
    await assert.rejects(kv.get('broken'), (e: unknown) => e instanceof FerryError && e.code === ErrorCode.KvValueInvalid);
  });

  it('stores and reads JSON artifacts, undefined when absent', async () => {
    const store = await openArtifactStore(nc, names.objectStore);
    const big = { items: Array.from({ length: 2000 }, (_, i) => ({ i, name: `obj-${i}`, pad: 'x'.repeat(100) })) };
    await store.putJson('web/abc123/k1', big);
    assert.deepEqual(await store.getJson('web/abc123/k1'), big);
    await store.putJson('web/abc123/k1', { replaced: true });
    assert.deepEqual(await store.getJson('web/abc123/k1'), { replaced: true });
    assert.equal(await store.getJson('missing'), undefined);
  });

  describe('leases', () => {
    let kv: JsonKv<Lease>;
    before(async () => {
      kv = await openJsonKv<Lease>(nc, names.buckets.leases);
    });

    it('lets exactly one of two racing holders take a lease', async () => {
      for (let i = 0; i < 10; i++) {
        const key = `race-${i}`;
        const [a, b] = await Promise.all([acquireLease(kv, key, 'a', 5_000), acquireLease(kv, key, 'b', 5_000)]);
        assert.equal([a, b].filter(Boolean).length, 1, `round ${i}`);
        await a?.release();
        await b?.release();
      }
    });

    it('refuses a held lease, and gives it to the next holder after release', async () => {
      const a = await acquireLease(kv, 'app-1', 'a', 5_000);
      assert.ok(a?.held);
      assert.equal(await acquireLease(kv, 'app-1', 'b', 5_000), undefined);
      await a!.release();
      await a!.release();
      assert.equal(a!.held, false);
      const b = await acquireLease(kv, 'app-1', 'b', 5_000);
      assert.ok(b?.held);
      await b!.release();
    });

    it('lets another holder take an expired lease, and the old holder notices on renew', async () => {
      let lost = 0;
      let clock = 1_000_000;
      const now = () => clock;
      const a = await acquireLease(kv, 'app-2', 'a', 60_000, { now, onLost: () => lost++ });
      assert.ok(a);
      assert.equal(await acquireLease(kv, 'app-2', 'b', 60_000, { now }), undefined);
      clock += 61_000; // a did not renew in time
      const b = await acquireLease(kv, 'app-2', 'b', 60_000, { now });
      assert.ok(b?.held);
      assert.equal(await a.renew(), false);
      assert.equal(a.held, false);
      assert.equal(lost, 1);
      await a.release(); // not ours any more: must not delete b's
      assert.equal((await kv.get('app-2'))?.value.holder, 'b');
      await b!.release();
    });

    it('keeps a lease alive by renewing it automatically', async () => {
      const a = await acquireLease(kv, 'app-3', 'a', 300);
      assert.ok(a);
      const first = (await kv.get('app-3'))!.value.expiresAt;
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(await acquireLease(kv, 'app-3', 'b', 300), undefined, 'still held after 2 ttl');
      assert.ok((await kv.get('app-3'))!.value.expiresAt > first);
      await a.release();
    });
  });
});
