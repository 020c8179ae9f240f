/**
 * Ferry's events: CloudEvents 1.0 in structured JSON mode, one versioned type per event, published
 * on `<prefix>.<noun>.<verb-past>.<app>`. Adding a field is allowed; changing a meaning is a new
 * version. docs/events.md is generated from this file (`npm run docs:events`) and a test keeps it current.
 */
import { ErrorCode, FerryError } from './errors.js';
import { validateSchema, type JsonSchema } from './schema.js';
import type {
  CompareReason,
  HealthStatus,
  NotificationTrigger,
  OperationPhase,
  ResourceResultStatus,
  SyncStatus,
  SyncTrigger,
} from './vocabularies.js';

/** Every event type, by name. The value is the CloudEvents `type`. */
export const EventType = {
  RefreshRequested: 'dev.ferry.refresh.requested.v1',
  RevisionDetected: 'dev.ferry.revision.detected.v1',
  RevisionFailed: 'dev.ferry.revision.failed.v1',
  DiffComputed: 'dev.ferry.diff.computed.v1',
  SyncRequested: 'dev.ferry.sync.requested.v1',
  SyncStarted: 'dev.ferry.sync.started.v1',
  SyncSucceeded: 'dev.ferry.sync.succeeded.v1',
  SyncFailed: 'dev.ferry.sync.failed.v1',
  HealthChanged: 'dev.ferry.health.changed.v1',
  NotificationSent: 'dev.ferry.notification.sent.v1',
  AppDeleted: 'dev.ferry.app.deleted.v1',
  RollbackCompleted: 'dev.ferry.rollback.completed.v1',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

const eventTypes: ReadonlySet<string> = new Set(Object.values(EventType));
export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && eventTypes.has(value);
}

/** `dev.ferry.revision.detected.v1` → `revision.detected` (the subject's noun and verb). */
export function eventTopic(type: EventType): string {
  return type.replace(/^dev\.ferry\./, '').replace(/\.v\d+$/, '');
}

/** The subject an event of `type` about `app` is published on: `gitops.revision.detected.web`. */
export function eventSubject(prefix: string, type: EventType, app: string): string {
  return `${prefix}.${eventTopic(type)}.${app}`;
}

/** A subject filter for one type and every app: `gitops.revision.detected.*`. */
export function eventFilter(prefix: string, type: EventType): string {
  return `${prefix}.${eventTopic(type)}.*`;
}

/** The app an event subject names (its last token). */
export function appFromSubject(subject: string): string {
  return subject.slice(subject.lastIndexOf('.') + 1);
}

/** A CloudEvents 1.0 envelope in structured JSON mode. */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  /** Unique per event; equal to the NATS message id used for de-duplication. */
  id: string;
  /** `ferry/<service>`. */
  source: string;
  type: EventType;
  /** The application name. */
  subject: string;
  /** RFC 3339 time of the event. */
  time: string;
  datacontenttype: 'application/json';
  data: T;
}

// ---- payloads ----------------------------------------------------------------------------------

/** Identity of one Kubernetes object. `group` is '' for the core group; `namespace` '' for cluster scope. */
export interface ResourceId {
  group: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
}

/** Carried from a sync request through refresh, detection and comparison to the applier. */
export interface SyncIntent {
  requestId: string;
  /** Prune tracked objects no longer in Git (manual syncs; automated syncs use the policy). */
  prune: boolean;
  /** Who asked (token subject), for history. */
  initiatedBy: string;
  /** Sync this revision (branch, tag or SHA) instead of the app's targetRevision. */
  revision?: string;
  /** Report what would change; change nothing. */
  dryRun?: boolean;
  /** Sync only these resources (the rest is left as it is, nothing is pruned outside them). */
  resources?: Array<{ group: string; kind: string; namespace?: string; name: string }>;
  /** Extra `Key=value` sync options for this operation only. */
  syncOptions?: string[];
  /** Why: a user's sync, a rollback to a history entry, or Ferry's automatic rollback. */
  kind?: 'sync' | 'rollback' | 'auto-rollback';
  /** For rollbacks: the history entry rolled back to. */
  historyId?: number;
}

export interface RefreshRequested {
  app: string;
  reason: 'created' | 'updated' | 'manual' | 'webhook' | 'sync';
  requestId: string;
  sync?: SyncIntent;
}

