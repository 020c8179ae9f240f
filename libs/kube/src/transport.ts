import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** A parsed HTTP answer from the API server. `body` is JSON when it parses, else the text. */
export interface HttpResult {
  status: number;
  body: unknown;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the server URL, starting with `/`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
}

type Query = HttpRequest['query'];

/**
 * Connections per cluster for ordinary requests. Bounded so a burst of requests queues on warm
 * connections instead of opening hundreds of TLS sessions. Watches use their own, unbounded pool:
 * each holds a connection for minutes and must never starve (or be starved by) requests.
 */
const MAX_SOCKETS = 64;

/**
 * HTTP to one cluster's API server with the kubeconfig's credentials (client-node's KubeConfig does
 * auth: tokens, token files, exec plugins, client certificates, CA). Requests go through one
 * keep-alive agent per cluster — client-node builds a new agent per request, which costs a TLS
 * handshake per call — and bodies stay plain JSON (client-node's typed serializer turns timestamps
 * into Dates and drops fields its models do not know, which a diff engine cannot have).
 */
export class KubeTransport {
  readonly server: string;
  private readonly kc: KubeConfig;
  private readonly defaultTimeoutMs: number;
  private agent: http.Agent | undefined;
  private watchAgent: http.Agent | undefined;
  private readonly requests = new Set<http.ClientRequest>();

  constructor(kc: KubeConfig, options: { requestTimeoutMs: number }) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.kc = kc;
    this.server = cluster.server.replace(/\/+$/, '');
    this.defaultTimeoutMs = options.requestTimeoutMs;
  }

  private async prepare(pool: 'request' | 'watch'): Promise<{ headers: Record<string, string>; agent: http.Agent; auth: string | undefined }> {
    const opts: https.RequestOptions = {};
    const plainHttp = this.server.startsWith('http:');
    try {
      await this.kc.applyToHTTPSOptions(opts);
    } catch (error) {
      // client-node refuses http:// servers unless insecure-skip-tls-verify is set (kubectl does not);
      // credentials are already applied to `opts` when it throws that, so go on for plain HTTP.
      if (!(plainHttp && error instanceof Error && /HTTP protocol is not allowed/.test(error.message))) throw error;
    }
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(opts.headers ?? {})) {
      if (typeof value === 'string' || typeof value === 'number') headers[key] = String(value);
      else if (Array.isArray(value)) headers[key] = value.join(', ');
    }
    const proxied = Boolean(this.kc.getCurrentCluster()?.proxyUrl);
    if (proxied && opts.agent instanceof http.Agent) return { headers, agent: opts.agent, auth: opts.auth ?? undefined };
    const create = (maxSockets: number): http.Agent =>
      plainHttp
        ? new http.Agent({ keepAlive: true, maxSockets })
        : new https.Agent({
            keepAlive: true,
            maxSockets,
            ...(opts.ca ? { ca: opts.ca } : {}),
            ...(opts.cert ? { cert: opts.cert } : {}),
            ...(opts.key ? { key: opts.key } : {}),
            ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
            ...(opts.servername ? { servername: opts.servername } : {}),
          });
    if (pool === 'watch') {
      this.watchAgent ??= create(Infinity);
      return { headers, agent: this.watchAgent, auth: opts.auth ?? undefined };
    }
    this.agent ??= create(MAX_SOCKETS);
    return { headers, agent: this.agent, auth: opts.auth ?? undefined };
  }

  private url(path: string, query: Query): URL {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  /** One request; resolves with any HTTP status, rejects only when no response came. */
  async request(req: HttpRequest): Promise<HttpResult> {
    const { headers, agent, auth } = await this.prepare('request');
    const url = this.url(req.path, req.query);
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const timeoutMs = req.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise<HttpResult>((resolve, reject) => {
      const lib = url.protocol === 'http:' ? http : https;
      const request = lib.request(url, {
        method: req.method,
        agent,
        ...(auth ? { auth } : {}),
        headers: {
          ...headers,
          Accept: 'application/json',
          ...(payload ? { 'Content-Type': req.contentType ?? 'application/json', 'Content-Length': payload.length } : {}),
        },
      });
      this.requests.add(request);
      request.setTimeout(timeoutMs, () => {
        const error = new Error(`no answer from ${this.server} within ${timeoutMs} ms`) as Error & { code: string };
        error.code = 'ETIMEDOUT';
        request.destroy(error);
      });
      request.on('error', (error) => {
        this.requests.delete(request);
        reject(error);
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => {
          this.requests.delete(request);
          reject(error);
        });
        response.on('end', () => {
          this.requests.delete(request);
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          if (text) {
            try {
              body = JSON.parse(text);
            } catch {
              body = text;
            }
          }
          resolve({ status: response.statusCode ?? 0, body });
        });
      });
      request.end(payload);
    });
  }

  /**
   * A streaming GET (watch). Calls `onLine` for each newline-terminated line of a 200 answer and
   * resolves with `{ status: 200 }` when the server ends the stream; any other status resolves with its
   * body. Rejects on network failure or when `signal` aborts.
   */
  async stream(path: string, query: Query, onLine: (line: string) => void, signal: AbortSignal): Promise<HttpResult> {
    const { headers, agent, auth } = await this.prepare('watch');
    const url = this.url(path, query);
    return new Promise<HttpResult>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const lib = url.protocol === 'http:' ? http : https;
      const request = lib.request(url, { method: 'GET', agent, ...(auth ? { auth } : {}), headers: { ...headers, Accept: 'application/json' } });
      this.requests.add(request);
      const onAbort = (): void => {
        request.destroy(signal.reason instanceof Error ? signal.reason : new Error('watch aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const finish = (): void => {
        this.requests.delete(request);
        signal.removeEventListener('abort', onAbort);
      };
      request.on('error', (error) => {
        finish();
        reject(error);
      });
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        response.setEncoding('utf8');
        let buffered = '';
        response.on('data', (chunk: string) => {
          buffered += chunk;
          if (status !== 200) return;
          let newline = buffered.indexOf('\n');
          while (newline >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            if (line) {
              try {
                onLine(line);
              } catch (error) {
                // A throwing handler ends the stream and rejects with its error, never an uncaught exception.
                request.destroy(error instanceof Error ? error : new Error(String(error)));
                return;
              }
            }
            newline = buffered.indexOf('\n');
          }
        });
        response.on('error', (error) => {
          finish();
          reject(error);
        });
        response.on('end', () => {
          finish();
          if (status !== 200) {
            let body: unknown = buffered;
            try {
              body = JSON.parse(buffered);
            } catch {
              // text body
            }
            resolve({ status, body });
            return;
          }
          const rest = buffered.trim();
          try {
            if (rest) onLine(rest);
          } catch (error) {
            reject(error);
            return;
          }
          resolve({ status, body: undefined });
        });
        response.on('aborted', () => {
          finish();
          reject(Object.assign(new Error('watch stream aborted by the server'), { code: 'ECONNRESET' }));
        });
      });
      request.end();
    });
  }

  /** Aborts every request in flight and closes the pooled connections. */
  close(): void {
    for (const request of this.requests) request.destroy(new Error('cluster client closed'));
    this.requests.clear();
    this.agent?.destroy();
    this.agent = undefined;
    this.watchAgent?.destroy();
    this.watchAgent = undefined;
  }
}
