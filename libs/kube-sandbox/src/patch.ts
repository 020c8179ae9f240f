/**
 * The three non-apply patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
 * strategic merge patch (built-in types' merge keys and `$patch`/`$retainKeys`/
 * `$deleteFromPrimitiveList`/`$setElementOrder` directives). All are pure: inputs are not changed.
 */
import { listKind, type SchemaContext } from './schema.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Raised when a patch cannot be applied; the HTTP layer maps it to a Status. */
export class PatchError extends Error {
  override readonly name = 'PatchError';
  /** true when the failure is a failed `test` operation or a missing path (422), false for malformed patches (400) */
  readonly unprocessable: boolean;
  constructor(message: string, unprocessable: boolean) {
    super(message);
    this.unprocessable = unprocessable;
  }
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function parsePointer(ptr: string): string[] {
  if (ptr === '') return [];
  if (!ptr.startsWith('/')) throw new PatchError(`invalid JSON pointer "${ptr}"`, false);
  return ptr
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function clone<T>(v: T): T {
  return v === undefined ? v : (structuredClone(v) as T);
}

function getAt(doc: unknown, tokens: string[], ptr: string): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      const i = Number(t);
      if (!/^\d+$/.test(t) || i >= cur.length) throw new PatchError(`path "${ptr}" does not exist`, true);
      cur = cur[i];
    } else if (isObject(cur)) {
      if (!(t in cur)) throw new PatchError(`path "${ptr}" does not exist`, true);
      cur = cur[t];
    } else throw new PatchError(`path "${ptr}" does not exist`, true);
  }
  return cur;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations', false);
  let doc = clone(target);
  for (const raw of ops) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string')
      throw new PatchError('each JSON patch operation needs "op" and "path"', false);
    const op = raw as unknown as JsonPatchOp;
    const tokens = parsePointer(op.path);
    switch (op.op) {
      case 'add':
        if (!('value' in raw)) throw new PatchError(`missing value for add at ${op.path}`, false);
        doc = setAt(doc, tokens, clone(op.value), 'add', op.path);
        break;
      case 'replace':
        if (!('value' in raw)) throw new PatchError(`missing value for replace at ${op.path}`, false);
        getAt(doc, tokens, op.path);
        doc = setAt(doc, tokens, clone(op.value), 'replace', op.path);
        break;
      case 'remove':
        getAt(doc, tokens, op.path);
        doc = removeAt(doc, tokens, op.path);
        break;
      case 'move': {
        if (typeof op.from !== 'string') throw new PatchError('move needs "from"', false);
        const fromTokens = parsePointer(op.from);
        const v = getAt(doc, fromTokens, op.from);
        doc = removeAt(doc, fromTokens, op.from);
        doc = setAt(doc, tokens, v, 'add', op.path);
        break;
      }
      case 'copy': {
        if (typeof op.from !== 'string') throw new PatchError('copy needs "from"', false);
        const v = clone(getAt(doc, parsePointer(op.from), op.from));
        doc = setAt(doc, tokens, v, 'add', op.path);
        break;
      }
      case 'test': {
        const v = getAt(doc, tokens, op.path);
        if (JSON.stringify(v) !== JSON.stringify(op.value)) throw new PatchError(`testing value ${op.path} failed`, true);
        break;
      }
      default:
        throw new PatchError(`unexpected JSON patch operation "${op.op}"`, false);
    }
  }
  return doc;
}

function setAt(doc: unknown, tokens: string[], value: unknown, mode: 'add' | 'replace', ptr: string): unknown {
  if (tokens.length === 0) return value;
  const parent = getAt(doc, tokens.slice(0, -1), ptr);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    if (last === '-') {
      parent.push(value);
      return doc;
    }
    const i = Number(last);
    if (!/^\d+$/.test(last) || i > parent.length || (mode === 'replace' && i >= parent.length))
      throw new PatchError(`path "${ptr}" does not exist`, true);
    if (mode === 'add') parent.splice(i, 0, value);
    else parent[i] = value;
    return doc;
  }
  if (isObject(parent)) {
    parent[last] = value;
    return doc;
  }
  throw new PatchError(`path "${ptr}" does not exist`, true);
}

function removeAt(doc: unknown, tokens: string[], ptr: string): unknown {
  if (tokens.length === 0) return undefined;
  const parent = getAt(doc, tokens.slice(0, -1), ptr);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isObject(parent)) delete parent[last];
  return doc;
}

