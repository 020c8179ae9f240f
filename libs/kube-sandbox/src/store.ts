/**
 * The object store: one map per resource storage, a single resourceVersion counter, a
 * resourceVersion-ordered ring buffer of events (watch history), watchers and change listeners.
 * Stored objects are never mutated after commit; readers serialise them directly.
 */
import type { KubeObject, ResourceType, StoreEventType } from './types.js';
import { storageKey } from './resources.js';

export interface Entry {
  obj: KubeObject;
  rv: number;
  json: string | undefined;
}

export function entryJson(e: { obj: KubeObject; json: string | undefined }): string {
  if (e.json === undefined) e.json = JSON.stringify(e.obj);
  return e.json;
}

export interface HistoryEvent {
  rv: number;
  type: StoreEventType;
  skey: string;
  resource: ResourceType;
  /** The object after the change (for DELETED, the last state with the deletion's resourceVersion). */
  entry: { obj: KubeObject; json: string | undefined };
  /** The previous state (MODIFIED only), for selector transitions. */
  prev: KubeObject | undefined;
}

/** A watch on one storage; `deliver` receives events in resourceVersion order. */
export interface StoreWatcher {
  skey: string;
  deliver(event: HistoryEvent): void;
}

export interface StoreChange {
  event: HistoryEvent;
}

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Index of the first key >= `key` in a sorted array. */
export function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class Bucket {
  readonly map = new Map<string, Entry>();
  private sorted: string[] | undefined;

  keys(): string[] {
    if (!this.sorted) this.sorted = [...this.map.keys()].sort();
    return this.sorted;
  }
  set(key: string, e: Entry): void {
    if (!this.map.has(key)) this.sorted = undefined;
    this.map.set(key, e);
  }
  delete(key: string): void {
    if (this.map.delete(key)) this.sorted = undefined;
  }
}

export class Store {
  private rv: number;
  private readonly buckets = new Map<string, Bucket>();
  private readonly byUid = new Map<string, { skey: string; key: string }>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly ring: (HistoryEvent | undefined)[];
  private ringNext = 0;
  private ringCount = 0;
  /** Watch history is complete for versions strictly greater than this. */
  private historyFloor: number;
  private readonly watchers = new Map<string, Set<StoreWatcher>>();
  private readonly listeners = new Set<(event: HistoryEvent) => void>();

