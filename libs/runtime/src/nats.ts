import { connect, credsAuthenticator } from '@nats-io/transport-node';
import { readFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { JetStreamManager, StreamConfig, StreamInfo } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { ErrorCode, FerryError } from '@ferry/contracts';
import type { Logger } from './logger.js';
import { redactUrl } from './logger.js';

export type { NatsConnection } from '@nats-io/transport-node';

export interface ConnectNatsOptions {
  /** Server URLs (nats://host:port); credentials in a URL are never logged. */
  servers: readonly string[];
  /** Connection name shown by the server's monitoring (`/connz`); usually the service name. */
  name: string;
  logger: Logger;
  /**
   * Give up on the first connect after this many ms (the process then fails to start with
   * FERRY_ERR_MESSAGING_UNAVAILABLE). After the first success the client reconnects forever.
   * Default 0 = one attempt round over all servers.
   */
  firstConnectTimeoutMs?: number;
  /** How to authenticate (FERRY_NATS_CREDS / _USER+_PASSWORD / _TOKEN); none by default. */
  auth?: NatsAuth;
  /** CA bundle to verify the servers' TLS certificates (FERRY_NATS_CA_FILE); the system CAs otherwise. */
  caFile?: string;
}

/**
 * NATS credentials. Its string and JSON forms are `[redacted]`, so a logged config never shows a
 * password or token; the secret is read only when connecting.
 */
interface NatsSecret {
  credsFile?: string;
  user?: string;
  password?: string;
  token?: string;
}

export class NatsAuth {
  readonly kind: 'creds' | 'user' | 'token';
  readonly #secret: NatsSecret;

  private constructor(kind: NatsAuth['kind'], secret: NatsSecret) {
    this.kind = kind;
    this.#secret = secret;
  }

  /** A `.creds` file (JWT and NKey seed), as `nsc` writes it. */
  static creds(file: string): NatsAuth {
    return new NatsAuth('creds', { credsFile: file });
  }

  static user(user: string, password: string): NatsAuth {
    return new NatsAuth('user', { user, password });
  }

  static token(token: string): NatsAuth {
    return new NatsAuth('token', { token });
  }

  /** The connect options for nats.js. */
  connectOptions(): { user?: string; pass?: string; token?: string; authenticator?: ReturnType<typeof credsAuthenticator> } {
    const s = this.#secret;
    if (this.kind === 'creds') return { authenticator: credsAuthenticator(readFileSync(s.credsFile ?? '')) };
    if (this.kind === 'user') return { user: s.user ?? '', pass: s.password ?? '' };
    return { token: s.token ?? '' };
  }

  toJSON(): string {
    return `[redacted ${this.kind}]`;
  }

  toString(): string {
    return this.toJSON();
  }
}

/**
 * Connects a service to the NATS servers its common config names, with its credentials and CA
 * (FERRY_NATS_*), under the service's name.
 */
export function connectServiceNats(
  config: { natsServers: readonly string[]; serviceName: string; natsAuth?: NatsAuth; natsCaFile?: string },
  logger: Logger,
): Promise<NatsConnection> {
  return connectNats({
    servers: config.natsServers,
    name: config.serviceName,
    logger,
    ...(config.natsAuth ? { auth: config.natsAuth } : {}),
    ...(config.natsCaFile ? { caFile: config.natsCaFile } : {}),
  });
}

/**
 * Connects to NATS. Once connected, the client reconnects forever (2 s wait with jitter between
 * attempts) and logs disconnect/reconnect at warn/info. Throws FerryError(FERRY_ERR_MESSAGING_UNAVAILABLE)
 * when the first connection cannot be made.
 */
export async function connectNats(options: ConnectNatsOptions): Promise<NatsConnection> {
  const { logger } = options;
  const servers = [...options.servers];
  const safe = servers.map(redactUrl);
  const deadline = Date.now() + (options.firstConnectTimeoutMs ?? 0);
  let nc: NatsConnection | undefined;
  let lastError: unknown;
  for (let attempt = 0; nc === undefined; attempt++) {
    try {
      nc = await connect({
        servers,
        name: options.name,
        ...(options.auth ? options.auth.connectOptions() : {}),
        ...(options.caFile ? { tls: { caFile: options.caFile } } : {}),
        maxReconnectAttempts: -1,
        reconnectTimeWait: 2_000,
        reconnectJitter: 500,
        pingInterval: 20_000,
        timeout: 5_000,
      });
    } catch (error) {
      lastError = error;
      if (Date.now() >= deadline) break;
      // Not unref'd: during start nothing else may hold the event loop open.
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt)));
    }
  }
  if (nc === undefined) {
    throw new FerryError(
      ErrorCode.MessagingUnavailable,
      `cannot connect to NATS at ${safe.join(',')}: ${(lastError as Error)?.message ?? String(lastError)}`,
      { cause: lastError },
    );
  }
  const conn = nc;
  logger.info({ servers: safe, server: redactUrl(conn.getServer()) }, 'nats connected');
  const watchStatus = async (): Promise<void> => {
    for await (const s of conn.status()) {
      switch (s.type) {
        case 'disconnect':
          logger.warn({ server: redactUrl(String(s.server)) }, 'nats disconnected');
          break;
        case 'reconnect':
          logger.info({ server: redactUrl(String(s.server)) }, 'nats reconnected');
          break;
        case 'error':
          logger.warn({ err: s.error }, 'nats server error');
          break;
        case 'slowConsumer':
          logger.warn({ sub: s.sub.getSubject() }, 'nats slow consumer');
          break;
        default:
          break;
      }
    }
  };
  watchStatus().catch((error: unknown) => logger.debug({ err: error }, 'nats status watcher ended'));
  conn
    .closed()
    .then((error) => {
      if (error) logger.error({ err: error }, 'nats connection closed with error');
      else logger.debug('nats connection closed');
    })
    .catch(() => undefined);
  return conn;
}

