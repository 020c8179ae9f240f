import { fastify } from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

export type { FastifyInstance } from 'fastify';

export interface StartHttpServerOptions {
  host: string;
  /** 0 = any free port (the chosen one is in `HttpServer.port`). */
  port: number;
  logger: Logger;
  registry: Registry;
  /** `/readyz` answers 200 while this returns true, 503 otherwise. */
  isReady: () => boolean;
  /** Adds the service's own routes before the server listens. */
  configure?: (app: FastifyInstance) => void | Promise<void>;
  /** Largest accepted request body; default 1 MiB. */
  bodyLimitBytes?: number;
}

export interface HttpServer {
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  /** Stops listening and closes connections. Idempotent (same promise to every caller). */
  close(): Promise<void>;
}

/**
 * Starts fastify with `/healthz` (200 while the process lives), `/readyz` (200 when ready, else 503)
 * and `/metrics` (Prometheus text format). Fastify logs through a child of `logger` at warn.
 */
export async function startHttpServer(options: StartHttpServerOptions): Promise<HttpServer> {
  const app = createHttpApp(options);
  if (options.configure) await options.configure(app);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${hostForUrl === '0.0.0.0' ? '127.0.0.1' : hostForUrl}:${port}`;
  options.logger.info({ url }, 'http server listening');
  let closePromise: Promise<void> | undefined;
  return {
    url,
    port,
    app,
    close() {
      closePromise ??= app.close().then(() => undefined);
      return closePromise;
    },
  };
}

/** The fastify instance with the probe and metrics routes, not listening (tests use `inject()`). */
export function createHttpApp(options: Pick<StartHttpServerOptions, 'logger' | 'registry' | 'isReady' | 'bodyLimitBytes'>): FastifyInstance {
  const child = options.logger.child({ component: 'http' });
  child.level = 'warn';
  const app = fastify({
    loggerInstance: child,
    disableRequestLogging: true,
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    forceCloseConnections: true,
  }) as unknown as FastifyInstance;
  app.get('/healthz', async (_req, reply) => reply.code(200).send({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ready = safeReady(options.isReady);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
  });
  app.get('/metrics', async (_req, reply) => {
    const body = await options.registry.metrics();
    return reply.code(200).header('content-type', options.registry.contentType).send(body);
  });
  return app;
}

function safeReady(isReady: () => boolean): boolean {
  try {
    return isReady();
  } catch {
    return false;
  }
}
