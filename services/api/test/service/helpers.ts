/** Shared fixtures of the api service tests: a real nats-server, the service, a bus listener. */
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { decodeEvent, type CloudEvent } from '@ferry/contracts';
import { createLogger, createMetricsRegistry, startTracing, type Registry, type Tracing } from '@ferry/runtime';
import { startNatsServer, waitUntil, type NatsServerHandle } from '@ferry/testing';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { loadConfig, start, type ApiConfig, type ApiService } from '../../src/index.js';

export const logger = createLogger({ name: 'api-test', level: 'silent' });
export const ALICE = 'token-alice-0123456789';
export const CI = 'token-ci-0123456789';

export function application(name: string, overrides: { project?: string; path?: string } = {}): Record<string, unknown> {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd' },
    spec: {
      project: overrides.project ?? 'default',
      source: { repoURL: 'https://git.example.invalid/apps.git', targetRevision: 'main', path: overrides.path ?? name },
      destination: { server: 'https://kubernetes.default.svc', namespace: name },
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    },
  };
}

export interface ReceivedEvent {
  subject: string;
  event: CloudEvent;
  traceparent: string | undefined;
}

export interface ApiFixture {
  nats: NatsServerHandle;
  nc: NatsConnection;
  config: ApiConfig;
  service: ApiService;
  registry: Registry;
  spans: InMemorySpanExporter;
  tracing: Tracing;
  events: ReceivedEvent[];
  waitForEvent(pred: (e: ReceivedEvent) => boolean, timeoutMs?: number): Promise<ReceivedEvent>;
  close(): Promise<void>;
}

export async function startApiFixture(env: Record<string, string> = {}): Promise<ApiFixture> {
  const nats = await startNatsServer();
  const nc = await connect({ servers: nats.url });
  const events: ReceivedEvent[] = [];
  const sub: Subscription = nc.subscribe('gitops.>', {
    callback: (_err, msg) => {
      try {
        events.push({
          subject: msg.subject,
          event: decodeEvent(msg.data),
          traceparent: msg.headers?.has('traceparent') ? msg.headers.get('traceparent') : undefined,
        });
      } catch {
        // not an event
      }
    },
  });
  await nc.flush();
  const config = loadConfig({
    FERRY_NATS_URL: nats.url,
    FERRY_HTTP_PORT: '0',
    FERRY_API_TOKENS: `alice=${ALICE},ci=${CI}`,
    FERRY_LOG_LEVEL: 'silent',
    FERRY_API_MAX_BODY_BYTES: '4096',
    FERRY_API_SSE_KEEPALIVE_MS: '100',
    FERRY_SHUTDOWN_GRACE_MS: '2000',
    ...env,
  });
  const spans = new InMemorySpanExporter();
  const tracing = await startTracing({ serviceName: 'api', logger, spanProcessors: [new SimpleSpanProcessor(spans)] });
  const registry = createMetricsRegistry({ service: 'api' });
  const service = await start(config, { logger, registry, tracing });
  return {
    nats,
    nc,
    config,
    service,
    registry,
    spans,
    tracing,
    events,
    waitForEvent: (pred, timeoutMs = 3000) =>
      waitUntil(() => events.find(pred), { timeoutMs, message: 'expected event was not published' }),
    async close() {
      await service.close();
      sub.unsubscribe();
      await nc.close();
      await tracing.shutdown();
      await nats.close();
    },
  };
}

export const auth = (token: string = ALICE): Record<string, string> => ({ authorization: `Bearer ${token}` });