/** Names of the JetStream resources, derived from the config. */
export interface NatsNames {
  stream: string;
  buckets: {
    apps: string;
    source: string;
    comparison: string;
    operation: string;
    health: string;
    leases: string;
    notifier: string;
  };
  objectStore: string;
}

/** Resource names from `config` (`<bucketPrefix>-apps`, `-status-source`, …, `-artifacts`). */
export function natsNames(config: { streamName: string; bucketPrefix: string }): NatsNames {
  const p = config.bucketPrefix;
  return {
    stream: config.streamName,
    buckets: {
      apps: `${p}-apps`,
      source: `${p}-status-source`,
      comparison: `${p}-status-comparison`,
      operation: `${p}-status-operation`,
      health: `${p}-status-health`,
      leases: `${p}-leases`,
      notifier: `${p}-notifier`,
    },
    objectStore: `${p}-artifacts`,
  };
}

/** How long a lease key lives without renewal at most (bucket max_age); leases carry their own expiry too. */
export const LEASES_BUCKET_MAX_AGE_MS = 10 * 60_000;
/** Event stream limits. */
export const EVENT_STREAM_MAX_AGE_MS = 7 * 24 * 3_600_000;
export const EVENT_STREAM_DUPLICATE_WINDOW_MS = 2 * 60_000;

const NS = 1_000_000;

/**
 * Creates or updates the event stream, every KV bucket and the object store. Idempotent and safe
 * when several services run it at once: "already in use"/"exists" on create means another process
 * won the race, so the config is read back and updated if it differs. Throws
 * FerryError(FERRY_ERR_MESSAGING_UNAVAILABLE) when JetStream refuses.
 */
