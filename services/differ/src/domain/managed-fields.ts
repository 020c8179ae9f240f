/**
 * Reading server-side apply's `managedFields` (fieldsV1) for the comparison: a field Ferry applied
 * before and Git no longer declares is drift (the next apply removes it), unless another manager
 * owns it too (then it stays). The fieldsV1 walking itself lives in @ferry/kube (ignore-differences).
 */
import { formatPointer, indexByKey, managedFieldsOf, walkFieldsV1 } from '@ferry/kube';

/** A field the next apply would remove: its pointer in the live object and a human label. */
export interface RemovedField {
  pointer: string;
  label: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function indexByValue(list: unknown, valueJson: string): number {
  if (!Array.isArray(list)) return -1;
  try {
    const wanted = JSON.stringify(JSON.parse(valueJson));
    return list.findIndex((item) => JSON.stringify(item) === wanted);
  } catch {
    return -1;
  }
}

/** Resolves one fieldsV1 token in `node`: the pointer step and the child, or undefined. */
function step(node: unknown, token: string): { key: string | number; child: unknown } | undefined {
  const kind = token.slice(0, 2);
  const rest = token.slice(2);
  if (kind === 'f:')
    return isRecord(node) && Object.hasOwn(node, rest) && node[rest] != null ? { key: rest, child: node[rest] } : undefined;
  let i = -1;
  if (kind === 'k:') i = indexByKey(node, rest);
  else if (kind === 'v:') i = indexByValue(node, rest);
  else if (kind === 'i:' && Array.isArray(node) && Number(rest) < node.length) i = Number(rest);
  return i >= 0 && Array.isArray(node) && node[i] != null ? { key: i, child: node[i] } : undefined;
}

/**
 * Fields `manager` owns through an Apply operation in `live` (resolved there) that `desired` no longer
 * has, outermost first: a whole list item or map entry Git dropped is one field. Fields another manager
 * (or another operation) also owns at or below that path are kept, as server-side apply keeps them.
 * Top-level `status`, `apiVersion` and `kind` are never reported.
 */
export function fieldsRemovedFromDesired(live: Record<string, unknown>, desired: Record<string, unknown>, manager: string): RemovedField[] {
  const entries = managedFieldsOf(live);
  const others = new Set<string>();
  for (const entry of entries) {
    if ((entry.manager === manager && entry.operation === 'Apply') || !isRecord(entry.fieldsV1)) continue;
    walkFieldsV1(entry.fieldsV1, live, (f) => {
      if (f.pointer !== undefined) others.add(f.pointer);
    });
  }
  const coOwned = (pointer: string): boolean => [...others].some((o) => o === pointer || o.startsWith(`${pointer}/`));
  const removed: RemovedField[] = [];
  const walk = (set: Record<string, unknown>, l: unknown, d: unknown, tokens: Array<string | number>, label: string): void => {
    for (const [token, child] of Object.entries(set)) {
      if (token === '.') continue;
      if (tokens.length === 0 && ['f:status', 'f:apiVersion', 'f:kind'].includes(token)) continue;
      const inLive = step(l, token);
      if (!inLive) continue; // nothing live to remove
      const rest = token.slice(2);
      const childLabel = token.startsWith('f:') ? (label ? `${label}.${rest}` : rest) : `${label}[${rest}]`;
      const childTokens = [...tokens, inLive.key];
      const inDesired = step(d, token);
      if (!inDesired) {
        const pointer = formatPointer(childTokens);
        if (!coOwned(pointer)) removed.push({ pointer, label: childLabel });
        // Another manager owns something inside: only Ferry's own parts of it go.
        else if (isRecord(child) && Object.keys(child).some((k) => k !== '.'))
          walk(child, inLive.child, undefined, childTokens, childLabel);
        continue;
      }
      if (isRecord(child) && Object.keys(child).some((k) => k !== '.')) walk(child, inLive.child, inDesired.child, childTokens, childLabel);
    }
  };
  for (const entry of entries) {
    if (entry.manager !== manager || entry.operation !== 'Apply' || !isRecord(entry.fieldsV1)) continue;
    walk(entry.fieldsV1, live, desired, [], '');
  }
  return removed;
}
