/**
 * Field sets in the `FieldsV1` format of managedFields (structured-merge-diff): trees whose edges
 * are path elements `f:<field>`, `k:<json key>`, `v:<json value>`, and whose members are marked ".".
 */
import { KEY_DEFAULTS, isMapField, listKind, type SchemaContext } from './schema.js';

export class FieldSet {
  self = false;
  readonly children = new Map<string, FieldSet>();

  child(pe: string): FieldSet {
    let c = this.children.get(pe);
    if (!c) {
      c = new FieldSet();
      this.children.set(pe, c);
    }
    return c;
  }

  isEmpty(): boolean {
    if (this.self) return false;
    for (const c of this.children.values()) if (!c.isEmpty()) return false;
    return true;
  }

  clone(): FieldSet {
    const s = new FieldSet();
    s.self = this.self;
    for (const [k, v] of this.children) s.children.set(k, v.clone());
    return s;
  }

  union(other: FieldSet): FieldSet {
    const s = this.clone();
    s.addAll(other);
    return s;
  }

  addAll(other: FieldSet): void {
    if (other.self) this.self = true;
    for (const [k, v] of other.children) this.child(k).addAll(v);
  }

  difference(other: FieldSet | undefined): FieldSet {
    const s = new FieldSet();
    s.self = this.self && !(other?.self ?? false);
    for (const [k, v] of this.children) {
      const d = v.difference(other?.children.get(k));
      if (!d.isEmpty()) s.children.set(k, d);
    }
    return s;
  }

  intersection(other: FieldSet | undefined): FieldSet {
    const s = new FieldSet();
    if (!other) return s;
    s.self = this.self && other.self;
    for (const [k, v] of this.children) {
      const o = other.children.get(k);
      if (!o) continue;
      const i = v.intersection(o);
      if (!i.isEmpty()) s.children.set(k, i);
    }
    return s;
  }

  has(path: readonly string[]): boolean {
    let cur: FieldSet | undefined = this as FieldSet;
    for (const pe of path) {
      cur = cur.children.get(pe);
      if (!cur) return false;
    }
    return cur.self;
  }

  /** Every member path (deepest first when `deepestFirst`). */
  members(deepestFirst = false): string[][] {
    const out: string[][] = [];
    const walk = (s: FieldSet, path: string[]): void => {
      if (s.self && !deepestFirst && path.length > 0) out.push(path);
      for (const [k, v] of s.children) walk(v, [...path, k]);
      if (s.self && deepestFirst && path.length > 0) out.push(path);
    };
    walk(this, []);
    return out;
  }

  toJSON(): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    if (this.self && this.children.size > 0) o['.'] = {};
    for (const [k, v] of this.children) o[k] = v.toJSON();
    return o;
  }

  static fromJSON(json: unknown): FieldSet {
    const s = new FieldSet();
    if (!json || typeof json !== 'object') return s;
    const entries = Object.entries(json as Record<string, unknown>);
    if (entries.length === 0) {
      s.self = true;
      return s;
    }
    for (const [k, v] of entries) {
      if (k === '.') s.self = true;
      else s.children.set(k, FieldSet.fromJSON(v));
    }
    return s;
  }
}

type Json = unknown;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep equality of JSON values. */
export function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let n = 0;
  for (const k in ao) {
    if (ao[k] === undefined) continue;
    n++;
    if (!jsonEqual(ao[k], bo[k])) return false;
  }
  let m = 0;
  for (const k in bo) if (bo[k] !== undefined) m++;
  return n === m;
}

/** Metadata fields the field manager never tracks. */
const STRIPPED_META = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
  'generateName',
]);

/** Which top-level parts of an object a field set covers: the main resource excludes status when
 * the type has a status subresource; the status subresource covers only status. */
export type FieldScope = 'all' | 'main' | 'status';

function topLevelIncluded(key: string, scope: FieldScope): boolean {
  if (key === 'apiVersion' || key === 'kind') return false;
  if (scope === 'status') return key === 'status';
  if (scope === 'main') return key !== 'status';
  return true;
}

/** The key element `k:{...}` of an associative list item, or undefined if a key field is missing. */
export function itemKey(item: unknown, keys: readonly string[]): string | undefined {
  if (!isObject(item)) return undefined;
  const parts: string[] = [];
  for (const k of keys) {
    let v = item[k];
    if (v === undefined) v = KEY_DEFAULTS[k];
    if (v === undefined) return undefined;
    parts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
  }
  return `k:{${parts.join(',')}}`;
}

