/**
 * Which kinds to list when looking for an app's live tracked objects: every kind of the desired set,
 * every kind the comparison marks for pruning, and every kind the latest sync touched (so an object
 * whose kind left Git entirely is still found and pruned).
 */
import type { DiffComputed, ResourceId } from '@ferry/contracts';
import { groupOf, type KubeObject } from '@ferry/kube';
import type { StoredOperationRecord } from './operation.js';

export interface KindRef {
  apiVersion: string;
  kind: string;
}

function apiVersionOf(id: Pick<ResourceId, 'group' | 'version'>): string {
  return id.group ? `${id.group}/${id.version}` : id.version;
}

/** Distinct kinds (by group and kind; the first API version seen wins, desired objects first). */
export function trackedKinds(desired: readonly KubeObject[], diff: DiffComputed, record: StoredOperationRecord | undefined): KindRef[] {
  const kinds = new Map<string, KindRef>();
  const add = (apiVersion: string, kind: string): void => {
    const key = `${groupOf(apiVersion)}/${kind}`;
    if (!kinds.has(key)) kinds.set(key, { apiVersion, kind });
  };
  for (const object of desired) add(object.apiVersion, object.kind);
  for (const resource of diff.resources) if (resource.requiresPruning) add(apiVersionOf(resource), resource.kind);
  for (const resource of record?.operationState?.syncResult?.resources ?? []) add(apiVersionOf(resource), resource.kind);
  return [...kinds.values()];
}
