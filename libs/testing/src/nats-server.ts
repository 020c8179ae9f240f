import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FixtureStartError, ToolNotFoundError } from './errors.js';
import { LineBuffer, isRunning, terminate, trackChild, type ExitInfo } from './child-process.js';
import { tempDir, type TempDir } from './temp-dir.js';
import { natsServerPath, toolInstallHints } from './tools.js';
import { waitUntil } from './wait-until.js';

export interface NatsServerOptions {
  /** Enable JetStream (`-js`). Default true. */
  jetstream?: boolean;
  /** JetStream store directory (`-sd`). Default: a temp dir the handle owns and removes on close(). */
  dataDir?: string;
  /** Client port. Default: a free port chosen by nats-server (`-p -1`). */
  port?: number;
  /** Milliseconds to wait for the server to become healthy. Default 10000. */
  startTimeoutMs?: number;
}

/** A running (or stopped, restartable) nats-server child process. */
export interface NatsServerHandle {
  /** Client URL, `nats://127.0.0.1:<port>`. Stable across restart(). */
  readonly url: string;
  readonly port: number;
  /** Monitoring base URL (`/healthz`, `/varz`, `/jsz`), `http://127.0.0.1:<port>`. Stable across restart(). */
  readonly monitorUrl: string;
  readonly monitorPort: number;
  /** JetStream store directory (given or created). */
  readonly dataDir: string;
  /** Pid of the current process (changes on restart). */
  readonly pid: number;
  /** True while the process runs. */
  readonly running: boolean;
  /** The server's last log lines (kept across restarts). */
  logs(): string;
  /** SIGTERM, then waits for the exit (SIGKILL after 5 s). No-op when not running. */
  stop(): Promise<void>;
  /** SIGKILL (a crash: no clean JetStream shutdown), waits for the exit. No-op when not running. */
  kill(): Promise<void>;
  /** Stops (if running) and starts again on the same port, monitor port and data dir; JetStream state survives. */
  restart(): Promise<void>;
  /** Stops and removes the temp dirs the handle created; idempotent (same promise to every caller). */
  close(): Promise<void>;
}

interface PortsFile {
  nats?: string[];
  monitoring?: string[];
}

/** Starts a real `nats-server` on 127.0.0.1 with JetStream and monitoring, ready when /healthz says ok. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const binary = natsServerPath();
  if (!binary) throw new ToolNotFoundError('nats-server', toolInstallHints['nats-server'] ?? '');
  const jetstream = options.jetstream ?? true;
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const own: TempDir = await tempDir('ferry-nats');
  const dataDir = options.dataDir ?? join(own.path, 'data');
  const portsDir = join(own.path, 'ports');
  await mkdir(portsDir, { recursive: true });
  await mkdir(dataDir, { recursive: true });
  const output = new LineBuffer(500);

  let port = options.port;
  let monitorPort: number | undefined;
  let child: ChildProcess | undefined;
  let exited: Promise<ExitInfo> = Promise.resolve({ code: null, signal: null });

  const launch = async (): Promise<void> => {
    const args = [
      '-a', '127.0.0.1',
      '-p', String(port ?? -1),
      '-m', String(monitorPort ?? -1),
      '--ports_file_dir', portsDir,
    ];
    if (jetstream) args.push('-js', '-sd', dataDir);
    const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    exited = trackChild(proc);
    proc.stdout?.setEncoding('utf8').on('data', (c: string) => output.push(c));
    proc.stderr?.setEncoding('utf8').on('data', (c: string) => output.push(c));
    const spawnError = new Promise<never>((_, reject) => proc.once('error', reject));
    spawnError.catch(() => undefined);
    const portsFile = join(portsDir, `nats-server_${proc.pid}.ports`);
    try {
      const ports = await waitUntil(
        async () => {
          if (!isRunning(proc)) throw new Error(`nats-server exited (${JSON.stringify(await exited)})`);
          const parsed = JSON.parse(await readFile(portsFile, 'utf8')) as PortsFile;
          return parsed.nats?.[0] && parsed.monitoring?.[0] ? parsed : undefined;
        },
        { timeoutMs: startTimeoutMs, intervalMs: 10, message: `nats-server ports file ${portsFile}` },
      );
      port = Number(new URL(ports.nats?.[0] ?? '').port);
      monitorPort = Number(new URL(ports.monitoring?.[0] ?? '').port);
      await waitUntil(
        async () => {
          if (!isRunning(proc)) throw new Error(`nats-server exited (${JSON.stringify(await exited)})`);
          const res = await fetch(`http://127.0.0.1:${monitorPort}/healthz`);
          await res.arrayBuffer();
          return res.ok || undefined;
        },
        { timeoutMs: startTimeoutMs, intervalMs: 10, message: 'nats-server /healthz' },
      );
    } catch (error) {
      await terminate(proc, exited, 'SIGKILL');
      throw new FixtureStartError('nats-server', 'did not become ready', output.tail(), { cause: error });
    } finally {
      await rm(portsFile, { force: true });
    }
  };

  await launch().catch(async (error: unknown) => {
    await own.cleanup();
    throw error;
  });

  const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
    if (child) await terminate(child, exited, signal);
  };
  let closing: Promise<void> | undefined;

  const handle: NatsServerHandle = {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port ?? 0;
    },
    get monitorUrl() {
      return `http://127.0.0.1:${monitorPort}`;
    },
    get monitorPort() {
      return monitorPort ?? 0;
    },
    dataDir,
    get pid() {
      return child?.pid ?? 0;
    },
    get running() {
      return child !== undefined && isRunning(child);
    },
    logs: () => output.text(),
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
    restart: async () => {
      if (closing) throw new Error('nats-server handle is closed');
      await stopWith('SIGTERM');
      await launch();
    },
    close: () =>
      (closing ??= (async () => {
        await stopWith('SIGTERM');
        await own.cleanup();
      })()),
  };
  return handle;
}
