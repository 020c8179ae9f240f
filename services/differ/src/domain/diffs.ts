/**
 * The per-resource diffs the differ stores after each comparison (object store key `diffs.<app>`), read
 * by the api (`GET /api/v1/applications/:name/diff`) and `ferry app diff`. Pure.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { ResourceComparison } from '@ferry/contracts';
import type { AppResourceDiff, DiffState } from './compare.js';
import type { JsonPatchOperation } from './json-patch.js';
import { unifiedDiff } from './unified-diff.js';

/** Object-store key of an app's diffs. */
export function diffsKey(app: string): string {
  return `diffs.${app}`;
}

/** Longest `diff` (UTF-8 bytes) and longest serialised `patch` kept per resource. */
export const MAX_DIFF_BYTES = 64 * 1024;

export interface ResourceDiffEntry extends Omit<ResourceComparison, 'diffState'> {
  diffState: DiffState;
  /** Unified YAML diff, live → desired (both normalised); '' when equal. */
  diff: string;
  /** RFC 6902 operations turning the normalised live object into the normalised desired one; [] when equal. */
  patch: JsonPatchOperation[];
  /** Set when `diff` or `patch` was cut at MAX_DIFF_BYTES (the patch is then incomplete: not applicable). */
  truncated?: true;
}

/** The stored document (`diffs.<app>`). */
export interface AppDiffs {
  app: string;
  revision: string;
  comparedAt: string;
  resources: ResourceDiffEntry[];
}

/** YAML with sorted keys (stable output); '' for null. */
export function toYaml(value: Record<string, unknown> | null): string {
  return value === null ? '' : stringify(value, { sortMapEntries: true, lineWidth: 0 });
}

function truncateText(text: string, max: number): { text: string; cut: boolean } {
  if (Buffer.byteLength(text) <= max) return { text, cut: false };
  let kept = Buffer.from(text).subarray(0, max).toString('utf8');
  const nl = kept.lastIndexOf('\n');
  if (nl > 0) kept = kept.slice(0, nl + 1);
  const rest = Buffer.byteLength(text) - Buffer.byteLength(kept);
  return { text: `${kept}... (diff truncated: ${rest} more bytes)\n`, cut: true };
}

function truncatePatch(patch: JsonPatchOperation[], max: number): { patch: JsonPatchOperation[]; cut: boolean } {
  if (Buffer.byteLength(JSON.stringify(patch)) <= max) return { patch, cut: false };
  const kept: JsonPatchOperation[] = [];
  let size = 2;
  for (const op of patch) {
    const n = Buffer.byteLength(JSON.stringify(op)) + 1;
    if (size + n > max) break;
    kept.push(op);
    size += n;
  }
  return { patch: kept, cut: true };
}

function label(r: AppResourceDiff): string {
  const type = r.group ? `${r.group}/${r.kind}` : r.kind;
  return r.namespace ? `${type} ${r.namespace}/${r.name}` : `${type} ${r.name}`;
}

/** One resource's entry: its YAML diff and patch, each bounded to `maxBytes`. */
export function resourceDiffEntry(r: AppResourceDiff, maxBytes = MAX_DIFF_BYTES): ResourceDiffEntry {
  const name = label(r);
  const rawDiff = r.patch.length === 0 ? '' : unifiedDiff(toYaml(r.live), toYaml(r.target), `live ${name}`, `desired ${name}`);
  const diff = truncateText(rawDiff, maxBytes);
  const patch = truncatePatch(r.patch, maxBytes);
  const entry: ResourceDiffEntry = {
    group: r.group,
    version: r.version,
    kind: r.kind,
    namespace: r.namespace,
    name: r.name,
    status: r.status,
    diffState: r.diffState,
    diff: diff.text,
    patch: patch.patch,
  };
  if (r.requiresPruning) entry.requiresPruning = true;
  if (diff.cut || patch.cut) entry.truncated = true;
  return entry;
}

/** The document for `diffs.<app>`. */
export function appDiffs(app: string, revision: string, comparedAt: string, resources: readonly AppResourceDiff[]): AppDiffs {
  return { app, revision, comparedAt, resources: resources.map((r) => resourceDiffEntry(r)) };
}

/** Fingerprint of a diffs document without its time: equal = nothing to write. */
export function diffsHash(doc: AppDiffs): string {
  return createHash('sha256')
    .update(JSON.stringify({ app: doc.app, revision: doc.revision, resources: doc.resources }))
    .digest('hex')
    .slice(0, 16);
}