  constructor(historySize: number, initialRv = 0) {
    this.ring = new Array<HistoryEvent | undefined>(Math.max(16, historySize));
    this.rv = initialRv;
    this.historyFloor = initialRv;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  get oldestResourceVersion(): number {
    return this.historyFloor;
  }

  bucket(skey: string): Bucket {
    let b = this.buckets.get(skey);
    if (!b) {
      b = new Bucket();
      this.buckets.set(skey, b);
    }
    return b;
  }

  get(r: ResourceType, namespace: string | undefined, name: string): Entry | undefined {
    return this.buckets.get(storageKey(r))?.map.get(objectKey(r.namespaced ? namespace : undefined, name));
  }

  /** Entries in key order (namespace/name); `namespace` filters namespaced resources. */
  list(r: ResourceType, namespace?: string): Entry[] {
    const b = this.buckets.get(storageKey(r));
    if (!b) return [];
    const out: Entry[] = [];
    const keys = b.keys();
    if (namespace && r.namespaced) {
      const prefix = `${namespace}/`;
      for (let i = lowerBound(keys, prefix); i < keys.length && keys[i]!.startsWith(prefix); i++) out.push(b.map.get(keys[i]!)!);
    } else for (const k of keys) out.push(b.map.get(k)!);
    return out;
  }

  /** Sorted keys of a storage, to page through with limit/continue. */
  keys(r: ResourceType): string[] {
    return this.buckets.get(storageKey(r))?.keys() ?? [];
  }

  entryByKey(r: ResourceType, key: string): Entry | undefined {
    return this.buckets.get(storageKey(r))?.map.get(key);
  }

  countIn(skey: string): number {
    return this.buckets.get(skey)?.map.size ?? 0;
  }

  byUidLookup(uid: string): { skey: string; key: string; entry: Entry } | undefined {
    const loc = this.byUid.get(uid);
    if (!loc) return undefined;
    const entry = this.buckets.get(loc.skey)?.map.get(loc.key);
    return entry ? { ...loc, entry } : undefined;
  }

  dependentsOf(uid: string): string[] {
    return [...(this.dependents.get(uid) ?? [])];
  }

  /** Every entry in a namespace across all storages. */
  inNamespace(namespace: string): { skey: string; entry: Entry }[] {
    const out: { skey: string; entry: Entry }[] = [];
    const prefix = `${namespace}/`;
    for (const [skey, b] of this.buckets) for (const [k, e] of b.map) if (k.startsWith(prefix)) out.push({ skey, entry: e });
    return out;
  }

  allEntries(): { skey: string; entry: Entry }[] {
    const out: { skey: string; entry: Entry }[] = [];
    for (const [skey, b] of this.buckets) for (const e of b.map.values()) out.push({ skey, entry: e });
    return out;
  }

  /** Stores `obj` (which becomes owned by the store) with the next resourceVersion. */
  put(r: ResourceType, obj: KubeObject): Entry {
    const skey = storageKey(r);
    const b = this.bucket(skey);
    const key = objectKey(r.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name!);
    const prev = b.map.get(key);
    const rv = ++this.rv;
    obj.metadata.resourceVersion = String(rv);
    const entry: Entry = { obj, rv, json: undefined };
    b.set(key, entry);
    this.index(prev?.obj, obj, skey, key);
    this.emit({ rv, type: prev ? 'MODIFIED' : 'ADDED', skey, resource: r, entry, prev: prev?.obj });
    return entry;
  }

  /** Loads an object from persisted state: no event, no new resourceVersion. */
  load(r: ResourceType, obj: KubeObject): void {
    const skey = storageKey(r);
    const key = objectKey(r.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name!);
    const rv = Number(obj.metadata.resourceVersion ?? 0);
    this.bucket(skey).set(key, { obj, rv, json: undefined });
    this.index(undefined, obj, skey, key);
  }

  /** Removes an object; the DELETED event carries it with a new resourceVersion. */
  remove(r: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const skey = storageKey(r);
    const b = this.buckets.get(skey);
    const key = objectKey(r.namespaced ? namespace : undefined, name);
    const prev = b?.map.get(key);
    if (!b || !prev) return undefined;
    b.delete(key);
    this.index(prev.obj, undefined, skey, key);
    const rv = ++this.rv;
    const obj: KubeObject = { ...prev.obj, metadata: { ...prev.obj.metadata, resourceVersion: String(rv) } };
    this.emit({ rv, type: 'DELETED', skey, resource: r, entry: { obj, json: undefined }, prev: undefined });
    return obj;
  }

  /** Drops a whole storage (CRD deleted), emitting DELETED for each object. */
  dropStorage(r: ResourceType): void {
    const b = this.buckets.get(storageKey(r));
    if (!b) return;
    for (const e of [...b.map.values()]) this.remove(r, e.obj.metadata.namespace, e.obj.metadata.name!);
    this.buckets.delete(storageKey(r));
  }

  private index(prev: KubeObject | undefined, next: KubeObject | undefined, skey: string, key: string): void {
    const prevUid = prev?.metadata.uid;
    const nextUid = next?.metadata.uid;
    if (prevUid && prevUid !== nextUid) this.byUid.delete(prevUid);
    if (nextUid) this.byUid.set(nextUid, { skey, key });
    const prevOwners = new Set((prev?.metadata.ownerReferences ?? []).map((o) => o.uid));
    const nextOwners = new Set((next?.metadata.ownerReferences ?? []).map((o) => o.uid));
    const uid = (nextUid ?? prevUid)!;
    if (!uid) return;
    for (const o of prevOwners) {
      if (nextOwners.has(o) && prevUid === nextUid) continue;
      const s = this.dependents.get(o);
      if (s) {
        s.delete(prevUid!);
        if (s.size === 0) this.dependents.delete(o);
      }
    }
    if (nextUid)
      for (const o of nextOwners) {
        let s = this.dependents.get(o);
        if (!s) {
          s = new Set();
          this.dependents.set(o, s);
        }
        s.add(nextUid);
      }
  }

  private emit(event: HistoryEvent): void {
    if (this.ringCount === this.ring.length) {
      const dropped = this.ring[this.ringNext]!;
      this.historyFloor = dropped.rv;
    } else this.ringCount++;
    this.ring[this.ringNext] = event;
    this.ringNext = (this.ringNext + 1) % this.ring.length;
    const ws = this.watchers.get(event.skey);
    if (ws) for (const w of [...ws]) w.deliver(event);
    for (const l of [...this.listeners]) l(event);
  }

  /** Events of one storage after `rv`, oldest first; undefined when history no longer reaches back that far. */
  eventsSince(skey: string, rv: number): HistoryEvent[] | undefined {
    if (rv < this.historyFloor) return undefined;
    const out: HistoryEvent[] = [];
    const start = (this.ringNext - this.ringCount + this.ring.length) % this.ring.length;
    for (let i = 0; i < this.ringCount; i++) {
      const e = this.ring[(start + i) % this.ring.length]!;
      if (e.rv > rv && e.skey === skey) out.push(e);
    }
    return out;
  }

  addWatcher(w: StoreWatcher): () => void {
    let s = this.watchers.get(w.skey);
    if (!s) {
      s = new Set();
      this.watchers.set(w.skey, s);
    }
    s.add(w);
    return () => {
      s.delete(w);
    };
  }

  watcherCount(): number {
    let n = 0;
    for (const s of this.watchers.values()) n += s.size;
    return n;
  }

  allWatchers(): StoreWatcher[] {
    const out: StoreWatcher[] = [];
    for (const s of this.watchers.values()) out.push(...s);
    return out;
  }

  onChange(listener: (event: HistoryEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
