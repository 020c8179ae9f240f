/**
 * Waiting at the end of a wave, as Argo CD does before it moves on: applied resources until they are
 * Healthy (assessHealth from @ferry/health on the live object read back; a kind without a health
 * check counts as Healthy; Degraded fails), pruned resources until they are gone, hooks until they
 * finish (Job Complete/Failed, Pod Succeeded/Failed). One poll loop, one deadline per wave.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { assessHealth } from '@ferry/health';
import { describeRef, refOf, type ClusterClient, type KubeObject, type ObjectRef } from '@ferry/kube';
import { hookPhaseOf, type HookPhase } from '../domain/hooks.js';

export type WaitItem = { kind: 'healthy'; ref: ObjectRef } | { kind: 'gone'; ref: ObjectRef } | { kind: 'hook'; ref: ObjectRef };

export interface WaitResult {
  /** Hooks that finished, by index in the items, with their phase and message. */
  hooks: Map<number, { phase: HookPhase; message: string; live?: KubeObject }>;
  /** Resources that turned Degraded (`Kind/ns/name: message`). */
  degraded: string[];
  /** Hooks that failed (`Kind/ns/name: message`). */
  failedHooks: string[];
  /** Items still not done at the deadline, described with their last state. */
  timedOut: string[];
}

export interface WaitOptions {
  client: ClusterClient;
  timeoutMs: number;
  pollMs: number;
  signal: AbortSignal;
  /** Throws when the sync must stop (lease lost, service closing). */
  checkAbort: () => void;
}

function label(ref: ObjectRef): string {
  return describeRef(ref);
}

/**
 * Polls every item until each is done, one fails (Degraded resource, failed hook: the wait stops at
 * once), or `timeoutMs` passes. Transient read errors count as "not yet".
 */
export async function waitForWave(items: readonly WaitItem[], options: WaitOptions): Promise<WaitResult> {
  const result: WaitResult = { hooks: new Map(), degraded: [], failedHooks: [], timedOut: [] };
  const pending = new Map<number, string>(items.map((_item, i) => [i, 'not checked yet']));
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.checkAbort();
    await Promise.all(
      [...pending.keys()].map(async (i) => {
        const item = items[i];
        if (!item) return;
        let live: KubeObject | undefined;
        try {
          live = await options.client.get(item.ref);
        } catch (error) {
          pending.set(i, `not readable: ${error instanceof Error ? error.message : String(error)}`);
          return;
        }
        switch (item.kind) {
          case 'gone':
            if (live === undefined) pending.delete(i);
            else pending.set(i, 'still being deleted');
            return;
          case 'healthy': {
            if (live === undefined) {
              pending.set(i, 'Missing');
              return;
            }
            const health = assessHealth(live);
            if (health === undefined || health.status === 'Healthy') pending.delete(i);
            else if (health.status === 'Degraded') {
              pending.delete(i);
              result.degraded.push(`${label(refOf(live))}: ${health.message ?? 'Degraded'}`);
            } else pending.set(i, `${health.status}${health.message ? `: ${health.message}` : ''}`);
            return;
          }
          case 'hook': {
            if (live === undefined) {
              pending.delete(i);
              const message = 'the hook object disappeared before Ferry saw it finish';
              result.hooks.set(i, { phase: 'Failed', message });
              result.failedHooks.push(`${label(item.ref)}: ${message}`);
              return;
            }
            const state = hookPhaseOf(live);
            if (state.phase === 'Running') {
              pending.set(i, state.message);
              return;
            }
            pending.delete(i);
            result.hooks.set(i, { ...state, live });
            if (state.phase === 'Failed') result.failedHooks.push(`${label(refOf(live))}: ${state.message}`);
            return;
          }
        }
      }),
    );
    if (pending.size === 0 || result.degraded.length > 0 || result.failedHooks.length > 0) return result;
    if (Date.now() >= deadline) {
      for (const [i, state] of pending) {
        const item = items[i];
        if (item) result.timedOut.push(`${label(item.ref)} (${item.kind === 'gone' ? 'prune' : item.kind}): ${state}`);
      }
      return result;
    }
    await sleep(Math.min(options.pollMs, Math.max(1, deadline - Date.now())), undefined, { ref: false, signal: options.signal }).catch(
      () => undefined,
    );
  }
}
