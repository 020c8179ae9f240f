import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ErrorCode, FerryError } from '@ferry/contracts';
import { createCloser, runMain } from '../src/lifecycle.js';
import { captureLogger, waitFor } from './helpers/logs.js';

function fakeProcess() {
  const ee = new EventEmitter();
  const exits: number[] = [];
  return {
    exits,
    emit: (s: string) => ee.emit(s, s),
    proc: {
      on: (e: string, f: (signal: NodeJS.Signals) => void) => ee.on(e, f),
      exit: (code: number) => {
        exits.push(code);
      },
    },
  };
}

describe('lifecycle', () => {
  it('close twice returns the same promise and runs the steps once, in order, past failures', async () => {
    const { logger, lines } = captureLogger();
    const ran: string[] = [];
    const close = createCloser(
      [
        ['readiness', async () => void ran.push('readiness')],
        ['intake', async () => {
          ran.push('intake');
          throw new FerryError(ErrorCode.MessagingUnavailable, 'gone');
        }],
        ['http', () => void ran.push('http')],
      ],
      logger,
    );
    const p1 = close();
    const p2 = close();
    assert.equal(p1, p2);
    await p1;
    assert.deepEqual(ran, ['readiness', 'intake', 'http']);
    assert.ok(lines.some((l) => l['msg'] === 'close step failed' && l['step'] === 'intake' && l['code'] === ErrorCode.MessagingUnavailable));
  });

  it('runMain logs ready, closes once on SIGTERM and exits 0; a second signal exits 1', async () => {
    const { logger, lines } = captureLogger();
    const f = fakeProcess();
    let closes = 0;
    let finish!: () => void;
    runMain(async () => ({ close: () => { closes++; return new Promise<void>((r) => (finish = r)); } }), { logger, graceMs: 1_000, proc: f.proc });
    await waitFor(() => lines.some((l) => l['msg'] === 'ready'), 2_000, 'ready');
    f.emit('SIGTERM');
    assert.equal(closes, 1);
    f.emit('SIGINT');
    assert.deepEqual(f.exits, [1]);
    finish();
    await waitFor(() => f.exits.length === 2, 2_000, 'exit');
    assert.deepEqual(f.exits, [1, 0]);
    assert.equal(closes, 1);
  });

  it('runMain exits 1 and logs the code when start fails', async () => {
    const { logger, lines } = captureLogger();
    const f = fakeProcess();
    runMain(async () => { throw new FerryError(ErrorCode.ConfigInvalid, 'bad'); }, { logger, graceMs: 1_000, proc: f.proc });
    await waitFor(() => f.exits.length === 1, 2_000, 'exit');
    assert.deepEqual(f.exits, [1]);
    assert.ok(lines.some((l) => l['msg'] === 'failed to start' && l['code'] === ErrorCode.ConfigInvalid));
  });
});
