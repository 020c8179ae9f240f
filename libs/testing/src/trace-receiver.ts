import { createServer } from 'node:http';
import { closeServer, listenLocal, readBody } from './http-util.js';
import { decodeTraceRequest } from './otlp-protobuf.js';
import { waitUntil } from './wait-until.js';

/** One span as received, flattened out of its resource and scope. */
export interface ReceivedSpan {
  /** 32 lower-case hex digits. */
  readonly traceId: string;
  /** 16 lower-case hex digits. */
  readonly spanId: string;
  /** Absent for a root span. */
  readonly parentSpanId?: string;
  readonly name: string;
  /** OTLP SpanKind number: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  /** The resource's `service.name` ('' when missing). */
  readonly serviceName: string;
  /** Span attributes as plain values (int64 as number when safe, else string; arrays; nested objects). */
  readonly attributes: Record<string, unknown>;
  readonly resourceAttributes: Record<string, unknown>;
  /** Instrumentation scope name. */
  readonly scope: string;
  /** Nanoseconds since epoch, as a decimal string (exceeds Number precision). */
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  /** OTLP status: code 0 unset, 1 ok, 2 error. */
  readonly status: { code: number; message?: string };
  readonly events: readonly { name: string; timeUnixNano: string; attributes: Record<string, unknown> }[];
}

/** An OTLP/HTTP receiver collecting spans in memory. */
export interface TraceReceiver {
  /** Endpoint base for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends `/v1/traces`). */
  readonly url: string;
  /** Full traces URL, for OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or the exporter's `url` option. */
  readonly tracesUrl: string;
  /** Every span received so far (a copy), in arrival order. */
  spans(): ReceivedSpan[];
  /** Resolves with the first span matching `predicate` (already received or arriving later); WaitTimeoutError after `timeoutMs` (default 5000). */
  waitFor(predicate: (span: ReceivedSpan) => boolean, timeoutMs?: number): Promise<ReceivedSpan>;
  /** Resolves with all spans once `predicate` holds for the whole list. */
  waitForSpans(predicate: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** Forgets the received spans. */
  clear(): void;
  /** Stops listening; idempotent. */
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

const asArray = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);
const asObject = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});

/** OTLP/JSON ids are hex; a protobuf-JSON producer may send base64. */
function id(value: unknown, hexLength: number): string {
  if (typeof value !== 'string' || value === '') return '';
  if (value.length === hexLength && /^[0-9a-fA-F]+$/.test(value)) return value.toLowerCase();
  return Buffer.from(value, 'base64').toString('hex');
}

function anyValue(v: unknown): unknown {
  const o = asObject(v);
  if ('stringValue' in o) return o['stringValue'];
  if ('boolValue' in o) return o['boolValue'];
  if ('intValue' in o) {
    const n = Number(o['intValue']);
    return Number.isSafeInteger(n) ? n : String(o['intValue']);
  }
  if ('doubleValue' in o) return Number(o['doubleValue']);
  if ('arrayValue' in o) return asArray(asObject(o['arrayValue'])['values']).map(anyValue);
  if ('kvlistValue' in o) return attributes(asObject(o['kvlistValue'])['values']);
  if ('bytesValue' in o) return o['bytesValue'];
  return undefined;
}

function attributes(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of asArray(list)) out[String(kv['key'])] = anyValue(kv['value']);
  return out;
}

/** Flattens an ExportTraceServiceRequest (OTLP/JSON shape) into spans. */
export function flattenTraceRequest(request: unknown): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of asArray(asObject(request)['resourceSpans'])) {
    const resourceAttributes = attributes(asObject(rs['resource'])['attributes']);
    const serviceName = typeof resourceAttributes['service.name'] === 'string' ? resourceAttributes['service.name'] : '';
    for (const ss of asArray(rs['scopeSpans'])) {
      const scope = String(asObject(ss['scope'])['name'] ?? '');
      for (const s of asArray(ss['spans'])) {
        const status = asObject(s['status']);
        const parent = id(s['parentSpanId'], 16);
        out.push({
          traceId: id(s['traceId'], 32),
          spanId: id(s['spanId'], 16),
          ...(parent ? { parentSpanId: parent } : {}),
          name: String(s['name'] ?? ''),
          kind: Number(s['kind'] ?? 0),
          serviceName,
          attributes: attributes(s['attributes']),
          resourceAttributes,
          scope,
          startTimeUnixNano: String(s['startTimeUnixNano'] ?? '0'),
          endTimeUnixNano: String(s['endTimeUnixNano'] ?? '0'),
          status: {
            code: Number(status['code'] ?? 0),
            ...(typeof status['message'] === 'string' && status['message'] ? { message: status['message'] } : {}),
          },
          events: asArray(s['events']).map((e) => ({
            name: String(e['name'] ?? ''),
            timeUnixNano: String(e['timeUnixNano'] ?? '0'),
            attributes: attributes(e['attributes']),
          })),
        });
      }
    }
  }
  return out;
}

/**
 * Starts an OTLP/HTTP receiver on a free port of 127.0.0.1. `POST /v1/traces` accepts
 * `application/json` (what @opentelemetry/exporter-trace-otlp-http sends) and
 * `application/x-protobuf`, gzip or not. `/v1/metrics` and `/v1/logs` are accepted and ignored.
 */
export async function startTraceReceiver(): Promise<TraceReceiver> {
  let received: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST' || !['/v1/traces', '/v1/metrics', '/v1/logs'].includes(path ?? '')) {
      req.resume();
      res.writeHead(404).end();
      return;
    }
    const protobuf = (req.headers['content-type'] ?? '').startsWith('application/x-protobuf');
    readBody(req).then(
      (body) => {
        if (path === '/v1/traces') {
          const request = protobuf ? decodeTraceRequest(body) : (JSON.parse(body.toString('utf8')) as unknown);
          received.push(...flattenTraceRequest(request));
        }
        if (protobuf) res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
        else res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      },
      (error: unknown) => {
        res.writeHead(400, { 'Content-Type': 'text/plain' });
        res.end(error instanceof Error ? error.message : String(error));
      },
    ).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end(error instanceof Error ? error.message : String(error));
    });
  });
  const port = await listenLocal(server);
  const url = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    tracesUrl: `${url}/v1/traces`,
    spans: () => [...received],
    waitFor: (predicate, timeoutMs = 5000) =>
      waitUntil(() => received.find(predicate), { timeoutMs, intervalMs: 20, message: 'a matching span' }),
    waitForSpans: (predicate, timeoutMs = 5000) =>
      waitUntil(() => (predicate(received) ? [...received] : undefined), {
        timeoutMs,
        intervalMs: 20,
        message: 'spans matching the predicate',
      }),
    clear: () => {
      received = [];
    },
    close: () => (closing ??= closeServer(server)),
  };
}
