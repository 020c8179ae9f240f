/**
 * The writing half of a sync, in gitops-engine's order:
 *
 *   problems / invalid tasks → fail, nothing written
 *   dry run of every task (server-side) → any failure fails the sync, nothing written
 *     (a dry-run sync stops here and reports what would change)
 *   CreateNamespace
 *   for each step (phase, wave): prunes → applies and hooks by kind (same kind in parallel) →
 *     wait: hooks until they finish, and — when more steps follow — applied objects until Healthy and
 *     pruned ones until gone (one deadline per wave)
 *   on failure after writing started: SyncFail hooks
 *
 * The last step is not waited Healthy (Argo CD: a sync of plain manifests succeeds once applied; its
 * health is the health service's to follow).
 */
import { ErrorCode, OperationPhase, ResourceResultStatus, type ErrorInfo, type ResourceResult } from '@ferry/contracts';
import { KubeError, refOf, type KubeObject, type ObjectRef } from '@ferry/kube';
import { SpanAttribute, resourceAttribute, withSpan, type Tracer } from '@ferry/runtime';
import { dryRunChange } from '../domain/dry-run.js';
import { HookDeletePolicy } from '../domain/hooks.js';
import { resourceResult } from '../domain/plan.js';
import type { SyncStep, SyncTask } from '../domain/sync-tasks.js';
import { waitForWave, type WaitItem } from './health-wait.js';
import type { PreparedSync } from './prepare.js';

export interface ExecuteOptions {
  fieldManager: string;
  /** Longest wait at the end of one wave (hooks finishing, resources Healthy, prunes gone), ms. */
  waveTimeoutMs: number;
  /** Pause between two reads while waiting, ms. Default 100. */
  pollMs?: number;
  /** Writes of one kind in one wave at once. Default 8. */
  concurrency?: number;
  signal: AbortSignal;
  /** Throws when the sync must stop (lease lost, service closing). */
  checkAbort: () => void;
  now?: () => Date;
  tracer?: Tracer;
  /** Called once per resource written (metrics). */
  onWrite?: (result: 'applied' | 'failed' | 'pruned') => void;
}

export interface EngineOutcome {
  phase: typeof OperationPhase.Succeeded | typeof OperationPhase.Failed;
  message: string;
  resources: ResourceResult[];
  error?: ErrorInfo;
}

export const SUCCESS_MESSAGE = 'successfully synced (all tasks run)';
const DEFAULT_POLL_MS = 100;
const DEFAULT_CONCURRENCY = 8;

function serverMessage(error: unknown): string {
  if (error instanceof KubeError) return error.serverMessage || error.message;
  return error instanceof Error ? error.message : String(error);
}

function errorCode(error: unknown, fallback: ErrorCode): ErrorCode {
  return error instanceof KubeError ? error.code : fallback;
}

function label(object: KubeObject): string {
  return `${object.kind.toLowerCase()}/${object.metadata.name || object.metadata.generateName || ''}`;
}

