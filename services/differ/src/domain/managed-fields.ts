/**
 * Reading server-side apply's `managedFields` (fieldsV1): which paths a field manager owns. A field
 * Ferry applied before and Git no longer declares is drift: the next apply removes it.
 */

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  fieldsV1?: Record<string, unknown>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The element of `desired` (at this level) named by a `k:{...}` key of an associative list. The server
 * builds the key after defaulting (`k:{"containerPort":80,"protocol":"TCP"}`) while Git usually omits
 * the defaulted field, so a key field absent from the desired item matches; an exact match wins.
 */
function findByKey(list: unknown, keyJson: string): unknown {
  if (!Array.isArray(list)) return undefined;
  let key: Record<string, unknown>;
  try {
    key = JSON.parse(keyJson) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const entries = Object.entries(key);
  const same = (a: unknown, b: unknown): boolean => a === b || String(a) === String(b);
  const exact = list.find((item) => isRecord(item) && entries.every(([k, v]) => same(item[k], v)));
  if (exact !== undefined) return exact;
  return list.find(
    (item) =>
      isRecord(item) &&
      entries.some(([k]) => item[k] !== undefined) &&
      entries.every(([k, v]) => item[k] === undefined || same(item[k], v)),
  );
}

function findByValue(list: unknown, valueJson: string): boolean {
  if (!Array.isArray(list)) return false;
  try {
    const wanted: unknown = JSON.parse(valueJson);
    return list.some((item) => JSON.stringify(item) === JSON.stringify(wanted));
  } catch {
    return false;
  }
}

/**
 * Paths (dotted, for messages) that `manager` owns through an Apply operation in `live` but that
 * `desired` no longer has. Ownership of `metadata.annotations` / `labels` keys counts too.
 */
export function fieldsRemovedFromDesired(live: Record<string, unknown>, desired: Record<string, unknown>, manager: string): string[] {
  const entries = (isRecord(live['metadata']) ? live['metadata']['managedFields'] : undefined) as ManagedFieldsEntry[] | undefined;
  const removed: string[] = [];
  for (const entry of entries ?? []) {
    if (entry.manager !== manager || entry.operation !== 'Apply' || !isRecord(entry.fieldsV1)) continue;
    walk(entry.fieldsV1, desired, '', removed);
  }
  return removed;
}

function walk(fields: Record<string, unknown>, desired: unknown, path: string, out: string[]): void {
  for (const [token, child] of Object.entries(fields)) {
    if (token === '.') continue;
    const kind = token.slice(0, 2);
    const rest = token.slice(2);
    let next: unknown;
    let label: string;
    if (kind === 'f:') {
      next = isRecord(desired) ? desired[rest] : undefined;
      label = path ? `${path}.${rest}` : rest;
      if (path === '' && (rest === 'status' || rest === 'apiVersion' || rest === 'kind')) continue;
    } else if (kind === 'k:') {
      next = findByKey(desired, rest);
      label = `${path}[${rest}]`;
    } else if (kind === 'v:') {
      if (!findByValue(desired, rest)) out.push(`${path}[${rest}]`);
      continue;
    } else if (kind === 'i:') {
      next = Array.isArray(desired) ? desired[Number(rest)] : undefined;
      label = `${path}[${rest}]`;
    } else {
      continue;
    }
    if (next === undefined || next === null) {
      out.push(label);
      continue;
    }
    if (isRecord(child) && Object.keys(child).some((k) => k !== '.')) walk(child, next, label, out);
  }
}
