/**
 * RespectIgnoreDifferences=true: the apply carries the live values of the fields `spec.ignoreDifferences`
 * ignores (removed where live has none), so a sync never reverts them (Argo CD's normalizeTargetResources).
 */
import type { IgnoreDifference } from '@ferry/contracts';
import { compileIgnoreDifferences, respectIgnoredFields, type KubeObject } from '@ferry/kube';

export type IgnoreTransform = { ok: true; apply: (desired: KubeObject, live: KubeObject) => KubeObject } | { ok: false; problem: string };

export function createIgnoreTransform(rules: readonly IgnoreDifference[]): IgnoreTransform {
  try {
    const compiled = compileIgnoreDifferences(rules);
    return { ok: true, apply: (desired, live) => respectIgnoredFields(compiled, desired, live) };
  } catch (error) {
    return { ok: false, problem: error instanceof Error ? error.message : String(error) };
  }
}
