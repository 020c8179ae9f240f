/**
 * RFC 6902 JSON patches between two JSON documents (the normalised live object and what it would be
 * after the apply), and applying one (used by tests and by readers that want the target back).
 */
import { formatPointer, parsePointer } from '@ferry/kube';

export type JsonPatchOperation =
  { op: 'add'; path: string; value: unknown } | { op: 'remove'; path: string } | { op: 'replace'; path: string; value: unknown };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
  }
  return false;
}

/** The `name` of every item when all items are objects with distinct string names, else undefined. */
function itemKeys(list: readonly unknown[]): string[] | undefined {
  const keys: string[] = [];
  for (const item of list) {
    if (!isRecord(item) || typeof item['name'] !== 'string') return undefined;
    keys.push(item['name']);
  }
  return new Set(keys).size === keys.length ? keys : undefined;
}

/** Index pairs of a longest common subsequence of two key lists. */
function lcsPairs(a: readonly string[], b: readonly string[]): Array<[number, number]> {
  const w = b.length + 1;
  const t = new Uint32Array((a.length + 1) * w);
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      t[i * w + j] =
        a[i] === b[j] ? (t[(i + 1) * w + j + 1] as number) + 1 : Math.max(t[(i + 1) * w + j] as number, t[i * w + j + 1] as number);
  const pairs: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) pairs.push([i++, j++]);
    else if ((t[(i + 1) * w + j] as number) >= (t[i * w + j + 1] as number)) i++;
    else j++;
  }
  return pairs;
}

/**
 * The operations turning `from` into `to`: objects key by key (removes first, in key order); arrays of
 * items with distinct `name`s by name (removes, adds, then changes inside matched items), other arrays
 * item by item over the common length, then removes from the end or adds at the end; a type change replaces.
 * Empty when the documents are equal. `from`/`to` undefined (a missing object) is treated as null.
 */
export function jsonPatch(from: unknown, to: unknown): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  const walk = (a: unknown, b: unknown, tokens: Array<string | number>): void => {
    if (sameJson(a, b)) return;
    const path = formatPointer(tokens);
    if (isRecord(a) && isRecord(b)) {
      for (const key of Object.keys(a).sort())
        if (!Object.hasOwn(b, key)) ops.push({ op: 'remove', path: formatPointer([...tokens, key]) });
      for (const key of Object.keys(b).sort()) {
        if (Object.hasOwn(a, key)) walk(a[key], b[key], [...tokens, key]);
        else ops.push({ op: 'add', path: formatPointer([...tokens, key]), value: b[key] });
      }
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      const ka = itemKeys(a);
      const kb = itemKeys(b);
      if (ka && kb) {
        keyedArray(a, b, ka, kb, tokens);
        return;
      }
      const common = Math.min(a.length, b.length);
      for (let i = 0; i < common; i++) walk(a[i], b[i], [...tokens, i]);
      for (let i = a.length - 1; i >= common; i--) ops.push({ op: 'remove', path: formatPointer([...tokens, i]) });
      for (let i = common; i < b.length; i++) ops.push({ op: 'add', path: formatPointer([...tokens, i]), value: b[i] });
      return;
    }
    ops.push({ op: 'replace', path, value: b === undefined ? null : b });
  };
  /** Items keyed by `name`: removes, then adds, then changes inside items matched by name (in order). */
  const keyedArray = (a: unknown[], b: unknown[], ka: string[], kb: string[], tokens: Array<string | number>): void => {
    const pairs = lcsPairs(ka, kb);
    const matchedA = new Set(pairs.map(([i]) => i));
    const matchedB = new Set(pairs.map(([, j]) => j));
    for (let i = a.length - 1; i >= 0; i--) if (!matchedA.has(i)) ops.push({ op: 'remove', path: formatPointer([...tokens, i]) });
    for (let j = 0; j < b.length; j++) if (!matchedB.has(j)) ops.push({ op: 'add', path: formatPointer([...tokens, j]), value: b[j] });
    for (const [i, j] of pairs) walk(a[i], b[j], [...tokens, j]);
  };
  walk(from === undefined ? null : from, to === undefined ? null : to, []);
  return ops;
}

/** Applies RFC 6902 add/remove/replace operations to a copy of `doc`; throws when a path does not resolve. */
export function applyPatch(doc: unknown, ops: readonly JsonPatchOperation[]): unknown {
  let root: unknown = structuredClone(doc);
  for (const op of ops) {
    const tokens = parsePointer(op.path);
    if (tokens.length === 0) {
      if (op.op === 'remove') throw new Error('cannot remove the document root');
      root = structuredClone(op.value);
      continue;
    }
    const last = tokens.pop() as string;
    let parent: unknown = root;
    for (const t of tokens) {
      parent = Array.isArray(parent) ? parent[Number(t)] : isRecord(parent) ? parent[t] : undefined;
      if (parent === undefined) throw new Error(`${op.op} ${op.path}: the parent does not exist`);
    }
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(i) || i < 0 || i > parent.length || (op.op !== 'add' && i === parent.length))
        throw new Error(`${op.op} ${op.path}: index out of range`);
      if (op.op === 'add') parent.splice(i, 0, structuredClone(op.value));
      else if (op.op === 'remove') parent.splice(i, 1);
      else parent[i] = structuredClone(op.value);
    } else if (isRecord(parent)) {
      if (op.op !== 'add' && !Object.hasOwn(parent, last)) throw new Error(`${op.op} ${op.path}: no such member`);
      if (op.op === 'remove') delete parent[last];
      else parent[last] = structuredClone(op.value);
    } else {
      throw new Error(`${op.op} ${op.path}: the parent is not a container`);
    }
  }
  return root;
}
