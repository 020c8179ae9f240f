/**
 * The poll engine: resolves apps' sources (ref listings shared per repository by a coalescer, so a
 * cycle or a burst of refresh requests lists each repository once or twice), renders new
 * commits into the artifact store, keeps the source status and announces revisions. Transport
 * objects (KV, object store, event bus, tracer) are injected; the decisions are in domain/detection.ts.
 */
import { ROOT_CONTEXT, SpanStatusCode } from '@opentelemetry/api';
import type { Context, Span, Tracer } from '@opentelemetry/api';
import { ErrorCode, EventType, FerryError } from '@ferry/contracts';
import type { Application, RevisionDetected, RevisionFailed, SourceStatusRecord, SyncIntent } from '@ferry/contracts';
import { SpanAttribute } from '@ferry/runtime';
import type { ArtifactStore, EventBus, JsonKv, Logger } from '@ferry/runtime';
import { artifactKey } from './domain/artifact-key.js';
import {
  detectedMessageId,
  failedMessageId,
  failureConditionMessage,
  groupByRepository,
  isTransientSourceError,
  renderProblems,
  shouldAnnounce,
  shouldAnnounceFailure,
  withComparisonError,
  withoutComparisonError,
} from './domain/detection.js';
import { GitError, RenderError } from './domain/errors.js';
import type { RenderedObject } from './domain/manifests.js';
import { resolveRevision } from './domain/refs.js';
import type { RefListing } from './domain/refs.js';
import { redactCredentials } from './domain/repo-url.js';
import type { GitClient } from './git/git-client.js';
import { createListingCoalescer } from './listing-coalescer.js';
import type { ListingCoalescer } from './listing-coalescer.js';
import { ReconcileResult } from './metrics.js';
import type { PollerMetrics } from './metrics.js';
import { Renderer, render } from './render/render.js';
import type { RenderOptions } from './render/render.js';

/** Span attribute naming the repository (credentials removed). */
export const ATTR_FERRY_REPO = 'ferry.repo';

/** What the artifact store holds under an artifact key. */
export interface Artifact {
  app: string;
  /** Commit SHA. */
  revision: string;
  /** `Directory` or `Kustomize`. */
  sourceType: 'Directory' | 'Kustomize';
  objects: RenderedObject[];
}

/** A refresh request being served (absent for scheduled polls). */
export interface PollRequest {
  requestId: string;
  sync?: SyncIntent;
  /** Trace context to continue (the request's); scheduled polls start a new trace. */
  parentContext?: Context;
  /**
   * Last attempt: a transient Git failure is then reported (status + revision.failed) instead of
   * being left for a redelivery. Default false.
   */
  finalAttempt?: boolean;
}

/** How one app's poll ended. */
export interface AppPollOutcome {
  app: string;
  result: ReconcileResult;
  /** The resolved commit, when resolution got that far. */
  revision?: string;
  artifactKey?: string;
  /** The failure, for result `failed`. */
  error?: { code: string; message: string };
  /** The failure is transient (Git unreachable) and was not announced: retry later. */
  transient: boolean;
}

export interface SourcePollerOptions {
  git: GitClient;
  artifacts: ArtifactStore;
  statusKv: JsonKv<SourceStatusRecord>;
  bus: Pick<EventBus, 'publish'>;
  tracer: Tracer;
  logger: Logger;
  metrics: PollerMetrics;
  /** Apps polled at once within one cycle. */
  concurrency: number;
  renderOptions?: RenderOptions;
  now?: () => Date;
  /** Shares ref listings between polls; default one over `git.listRefs` (per poller). */
  listings?: ListingCoalescer;
}

export interface SourcePoller {
  /**
   * Polls every app: one ref listing per repository however many apps use it (taken from the
   * coalescer, so it may be shared with concurrent refresh requests), then each app at most
   * `concurrency` at a time. Never rejects: an app whose poll threw (NATS unavailable) is
   * logged and reported `failed` (transient).
   */
  pollCycle(apps: readonly Application[], shouldContinue?: () => boolean): Promise<AppPollOutcome[]>;
  /**
   * Polls one app, for a refresh request. Its ref listing starts no earlier than the poll reaches
   * it, and is shared with the other polls of the repository waiting at that moment (at most one
   * listing running and one queued per repository). Rejects only when NATS
   * (KV, object store, publish) failed: the caller retries.
   */
  pollApp(app: Application, request?: PollRequest): Promise<AppPollOutcome>;
}

