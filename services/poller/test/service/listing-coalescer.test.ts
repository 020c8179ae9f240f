import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { createListingCoalescer, type RefListing } from '../../src/index.js';

interface Call {
  readonly url: string;
  /** What the "server" held when the listing started. */
  readonly head: string;
  resolve(): void;
  reject(error: Error): void;
}

/** A fake listRefs whose listings end when the test says so; each reports the head at its start. */
function fakeServer() {
  let head = 'c1';
  const calls: Call[] = [];
  const listRefs = (url: string): Promise<RefListing> =>
    new Promise<RefListing>((resolve, reject) => {
      const at = head;
      calls.push({
        url,
        head: at,
        resolve: () => resolve({ repoURL: url, head: at, headRef: 'refs/heads/main', branches: { main: at }, tags: {} }),
        reject,
      });
    });
  return {
    calls,
    listRefs,
    push(commit: string) {
      head = commit;
    },
  };
}

const REPO = 'https://git.example.com/r.git';

describe('the ref listing coalescer', () => {
  it('starts a listing at once when the repository has none running', async () => {
    const server = fakeServer();
    const coalescer = createListingCoalescer({ listRefs: server.listRefs });
    const listing = coalescer.list(REPO);
    await tick();
    assert.equal(server.calls.length, 1);
    server.calls[0]?.resolve();
    assert.equal((await listing).head, 'c1');
    assert.equal(coalescer.active, 0, 'an idle repository holds no state');
  });

  it('never answers a caller with a listing that started before it asked: late callers share one queued listing', async () => {
    const server = fakeServer();
    const coalescer = createListingCoalescer({ listRefs: server.listRefs });
    const first = coalescer.list(REPO);
    await tick();
    server.push('c2'); // pushed while the first listing runs, before the next requests
    const late = Array.from({ length: 10 }, () => coalescer.list(REPO));
    await tick();
    assert.equal(server.calls.length, 1, 'the queued listing waits for the running one');
    server.calls[0]?.resolve();
    assert.equal((await first).head, 'c1');
    await tick();
    assert.equal(server.calls.length, 2, 'the queued listing starts when the running one ends');
    server.calls[1]?.resolve();
    const heads = (await Promise.all(late)).map((l) => l.head);
    assert.deepEqual(heads, Array(10).fill('c2'));
    assert.equal(new Set(await Promise.all(late)).size, 1, 'the late callers share one listing');
    assert.equal(server.calls.length, 2);
  });

  it('keeps at most one listing running and one queued per repository', async () => {
    const server = fakeServer();
    const coalescer = createListingCoalescer({ listRefs: server.listRefs });
    const results: Array<Promise<RefListing>> = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5; i++) results.push(coalescer.list(REPO));
      await tick();
      assert.equal(server.calls.length, round + 1, `round ${round}: one running`);
      server.calls[round]?.resolve();
      await tick();
    }
    // Round 0's first call started listing 0; everything else joined queued listings 1 and 2.
    await tick();
    for (const call of server.calls.slice(3)) call.resolve();
    await Promise.all(results);
    assert.ok(server.calls.length <= 4, `${server.calls.length} listings for 15 callers`);
  });

  it('a failing listing fails only the callers that joined it', async () => {
    const server = fakeServer();
    const coalescer = createListingCoalescer({ listRefs: server.listRefs });
    const first = coalescer.list(REPO);
    await tick();
    const joined = [coalescer.list(REPO), coalescer.list(REPO)];
    server.calls[0]?.reject(new Error('server down'));
    await assert.rejects(first, /server down/);
    await tick();
    server.calls[1]?.resolve();
    assert.deepEqual(
      (await Promise.all(joined)).map((l) => l.head),
      ['c1', 'c1'],
    );

    // And the other way round: the queued listing fails, the running one's callers succeed.
    const running = coalescer.list(REPO);
    await tick();
    const queued = coalescer.list(REPO);
    server.calls[2]?.resolve();
    assert.equal((await running).head, 'c1');
    await tick();
    server.calls[3]?.reject(new Error('queued failed'));
    await assert.rejects(queued, /queued failed/);
    assert.equal(coalescer.active, 0);
  });

  it('turns a listRefs that throws synchronously into a rejection', async () => {
    const coalescer = createListingCoalescer({
      listRefs: () => {
        throw new Error('bad url');
      },
    });
    await assert.rejects(coalescer.list(REPO), /bad url/);
    await assert.rejects(coalescer.list(REPO), /bad url/);
    assert.equal(coalescer.active, 0);
  });

  it('shares by repository and credential identity, not by the spelling of the URL', async () => {
    const server = fakeServer();
    const coalescer = createListingCoalescer({ listRefs: server.listRefs });
    const urls = [
      'https://git.example.com/r.git',
      'https://git.example.com/r.git/', // same repository
      'https://bot:one@git.example.com/r.git', // other credentials
      'https://bot:two@git.example.com/r.git', // other credentials again
      'https://git.example.com/other.git',
    ];
    const all = urls.map((u) => coalescer.list(u));
    await tick();
    assert.deepEqual(
      server.calls.map((c) => c.url),
      [urls[0], urls[2], urls[3], urls[4]],
      'one listing per repository × credentials; the second spelling queues behind the first',
    );
    assert.equal(coalescer.active, 4);
    for (const call of server.calls) call.resolve();
    await tick();
    assert.equal(server.calls.length, 5);
    server.calls[4]?.resolve();
    await Promise.all(all);
    assert.equal(coalescer.active, 0);
  });
});
