// A nats-server per test file: JetStream on, a free port, its own store directory; restartable on
// the same port and store.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NATS_SERVER_BIN = process.env['NATS_SERVER_BIN'] ?? '/usr/sbin/nats-server';

export interface TestNatsServer {
  url: string;
  port: number;
  dir: string;
  /** Stops the server (SIGTERM; SIGKILL with `kill`) keeping its store, and starts it again on the same port. */
  restart(options?: { kill?: boolean; downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

export function natsServerMissing(): string | undefined {
  return existsSync(NATS_SERVER_BIN) ? undefined : `nats-server not found at ${NATS_SERVER_BIN}`;
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
  stderr: () => string;
}

function launch(dir: string, port: number | undefined, extraArgs: readonly string[] = []): Running {
  const store = join(dir, 'js');
  const child = spawn(
    NATS_SERVER_BIN,
    ['-a', '127.0.0.1', '-p', String(port ?? -1), '-js', '-sd', store, '--ports_file_dir', dir, ...extraArgs],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited, stderr: () => stderr };
}

async function waitForPort(dir: string, r: Running): Promise<number> {
  const deadline = Date.now() + 10_000;
  const file = `nats-server_${r.child.pid}.ports`;
  for (;;) {
    if (r.child.exitCode !== null) throw new Error(`nats-server exited: ${r.stderr()}`);
    if (Date.now() > deadline) {
      r.child.kill('SIGKILL');
      throw new Error(`nats-server did not write its ports file: ${r.stderr()}`);
    }
    if ((await readdir(dir)).includes(file)) {
      try {
        const ports = JSON.parse(await readFile(join(dir, file), 'utf8')) as { nats?: string[] };
        const u = ports.nats?.[0];
        if (u) return Number(new URL(u).port);
      } catch {
        // partially written; retry
      }
    }
    await new Promise((res) => setTimeout(res, 20));
  }
}

async function halt(r: Running, kill = false): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  r.child.kill(kill ? 'SIGKILL' : 'SIGTERM');
  const t = setTimeout(() => r.child.kill('SIGKILL'), 3_000);
  await r.exited;
  clearTimeout(t);
}

/** `extraArgs` go to nats-server as they are (e.g. `--user u --pass p` to require credentials). */
export async function startNatsServer(extraArgs: readonly string[] = []): Promise<TestNatsServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-runtime-nats-'));
  let running = launch(dir, undefined, extraArgs);
  const port = await waitForPort(dir, running);
  let stopped: Promise<void> | undefined;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    dir,
    async restart(options = {}) {
      await halt(running, options.kill);
      if (options.downMs) await new Promise((r) => setTimeout(r, options.downMs));
      running = launch(dir, port, extraArgs);
      await waitForPort(dir, running);
    },
    stop() {
      stopped ??= (async () => {
        await halt(running);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