/** Strategic merge patch for built-in types (see schema.ts for merge keys). */
export function strategicMergePatch(target: unknown, patch: unknown, ctx: SchemaContext): unknown {
  return smpValue(target, patch, ctx, []);
}

function smpValue(target: unknown, patch: unknown, ctx: SchemaContext, path: string[]): unknown {
  if (isObject(patch)) {
    const directive = patch.$patch;
    if (directive === 'replace') {
      const copy = { ...patch };
      delete copy.$patch;
      return stripDirectives(copy);
    }
    if (directive === 'delete') return undefined;
    const base: Record<string, unknown> = isObject(target) ? { ...target } : {};
    const retain = Array.isArray(patch.$retainKeys) ? new Set(patch.$retainKeys.map(String)) : undefined;
    for (const [k, v] of Object.entries(patch)) {
      if (k === '$patch' || k === '$retainKeys') continue;
      if (k.startsWith('$setElementOrder/')) continue;
      if (k.startsWith('$deleteFromPrimitiveList/')) {
        const field = k.slice('$deleteFromPrimitiveList/'.length);
        const cur = base[field];
        if (Array.isArray(cur) && Array.isArray(v))
          base[field] = cur.filter((x) => !v.some((d) => JSON.stringify(d) === JSON.stringify(x)));
        continue;
      }
      if (v === null) {
        delete base[k];
        continue;
      }
      const merged = smpValue(base[k], v, ctx, [...path, k]);
      if (merged === undefined) delete base[k];
      else base[k] = merged;
    }
    if (retain) for (const k of Object.keys(base)) if (!retain.has(k)) delete base[k];
    for (const [k, v] of Object.entries(patch)) {
      if (!k.startsWith('$setElementOrder/')) continue;
      const field = k.slice('$setElementOrder/'.length);
      if (Array.isArray(base[field]) && Array.isArray(v)) base[field] = reorder(base[field] as unknown[], v, ctx, [...path, field]);
    }
    return base;
  }
  if (Array.isArray(patch)) {
    const lk = listKind(ctx, path);
    const mergeKey = lk.type === 'map' ? lk.smpKey : undefined;
    const primitiveMerge = lk.type === 'set' || (path.length === 2 && path[0] === 'metadata' && path[1] === 'finalizers');
    if (mergeKey) {
      const cur = Array.isArray(target) ? [...target] : [];
      // a list-level `{$patch: replace}` element replaces the whole list
      if (patch.some((p) => isObject(p) && p.$patch === 'replace' && p[mergeKey] === undefined)) {
        return patch.filter((p) => !(isObject(p) && p.$patch === 'replace' && p[mergeKey] === undefined)).map(stripDirectives);
      }
      for (const item of patch) {
        if (!isObject(item)) {
          cur.push(item);
          continue;
        }
        const key = item[mergeKey];
        const idx = cur.findIndex((c) => isObject(c) && c[mergeKey] === key);
        if (item.$patch === 'delete') {
          if (idx >= 0) cur.splice(idx, 1);
          continue;
        }
        if (idx >= 0) cur[idx] = smpValue(cur[idx], item, ctx, path);
        else cur.push(smpValue(undefined, item, ctx, path));
      }
      return cur;
    }
    if (primitiveMerge) {
      const cur = Array.isArray(target) ? [...target] : [];
      for (const item of patch) if (!cur.some((c) => JSON.stringify(c) === JSON.stringify(item))) cur.push(item);
      return cur;
    }
    return patch.map(stripDirectives);
  }
  return patch;
}

function reorder(items: unknown[], order: unknown[], ctx: SchemaContext, path: string[]): unknown[] {
  const lk = listKind(ctx, path);
  const keyOf = (x: unknown): string => (lk.type === 'map' && isObject(x) ? JSON.stringify(x[lk.smpKey]) : JSON.stringify(x));
  const orderKeys = order.map(keyOf);
  const pos = (x: unknown): number => {
    const i = orderKeys.indexOf(keyOf(x));
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return [...items].sort((a, b) => pos(a) - pos(b));
}

function stripDirectives(v: unknown): unknown {
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith('$')) continue;
      if (x === null) continue;
      out[k] = stripDirectives(x);
    }
    return out;
  }
  if (Array.isArray(v)) return v.map(stripDirectives);
  return v;
}
