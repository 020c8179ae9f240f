/**
 * `GET /api/v1/stream/events`: every Ferry event as server-sent events (`id:`, `event: <type>`,
 * `data: <CloudEvent JSON>`), live from core NATS (no replay). `?app=<name>` keeps one app's events.
 */
import { subscribeEvents } from '@ferry/runtime';
import type { FastifyInstance } from '@ferry/runtime';
import { isAppName } from '../domain/requests.js';
import { badRequest } from './errors.js';
import type { ApiContext } from './context.js';

/** The route template (also the metrics label). */
export const STREAM_ROUTE = '/api/v1/stream/events';
/** A client that lets this much output pile up unread is disconnected (it can reconnect). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export function registerStreamRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { app?: string } }>(STREAM_ROUTE, async (request, reply) => {
    const started = process.hrtime.bigint();
    const appFilter = request.query.app;
    if (appFilter !== undefined && !isAppName(appFilter)) {
      throw badRequest('invalid query', [{ path: 'query.app', message: 'must be an application name' }]);
    }
    const prefix = ctx.config.subjectPrefix;
    const subject = appFilter === undefined ? `${prefix}.>` : `${prefix}.*.*.${appFilter}`;
    const res = reply.raw;
    let ended = false;
    let unregister: () => void = () => undefined;
    let keepAlive: NodeJS.Timeout | undefined;
    let sub: { stop(): Promise<void> } | undefined;
    const end = (): void => {
      if (ended) return;
      ended = true;
      ctx.detachRequest(request);
      if (keepAlive) clearInterval(keepAlive);
      unregister();
      ctx.metrics.streams.dec();
      void sub?.stop();
      if (!res.writableEnded) res.end();
    };

    reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    ctx.metrics.streams.inc();
    unregister = ctx.trackStream(end);
    res.on('close', end);
    res.on('error', end);
    sub = subscribeEvents(
      ctx.nc,
      subject,
      (event) => {
        if (ended) return;
        res.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        if (res.writableLength > MAX_BUFFERED_BYTES) {
          ctx.logger.warn({ subject }, 'event stream client too slow: disconnecting it');
          end();
        }
      },
      { logger: ctx.logger },
    );
    try {
      // The subscription is known to the server before the client is told the stream is open.
      await ctx.nc.flush();
    } catch (error) {
      ctx.logger.warn({ err: error }, 'event stream could not subscribe');
      end();
      return;
    }
    if (ended) return;
    res.write(': connected\n\n');
    ctx.detachRequest(request);
    ctx.metrics.observe(STREAM_ROUTE, 'GET', 200, Number(process.hrtime.bigint() - started) / 1e9);
    keepAlive = setInterval(() => {
      if (!ended) res.write(': keep-alive\n\n');
    }, ctx.config.sseKeepAliveMs);
    keepAlive.unref();
  });
}