export async function provisionJetStream(
  nc: NatsConnection,
  config: { subjectPrefix: string; streamName: string; bucketPrefix: string; jetStreamReplicas?: number },
  logger: Logger,
): Promise<void> {
  const names = natsNames(config);
  // Every service provisions with the same FERRY_JETSTREAM_REPLICAS, so they agree; 1 on a single server.
  const replicas = config.jetStreamReplicas ?? 1;
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStream(
      jsm,
      {
        name: names.stream,
        subjects: [`${config.subjectPrefix}.>`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: EVENT_STREAM_MAX_AGE_MS * NS,
        duplicate_window: EVENT_STREAM_DUPLICATE_WINDOW_MS * NS,
        num_replicas: replicas,
      },
      logger,
    );
    const kvm = new Kvm(nc);
    for (const [role, bucket] of Object.entries(names.buckets)) {
      const ttl = role === 'leases' ? LEASES_BUCKET_MAX_AGE_MS : 0;
      await withRaceRetry(() => kvm.create(bucket, { history: 1, storage: StorageType.File, ttl, replicas }));
      // Kvm.create opens an existing bucket as is; bring its limits to what we want.
      await ensureStream(
        jsm,
        { name: `KV_${bucket}`, max_msgs_per_subject: 1, max_age: ttl * NS, storage: StorageType.File, num_replicas: replicas },
        logger,
        true,
      );
    }
    const objm = new Objm(nc);
    await withRaceRetry(() => objm.create(names.objectStore, { storage: StorageType.File, replicas }));
    await ensureStream(jsm, { name: `OBJ_${names.objectStore}`, num_replicas: replicas }, logger, true);
    logger.debug({ stream: names.stream, buckets: names.buckets, objectStore: names.objectStore }, 'jetstream provisioned');
  } catch (error) {
    if (error instanceof FerryError) throw error;
    throw new FerryError(
      ErrorCode.MessagingUnavailable,
      `failed to provision JetStream (stream ${names.stream}, buckets ${names.buckets.apps}…): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function isNotFound(error: unknown): boolean {
  return (
    (error instanceof JetStreamApiError && error.code === 10059) ||
    (error instanceof Error && /stream not found/i.test(error.message))
  );
}

function isAlreadyExists(error: unknown): boolean {
  return error instanceof Error && /already in use|already exists|exists/i.test(error.message);
}

async function withRaceRetry<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    return fn();
  }
}

/**
 * Makes a stream's config contain `want`. With `patchOnly`, the stream must exist and only the given
 * fields are compared and updated.
 */
async function ensureStream(
  jsm: JetStreamManager,
  want: Partial<StreamConfig> & { name: string },
  logger: Logger,
  patchOnly = false,
): Promise<StreamInfo> {
  let info: StreamInfo | undefined;
  try {
    info = await jsm.streams.info(want.name);
  } catch (error) {
    if (!isNotFound(error) || patchOnly) throw error;
  }
  if (info === undefined) {
    try {
      info = await jsm.streams.add(want);
      logger.info({ stream: want.name }, 'jetstream stream created');
      return info;
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      info = await jsm.streams.info(want.name);
    }
  }
  const current = info.config as unknown as Record<string, unknown>;
  const differs = Object.entries(want).some(([k, v]) => JSON.stringify(current[k]) !== JSON.stringify(v));
  if (!differs) return info;
  const { name, ...rest } = want;
  if (rest.storage !== undefined && current['storage'] !== rest.storage) {
    // Storage type cannot change on an existing stream; keep what is there and say so.
    logger.warn({ stream: name, have: current['storage'], want: rest.storage }, 'stream storage differs; cannot change it in place');
    delete rest.storage;
  }
  const updated = await jsm.streams.update(name, rest);
  logger.info({ stream: name }, 'jetstream stream updated');
  return updated;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Drains `nc` (flushes pending publishes and acks, lets subscriptions finish) and closes it; if the
 * drain takes longer than `timeoutMs`, closes it anyway. Safe on a closed or draining connection.
 * Never rejects. The "drain NATS" step of a staged close.
 */
export async function closeNats(nc: NatsConnection, timeoutMs = 5_000): Promise<void> {
  if (nc.isClosed()) return;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
    timer.unref();
  });
  try {
    const drain = nc.isDraining() ? nc.closed().then(() => 'done' as const) : nc.drain().then(() => 'done' as const);
    const result = await Promise.race([drain.catch(() => 'done' as const), timedOut]);
    if (result === 'timeout' && !nc.isClosed()) await nc.close();
  } catch {
    if (!nc.isClosed()) await nc.close().catch(() => undefined);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
