import { createServer, type IncomingHttpHeaders } from 'node:http';
import { closeServer, listenLocal, readBody } from './http-util.js';
import { waitUntil } from './wait-until.js';

export interface WebhookReceiverOptions {
  /** Answer the first N requests with `failStatus` (they are still recorded). Default 0. */
  failFirst?: number;
  /** Status for failed requests. Default 500. */
  failStatus?: number;
}

/** One request the receiver got, in arrival order. */
export interface ReceivedRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** Path with the query string, as sent. */
  readonly url: string;
  /** Header names in lower case. */
  readonly headers: IncomingHttpHeaders;
  /** The body as received (Content-Encoding undone). */
  readonly body: Buffer;
  /** The body as UTF-8 text. */
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
  /** The status the receiver answered with. */
  readonly status: number;
  /** When it arrived (ms since epoch). */
  readonly receivedAt: number;
}

/** An HTTP endpoint that records every request (any method, any path) and answers 200 `ok`. */
export interface WebhookReceiver {
  /** Base URL, `http://127.0.0.1:<port>`; any path under it is accepted. */
  readonly url: string;
  /** Every request so far (a copy), failed ones included. */
  requests(): ReceivedRequest[];
  /** Resolves with the first request (already received or arriving later) matching `predicate`; WaitTimeoutError after `timeoutMs` (default 5000). */
  waitFor(predicate?: (request: ReceivedRequest) => boolean, timeoutMs?: number): Promise<ReceivedRequest>;
  /** Resolves with all matching requests once there are at least `count`. */
  waitForCount(count: number, predicate?: (request: ReceivedRequest) => boolean, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Answer the next `count` requests with `status` (default 500). */
  failNext(count: number, status?: number): void;
  /** Forgets the recorded requests. */
  clear(): void;
  /** Stops listening; idempotent. */
  close(): Promise<void>;
}

/** Starts a webhook receiver on a free port of 127.0.0.1. */
export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  let recorded: ReceivedRequest[] = [];
  let failRemaining = options.failFirst ?? 0;
  let failStatus = options.failStatus ?? 500;

  const server = createServer((req, res) => {
    readBody(req).then(
      (body) => {
        const status = failRemaining > 0 ? failStatus : 200;
        if (failRemaining > 0) failRemaining -= 1;
        const text = body.toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        const url = req.url ?? '/';
        recorded.push({
          method: req.method ?? 'GET',
          path: url.split('?')[0] ?? '/',
          url,
          headers: req.headers,
          body,
          text,
          json,
          status,
          receivedAt: Date.now(),
        });
        res.writeHead(status, { 'Content-Type': 'text/plain' });
        res.end(status === 200 ? 'ok' : 'failing on purpose');
      },
      (error: unknown) => {
        res.writeHead(400, { 'Content-Type': 'text/plain' });
        res.end(error instanceof Error ? error.message : String(error));
      },
    );
  });
  const port = await listenLocal(server);
  let closing: Promise<void> | undefined;

  const matching = (predicate?: (r: ReceivedRequest) => boolean) =>
    predicate ? recorded.filter(predicate) : [...recorded];

  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => [...recorded],
    waitFor: (predicate, timeoutMs = 5000) =>
      waitUntil(() => matching(predicate)[0], { timeoutMs, intervalMs: 20, message: 'a matching webhook request' }),
    waitForCount: (count, predicate, timeoutMs = 5000) =>
      waitUntil(
        () => {
          const found = matching(predicate);
          return found.length >= count ? found : undefined;
        },
        { timeoutMs, intervalMs: 20, message: `${count} matching webhook requests` },
      ),
    failNext: (count, status = 500) => {
      failRemaining = count;
      failStatus = status;
    },
    clear: () => {
      recorded = [];
    },
    close: () => (closing ??= closeServer(server)),
  };
}
