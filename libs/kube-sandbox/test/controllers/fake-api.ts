/**
 * An in-memory ControllerApi for unit tests of the controllers: a map of objects with the server rules
 * the controllers rely on (uids, resourceVersion, generation on spec changes, defaulting, generateName,
 * synchronous change events, background garbage collection of dependents). Managed fields are reduced
 * to one entry per manager and operation.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { applyDefaults } from '../../src/defaults.js';
import { builtinResources } from '../../src/resources.js';
import type { ControllerApi, KubeObject, ResourceType, StoreEvent } from '../../src/types.js';

export interface FakeApi extends ControllerApi {
  /** Every object, for assertions. */
  all(): KubeObject[];
  /** Shorthand: get by apiVersion/kind. */
  find(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /** Shorthand: list by apiVersion/kind. */
  findAll(apiVersion: string, kind: string, namespace?: string): KubeObject[];
  /** A user write (create or replace), as kubectl would send it. */
  apply(object: KubeObject, manager?: string): KubeObject;
  listenerCount(): number;
}

export class FakeError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'FakeError';
  }
}

export function createFakeApi(): FakeApi {
  const resources = builtinResources();
  const objects = new Map<string, KubeObject>();
  const listeners = new Set<(event: StoreEvent) => void>();
  let rv = 0;

  const keyOf = (r: ResourceType, namespace: string | undefined, name: string): string =>
    `${r.group}/${r.plural}|${r.namespaced ? (namespace ?? '') : ''}|${name}`;
  const apiVersionOf = (r: ResourceType): string => (r.group ? `${r.group}/${r.version}` : r.version);
  const resourceFor = (apiVersion: string, kind: string): ResourceType | undefined =>
    resources.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
  const emit = (type: StoreEvent['type'], resource: ResourceType, object: KubeObject): void => {
    for (const l of [...listeners]) l({ type, resource, object: structuredClone(object) });
  };
  const track = (object: KubeObject, manager: string, operation: string): void => {
    const fields = (object.metadata.managedFields ?? []) as { manager: string; operation: string }[];
    if (!fields.some((f) => f.manager === manager && f.operation === operation)) fields.push({ manager, operation });
    object.metadata.managedFields = fields;
  };

  const api: FakeApi = {
    resourceFor,
    get(resource, namespace, name) {
      const o = objects.get(keyOf(resource, namespace, name));
      return o ? structuredClone(o) : undefined;
    },
    list(resource, namespace) {
      const prefix = `${resource.group}/${resource.plural}|`;
      return [...objects.entries()]
        .filter(([k, o]) => k.startsWith(prefix) && (namespace === undefined || o.metadata.namespace === namespace))
        .map(([, o]) => structuredClone(o));
    },
    create(resource, object, manager) {
      const o = structuredClone(object);
      o.apiVersion = apiVersionOf(resource);
      o.kind = resource.kind;
      if (!o.metadata.name && o.metadata.generateName) o.metadata.name = `${o.metadata.generateName}${randomUUID().slice(0, 5)}`;
      if (!o.metadata.name) throw new FakeError(422, 'name or generateName is required');
      const key = keyOf(resource, o.metadata.namespace, o.metadata.name);
      if (objects.has(key)) throw new FakeError(409, `${resource.plural} "${o.metadata.name}" already exists`);
      o.metadata.uid = randomUUID();
      o.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      o.metadata.generation = 1;
      o.metadata.resourceVersion = String(++rv);
      if (resource.subresources.status) delete o['status'];
      applyDefaults(resource, o);
      track(o, manager, 'Update');
      objects.set(key, o);
      emit('ADDED', resource, o);
      return structuredClone(o);
    },
    update(resource, object, manager) {
      const key = keyOf(resource, object.metadata.namespace, object.metadata.name ?? '');
      const old = objects.get(key);
      if (!old) throw new FakeError(404, `${resource.plural} "${object.metadata.name}" not found`);
      if (object.metadata.resourceVersion && object.metadata.resourceVersion !== old.metadata.resourceVersion) {
        throw new FakeError(409, 'the object has been modified');
      }
      const o = structuredClone(object);
      o.apiVersion = old.apiVersion;
      o.kind = old.kind;
      o.metadata.uid = old.metadata.uid;
      o.metadata.creationTimestamp = old.metadata.creationTimestamp;
      o.metadata.managedFields = structuredClone(old.metadata.managedFields);
      if (resource.subresources.status) o['status'] = structuredClone(old['status']);
      applyDefaults(resource, o);
      o.metadata.generation = (old.metadata.generation ?? 1) + (isDeepStrictEqual(o['spec'], old['spec']) ? 0 : 1);
      if (isDeepStrictEqual(o, { ...old, metadata: { ...old.metadata } })) return structuredClone(old);
      o.metadata.resourceVersion = String(++rv);
      track(o, manager, 'Update');
      objects.set(key, o);
      emit('MODIFIED', resource, o);
      return structuredClone(o);
    },
    updateStatus(resource, namespace, name, mutate) {
      const key = keyOf(resource, namespace, name);
      const old = objects.get(key);
      if (!old) return undefined;
      const status = mutate(structuredClone(old));
      if (status === undefined) return structuredClone(old);
      const o = structuredClone(old);
      o['status'] = status;
      o.metadata.resourceVersion = String(++rv);
      objects.set(key, o);
      emit('MODIFIED', resource, o);
      return structuredClone(o);
    },
    delete(resource, namespace, name) {
      const key = keyOf(resource, namespace, name);
      const old = objects.get(key);
      if (!old) return;
      objects.delete(key);
      emit('DELETED', resource, old);
      // Background garbage collection of dependents.
      for (const [k, o] of [...objects.entries()]) {
        if (!o.metadata.ownerReferences?.some((ref) => ref.uid === old.metadata.uid)) continue;
        const r = resourceFor(o.apiVersion, o.kind);
        if (r && objects.has(k)) api.delete(r, o.metadata.namespace, o.metadata.name ?? '');
      }
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    all: () => [...objects.values()].map((o) => structuredClone(o)),
    find(apiVersion, kind, namespace, name) {
      const r = resourceFor(apiVersion, kind);
      return r ? api.get(r, namespace, name) : undefined;
    },
    findAll(apiVersion, kind, namespace) {
      const r = resourceFor(apiVersion, kind);
      return r ? api.list(r, namespace) : [];
    },
    apply(object, manager = 'kubectl') {
      const r = resourceFor(object.apiVersion, object.kind);
      if (!r) throw new FakeError(404, `no resource for ${object.apiVersion} ${object.kind}`);
      const existing = api.get(r, object.metadata.namespace, object.metadata.name ?? '');
      if (!existing) return api.create(r, object, manager);
      const merged: KubeObject = { ...existing, ...structuredClone(object), metadata: { ...existing.metadata, ...object.metadata } };
      delete merged.metadata.resourceVersion;
      return api.update(r, merged, manager);
    },
    listenerCount: () => listeners.size,
  };
  return api;
}

/** Polls `probe` until it returns a truthy value (returned), or fails after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | null, timeoutMs = 4000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The condition of a type in an object's status. */
export function condition(object: KubeObject | undefined, type: string): Record<string, unknown> | undefined {
  const conditions = ((object?.['status'] as Record<string, unknown> | undefined)?.['conditions'] ?? []) as Record<string, unknown>[];
  return conditions.find((c) => c['type'] === type);
}

export function statusOf(object: KubeObject | undefined): Record<string, unknown> {
  return (object?.['status'] ?? {}) as Record<string, unknown>;
}

export function specOf(object: KubeObject | undefined): Record<string, unknown> {
  return (object?.['spec'] ?? {}) as Record<string, unknown>;
}