export interface RevisionDetected {
  app: string;
  /** The commit SHA. */
  revision: string;
  repoURL: string;
  targetRevision: string;
  path: string;
  /** Object-store key of the rendered manifests. */
  artifactKey: string;
  resourceCount: number;
  /** `Directory` or `Kustomize`, as Argo CD's `status.sourceType`. */
  sourceType: 'Directory' | 'Kustomize';
  detectedAt: string;
  /** The commit changed since the last detection (false for a forced refresh of the same commit). */
  changed: boolean;
  sync?: SyncIntent;
}

export interface RenderProblem {
  file: string;
  line?: number;
  message: string;
}

export interface RevisionFailed {
  app: string;
  /** The commit SHA, when resolution got that far. */
  revision?: string;
  error: { code: string; message: string };
  problems: RenderProblem[];
  failedAt: string;
  sync?: SyncIntent;
}

export interface ResourceComparison extends ResourceId {
  status: SyncStatus;
  /** Tracked in the cluster, no longer in Git. */
  requiresPruning?: boolean;
  /** Finer than `status`: Missing (in Git, not live), Extra (tracked, not in Git), or as `status`. */
  diffState?: 'Synced' | 'OutOfSync' | 'Missing' | 'Extra';
}

export interface DiffComputed {
  app: string;
  revision: string;
  artifactKey: string;
  syncStatus: SyncStatus;
  reason: CompareReason;
  resources: ResourceComparison[];
  comparedAt: string;
  sync?: SyncIntent;
}

export interface SyncRequested {
  app: string;
  requestId: string;
  prune: boolean;
  initiatedBy: string;
  revision?: string;
  dryRun?: boolean;
  resources?: Array<{ group: string; kind: string; namespace?: string; name: string }>;
  syncOptions?: string[];
  kind?: 'sync' | 'rollback' | 'auto-rollback';
  historyId?: number;
}

export interface ResourceResult extends ResourceId {
  status: ResourceResultStatus;
  message: string;
  /** PreSync, Sync, PostSync or SyncFail (Argo CD's syncPhase). */
  syncPhase?: 'PreSync' | 'Sync' | 'PostSync' | 'SyncFail';
  /** The sync wave the resource was applied in. */
  wave?: number;
  /** For hooks: the hook type and how it ended (Argo CD's hookType/hookPhase). */
  hookType?: string;
  hookPhase?: 'Running' | 'Succeeded' | 'Failed' | 'Error' | 'Terminating';
  /** When it was applied (RFC 3339), to check wave order. */
  appliedAt?: string;
}

export interface SyncEvent {
  app: string;
  /** The operation changed nothing (a dry run): resources say what would change. */
  dryRun?: boolean;
  /** Why the operation ran: a user's sync, a rollback, an automatic rollback. */
  kind?: 'sync' | 'rollback' | 'auto-rollback';
  /** Unique per operation; equal across started and its completion event. */
  syncId: string;
  revision: string;
  trigger: SyncTrigger;
  phase: OperationPhase;
  message: string;
  startedAt: string;
  finishedAt?: string;
  resources: ResourceResult[];
  error?: { code: string; message: string };
}

export interface ResourceHealth extends ResourceId {
  status: HealthStatus;
  message?: string;
}

export interface HealthChanged {
  app: string;
  revision?: string;
  status: HealthStatus;
  previousStatus?: HealthStatus;
  message?: string;
  resources: ResourceHealth[];
  changedAt: string;
}

export interface NotificationSent {
  app: string;
  trigger: NotificationTrigger;
  channel: string;
  revision: string;
  result: 'sent' | 'failed';
  attempts: number;
  error?: string;
  sentAt: string;
}

export interface AppDeleted {
  app: string;
  deletedAt: string;
  /** Delete the app's managed resources: foreground (default, Argo CD's), background, or orphan them. */
  cascade?: 'foreground' | 'background' | 'orphan';
  /** The deleted app's destination (its spec is gone from ferry-apps): which cluster to delete from. */
  destination?: { server?: string; name?: string; namespace?: string };
}

export interface RollbackCompleted {
  app: string;
  /** The revision that failed (Degraded, or its PostSync hooks failed). */
  fromRevision: string;
  /** The last revision that was Synced and Healthy, now applied again. */
  toRevision: string;
  historyId?: number;
  automatic: boolean;
  result: 'succeeded' | 'failed';
  reason: string;
  completedAt: string;
}