function describe(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name || object.metadata.generateName || ''}`;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Consecutive tasks of the same kind (Argo CD runs one kind at a time, its objects in parallel). */
function kindGroups(tasks: readonly SyncTask[]): SyncTask[][] {
  const groups: SyncTask[][] = [];
  for (const task of tasks) {
    const last = groups[groups.length - 1];
    if (last && last[0]?.object.kind === task.object.kind) last.push(task);
    else groups.push([task]);
  }
  return groups;
}

function withTask(result: ResourceResult, task: SyncTask, appliedAt?: string): ResourceResult {
  return {
    ...result,
    syncPhase: task.phase,
    wave: task.wave,
    ...(task.hookType ? { hookType: task.hookType } : {}),
    ...(appliedAt ? { appliedAt } : {}),
  };
}

function refFor(object: KubeObject): ObjectRef {
  return refOf(object);
}

export async function executeSync(prepared: PreparedSync, options: ExecuteOptions): Promise<EngineOutcome> {
  const { client, plan } = prepared;
  const now = options.now ?? (() => new Date());
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const appName = prepared.app.metadata.name;
  const results: ResourceResult[] = [];
  const failed = (code: ErrorCode, message: string): EngineOutcome => ({
    phase: OperationPhase.Failed,
    message,
    resources: results,
    error: { code, message },
  });

  const traced = <T>(name: string, object: KubeObject, fn: () => Promise<T>): Promise<T> => {
    if (!options.tracer) return fn();
    return withSpan(
      options.tracer,
      name,
      {
        [SpanAttribute.App]: appName,
        [SpanAttribute.Resource]: resourceAttribute({
          kind: object.kind,
          namespace: object.metadata.namespace ?? '',
          name: object.metadata.name || object.metadata.generateName || '',
        }),
      },
      fn,
    );
  };

  // 1. What can be refused without touching the cluster.
  if (plan.problems.length > 0) {
    return failed(ErrorCode.SyncOptionInvalid, `invalid sync options or annotations, nothing was applied: ${plan.problems.join('; ')}`);
  }
  if (plan.refusal) return failed(ErrorCode.SyncPruneRefused, plan.refusal);
  if (plan.invalid.length > 0) {
    for (const { task, message } of plan.invalid)
      results.push(withTask(resourceResult(task.object, ResourceResultStatus.SyncFailed, message), task));
    const shared = plan.invalid.some((i) => i.message.startsWith('shared resource'));
    const first = plan.invalid[0];
    return failed(
      shared ? ErrorCode.SyncSharedResource : ErrorCode.SyncResourceFailed,
      `one or more synchronization tasks are not valid, nothing was applied: ${first ? `${describe(first.task.object)}: ${first.message}` : ''}`,
    );
  }

  // 2. Server-side dry run of every task (Argo CD: "refuse to perform the sync" when one fails).
  const allTasks = plan.steps.flatMap((s) => [...s.prunes, ...s.creates]);
  type DryResult = { result: ResourceResult; ok: boolean; change?: 'created' | 'configured' | 'unchanged' | 'pruned' | 'hook' };
  const dryResults = await mapLimit(allTasks, concurrency, async (task): Promise<DryResult> => {
    options.checkAbort();
    const object = task.object;
    const ok = (
      message: string,
      change: DryResult['change'],
      status: ResourceResultStatus = ResourceResultStatus.Synced,
      named = object,
    ): DryResult => ({
      result: withTask(resourceResult(named, status, message), task),
      ok: true,
      ...(change ? { change } : {}),
    });
    try {
      if (task.type === 'prune') {
        await client.delete(refFor(object), { propagationPolicy: task.options.propagationPolicy, dryRun: true });
        return ok('pruned (dry run)', 'pruned', ResourceResultStatus.Pruned);
      }
      if (task.type === 'hook') {
        if (task.live) return ok(`${label(object)} exists; hook would run (dry run; not validated)`, 'hook');
        if (task.skipDryRun) return ok(`${label(object)} would be created (dry run; not validated: ${task.skipDryRun})`, 'hook');
        const created = await client.create(object, { fieldManager: options.fieldManager, dryRun: true });
        return ok(`${label(created)} created (dry run)`, 'hook', ResourceResultStatus.Synced, created);
      }
      if (task.skipDryRun) {
        const change = task.live ? 'configured' : 'created';
        return ok(`${label(object)} ${change} (dry run; not validated: ${task.skipDryRun})`, change);
      }
      const written = await write(task, true);
      const change = dryRunChange(task.live, written);
      const verb = task.options.replace && change !== 'created' ? 'replaced' : change;
      return ok(`${label(object)} ${verb} (dry run)`, change);
    } catch (error) {
      if (error instanceof Error && error.name === 'SyncAbortedError') throw error;
      const message = task.type === 'prune' ? `failed to prune (dry run): ${serverMessage(error)}` : serverMessage(error);
      return { result: withTask(resourceResult(object, ResourceResultStatus.SyncFailed, message), task), ok: false };
    }
  });
  const dryFailures = dryResults.filter((r) => !r.ok).map((r) => r.result);
  if (dryFailures.length > 0) {
    results.push(...dryFailures);
    const first = dryFailures[0];
    return failed(
      ErrorCode.SyncResourceFailed,
      `one or more objects failed to apply (dry run), nothing was applied: ${first ? `${first.kind}/${first.namespace ? `${first.namespace}/` : ''}${first.name}: ${first.message}` : ''}`,
    );
  }
  const skippedResults = (): ResourceResult[] =>
    plan.pruneSkipped.map(({ object, wave, message }) => ({
      ...resourceResult(object, ResourceResultStatus.PruneSkipped, message),
      syncPhase: 'Sync' as const,
      wave,
    }));
  if (prepared.dryRun) {
    results.push(...dryResults.map((r) => r.result), ...skippedResults());
    const count = (change: DryResult['change']): number => dryResults.filter((r) => r.change === change).length;
    const summary = [
      `${count('created')} to create`,
      `${count('configured')} to change`,
      `${count('unchanged')} unchanged`,
      `${count('pruned')} to prune`,
      ...(count('hook') > 0 ? [`${count('hook')} hook(s) to run`] : []),
      ...(plan.skippedInSync > 0 ? [`${plan.skippedInSync} skipped (ApplyOutOfSyncOnly)`] : []),
    ].join(', ');
    return { phase: OperationPhase.Succeeded, message: `dry run succeeded, nothing was changed: ${summary}`, resources: results };
  }

  // 3. The sync itself.
  if (prepared.createNamespace) {
    options.checkAbort();
    try {
      await client.ensureNamespace(prepared.createNamespace);
    } catch (error) {
      return failed(
        errorCode(error, ErrorCode.KubeRequest),
        `failed to create namespace ${prepared.createNamespace}: ${serverMessage(error)}`,
      );
    }
  }

  /** A custom resource whose CRD this sync just applied: wait until the API serves its kind (a real server takes a moment to establish a CRD). */
  async function awaitServed(task: SyncTask): Promise<void> {
    if (!task.crdInSync) return;
    const deadline = Date.now() + options.waveTimeoutMs;
    for (;;) {
      try {
        await client.resourceFor(task.object.apiVersion, task.object.kind);
        return;
      } catch (error) {
        if (!(error instanceof KubeError) || error.code !== ErrorCode.KubeKindUnknown || Date.now() >= deadline) throw error;
      }
      options.checkAbort();
      await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, 100)).unref());
    }
  }

  async function write(task: SyncTask, dryRun: boolean): Promise<KubeObject> {
    if (!dryRun) await awaitServed(task);
    const object = task.object;
    const o = task.options;
    const writeOptions = { fieldManager: options.fieldManager, ...(dryRun ? { dryRun: true } : {}) };
    if (!o.replace) return client.apply(object, { fieldManager: options.fieldManager, force: true, validate: o.validate, dryRun });
    if (!task.live) return client.create(object, writeOptions);
    if (o.force && !dryRun) {
      await client.delete(refFor(object), { propagationPolicy: 'Background' });
      const gone = await waitForWave([{ kind: 'gone', ref: refFor(object) }], {
        client,
        timeoutMs: options.waveTimeoutMs,
        pollMs: Math.min(pollMs, 50),
        signal: options.signal,
        checkAbort: options.checkAbort,
      });
      if (gone.timedOut.length > 0) throw new Error(`Force=true: ${describe(object)} was not deleted within ${options.waveTimeoutMs} ms`);
      return client.create(object, writeOptions);
    }
    const { resourceVersion: _rv, ...metadata } = object.metadata;
    return client.replace({ ...object, metadata }, writeOptions);
  }

  async function applyTask(task: SyncTask): Promise<{ result: ResourceResult; ok: boolean; written?: KubeObject }> {
    const object = task.object;
    try {
      const written = await traced('applier.apply', object, () => write(task, false));
      const o = task.options;
      const verb = o.replace
        ? task.live
          ? o.force
            ? 'recreated'
            : 'replaced'
          : 'created'
        : !task.live
          ? 'created'
          : written.metadata.resourceVersion === task.live.metadata.resourceVersion
            ? 'unchanged'
            : 'configured';
      options.onWrite?.('applied');
      return {
        result: withTask(resourceResult(object, ResourceResultStatus.Synced, `${label(object)} ${verb}`), task, now().toISOString()),
        ok: true,
        written,
      };
    } catch (error) {
      if (error instanceof Error && error.name === 'SyncAbortedError') throw error;
      options.onWrite?.('failed');
      return { result: withTask(resourceResult(object, ResourceResultStatus.SyncFailed, serverMessage(error)), task), ok: false };
    }
  }

  async function hookTask(task: SyncTask): Promise<{ result: ResourceResult; ok: boolean; written?: KubeObject }> {
    const object = task.object;
    const policies = task.deletePolicies ?? [HookDeletePolicy.BeforeHookCreation];
    try {
      return await traced('applier.hook', object, async () => {
        if (object.metadata.name) {
          const existing = await client.get(refFor(object));
          if (existing && !policies.includes(HookDeletePolicy.BeforeHookCreation)) {
            // Argo CD: a named hook is created once; without BeforeHookCreation it is not created again.
            return {
              result: {
                ...withTask(
                  resourceResult(
                    existing,
                    ResourceResultStatus.Synced,
                    `${label(existing)} exists; not created again (no BeforeHookCreation)`,
                  ),
                  task,
                ),
                hookPhase: 'Running' as const,
              },
              ok: true,
              written: existing,
            };
          }
          if (existing) {
            await client.delete(refFor(object), { propagationPolicy: 'Background' });
            const gone = await waitForWave([{ kind: 'gone', ref: refFor(object) }], {
              client,
              timeoutMs: options.waveTimeoutMs,
              pollMs: Math.min(pollMs, 50),
              signal: options.signal,
              checkAbort: options.checkAbort,
            });
            if (gone.timedOut.length > 0)
              throw new Error(`BeforeHookCreation: the previous ${describe(object)} was not deleted within ${options.waveTimeoutMs} ms`);
          }
        }
        const created = await client.create(object, { fieldManager: options.fieldManager });
        options.onWrite?.('applied');
        return {
          result: {
            ...withTask(resourceResult(created, ResourceResultStatus.Synced, `${label(created)} created`), task, now().toISOString()),
            hookPhase: 'Running' as const,
          },
          ok: true,
          written: created,
        };
      });
    } catch (error) {
      if (error instanceof Error && error.name === 'SyncAbortedError') throw error;
      options.onWrite?.('failed');
      return {
        result: { ...withTask(resourceResult(object, ResourceResultStatus.SyncFailed, serverMessage(error)), task), hookPhase: 'Failed' },
        ok: false,
      };
    }
  }

  async function pruneTask(task: SyncTask): Promise<{ result: ResourceResult; ok: boolean }> {
    const object = task.object;
    try {
      await traced('applier.prune', object, () => client.delete(refFor(object), { propagationPolicy: task.options.propagationPolicy }));
      options.onWrite?.('pruned');
      return { result: withTask(resourceResult(object, ResourceResultStatus.Pruned, 'pruned'), task, now().toISOString()), ok: true };
    } catch (error) {
      if (error instanceof Error && error.name === 'SyncAbortedError') throw error;
      options.onWrite?.('failed');
      return {
        result: withTask(resourceResult(object, ResourceResultStatus.SyncFailed, `failed to prune: ${serverMessage(error)}`), task),
        ok: false,
      };
    }
  }

  /** Deletes a finished hook when its policy says so; notes a failure in its result. */
  async function applyDeletePolicy(task: SyncTask, result: ResourceResult, live: KubeObject | undefined): Promise<void> {
    const policies = task.deletePolicies ?? [HookDeletePolicy.BeforeHookCreation];
    const phase = result.hookPhase;
    const remove =
      (phase === 'Succeeded' && policies.includes(HookDeletePolicy.HookSucceeded)) ||
      (phase === 'Failed' && policies.includes(HookDeletePolicy.HookFailed));
    if (!remove || !live) return;
    try {
      await client.delete(refFor(live), { propagationPolicy: 'Background' });
      result.message = `${result.message}; deleted (${phase === 'Succeeded' ? HookDeletePolicy.HookSucceeded : HookDeletePolicy.HookFailed})`;
    } catch (error) {
      result.message = `${result.message}; failed to delete the hook: ${serverMessage(error)}`;
    }
  }

  /** Runs one step's writes, then waits; returns a failure or undefined. */
  async function runStep(step: SyncStep, waitHealthy: boolean): Promise<{ code: ErrorCode; message: string } | undefined> {
    options.checkAbort();
    const where = `${step.phase} wave ${step.wave}`;
    const pruned = await mapLimit(step.prunes, concurrency, (t) => pruneTask(t));
    results.push(...pruned.map((p) => p.result));
    const firstPrune = pruned.find((p) => !p.ok);
    if (firstPrune)
      return {
        code: ErrorCode.SyncResourceFailed,
        message: `one or more objects failed to prune in ${where}: ${firstPrune.result.kind}/${firstPrune.result.name}: ${firstPrune.result.message}`,
      };

    const hooks: Array<{ task: SyncTask; result: ResourceResult; written: KubeObject }> = [];
    const applied: KubeObject[] = [];
    let firstFailure: ResourceResult | undefined;
    for (const group of kindGroups(step.creates)) {
      options.checkAbort();
      const done = await mapLimit(group, concurrency, (t) => (t.type === 'hook' ? hookTask(t) : applyTask(t)));
      done.forEach((d, i) => {
        results.push(d.result);
        const task = group[i];
        if (!d.ok) firstFailure ??= d.result;
        else if (task?.type === 'hook' && d.written) hooks.push({ task, result: d.result, written: d.written });
        else if (d.written) applied.push(d.written);
      });
    }
    if (firstFailure) {
      return {
        code: firstFailure.hookType ? ErrorCode.SyncHookFailed : ErrorCode.SyncResourceFailed,
        message: `one or more objects failed to apply in ${where}, reason: ${firstFailure.kind}/${firstFailure.name}: ${firstFailure.message}`,
      };
    }

    const items: WaitItem[] = hooks.map((h) => ({ kind: 'hook', ref: refFor(h.written) }));
    if (waitHealthy) {
      items.push(...applied.map((o): WaitItem => ({ kind: 'healthy', ref: refFor(o) })));
      items.push(...step.prunes.map((t): WaitItem => ({ kind: 'gone', ref: refFor(t.object) })));
    }
    if (items.length === 0) return undefined;
    const waited = await waitForWave(items, {
      client,
      timeoutMs: options.waveTimeoutMs,
      pollMs,
      signal: options.signal,
      checkAbort: options.checkAbort,
    });
    for (const [i, h] of hooks.entries()) {
      const state = waited.hooks.get(i);
      if (!state) continue;
      h.result.hookPhase = state.phase;
      h.result.message = `${h.result.message}: ${state.message}`;
      if (state.phase === 'Failed') h.result.status = ResourceResultStatus.SyncFailed;
      await applyDeletePolicy(h.task, h.result, state.live ?? h.written);
    }
    if (waited.failedHooks.length > 0) {
      return {
        code: ErrorCode.SyncHookFailed,
        message: `one or more synchronization tasks completed unsuccessfully: ${step.phase} hook ${waited.failedHooks.join('; ')}`,
      };
    }
    if (waited.degraded.length > 0) {
      return {
        code: ErrorCode.SyncResourceDegraded,
        message: `one or more resources are Degraded after ${where}: ${waited.degraded.join('; ')}`,
      };
    }
    if (waited.timedOut.length > 0) {
      return {
        code: ErrorCode.SyncWaveTimeout,
        message: `${where} did not finish within ${options.waveTimeoutMs} ms (FERRY_SYNC_WAVE_TIMEOUT_MS): ${waited.timedOut.join('; ')}`,
      };
    }
    return undefined;
  }

  let failure: { code: ErrorCode; message: string } | undefined;
  for (const [i, step] of plan.steps.entries()) {
    failure = await runStep(step, i < plan.steps.length - 1);
    if (failure) break;
  }
  results.push(...skippedResults());
  if (!failure) return { phase: OperationPhase.Succeeded, message: SUCCESS_MESSAGE, resources: results };

  // 4. SyncFail hooks (Argo CD runs them when the sync fails; their own failure is reported, the sync stays Failed).
  let message = failure.message;
  for (const step of plan.syncFail) {
    const hookFailure = await runStep(step, false);
    if (hookFailure) {
      message = `${message}; SyncFail hooks: ${hookFailure.message}`;
      break;
    }
  }
  return { phase: OperationPhase.Failed, message, resources: results, error: { code: failure.code, message } };
}