function listKeysUsable(items: unknown[], keys: readonly string[]): boolean {
  const seen = new Set<string>();
  for (const it of items) {
    const k = itemKey(it, keys);
    if (k === undefined || seen.has(k)) return false;
    seen.add(k);
  }
  return true;
}

/** The field set of everything set in `obj` (within scope). Null values are not members. */
export function fieldSetOf(obj: Record<string, unknown>, ctx: SchemaContext, scope: FieldScope): FieldSet {
  const root = new FieldSet();
  for (const key of Object.keys(obj)) {
    if (!topLevelIncluded(key, scope)) continue;
    const v = obj[key];
    if (v === null || v === undefined) continue;
    if (key === 'metadata' && isObject(v)) {
      const ms = new FieldSet();
      for (const mk of Object.keys(v)) {
        if (STRIPPED_META.has(mk)) continue;
        const mv = v[mk];
        if (mv === null || mv === undefined) continue;
        addValue(ms.child(`f:${mk}`), mv, ['metadata', mk], ctx);
      }
      if (!ms.isEmpty()) root.children.set('f:metadata', ms);
      continue;
    }
    addValue(root.child(`f:${key}`), v, [key], ctx);
  }
  return root;
}

function addValue(node: FieldSet, value: unknown, path: string[], ctx: SchemaContext): void {
  if (isObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== null && value[k] !== undefined);
    if (keys.length === 0 || isMapField(ctx, path)) node.self = true;
    for (const k of keys) addValue(node.child(`f:${k}`), value[k], [...path, k], ctx);
    return;
  }
  if (Array.isArray(value)) {
    const lk = listKind(ctx, path);
    if (lk.type === 'map' && listKeysUsable(value, lk.keys)) {
      if (value.length === 0) node.self = true;
      for (const item of value) {
        const itemNode = node.child(itemKey(item, lk.keys)!);
        itemNode.self = true;
        const obj = item as Record<string, unknown>;
        for (const k of Object.keys(obj)) {
          if (obj[k] === null || obj[k] === undefined) continue;
          addValue(itemNode.child(`f:${k}`), obj[k], [...path, k], ctx);
        }
      }
      return;
    }
    if (lk.type === 'set' && value.every((v) => v === null || typeof v !== 'object')) {
      node.self = true;
      for (const item of value) node.child(`v:${JSON.stringify(item)}`).self = true;
      return;
    }
    node.self = true; // atomic
    return;
  }
  node.self = true;
}

