import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';

/** Options of {@link createHttpClient}. */
export interface HttpClientOptions {
  /** Abort a request when no response byte arrived for this long, in milliseconds. Default 60 000. */
  idleTimeoutMs?: number;
}

/**
 * An isomorphic-git HTTP client over Node's fetch with an idle timeout: a server that accepts the
 * connection and then stalls fails the request (FERRY_ERR_GIT_UNREACHABLE) instead of holding the
 * repository's lock forever, which isomorphic-git's own node client would do. Redirects are followed.
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  return {
    async request(request: GitHttpRequest): Promise<GitHttpResponse> {
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const arm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          const error = new Error(`no data from the server for ${idleTimeoutMs} ms`) as Error & { code: string };
          error.code = 'ETIMEDOUT';
          controller.abort(error);
        }, idleTimeoutMs);
        timer.unref();
      };
      arm();
      try {
        const body = request.body ? await collect(request.body) : undefined;
        const method = request.method ?? 'GET';
        const response = await fetch(request.url, {
          method,
          headers: request.headers ?? {},
          ...(body !== undefined ? { body } : {}),
          signal: controller.signal,
          redirect: 'follow',
        });
        arm();
        const stream = response.body;
        async function* chunks(): AsyncIterableIterator<Uint8Array> {
          try {
            if (stream === null) return;
            for await (const chunk of stream) {
              arm();
              yield chunk;
            }
          } catch (error) {
            throw controller.signal.aborted && controller.signal.reason instanceof Error ? controller.signal.reason : error;
          } finally {
            clearTimeout(timer);
          }
        }
        const headers: Record<string, string> = {};
        response.headers.forEach((value, key) => {
          headers[key] = value;
        });
        return {
          url: response.url || request.url,
          method,
          statusCode: response.status,
          statusMessage: response.statusText,
          body: chunks(),
          headers,
        };
      } catch (error) {
        clearTimeout(timer);
        throw controller.signal.aborted && controller.signal.reason instanceof Error ? controller.signal.reason : error;
      }
    },
  };
}

async function collect(body: AsyncIterableIterator<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  return Buffer.concat(parts);
}
