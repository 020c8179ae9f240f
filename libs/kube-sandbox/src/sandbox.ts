/** startSandbox(): the API server, the simulated controllers and the kubeconfig, wired together. */
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import { ApiServer } from './api.js';
import { createHttpHandler } from './server.js';
import { writeKubeconfig } from './kubeconfig.js';
import { StateWriter, loadState, readState } from './state.js';
import { createControllerApi } from './controller-api.js';
import { selfSignedCertificate } from './tls.js';
import { startControllers } from './controllers/index.js';
import type { Controllers } from './types.js';

/** Options of startSandbox; every field is optional. */
export interface SandboxOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Where the kubeconfig is written; default a file in a fresh temporary directory (removed on close). */
  kubeconfigPath?: string;
  /** JSON file that keeps objects across restarts; default none (in memory only). */
  statePath?: string;
  /** Duration of one simulated rollout step (pod start, readiness), ms. Default 200. */
  rolloutMs?: number;
  /** A progress deadline of N seconds lasts N * progressDeadlineScaleMs ms. Default 5. */
  progressDeadlineScaleMs?: number;
  /** Bearer token clients must present; default random. */
  token?: string;
  /** Longest a watch stays open before the server ends it, ms (clients must re-watch). Default 30 min. */
  watchTimeoutMs?: number;
  /** Events kept for watches resuming from a resourceVersion; older versions get 410 Gone. Default 10000. */
  watchHistorySize?: number;
  /** Start the simulated controllers. Default true. */
  controllers?: boolean;
}

/** A running sandbox cluster. */
export interface Sandbox {
  /** Base URL, e.g. https://127.0.0.1:40123 (the same port also answers plain HTTP). */
  url: string;
  kubeconfigPath: string;
  token: string;
  /** Stops controllers, ends watches, closes the HTTP server, writes the state file. Idempotent. */
  close(): Promise<void>;
}

/** Resolved options. */
interface SandboxConfig {
  port: number;
  kubeconfigPath: string | undefined;
  statePath: string | undefined;
  rolloutMs: number;
  progressDeadlineScaleMs: number;
  token: string;
  watchTimeoutMs: number;
  watchHistorySize: number;
  controllers: boolean;
}

function resolveConfig(o: SandboxOptions): SandboxConfig {
  const problems: string[] = [];
  const num = (name: string, v: number | undefined, def: number, min: number): number => {
    if (v === undefined) return def;
    if (!Number.isFinite(v) || v < min) problems.push(`${name} must be a number >= ${min}, got ${String(v)}`);
    return v;
  };
  const config: SandboxConfig = {
    port: num('port', o.port, 0, 0),
    kubeconfigPath: o.kubeconfigPath,
    statePath: o.statePath,
    rolloutMs: num('rolloutMs', o.rolloutMs, 200, 0),
    progressDeadlineScaleMs: num('progressDeadlineScaleMs', o.progressDeadlineScaleMs, 5, 0),
    token: o.token ?? randomBytes(24).toString('hex'),
    watchTimeoutMs: num('watchTimeoutMs', o.watchTimeoutMs, 30 * 60_000, 1),
    watchHistorySize: num('watchHistorySize', o.watchHistorySize, 10_000, 16),
    controllers: o.controllers ?? true,
  };
  if (config.token === '') problems.push('token must not be empty');
  if (problems.length > 0) throw new RangeError(`invalid sandbox options: ${problems.join('; ')}`);
  return Object.freeze(config);
}

/** A duplex over `socket` that first yields `first` (bytes already read from it). */
function streamWithPrefix(socket: Socket, first: Buffer): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(err, callback) {
      socket.destroy();
      callback(err);
    },
  });
  duplex.push(first);
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  socket.on('error', (err) => duplex.destroy(err));
  return duplex;
}

const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const config = resolveConfig(options);
  const state = config.statePath ? await readState(config.statePath) : undefined;
  let writer: StateWriter | undefined;
  const api = new ApiServer(
    { historySize: config.watchHistorySize, ...(config.statePath ? { onDirty: () => writer?.markDirty() } : {}) },
    state?.resourceVersion ?? 0,
  );
  if (config.statePath) writer = new StateWriter(config.statePath, () => api, 200);
  if (state) loadState(api, state);
  const nsType = api.namespaceResource();
  for (const name of INITIAL_NAMESPACES)
    if (!api.store.get(nsType, undefined, name))
      api.create(nsType, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { fieldManager: 'kube-apiserver' });

  const handler = createHttpHandler(api, {
    token: config.token,
    watchTimeoutMs: config.watchTimeoutMs,
    bookmarkIntervalMs: 5_000,
    maxBodyBytes: 3 * 1024 * 1024,
  });
  // One port serves HTTPS (kubectl sends tokens only over TLS) and plain HTTP (curl, quick probes):
  // the first byte of a connection tells a TLS ClientHello (0x16) from an HTTP request.
  const tls = selfSignedCertificate();
  const serverOptions = { keepAlive: true, keepAliveTimeout: 65_000 };
  const httpServer: Server = createServer(serverOptions, (req, res) => handler.handle(req, res));
  const httpsServer = createHttpsServer({ ...serverOptions, key: tls.key, cert: tls.cert }, (req, res) => handler.handle(req, res));
  for (const s of [httpServer, httpsServer]) {
    s.keepAliveTimeout = 65_000;
    s.headersTimeout = 70_000;
    s.requestTimeout = 0;
  }
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.pause();
      if (first[0] === 0x16) {
        // TLS reads the native handle directly, so the consumed bytes go through a JS stream instead
        httpsServer.emit('connection', streamWithPrefix(socket, first));
      } else {
        socket.unshift(first);
        httpServer.emit('connection', socket);
        socket.resume();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;

  let tempDir: string | undefined;
  let kubeconfigPath = config.kubeconfigPath;
  if (!kubeconfigPath) {
    tempDir = await mkdtemp(join(tmpdir(), 'kube-sandbox-'));
    kubeconfigPath = join(tempDir, 'kubeconfig');
  }
  await writeKubeconfig(kubeconfigPath, url, config.token, tls.cert);

  let controllers: Controllers | undefined;
  if (config.controllers)
    controllers = startControllers(createControllerApi(api), {
      rolloutMs: config.rolloutMs,
      progressDeadlineScaleMs: config.progressDeadlineScaleMs,
    });

  let closing: Promise<void> | undefined;
  const sandbox: Sandbox & { [internal]: SandboxInternals } = {
    url,
    kubeconfigPath,
    token: config.token,
    close() {
      closing ??= (async () => {
        controllers?.close();
        api.close();
        handler.closeWatches();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          httpServer.closeAllConnections();
          httpsServer.closeAllConnections();
          for (const s of sockets) s.destroy();
        });
        await writer?.flush();
        if (tempDir) await rm(tempDir, { recursive: true, force: true });
      })();
      return closing;
    },
    [internal]: { api, dropWatches: () => handler.closeWatches(), watchCount: () => handler.watchCount() },
  };
  return sandbox;
}

/** Internals reachable by this package's own tests and bench (not exported from index.ts). */
export const internal: unique symbol = Symbol('kube-sandbox.internal');

export interface SandboxInternals {
  api: ApiServer;
  /** Ends every open watch now, as a server whose watch timed out does. */
  dropWatches(): void;
  watchCount(): number;
}

export function internalsOf(sandbox: Sandbox): SandboxInternals {
  const i = (sandbox as Sandbox & { [internal]?: SandboxInternals })[internal];
  if (!i) throw new TypeError('not a sandbox started by startSandbox');
  return i;
}