/** The payload type of each event type. */
export interface EventPayloads {
  [EventType.RefreshRequested]: RefreshRequested;
  [EventType.RevisionDetected]: RevisionDetected;
  [EventType.RevisionFailed]: RevisionFailed;
  [EventType.DiffComputed]: DiffComputed;
  [EventType.SyncRequested]: SyncRequested;
  [EventType.SyncStarted]: SyncEvent;
  [EventType.SyncSucceeded]: SyncEvent;
  [EventType.SyncFailed]: SyncEvent;
  [EventType.HealthChanged]: HealthChanged;
  [EventType.NotificationSent]: NotificationSent;
  [EventType.AppDeleted]: AppDeleted;
  [EventType.RollbackCompleted]: RollbackCompleted;
}

// ---- schemas -----------------------------------------------------------------------------------

const str: JsonSchema = { type: 'string' };
const time: JsonSchema = { type: 'string', description: 'RFC 3339 time' };
const appName: JsonSchema = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', description: 'application name' };
const errorInfo: JsonSchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string', description: 'FERRY_ERR_* code (docs/errors.md)' }, message: str },
};
const resourceIdProps: Record<string, JsonSchema> = {
  group: { type: 'string', description: "API group, '' for core" },
  version: str,
  kind: str,
  namespace: { type: 'string', description: "'' for cluster-scoped objects" },
  name: str,
};
const resourceIdRequired = ['group', 'version', 'kind', 'namespace', 'name'] as const;
const resourceSelector: JsonSchema = {
  type: 'array',
  items: { type: 'object', required: ['group', 'kind', 'name'], properties: { group: str, kind: str, namespace: str, name: str } },
};
const syncKind: JsonSchema = { type: 'string', enum: ['sync', 'rollback', 'auto-rollback'] };
const syncRequestProps: Record<string, JsonSchema> = {
  requestId: str,
  prune: { type: 'boolean' },
  initiatedBy: str,
  revision: { type: 'string', description: 'branch, tag or SHA to sync instead of targetRevision' },
  dryRun: { type: 'boolean' },
  resources: resourceSelector,
  syncOptions: { type: 'array', items: str },
  kind: syncKind,
  historyId: { type: 'integer', minimum: 0 },
};
const syncIntent: JsonSchema = {
  type: 'object',
  description: 'present when a manual sync request travels with this event',
  required: ['requestId', 'prune', 'initiatedBy'],
  properties: syncRequestProps,
};
const syncStatus: JsonSchema = { type: 'string', enum: ['Synced', 'OutOfSync', 'Unknown'] };
const healthStatus: JsonSchema = {
  type: 'string',
  enum: ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown'],
};

const syncEventSchema: JsonSchema = {
  type: 'object',
  required: ['app', 'syncId', 'revision', 'trigger', 'phase', 'message', 'startedAt', 'resources'],
  properties: {
    app: appName,
    syncId: str,
    dryRun: { type: 'boolean' },
    kind: syncKind,
    revision: { type: 'string', description: 'commit SHA being synced' },
    trigger: { type: 'string', enum: ['automated', 'manual'] },
    phase: { type: 'string', enum: ['Running', 'Succeeded', 'Failed', 'Error', 'Terminating'] },
    message: str,
    startedAt: time,
    finishedAt: time,
    resources: {
      type: 'array',
      items: {
        type: 'object',
        required: [...resourceIdRequired, 'status', 'message'],
        properties: {
          ...resourceIdProps,
          status: { type: 'string', enum: ['Synced', 'SyncFailed', 'Pruned', 'PruneSkipped'] },
          message: str,
          syncPhase: { type: 'string', enum: ['PreSync', 'Sync', 'PostSync', 'SyncFail'] },
          wave: { type: 'integer' },
          hookType: str,
          hookPhase: { type: 'string', enum: ['Running', 'Succeeded', 'Failed', 'Error', 'Terminating'] },
          appliedAt: time,
        },
      },
    },
    error: errorInfo,
  },
};