/** Navigates one path element from a value; undefined when absent. */
function step(value: unknown, pe: string, ctx: SchemaContext, fieldPath: string[]): unknown {
  if (pe.startsWith('f:')) {
    return isObject(value) ? value[pe.slice(2)] : undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (pe.startsWith('k:')) {
    const lk = listKind(ctx, fieldPath);
    if (lk.type !== 'map') return undefined;
    return value.find((item) => itemKey(item, lk.keys) === pe);
  }
  if (pe.startsWith('v:')) {
    const want = pe.slice(2);
    return value.find((item) => JSON.stringify(item) === want);
  }
  return undefined;
}

/** The value at a field-set path, and whether it exists. */
export function valueAtPath(obj: unknown, path: readonly string[], ctx: SchemaContext): { exists: boolean; value: unknown } {
  let cur: unknown = obj;
  const fieldPath: string[] = [];
  for (const pe of path) {
    cur = step(cur, pe, ctx, fieldPath);
    if (cur === undefined || cur === null) return { exists: false, value: undefined };
    if (pe.startsWith('f:')) fieldPath.push(pe.slice(2));
  }
  return { exists: true, value: cur };
}

/** Renders a field-set path the way the real server prints conflicts: `.spec.containers[name="x"].image`. */
export function formatPath(path: readonly string[]): string {
  let out = '';
  for (const pe of path) {
    if (pe.startsWith('f:')) out += `.${pe.slice(2)}`;
    else if (pe.startsWith('k:')) {
      const key = JSON.parse(pe.slice(2)) as Record<string, unknown>;
      out += `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    } else if (pe.startsWith('v:')) out += `[=${pe.slice(2)}]`;
  }
  return out;
}

/**
 * Members of `set` whose value differs between `before` and `after` (leaves by value, inner members
 * by existence). Used for ownership on non-apply writes and for apply conflicts.
 */
export function changedMembers(set: FieldSet, before: unknown, after: unknown, ctx: SchemaContext): FieldSet {
  const out = new FieldSet();
  const walk = (s: FieldSet, b: unknown, a: unknown, o: FieldSet, fieldPath: string[]): void => {
    if (s.self) {
      const bExists = b !== undefined && b !== null;
      const aExists = a !== undefined && a !== null;
      if (bExists !== aExists) o.self = true;
      else if (s.children.size === 0 && !jsonEqual(b, a)) o.self = true;
    }
    for (const [pe, c] of s.children) {
      const fp = pe.startsWith('f:') ? [...fieldPath, pe.slice(2)] : fieldPath;
      const bv = b === undefined || b === null ? undefined : step(b, pe, ctx, fieldPath);
      const av = a === undefined || a === null ? undefined : step(a, pe, ctx, fieldPath);
      if (bv === undefined && av === undefined) continue;
      const oc = new FieldSet();
      walk(c, bv, av, oc, fp);
      if (!oc.isEmpty()) o.children.set(pe, oc);
    }
  };
  walk(set, before, after, out, []);
  return out;
}

/**
 * Merges an applied configuration into a live object (a new object; inputs are not changed):
 * maps merge recursively, associative lists merge by key, everything else is replaced.
 */
export function mergeApplied(live: unknown, applied: unknown, ctx: SchemaContext, path: string[] = []): unknown {
  if (applied === null || applied === undefined) return live;
  if (isObject(applied)) {
    if (!isObject(live)) return stripNulls(applied);
    const out: Record<string, unknown> = { ...live };
    for (const k of Object.keys(applied)) {
      const av = applied[k];
      if (av === null || av === undefined) continue;
      out[k] = mergeApplied(live[k], av, ctx, [...path, k]);
    }
    return out;
  }
  if (Array.isArray(applied)) {
    const lk = listKind(ctx, path);
    if (lk.type === 'map' && Array.isArray(live) && listKeysUsable(applied, lk.keys) && listKeysUsable(live, lk.keys)) {
      const byKey = new Map<string, unknown>();
      for (const item of applied) byKey.set(itemKey(item, lk.keys)!, item);
      const out: unknown[] = [];
      for (const item of live) {
        const k = itemKey(item, lk.keys)!;
        if (byKey.has(k)) {
          out.push(mergeApplied(item, byKey.get(k), ctx, path));
          byKey.delete(k);
        } else out.push(item);
      }
      for (const item of byKey.values()) out.push(stripNulls(item));
      return out;
    }
    if (lk.type === 'set' && Array.isArray(live)) {
      const out = [...live];
      for (const item of applied) if (!out.some((x) => jsonEqual(x, item))) out.push(item);
      return out;
    }
    return applied.map(stripNulls);
  }
  return applied;
}

function stripNulls(v: unknown): unknown {
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = stripNulls(x);
    return out;
  }
  if (Array.isArray(v)) return v.map(stripNulls);
  return v;
}

/**
 * Returns `obj` without the members of `remove` (copy-on-write: inputs are not changed; untouched
 * subtrees are shared). List items and set values go wholesale; maps and structs go only when the
 * removal emptied them.
 */
export function removeMembers(obj: Record<string, unknown>, remove: FieldSet, ctx: SchemaContext): Record<string, unknown> {
  const walk = (container: unknown, s: FieldSet, fieldPath: string[], depth: number): unknown => {
    if (isObject(container)) {
      let out: Record<string, unknown> | undefined;
      for (const [pe, c] of s.children) {
        if (!pe.startsWith('f:')) continue;
        const key = pe.slice(2);
        const v = (out ?? container)[key];
        if (v === undefined) continue;
        let nv: unknown = v;
        if (c.children.size > 0) nv = walk(v, c, [...fieldPath, key], depth + 1);
        const wasEmpty = isEmptyContainer(v);
        const nowEmpty = isEmptyContainer(nv);
        let drop = false;
        if (c.self && c.children.size === 0) drop = true;
        else if (c.self && nowEmpty) drop = true;
        else if (!c.self && nowEmpty && !wasEmpty && depth > 0) drop = true;
        if (drop) {
          out ??= { ...container };
          delete out[key];
        } else if (nv !== v) {
          out ??= { ...container };
          out[key] = nv;
        }
      }
      return out ?? container;
    }
    if (Array.isArray(container)) {
      let out: unknown[] | undefined;
      for (const [pe, c] of s.children) {
        const arr: unknown[] = out ?? container;
        if (pe.startsWith('k:')) {
          const lk = listKind(ctx, fieldPath);
          if (lk.type !== 'map') continue;
          const idx = arr.findIndex((item) => itemKey(item, lk.keys) === pe);
          if (idx < 0) continue;
          out ??= [...container];
          if (c.self) out.splice(idx, 1);
          else out[idx] = walk(out[idx], c, fieldPath, depth + 1);
        } else if (pe.startsWith('v:')) {
          const want = pe.slice(2);
          const idx = arr.findIndex((item) => JSON.stringify(item) === want);
          if (idx >= 0 && c.self) {
            out ??= [...container];
            out.splice(idx, 1);
          }
        }
      }
      return out ?? container;
    }
    return container;
  };
  return walk(obj, remove, [], 0) as Record<string, unknown>;
}

function isEmptyContainer(v: unknown): boolean {
  if (Array.isArray(v)) return v.length === 0;
  if (isObject(v)) return Object.keys(v).length === 0;
  return false;
}

/** One managedFields entry as stored on objects. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

/** Parsed managed fields: entries with their sets, keyed by manager+operation+subresource. */
export interface Managed {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  subresource: string;
  set: FieldSet;
}

export function parseManaged(entries: unknown): Managed[] {
  if (!Array.isArray(entries)) return [];
  const out: Managed[] = [];
  for (const e of entries) {
    if (!isObject(e) || typeof e.manager !== 'string') continue;
    out.push({
      manager: e.manager,
      operation: e.operation === 'Apply' ? 'Apply' : 'Update',
      apiVersion: typeof e.apiVersion === 'string' ? e.apiVersion : '',
      time: typeof e.time === 'string' ? e.time : '',
      subresource: typeof e.subresource === 'string' ? e.subresource : '',
      set: FieldSet.fromJSON(e.fieldsV1),
    });
  }
  return out;
}

export function renderManaged(managed: Managed[]): ManagedFieldsEntry[] {
  return managed
    .filter((m) => !m.set.isEmpty())
    .map((m) => {
      const e: ManagedFieldsEntry = {
        manager: m.manager,
        operation: m.operation,
        apiVersion: m.apiVersion,
        time: m.time,
        fieldsType: 'FieldsV1',
        fieldsV1: m.set.toJSON(),
      };
      if (m.subresource) e.subresource = m.subresource;
      return e;
    });
}

export function sameEntry(m: Managed, manager: string, operation: string, subresource: string): boolean {
  return m.manager === manager && m.operation === operation && m.subresource === subresource;
}

/**
 * Ownership after a non-apply write by `manager`: it takes the fields it changed, others lose them,
 * and fields that disappeared from the object leave every set.
 */
export function updateManagedForWrite(
  managed: Managed[],
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown>,
  ctx: SchemaContext,
  scope: FieldScope,
  manager: string,
  apiVersion: string,
  subresource: string,
  now: string,
): Managed[] {
  const afterSet = fieldSetOf(after, ctx, scope);
  const changed = before ? changedMembers(afterSet, before, after, ctx) : afterSet;
  const out: Managed[] = [];
  let mine: Managed | undefined;
  for (const m of managed) {
    // entries outside this write's scope are untouched
    if ((scope === 'status') !== (m.subresource === 'status') && scope !== 'all') {
      out.push(m);
      continue;
    }
    if (sameEntry(m, manager, 'Update', subresource)) {
      mine = { ...m, apiVersion, set: m.set.union(changed).intersection(afterSet) };
      if (!changed.isEmpty()) mine.time = now;
      out.push(mine);
      continue;
    }
    const set = m.set.difference(changed).intersection(afterSet);
    out.push({ ...m, set });
  }
  if (!mine && !changed.isEmpty()) {
    out.push({ manager, operation: 'Update', apiVersion, time: now, subresource, set: changed });
  }
  return out.filter((m) => !m.set.isEmpty());
}
