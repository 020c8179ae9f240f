import http from 'node:http';
import https from 'node:https';
import type { ClusterCredentials, RequestAuth } from './credentials.js';
import type { ClusterAccessConfig } from './kubeconfig.js';

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
 * HTTP to one cluster's API server with its credentials (kubeconfig.ts resolves them, credentials.ts
 * applies them per request). Requests go through one keep-alive agent per cluster and pool (TLS
 * material is fixed at the first request) and bodies stay plain JSON: client-node's typed serializer
 * turns timestamps into Dates and drops fields its models do not know, which a diff engine cannot have.
 * A plain `http://` server works without `insecure-skip-tls-verify`, as with kubectl.
 */
export class KubeTransport {
  readonly server: string;
  private readonly access: ClusterAccessConfig;
  private readonly credentials: ClusterCredentials;
  private readonly defaultTimeoutMs: number;
  private agent: http.Agent | undefined;
  private watchAgent: http.Agent | undefined;
  private readonly requests = new Set<http.ClientRequest>();

  constructor(access: ClusterAccessConfig, credentials: ClusterCredentials, options: { requestTimeoutMs: number }) {
    this.access = access;
    this.credentials = credentials;
    this.server = access.server.replace(/\/+$/, '');
    this.defaultTimeoutMs = options.requestTimeoutMs;
  }

  private createAgent(maxSockets: number, auth: RequestAuth): http.Agent {
    if (this.server.startsWith('http:')) return new http.Agent({ keepAlive: true, maxSockets });
    const tls = this.access.tls;
    // A client certificate from an exec plugin is taken at the first request of each pool (documented limit).
    const cert = auth.cert ?? tls.cert;
    const key = auth.key ?? tls.key;
    return new https.Agent({
      keepAlive: true,
      maxSockets,
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(tls.insecureSkipTlsVerify ? { rejectUnauthorized: false } : {}),
      ...(tls.serverName ? { servername: tls.serverName } : {}),
    });
  }

  private async prepare(pool: 'request' | 'watch'): Promise<{ headers: Record<string, string>; agent: http.Agent }> {
    const auth = await this.credentials.authenticate();
    if (pool === 'watch') {
      this.watchAgent ??= this.createAgent(Infinity, auth);
      return { headers: auth.headers, agent: this.watchAgent };
    }
    this.agent ??= this.createAgent(MAX_SOCKETS, auth);
    return { headers: auth.headers, agent: this.agent };
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
    const { headers, agent } = await this.prepare('request');
    const url = this.url(req.path, req.query);
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const timeoutMs = req.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise<HttpResult>((resolve, reject) => {
      const lib = url.protocol === 'http:' ? http : https;
      const request = lib.request(url, {
        method: req.method,
        agent,
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
    const { headers, agent } = await this.prepare('watch');
    const url = this.url(path, query);
    return new Promise<HttpResult>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const lib = url.protocol === 'http:' ? http : https;
      const request = lib.request(url, { method: 'GET', agent, headers: { ...headers, Accept: 'application/json' } });
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
