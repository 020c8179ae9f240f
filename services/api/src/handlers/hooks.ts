/**
 * Request hooks shared by every api route: refuse work while starting or closing (503), measure
 * (`ferry_api_requests_total`, `ferry_api_request_duration_seconds`, labelled by route template), and
 * authenticate bearer tokens (401), except on the public routes.
 */
import { ErrorCode } from '@ferry/contracts';
import type { FastifyInstance } from '@ferry/runtime';
import type { FastifyRequest } from 'fastify';
import { bearerToken, verifyToken } from '../domain/tokens.js';
import type { ApiToken } from '../domain/tokens.js';
import { UNMATCHED_ROUTE } from '../metrics.js';
import type { ApiMetrics } from '../metrics.js';

/**
 * Routes that need no token: probes, metrics, version (as Argo CD leaves `/api/version` open), and the
 * Git webhook, which authenticates by signature.
 */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics', '/api/version', '/api/webhook']);
/** Routes that answer while the api is closing (probes report the state themselves). */
const ALWAYS_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

export interface HookOptions {
  tokens: readonly ApiToken[];
  metrics: ApiMetrics;
  /** False while starting and from the moment close() begins: api routes answer 503. */
  isAccepting: () => boolean;
}

export interface InstalledHooks {
  /** The authenticated token's name ('' on public routes). */
  subjectOf(request: FastifyRequest): string;
  /** Requests received and not yet answered (event streams excluded once open). */
  inFlight(): number;
  /** The request became a long-lived event stream (hijacked, no onResponse): no longer in flight. */
  detach(request: FastifyRequest): void;
}

export function installHooks(app: FastifyInstance, options: HookOptions): InstalledHooks {
  const subjects = new WeakMap<FastifyRequest, string>();
  let inFlight = 0;
  const startedAt = new WeakMap<FastifyRequest, bigint>();
  const routeOf = (request: FastifyRequest): string => (request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE));

  app.addHook('onRequest', async (request, reply) => {
    startedAt.set(request, process.hrtime.bigint());
    inFlight++;
    const route = request.is404 ? undefined : request.routeOptions.url;
    if (route === undefined || !ALWAYS_ROUTES.has(route)) {
      if (!options.isAccepting()) {
        return reply.code(503).send({ code: ErrorCode.ApiUnavailable, message: 'the api is starting or shutting down' });
      }
    }
    if (route !== undefined && PUBLIC_ROUTES.has(route)) return;
    const token = bearerToken(request.headers.authorization);
    const subject = token === undefined ? undefined : verifyToken(options.tokens, token);
    if (subject === undefined) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="ferry"')
        .send({
          code: ErrorCode.ApiUnauthenticated,
          message: token === undefined ? 'missing bearer token (Authorization: Bearer <token>)' : 'invalid bearer token',
        });
    }
    subjects.set(request, subject);
    return;
  });

  const done = (request: FastifyRequest): boolean => {
    if (!startedAt.has(request)) return false;
    inFlight--;
    return true;
  };
  // A hijacked reply (event stream) gets no onResponse: the stream handler reports itself as done.
  app.addHook('onRequestAbort', async (request) => {
    if (done(request)) startedAt.delete(request);
  });
  app.addHook('onResponse', async (request, reply) => {
    const start = startedAt.get(request);
    if (!done(request)) return;
    startedAt.delete(request);
    const seconds = start === undefined ? 0 : Number(process.hrtime.bigint() - start) / 1e9;
    options.metrics.observe(routeOf(request), request.method, reply.statusCode, seconds);
  });

  return {
    subjectOf: (request) => subjects.get(request) ?? '',
    inFlight: () => inFlight,
    detach: (request) => {
      if (done(request)) startedAt.delete(request);
    },
  };
}