/** The JSON schema of each event type's `data`, and what the event means. */
export const eventCatalogue: Readonly<Record<EventType, { publisher: string; description: string; schema: JsonSchema }>> = {
  [EventType.RefreshRequested]: {
    publisher: 'api, applier',
    description: 'Someone asked for the app to be re-read from Git now (CLI, UI, webhook, app created or changed, or a manual sync that needs a fresh revision).',
    schema: {
      type: 'object',
      required: ['app', 'reason', 'requestId'],
      properties: {
        app: appName,
        reason: { type: 'string', enum: ['created', 'updated', 'manual', 'webhook', 'sync'] },
        requestId: str,
        sync: syncIntent,
      },
    },
  },
  [EventType.RevisionDetected]: {
    publisher: 'poller',
    description: 'The app\'s targetRevision resolved to a commit whose manifests rendered; the rendered set is in the artifact store under artifactKey.',
    schema: {
      type: 'object',
      required: ['app', 'revision', 'repoURL', 'targetRevision', 'path', 'artifactKey', 'resourceCount', 'sourceType', 'detectedAt', 'changed'],
      properties: {
        app: appName,
        revision: { type: 'string', pattern: '^[0-9a-f]{40}$', description: 'commit SHA' },
        repoURL: { type: 'string', description: 'repository URL, credentials removed' },
        targetRevision: str,
        path: str,
        artifactKey: str,
        resourceCount: { type: 'integer', minimum: 0 },
        sourceType: { type: 'string', enum: ['Directory', 'Kustomize'] },
        detectedAt: time,
        changed: { type: 'boolean', description: 'false when a refresh found the same commit again' },
        sync: syncIntent,
      },
    },
  },
  [EventType.RevisionFailed]: {
    publisher: 'poller',
    description: 'The app\'s source could not be resolved, fetched or rendered (bad YAML, missing path, unknown revision); nothing of it is applied.',
    schema: {
      type: 'object',
      required: ['app', 'error', 'problems', 'failedAt'],
      properties: {
        app: appName,
        revision: str,
        error: errorInfo,
        problems: {
          type: 'array',
          items: {
            type: 'object',
            required: ['file', 'message'],
            properties: { file: str, line: { type: 'integer', minimum: 1 }, message: str },
          },
        },
        failedAt: time,
        sync: syncIntent,
      },
    },
  },
  [EventType.DiffComputed]: {
    publisher: 'differ',
    description: 'Desired (Git) and live (cluster) state were compared, after a new revision or a change in the cluster.',
    schema: {
      type: 'object',
      required: ['app', 'revision', 'artifactKey', 'syncStatus', 'reason', 'resources', 'comparedAt'],
      properties: {
        app: appName,
        revision: str,
        artifactKey: str,
        syncStatus,
        reason: { type: 'string', enum: ['revision', 'drift', 'resync'] },
        resources: {
          type: 'array',
          items: {
            type: 'object',
            required: [...resourceIdRequired, 'status'],
            properties: {
              ...resourceIdProps,
              status: syncStatus,
              requiresPruning: { type: 'boolean' },
              diffState: { type: 'string', enum: ['Synced', 'OutOfSync', 'Missing', 'Extra'] },
            },
          },
        },
        comparedAt: time,
        sync: syncIntent,
      },
    },
  },
  [EventType.SyncRequested]: {
    publisher: 'api',
    description: 'A user asked for a manual sync; the applier resolves the target revision afresh (through the poller) and syncs it.',
    schema: {
      type: 'object',
      required: ['app', 'requestId', 'prune', 'initiatedBy'],
      properties: { app: appName, ...syncRequestProps },
    },
  },
  [EventType.SyncStarted]: { publisher: 'applier', description: 'A sync operation began.', schema: syncEventSchema },
  [EventType.SyncSucceeded]: { publisher: 'applier', description: 'A sync operation applied (and pruned) everything it had to.', schema: syncEventSchema },
  [EventType.SyncFailed]: { publisher: 'applier', description: 'A sync operation failed; `error` and the per-resource results say why.', schema: syncEventSchema },
  [EventType.HealthChanged]: {
    publisher: 'health',
    description: 'The app\'s aggregated health changed (worst resource health, Argo CD\'s order).',
    schema: {
      type: 'object',
      required: ['app', 'status', 'resources', 'changedAt'],
      properties: {
        app: appName,
        revision: str,
        status: healthStatus,
        previousStatus: healthStatus,
        message: str,
        resources: {
          type: 'array',
          items: {
            type: 'object',
            required: [...resourceIdRequired, 'status'],
            properties: { ...resourceIdProps, status: healthStatus, message: str },
          },
        },
        changedAt: time,
      },
    },
  },
  [EventType.NotificationSent]: {
    publisher: 'notifier',
    description: 'A notification was delivered to a channel (or given up on after its retries).',
    schema: {
      type: 'object',
      required: ['app', 'trigger', 'channel', 'revision', 'result', 'attempts', 'sentAt'],
      properties: {
        app: appName,
        trigger: { type: 'string', enum: ['on-deployed', 'on-sync-succeeded', 'on-sync-failed', 'on-health-degraded', 'on-rollback'] },
        channel: str,
        revision: str,
        result: { type: 'string', enum: ['sent', 'failed'] },
        attempts: { type: 'integer', minimum: 1 },
        error: str,
        sentAt: time,
      },
    },
  },
  [EventType.AppDeleted]: {
    publisher: 'api',
    description: 'An application was deleted from Ferry.',
    schema: {
      type: 'object',
      required: ['app', 'deletedAt'],
      properties: {
        app: appName,
        deletedAt: time,
        cascade: { type: 'string', enum: ['foreground', 'background', 'orphan'] },
        destination: { type: 'object', description: "the deleted app's spec.destination", properties: { server: str, name: str, namespace: str } },
      },
    },
  },
  [EventType.RollbackCompleted]: {
    publisher: 'applier',
    description: 'An app was rolled back to its last Synced and Healthy revision: by a user (ferry app rollback) or automatically (annotation ferry.dev/auto-rollback) after a sync turned Degraded.',
    schema: {
      type: 'object',
      required: ['app', 'fromRevision', 'toRevision', 'automatic', 'result', 'reason', 'completedAt'],
      properties: {
        app: appName,
        fromRevision: str,
        toRevision: str,
        historyId: { type: 'integer', minimum: 0 },
        automatic: { type: 'boolean' },
        result: { type: 'string', enum: ['succeeded', 'failed'] },
        reason: str,
        completedAt: time,
      },
    },
  },
};

