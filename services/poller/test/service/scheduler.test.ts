import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '@ferry/runtime';
import { waitUntil } from '@ferry/testing';
import { startPollScheduler } from '../../src/scheduler.js';

const logger = createLogger({ name: 'test', level: 'silent' });

describe('the poll scheduler', () => {
  it('runs a first cycle at once and then one every interval, never two at a time', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const scheduler = startPollScheduler({
      intervalMs: 30,
      jitter: 0.1,
      logger,
      run: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(20);
        running--;
        return ++runs;
      },
    });
    const manual = scheduler.runNow();
    await waitUntil(() => runs >= 4, { timeoutMs: 3000 });
    assert.ok((await manual) !== undefined);
    await scheduler.stop();
    const after = runs;
    await sleep(100);
    assert.equal(runs, after, 'no cycle after stop');
    assert.equal(maxRunning, 1);
    assert.equal(await scheduler.runNow(), undefined);
  });

  it('keeps scheduling after a cycle fails', async () => {
    let runs = 0;
    const scheduler = startPollScheduler({
      intervalMs: 20,
      jitter: 0,
      logger,
      run: async () => {
        runs++;
        throw new Error('boom');
      },
    });
    await waitUntil(() => runs >= 3, { timeoutMs: 3000 });
    await scheduler.stop();
  });
});