type Listing = () => Promise<RefListing>;

/** Creates the poll engine. */
export function createSourcePoller(options: SourcePollerOptions): SourcePoller {
  const { git, artifacts, statusKv, bus, tracer, logger, metrics } = options;
  const now = options.now ?? (() => new Date());
  const appLocks = new Map<string, Promise<unknown>>();
  const listings = options.listings ?? createListingCoalescer({ listRefs: (url) => git.listRefs(url) });

  /** One poll per app at a time, whoever asks (cycle or refresh). */
  function serialPerApp<T>(app: string, work: () => Promise<T>): Promise<T> {
    const previous = appLocks.get(app) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    appLocks.set(app, tail);
    void tail.then(() => {
      if (appLocks.get(app) === tail) appLocks.delete(app);
    });
    return run;
  }

  /** The cycle's listing of one repository: taken once, at the first app that needs it. */
  function memoListing(repoURL: string): Listing {
    let promise: Promise<RefListing> | undefined;
    return () => (promise ??= listings.list(repoURL));
  }

  async function pollCycle(apps: readonly Application[], shouldContinue: () => boolean = () => true): Promise<AppPollOutcome[]> {
    const outcomes: AppPollOutcome[] = [];
    const queue: Array<{ app: Application; listing: Listing }> = [];
    for (const group of groupByRepository(apps, (a) => a.spec.source.repoURL).values()) {
      const first = group[0];
      if (first === undefined) continue;
      const listing = memoListing(first.spec.source.repoURL);
      for (const app of group) queue.push({ app, listing });
    }
    const worker = async (): Promise<void> => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
        if (!shouldContinue()) return;
        const { app, listing } = item;
        try {
          outcomes.push(await serialPerApp(app.metadata.name, () => detect(app, listing, undefined)));
        } catch (error) {
          logger.error({ err: error, app: app.metadata.name, code: (error as FerryError).code }, 'poll failed; retrying next cycle');
          metrics.reconciles.inc({ result: ReconcileResult.Failed });
          outcomes.push({ app: app.metadata.name, result: ReconcileResult.Failed, error: errorInfo(error), transient: true });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, queue.length)) }, worker));
    return outcomes;
  }

  function pollApp(app: Application, request?: PollRequest): Promise<AppPollOutcome> {
    const repoURL = app.spec.source.repoURL;
    return serialPerApp(app.metadata.name, () => detect(app, () => listings.list(repoURL), request));
  }

  /** One `poller.detect` span: resolve, render when new, store, announce, write the status. */
  function detect(app: Application, listing: Listing, request: PollRequest | undefined): Promise<AppPollOutcome> {
    const name = app.metadata.name;
    const repo = redactCredentials(app.spec.source.repoURL.trim());
    const parent = request?.parentContext ?? ROOT_CONTEXT;
    return tracer.startActiveSpan(
      'poller.detect',
      { attributes: { [SpanAttribute.App]: name, [ATTR_FERRY_REPO]: repo }, root: request?.parentContext === undefined },
      parent,
      async (span) => {
        try {
          const outcome = await detectInSpan(app, repo, listing, request, span);
          metrics.reconciles.inc({ result: outcome.result });
          if (outcome.result === ReconcileResult.Failed) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error?.message ?? 'failed' });
          } else {
            span.setStatus({ code: SpanStatusCode.OK });
          }
          span.setAttribute('ferry.poll.result', outcome.result);
          return outcome;
        } catch (error) {
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message ?? String(error) });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  async function detectInSpan(
    app: Application,
    repo: string,
    listing: Listing,
    request: PollRequest | undefined,
    span: Span,
  ): Promise<AppPollOutcome> {
    const name = app.metadata.name;
    const source = app.spec.source;
    const log = logger.child({ app: name, ...(request ? { requestId: request.requestId } : {}) });
    const previous = (await statusKv.get(name))?.value;
    const sync = request?.sync;
    // A sync intent may name another revision (`sync --revision`, a rollback): that revision is
    // resolved, rendered and announced instead of the target, without becoming the target's status.
    const requested = sync?.revision !== undefined && sync.revision.trim() !== '' ? sync.revision.trim() : undefined;

    let commit: string;
    let offTarget = false;
    try {
      const refs = await listing();
      if (requested === undefined) {
        commit = resolveRevision(refs, source.targetRevision);
      } else {
        offTarget = true;
        commit = resolveRevision(refs, requested);
        offTarget = commit !== tryResolve(refs, source.targetRevision);
      }
    } catch (error) {
      return failed(error, undefined, offTarget);
    }
    span.setAttribute(SpanAttribute.Revision, commit);
    if (offTarget) span.setAttribute('ferry.requested_revision', requested ?? '');
    const key = artifactKey(name, commit, source);

    if (!offTarget && previous?.requested === undefined && !shouldAnnounce(previous?.artifactKey, key, sync !== undefined)) {
      await writeStatus({
        ...base(),
        ...(previous?.revision === undefined ? {} : { revision: previous.revision }),
        artifactKey: key,
        ...(previous?.sourceType === undefined ? {} : { sourceType: previous.sourceType }),
        ...(previous?.resourceCount === undefined ? {} : { resourceCount: previous.resourceCount }),
        conditions: withoutComparisonError(previous?.conditions ?? []),
      });
      log.debug({ revision: commit }, 'source unchanged');
      return { app: name, result: ReconcileResult.Unchanged, revision: commit, artifactKey: key, transient: false };
    }

    // Reuse what was announced or stored before; render only a new (commit, settings) pair.
    let summary: { sourceType: 'Directory' | 'Kustomize'; resourceCount: number } | undefined;
    if (!offTarget && previous?.artifactKey === key && previous.sourceType !== undefined && previous.resourceCount !== undefined) {
      summary = { sourceType: previous.sourceType, resourceCount: previous.resourceCount };
    } else {
      const stored = await artifacts.getJson<Artifact>(key);
      if (stored !== undefined && Array.isArray(stored.objects)) {
        summary = { sourceType: stored.sourceType === 'Kustomize' ? 'Kustomize' : 'Directory', resourceCount: stored.objects.length };
        log.debug({ revision: commit, artifactKey: key }, 'artifact already stored; not rendering');
      }
    }
    if (summary === undefined) {
      let artifact: Artifact;
      try {
        const dir = await git.checkout(source.repoURL, commit);
        const endTimer = metrics.renderDuration.startTimer();
        const result = await render(dir, source, options.renderOptions);
        endTimer();
        artifact = {
          app: name,
          revision: commit,
          sourceType: result.renderer === Renderer.Kustomize ? 'Kustomize' : 'Directory',
          objects: result.objects,
        };
      } catch (error) {
        return failed(error, commit, offTarget);
      }
      await artifacts.putJson(key, artifact);
      summary = { sourceType: artifact.sourceType, resourceCount: artifact.objects.length };
    }

    const detectedAt = now().toISOString();
    const event: RevisionDetected = {
      app: name,
      revision: commit,
      repoURL: repo,
      targetRevision: source.targetRevision ?? 'HEAD',
      path: source.path ?? '.',
      artifactKey: key,
      resourceCount: summary.resourceCount,
      sourceType: summary.sourceType,
      detectedAt,
      // `changed` is about the target: a requested revision never moves it.
      changed: !offTarget && previous?.revision !== commit,
      ...(sync === undefined ? {} : { sync }),
    };
    // Announce before recording: a crash in between re-announces (same message id), never loses it.
    await bus.publish(EventType.RevisionDetected, name, event, { msgId: detectedMessageId(name, key, sync?.requestId) });
    if (offTarget && sync !== undefined) {
      await writeStatus({
        ...(previous ?? { ...base(), conditions: [] }),
        requested: { revision: requested ?? '', requestId: sync.requestId, commit, artifactKey: key, resolvedAt: detectedAt },
      });
    } else {
      await writeStatus({
        ...base(),
        revision: commit,
        artifactKey: key,
        sourceType: summary.sourceType,
        resourceCount: summary.resourceCount,
        conditions: withoutComparisonError(previous?.conditions ?? []),
      });
    }
    log.info(
      {
        revision: commit,
        artifactKey: key,
        changed: event.changed,
        resources: summary.resourceCount,
        sync: sync?.requestId,
        ...(offTarget ? { requested } : {}),
      },
      offTarget ? 'requested revision detected' : 'revision detected',
    );
    return { app: name, result: ReconcileResult.Detected, revision: commit, artifactKey: key, transient: false };

    function base(): Pick<SourceStatusRecord, 'app' | 'repoURL' | 'targetRevision' | 'resolvedAt'> {
      return { app: name, repoURL: repo, targetRevision: source.targetRevision ?? 'HEAD', resolvedAt: now().toISOString() };
    }

    /**
     * Records (and, once per distinct failure, announces) a source failure; rethrows anything else.
     * A failure of a requested revision (`offTarget`) is announced with its intent and recorded only
     * in `requested`: the target's status and conditions are left as they were.
     */
    async function failed(error: unknown, revision: string | undefined, offTarget: boolean): Promise<AppPollOutcome> {
      if (!(error instanceof GitError) && !(error instanceof RenderError)) throw error;
      const code = error.code;
      const problems = renderProblems(error);
      const conditionMessage = failureConditionMessage(error, problems);
      const at = now().toISOString();
      const transient = isTransientSourceError(code) && request?.finalAttempt !== true;
      const announce = !transient && shouldAnnounceFailure(previous?.error, { code, revision }, sync !== undefined);
      if (announce) {
        const event: RevisionFailed = {
          app: name,
          ...(revision === undefined ? {} : { revision }),
          error: { code, message: error.message },
          problems,
          failedAt: at,
          ...(sync === undefined ? {} : { sync }),
        };
        await bus.publish(EventType.RevisionFailed, name, event, { msgId: failedMessageId(name, revision, code, sync?.requestId) });
      }
      if (offTarget && sync !== undefined) {
        if (!transient) {
          await writeStatus({
            ...(previous ?? { ...base(), conditions: [] }),
            requested: {
              revision: requested ?? '',
              requestId: sync.requestId,
              ...(revision === undefined ? {} : { commit: revision }),
              resolvedAt: at,
              error: { code, message: error.message },
            },
          });
        }
        log.warn({ code, revision, requested, repo, announced: announce, transient }, `requested revision failed: ${conditionMessage}`);
        return {
          app: name,
          result: ReconcileResult.Failed,
          ...(revision === undefined ? {} : { revision }),
          error: { code, message: error.message },
          transient,
        };
      }
      const record: SourceStatusRecord = {
        ...base(),
        ...(previous?.revision === undefined ? {} : { revision: previous.revision }),
        ...(previous?.artifactKey === undefined ? {} : { artifactKey: previous.artifactKey }),
        ...(previous?.sourceType === undefined ? {} : { sourceType: previous.sourceType }),
        ...(previous?.resourceCount === undefined ? {} : { resourceCount: previous.resourceCount }),
        error: { code, message: error.message, ...(revision === undefined ? {} : { revision }), problems },
        conditions: withComparisonError(previous?.conditions ?? [], conditionMessage, at),
        // Still owed: the target is announced again once it resolves.
        ...(previous?.requested === undefined ? {} : { requested: previous.requested }),
      };
      await writeStatus(record);
      const fields = { code, revision, repo, problems: problems.length, announced: announce };
      if (transient) log.warn(fields, `source unreachable: ${error.message}`);
      else log.warn(fields, `source failed: ${conditionMessage}`);
      return {
        app: name,
        result: ReconcileResult.Failed,
        ...(revision === undefined ? {} : { revision }),
        error: { code, message: error.message },
        transient,
      };
    }
  }

  async function writeStatus(record: SourceStatusRecord): Promise<void> {
    await statusKv.put(record.app, record);
  }

  return { pollCycle, pollApp };
}

/** The target's commit, or undefined when it does not resolve (a requested revision may still). */
function tryResolve(listing: RefListing, targetRevision: string | undefined): string | undefined {
  try {
    return resolveRevision(listing, targetRevision);
  } catch {
    return undefined;
  }
}

function errorInfo(error: unknown): { code: string; message: string } {
  if (error instanceof FerryError) return { code: error.code, message: error.message };
  return { code: ErrorCode.MessagingUnavailable, message: (error as Error)?.message ?? String(error) };
}
