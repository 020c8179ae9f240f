/**
 * Resource hooks, as Argo CD defines them: `argocd.argoproj.io/hook` (comma-separated types) and
 * `argocd.argoproj.io/hook-delete-policy` (comma-separated; BeforeHookCreation when absent), and how
 * a live hook is doing (Job and Pod by their status, other kinds by their health).
 */
import { ResourceAnnotation } from '@ferry/contracts';
import { assessHealth } from '@ferry/health';
import type { KubeObject } from '@ferry/kube';
import { describeObject } from './sync-options.js';

export const HookType = {
  PreSync: 'PreSync',
  Sync: 'Sync',
  PostSync: 'PostSync',
  SyncFail: 'SyncFail',
  /** Never applied (and never pruned). */
  Skip: 'Skip',
  /** Run on app deletion (Argo CD), never by a sync. */
  PreDelete: 'PreDelete',
  PostDelete: 'PostDelete',
} as const;
export type HookType = (typeof HookType)[keyof typeof HookType];

/** Hook types a sync runs (each is also the sync phase it runs in). */
export type SyncHookType = typeof HookType.PreSync | typeof HookType.Sync | typeof HookType.PostSync | typeof HookType.SyncFail;

export const HookDeletePolicy = {
  HookSucceeded: 'HookSucceeded',
  HookFailed: 'HookFailed',
  BeforeHookCreation: 'BeforeHookCreation',
} as const;
export type HookDeletePolicy = (typeof HookDeletePolicy)[keyof typeof HookDeletePolicy];

/** How a hook is doing (Argo CD's hookPhase; Error and Terminating are not produced by Ferry). */
export type HookPhase = 'Running' | 'Succeeded' | 'Failed';

const HOOK_TYPES: ReadonlySet<string> = new Set(Object.values(HookType));
const DELETE_POLICIES: ReadonlySet<string> = new Set(Object.values(HookDeletePolicy));

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** The hook types an object declares ([] = not a hook) and problems naming unknown types. */
export function hookTypesOf(object: KubeObject): { types: HookType[]; problems: string[] } {
  const types: HookType[] = [];
  const problems: string[] = [];
  for (const type of list(object.metadata.annotations?.[ResourceAnnotation.Hook])) {
    if (HOOK_TYPES.has(type)) types.push(type as HookType);
    else
      problems.push(
        `${describeObject(object)}: annotation ${ResourceAnnotation.Hook}: hook type ${type} is not supported (${[...HOOK_TYPES].join(', ')})`,
      );
  }
  return { types, problems };
}

/** True when the object carries a hook annotation naming at least one type (Skip included). */
export function isHookAnnotated(object: KubeObject): boolean {
  return list(object.metadata.annotations?.[ResourceAnnotation.Hook]).length > 0;
}

/** The object's delete policies (BeforeHookCreation when the annotation is absent) and problems. */
export function deletePoliciesOf(object: KubeObject): { policies: HookDeletePolicy[]; problems: string[] } {
  const raw = object.metadata.annotations?.[ResourceAnnotation.HookDeletePolicy];
  if (raw === undefined || list(raw).length === 0) return { policies: [HookDeletePolicy.BeforeHookCreation], problems: [] };
  const policies: HookDeletePolicy[] = [];
  const problems: string[] = [];
  for (const policy of list(raw)) {
    if (DELETE_POLICIES.has(policy)) policies.push(policy as HookDeletePolicy);
    else
      problems.push(
        `${describeObject(object)}: annotation ${ResourceAnnotation.HookDeletePolicy}: policy ${policy} is not supported (${[...DELETE_POLICIES].join(', ')})`,
      );
  }
  return { policies, problems };
}

interface Condition {
  type?: unknown;
  status?: unknown;
  reason?: unknown;
  message?: unknown;
}

function conditions(object: KubeObject): Condition[] {
  const status = object['status'] as { conditions?: unknown } | undefined;
  return Array.isArray(status?.conditions) ? (status.conditions as Condition[]) : [];
}

/**
 * How a live hook is doing: a Job by its Complete/Failed condition, a Pod by its phase, any other
 * kind by its health (Healthy or no health check = Succeeded, Degraded = Failed, else Running).
 */
export function hookPhaseOf(live: KubeObject): { phase: HookPhase; message: string } {
  const group = live.apiVersion.includes('/') ? live.apiVersion.slice(0, live.apiVersion.indexOf('/')) : '';
  if (group === 'batch' && live.kind === 'Job') {
    for (const c of conditions(live)) {
      if (c.status !== 'True') continue;
      if (c.type === 'Complete')
        return { phase: 'Succeeded', message: typeof c.message === 'string' && c.message ? c.message : 'job completed' };
      if (c.type === 'Failed') {
        const why = [c.reason, c.message].filter((v) => typeof v === 'string' && v !== '').join(': ');
        return { phase: 'Failed', message: why || 'job failed' };
      }
    }
    return { phase: 'Running', message: 'job is running' };
  }
  if (group === '' && live.kind === 'Pod') {
    const status = live['status'] as { phase?: unknown; message?: unknown; reason?: unknown } | undefined;
    if (status?.phase === 'Succeeded') return { phase: 'Succeeded', message: 'pod succeeded' };
    if (status?.phase === 'Failed') {
      const why = [status.reason, status.message].filter((v) => typeof v === 'string' && v !== '').join(': ');
      return { phase: 'Failed', message: why || 'pod failed' };
    }
    return { phase: 'Running', message: `pod is ${typeof status?.phase === 'string' ? status.phase : 'pending'}` };
  }
  const health = assessHealth(live);
  if (health === undefined || health.status === 'Healthy') return { phase: 'Succeeded', message: `${live.kind.toLowerCase()} created` };
  if (health.status === 'Degraded') return { phase: 'Failed', message: health.message ?? 'degraded' };
  return { phase: 'Running', message: health.message ?? health.status };
}
