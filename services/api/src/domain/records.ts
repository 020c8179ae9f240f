/**
 * Checks the status records read from KV at the edge. A record that is not the shape its writer
 * promises (another version, or written by hand) is dropped, so the part of the status it feeds
 * degrades to `Unknown` instead of failing the request.
 */
import { isHealthStatus } from '@ferry/contracts';
import type { ComparisonStatusRecord, HealthStatusRecord, OperationStatusRecord, SourceStatusRecord } from '@ferry/contracts';
import type { StatusRecords } from './compose-status.js';

/** Raw KV values of one app (undefined when the key is absent). */
export interface RawStatusRecords {
  source?: unknown;
  comparison?: unknown;
  operation?: unknown;
  health?: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isArrayOrAbsent = (v: unknown): boolean => v === undefined || Array.isArray(v);
const SYNC_STATUSES: ReadonlySet<unknown> = new Set(['Synced', 'OutOfSync', 'Unknown']);

export function asSourceRecord(v: unknown): SourceStatusRecord | undefined {
  if (!isObject(v) || typeof v['resolvedAt'] !== 'string' || !isArrayOrAbsent(v['conditions'])) return undefined;
  if (v['error'] !== undefined && !isObject(v['error'])) return undefined;
  return { ...(v as unknown as SourceStatusRecord), conditions: (v['conditions'] as SourceStatusRecord['conditions'] | undefined) ?? [] };
}

export function asComparisonRecord(v: unknown): ComparisonStatusRecord | undefined {
  if (!isObject(v) || !SYNC_STATUSES.has(v['status']) || !Array.isArray(v['resources']) || !isArrayOrAbsent(v['conditions']))
    return undefined;
  return {
    ...(v as unknown as ComparisonStatusRecord),
    conditions: (v['conditions'] as ComparisonStatusRecord['conditions'] | undefined) ?? [],
  };
}

export function asOperationRecord(v: unknown): OperationStatusRecord | undefined {
  if (!isObject(v) || !isArrayOrAbsent(v['history']) || !isArrayOrAbsent(v['conditions'])) return undefined;
  if (v['operationState'] !== undefined && !isObject(v['operationState'])) return undefined;
  return {
    ...(v as unknown as OperationStatusRecord),
    history: (v['history'] as OperationStatusRecord['history'] | undefined) ?? [],
    conditions: (v['conditions'] as OperationStatusRecord['conditions'] | undefined) ?? [],
  };
}

export function asHealthRecord(v: unknown): HealthStatusRecord | undefined {
  if (!isObject(v) || !isHealthStatus(v['status']) || !isArrayOrAbsent(v['resources'])) return undefined;
  return { ...(v as unknown as HealthStatusRecord), resources: (v['resources'] as HealthStatusRecord['resources'] | undefined) ?? [] };
}

/** Checks each raw record; the ones that do not fit are left out. */
export function toStatusRecords(raw: RawStatusRecords): StatusRecords {
  return {
    source: asSourceRecord(raw.source),
    comparison: asComparisonRecord(raw.comparison),
    operation: asOperationRecord(raw.operation),
    health: asHealthRecord(raw.health),
  };
}