// ---- envelope ----------------------------------------------------------------------------------

export interface CreateEventOptions<T> {
  /** `ferry/<service>` or the service name (prefixed automatically). */
  source: string;
  app: string;
  data: T;
  /** Defaults to a random UUID; pass the deterministic message id to make them equal. */
  id?: string;
  time?: Date;
}

/** Builds a CloudEvent for `type`, validating its data (throws FERRY_ERR_EVENT_INVALID). */
export function createEvent<K extends EventType>(type: K, options: CreateEventOptions<EventPayloads[K]>): CloudEvent<EventPayloads[K]> {
  validateEventData(type, options.data);
  return {
    specversion: '1.0',
    id: options.id ?? globalThis.crypto.randomUUID(),
    source: options.source.startsWith('ferry/') ? options.source : `ferry/${options.source}`,
    type,
    subject: options.app,
    time: (options.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    data: options.data,
  };
}

/** Thrown for a message that is not a valid Ferry event; consumers `term` such messages. */
export class EventInvalidError extends FerryError {
  readonly eventType: string | undefined;
  constructor(message: string, eventType?: string) {
    super(ErrorCode.EventInvalid, message);
    this.eventType = eventType;
  }
}

/** Validates `data` against the schema of `type`; throws {@link EventInvalidError} listing the problems. */
export function validateEventData<K extends EventType>(type: K, data: unknown): EventPayloads[K] {
  const entry = eventCatalogue[type];
  const problems = validateSchema(entry.schema, data, 'data');
  if (problems.length > 0) {
    throw new EventInvalidError(`invalid ${type}: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, type);
  }
  return data as EventPayloads[K];
}

const decoder = new TextDecoder();

/** Decodes and validates a structured-mode CloudEvent (bytes or text). Throws {@link EventInvalidError}. */
export function decodeEvent(raw: Uint8Array | string): CloudEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof raw === 'string' ? raw : decoder.decode(raw));
  } catch (error) {
    throw new EventInvalidError(`event is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new EventInvalidError('event is not a JSON object');
  const e = parsed as Record<string, unknown>;
  if (e['specversion'] !== '1.0') throw new EventInvalidError('event specversion must be "1.0"');
  for (const field of ['id', 'source', 'subject', 'time'] as const) {
    if (typeof e[field] !== 'string' || e[field] === '') throw new EventInvalidError(`event ${field} must be a non-empty string`);
  }
  if (!isEventType(e['type'])) throw new EventInvalidError(`unknown event type ${JSON.stringify(e['type'])}`);
  const data = validateEventData(e['type'], e['data']);
  return { ...(e as unknown as CloudEvent), data };
}

/** Narrows a decoded event to its type's payload. */
export function isEventOf<K extends EventType>(event: CloudEvent, type: K): event is CloudEvent<EventPayloads[K]> {
  return event.type === type;
}
