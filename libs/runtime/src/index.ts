export { ConfigError, createEnvReader, loadCommonConfig, LogLevel } from './config.js';
export type { CommonConfig, CommonConfigOptions, ConfigProblem, EnvReader } from './config.js';

export { createLogger, redactUrl, redactUrlsInText, REDACT_PATHS } from './logger.js';
export type { CreateLoggerOptions, Logger } from './logger.js';

export {
  closeNats,
  connectNats,
  connectServiceNats,
  EVENT_STREAM_DUPLICATE_WINDOW_MS,
  EVENT_STREAM_MAX_AGE_MS,
  LEASES_BUCKET_MAX_AGE_MS,
  NatsAuth,
  natsNames,
  provisionJetStream,
} from './nats.js';
export type { ConnectNatsOptions, NatsConnection, NatsNames } from './nats.js';

export { createEventBus, handlerErrorBackoffMs, HandlerResult, subscribeEvents } from './event-bus.js';
export type {
  ConsumeOptions,
  CreateEventBusOptions,
  DeliveryContext,
  EventBus,
  EventConsumer,
  EventHandler,
  EventSubscription,
  EventSubscriptionContext,
  PublishOptions,
} from './event-bus.js';

export { openArtifactStore, openJsonKv } from './kv.js';
export type { ArtifactStore, JsonKv, KvSource, KvValue, KvWatch } from './kv.js';

export { acquireLease } from './lease.js';
export type { AcquireLeaseOptions, Lease, LeaseHandle } from './lease.js';

export {
  ATTR_FERRY_APP,
  ATTR_FERRY_RESOURCE,
  ATTR_FERRY_REVISION,
  extractTraceContext,
  injectTraceHeaders,
  installTraceContext,
  resourceAttribute,
  SpanAttribute,
  startTracing,
  withSpan,
} from './tracing.js';
export type { Context, Span, SpanAttribute as SpanAttributeName, StartTracingOptions, Tracer, Tracing } from './tracing.js';

export { Counter, createMetricsRegistry, Gauge, Histogram, Registry } from './metrics.js';
export type { CreateMetricsRegistryOptions } from './metrics.js';

export { createHttpApp, startHttpServer } from './http.js';
export type { FastifyInstance, HttpServer, StartHttpServerOptions } from './http.js';

export { createCloser, runMain, withTimeout } from './lifecycle.js';
export type { CloseStep, MainProcess, RunMainOptions } from './lifecycle.js';
