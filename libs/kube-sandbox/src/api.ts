/**
 * The API server's semantics, independent of HTTP: create, update, patch, server-side apply,
 * delete (finalizers, propagation, garbage collection, namespace termination), scale, CRDs.
 * Every write works on a private copy and commits atomically to the store, or throws a StatusError.
 */
import { randomUUID, randomInt } from 'node:crypto';
import type { KubeObject, ResourceType } from './types.js';
import { Store, type Entry } from './store.js';
import { ResourceRegistry, apiVersionOf, splitApiVersion, storageKey, CRD_GROUP } from './resources.js';
import { StatusError, StatusReason, alreadyExists, badRequest, conflict, invalid, notFound, unsupportedMediaType } from './status-error.js';
import {
  changedMembers,
  fieldSetOf,
  formatPath,
  jsonEqual,
  mergeApplied,
  parseManaged,
  removeMembers,
  renderManaged,
  sameEntry,
  updateManagedForWrite,
  FieldSet,
  type FieldScope,
  type Managed,
} from './fieldset.js';
import { customListKinds, type SchemaContext, type ListKind } from './schema.js';
import { PatchError, jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { validateObject } from './validate.js';
import { fromLabelSelectorObject, formatLabelSelector } from './selectors.js';
import { applyDefaults } from './defaults.js';
import { pruneAndDefault, validateCustom } from './crd-schema.js';

export type Subresource = '' | 'status' | 'scale';

export const PatchType = {
  Merge: 'application/merge-patch+json',
  Json: 'application/json-patch+json',
  Strategic: 'application/strategic-merge-patch+json',
  Apply: 'application/apply-patch+yaml',
} as const;
export type PatchType = (typeof PatchType)[keyof typeof PatchType];

export const PropagationPolicy = { Background: 'Background', Foreground: 'Foreground', Orphan: 'Orphan' } as const;
export type PropagationPolicy = (typeof PropagationPolicy)[keyof typeof PropagationPolicy];

/** Per-request write options (query parameters of a real server). */
export interface WriteOptions {
  dryRun?: boolean;
  /** fieldManager; required for apply. */
  fieldManager?: string;
  /** Manager name when none was given (a real server derives it from the User-Agent). */
  defaultManager?: string;
  force?: boolean;
  /** fieldValidation: Strict rejects fields a custom resource's schema does not declare; otherwise they are pruned. */
  fieldValidation?: string;
}

export interface DeleteOptions {
  dryRun?: boolean;
  propagationPolicy?: PropagationPolicy;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ApiServerOptions {
  /** Events kept for watches that resume from a resourceVersion. */
  historySize: number;
  /** Called after every change (persistence). */
  onDirty?: () => void;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nowIso(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const GENERATION_GROUPS = new Set(['apps', 'batch', 'autoscaling', 'policy', 'networking.k8s.io', CRD_GROUP]);
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const SERVER_META = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'generation',
  'managedFields',
  'selfLink',
];

export interface ScaleInfo {
  specReplicasPath: string[];
  statusReplicasPath: string[];
  labelSelectorPath: string[] | undefined;
}

export class ApiServer {
  readonly registry = new ResourceRegistry();
  readonly store: Store;
  private readonly onDirty: (() => void) | undefined;
  private readonly crdSchemas = new Map<string, (path: readonly string[]) => ListKind | undefined>();
  private readonly crdScale = new Map<string, ScaleInfo>();
  private readonly crdPrinterColumns = new Map<string, unknown>();
  private readonly crdOpenApi = new Map<string, Record<string, unknown> | undefined>();
  private readonly gcUids = new Set<string>();
  private readonly terminating = new Set<string>();
  private gcScheduled = false;
  private closed = false;

  constructor(options: ApiServerOptions, initialRv = 0) {
    this.store = new Store(options.historySize, initialRv);
    this.onDirty = options.onDirty;
  }

  close(): void {
    this.closed = true;
  }

  // ------------------------------------------------------------------------------------------------
  // helpers

  namespaceResource(): ResourceType {
    return this.registry.byGroupVersionPlural('', 'v1', 'namespaces')!;
  }

  isCustom(r: ResourceType): boolean {
    return this.registry.isCustom(r);
  }

  schemaContext(r: ResourceType): SchemaContext {
    const custom = this.isCustom(r);
    if (!custom) return { kind: r.kind, builtin: true };
    const lk = this.crdSchemas.get(`${storageKey(r)}/${r.version}`);
    return lk ? { kind: r.kind, builtin: false, custom: lk } : { kind: r.kind, builtin: false };
  }

  private scope(r: ResourceType, sub: Subresource): FieldScope {
    if (sub === 'status') return 'status';
    return r.subresources.status ? 'main' : 'all';
  }

  private hasGeneration(r: ResourceType): boolean {
    return GENERATION_GROUPS.has(r.group) || this.isCustom(r);
  }

  /** The object as served at resource `r`'s version (custom resources share storage across versions). */
  asVersion(obj: KubeObject, r: ResourceType): KubeObject {
    const av = apiVersionOf(r);
    return obj.apiVersion === av ? obj : { ...obj, apiVersion: av };
  }

  private checkNamespace(r: ResourceType, namespace: string | undefined, creating: boolean): void {
    if (!r.namespaced) return;
    if (!namespace) throw badRequest('a namespace is required for a namespaced resource');
    const ns = this.store.get(this.namespaceResource(), undefined, namespace);
    if (!ns) throw notFound('', 'namespaces', namespace);
    if (creating && ns.obj.metadata.deletionTimestamp)
      throw new StatusError(
        403,
        StatusReason.Forbidden,
        `${r.plural}${r.group ? '.' + r.group : ''} "${''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        { kind: r.plural, ...(r.group ? { group: r.group } : {}) },
      );
  }

  /** Checks apiVersion/kind/namespace of a request body against the URL and returns it typed. */
  private checkBody(r: ResourceType, body: unknown, namespace: string | undefined, name: string | undefined): KubeObject {
    if (!isObj(body)) throw badRequest('the request body must be a JSON or YAML object');
    // typed clients may leave apiVersion/kind out: the endpoint defines them, as on a real server
    if (body.kind === undefined || body.kind === '') body.kind = r.kind;
    if (body.apiVersion === undefined || body.apiVersion === '') body.apiVersion = apiVersionOf(r);
    const kind = body.kind;
    const apiVersion = body.apiVersion;
    if (typeof kind !== 'string') throw badRequest("Object 'Kind' is missing in the request body");
    if (typeof apiVersion !== 'string') throw badRequest("Object 'apiVersion' is missing in the request body");
    const { group } = splitApiVersion(apiVersion);
    if (kind !== r.kind || group !== r.group)
      throw badRequest(
        `the API version in the data (${apiVersion}) does not match the expected API version (${apiVersionOf(r)}) or kind ${kind} is not ${r.kind}`,
      );
    const meta = isObj(body.metadata) ? body.metadata : {};
    body.metadata = meta;
    if (r.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && namespace !== undefined && meta.namespace !== namespace)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      if (namespace !== undefined) meta.namespace = namespace;
    } else delete meta.namespace;
    if (name !== undefined && meta.name !== undefined && meta.name !== name)
      throw badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
    if (name !== undefined && meta.name === undefined) meta.name = name;
    body.apiVersion = apiVersionOf(r);
    return body as KubeObject;
  }

  private mustGet(r: ResourceType, namespace: string | undefined, name: string): Entry {
    if (r.namespaced && namespace === undefined) throw badRequest('a namespace is required for a namespaced resource');
    const e = this.store.get(r, namespace, name);
    if (!e) throw notFound(r.group, r.plural, name);
    return e;
  }

  private specChanged(r: ResourceType, a: KubeObject, b: KubeObject): boolean {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      if (k === 'metadata' || k === 'apiVersion' || k === 'kind') continue;
      if (k === 'status' && (r.subresources.status || !this.isCustom(r))) continue;
      if (!jsonEqual(a[k], b[k])) return true;
    }
    return false;
  }

  // ------------------------------------------------------------------------------------------------
  // reads

  get(r: ResourceType, namespace: string | undefined, name: string): KubeObject {
    return this.mustGet(r, namespace, name).obj;
  }

  // ------------------------------------------------------------------------------------------------
  // create

  create(r: ResourceType, namespace: string | undefined, body: unknown, opts: WriteOptions): KubeObject {
    const obj = this.checkBody(r, body, namespace, undefined);
    const meta = obj.metadata;
    for (const k of SERVER_META) delete meta[k];
    if ((meta.name === undefined || meta.name === '') && typeof meta.generateName === 'string' && meta.generateName !== '') {
      let suffix = '';
      for (let i = 0; i < 5; i++) suffix += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)];
      meta.name = meta.generateName + suffix;
    }
    if (typeof meta.name !== 'string' || meta.name === '')
      throw invalid(r.group, r.kind, '', [
        { reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' },
      ]);
    this.checkNamespace(r, meta.namespace, true);
    if (this.store.get(r, meta.namespace, meta.name)) throw alreadyExists(r.group, r.plural, meta.name);
    if (r.subresources.status) delete obj.status;
    if (r.group === '' && r.kind === 'Namespace') obj.status = { phase: 'Active' };
    // system fields first: defaulting may need the uid (a Job's generated selector)
    meta.uid = randomUUID();
    meta.creationTimestamp = nowIso();
    this.customSchema(r, obj, opts, true);
    applyDefaults(r, obj);
    const causes = validateObject(r, obj, undefined);
    if (causes.length > 0) throw invalid(r.group, r.kind, meta.name, causes);
    if (this.hasGeneration(r)) meta.generation = 1;
    const manager = opts.fieldManager ?? opts.defaultManager ?? 'unknown';
    const managed = updateManagedForWrite(
      [],
      undefined,
      obj,
      this.schemaContext(r),
      this.scope(r, ''),
      manager,
      apiVersionOf(r),
      '',
      nowIso(),
    );
    this.setManaged(obj, managed);
    if (opts.dryRun) return obj;
    const entry = this.store.put(r, obj);
    this.afterCommit(r, undefined, entry.obj);
    return entry.obj;
  }

  private setManaged(obj: KubeObject, managed: Managed[]): void {
    const rendered = renderManaged(managed);
    if (rendered.length > 0) obj.metadata.managedFields = rendered;
    else delete obj.metadata.managedFields;
  }

  // ------------------------------------------------------------------------------------------------
  // update / patch

  /** PUT of the object (sub '') or of its status. `body.metadata.resourceVersion`, when set, must match. */
  update(r: ResourceType, namespace: string | undefined, name: string, body: unknown, sub: Subresource, opts: WriteOptions): KubeObject {
    const old = this.mustGet(r, namespace, name);
    const incoming = this.checkBody(r, body, namespace, name);
    const rv = incoming.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== old.obj.metadata.resourceVersion)
      throw conflict(
        r.group,
        r.plural,
        name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    return this.commitWrite(r, old, incoming, sub, opts);
  }

  patch(
    r: ResourceType,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patchBody: unknown,
    sub: Subresource,
    opts: WriteOptions,
  ): KubeObject {
    if (type === PatchType.Apply) return this.apply(r, namespace, name, patchBody, sub, opts).object;
    const old = this.mustGet(r, namespace, name);
    const current = this.asVersion(old.obj, r);
    let patched: unknown;
    try {
      if (type === PatchType.Merge) patched = mergePatch(current, patchBody);
      else if (type === PatchType.Json) patched = jsonPatch(current, patchBody);
      else if (type === PatchType.Strategic) {
        if (this.isCustom(r)) throw unsupportedMediaType(type);
        patched = strategicMergePatch(current, patchBody, this.schemaContext(r));
      } else throw unsupportedMediaType(type);
    } catch (err) {
      if (err instanceof PatchError) {
        if (err.unprocessable)
          throw new StatusError(
            422,
            StatusReason.Invalid,
            `the server rejected our request due to an error in our request: ${err.message}`,
          );
        throw badRequest(err.message);
      }
      throw err;
    }
    if (!isObj(patched)) throw badRequest('the patch did not produce an object');
    const incoming = this.checkBody(r, patched, namespace, name);
    const rv = incoming.metadata.resourceVersion;
    if (rv !== undefined && rv !== old.obj.metadata.resourceVersion)
      throw conflict(
        r.group,
        r.plural,
        name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    return this.commitWrite(r, old, incoming, sub, opts);
  }

  /** Builds the new object for a non-apply write and commits it. */
  private commitWrite(
    r: ResourceType,
    old: Entry,
    incoming: KubeObject,
    sub: Subresource,
    opts: WriteOptions,
    managedOverride?: Managed[],
  ): KubeObject {
    const prev = old.obj;
    let next: KubeObject;
    // a private deep copy: patches share untouched subtrees with the stored object, and defaulting
    // and schema pruning mutate in place
    if (sub === 'status') {
      next = { ...prev, metadata: { ...prev.metadata } };
      if (incoming.status === undefined) delete next.status;
      else next.status = incoming.status;
      next = structuredClone(next);
    } else {
      next = structuredClone({ ...incoming, apiVersion: prev.apiVersion });
      const meta = { ...next.metadata };
      for (const k of [
        'uid',
        'creationTimestamp',
        'deletionTimestamp',
        'deletionGracePeriodSeconds',
        'generation',
        'name',
        'namespace',
        'selfLink',
      ])
        if (prev.metadata[k] === undefined) delete meta[k];
        else meta[k] = prev.metadata[k];
      if (prev.metadata.deletionTimestamp) {
        // finalizers may only be removed once deletion started
        const was = new Set(prev.metadata.finalizers ?? []);
        const fins = (meta.finalizers ?? []).filter((f) => was.has(f));
        if (fins.length > 0) meta.finalizers = fins;
        else delete meta.finalizers;
      }
      next.metadata = meta;
      if (r.subresources.status) {
        if (prev.status === undefined) delete next.status;
        else next.status = structuredClone(prev.status);
      }
      this.customSchema(r, next, opts, true);
      applyDefaults(r, next);
      const causes = validateObject(r, next, prev);
      if (causes.length > 0) throw invalid(r.group, r.kind, prev.metadata.name ?? '', causes);
      if (this.hasGeneration(r) && this.specChanged(r, prev, next)) next.metadata.generation = (prev.metadata.generation ?? 0) + 1;
    }
    if (sub === 'status') this.customSchema(r, next, opts, true);
    const manager = opts.fieldManager ?? opts.defaultManager ?? 'unknown';
    // As on a real server, managedFields sent with a write replace the recorded ones (kubectl's
    // client-side-apply to server-side-apply migration patches them); empty or absent keeps them.
    const sent = sub === '' ? parseManaged(incoming.metadata.managedFields) : [];
    const baseManaged = sent.length > 0 && sent.every((m) => m.manager !== '') ? sent : parseManaged(prev.metadata.managedFields);
    const managed =
      managedOverride ??
      updateManagedForWrite(baseManaged, prev, next, this.schemaContext(r), this.scope(r, sub), manager, apiVersionOf(r), sub, nowIso());
    this.setManaged(next, managed);
    return this.commit(r, old, next, opts);
  }

  /** Stores `next` over `old` unless nothing changed; completes deletion when the last finalizer went. */
  private commit(r: ResourceType, old: Entry, next: KubeObject, opts: { dryRun?: boolean }): KubeObject {
    next.metadata.resourceVersion = old.obj.metadata.resourceVersion;
    if (jsonEqual(next, old.obj)) return old.obj;
    if (opts.dryRun) return next;
    if (next.metadata.deletionTimestamp && !this.pendingDeletion(next)) {
      const gone = this.store.remove(r, next.metadata.namespace, next.metadata.name!);
      if (gone) this.afterDelete(r, gone);
      return gone ?? next;
    }
    const entry = this.store.put(r, next);
    this.afterCommit(r, old.obj, entry.obj);
    return entry.obj;
  }

  private pendingDeletion(obj: KubeObject): boolean {
    if ((obj.metadata.finalizers ?? []).length > 0) return true;
    if (obj.kind === 'Namespace' && obj.apiVersion === 'v1') {
      const spec = obj.spec;
      if (isObj(spec) && Array.isArray(spec.finalizers) && spec.finalizers.length > 0) return true;
    }
    return false;
  }

  // ------------------------------------------------------------------------------------------------
  // server-side apply

  apply(
    r: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    sub: Subresource,
    opts: WriteOptions,
  ): { object: KubeObject; created: boolean } {
    if (sub === 'scale') throw new StatusError(415, StatusReason.UnsupportedMediaType, 'apply is not supported on the scale subresource');
    const manager = opts.fieldManager;
    if (!manager)
      throw badRequest('PATCH requests with apply content type must include a fieldManager: fieldManager is required for apply requests');
    if (isObj(body) && isObj(body.metadata) && Array.isArray(body.metadata.managedFields) && body.metadata.managedFields.length > 0)
      throw badRequest('metadata.managedFields must be nil');
    const applied = this.checkBody(r, body, namespace, name);
    const ctx = this.schemaContext(r);
    const scope = this.scope(r, sub);
    const liveEntry = this.store.get(r, namespace, name);
    if (!liveEntry) {
      if (sub === 'status') throw notFound(r.group, r.plural, name);
      this.checkNamespace(r, namespace, true);
    }
    const rv = applied.metadata.resourceVersion;
    if (liveEntry && rv !== undefined && rv !== '' && rv !== liveEntry.obj.metadata.resourceVersion)
      throw conflict(
        r.group,
        r.plural,
        name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    // the applied configuration, restricted to what this endpoint may set
    const appliedScoped: Record<string, unknown> = { ...applied };
    const meta = { ...applied.metadata };
    for (const k of SERVER_META) delete meta[k];
    delete meta.generateName;
    appliedScoped.metadata = meta;
    if (scope === 'main') delete appliedScoped.status;
    if (scope === 'status') {
      for (const k of Object.keys(appliedScoped)) if (!['apiVersion', 'kind', 'metadata', 'status'].includes(k)) delete appliedScoped[k];
      appliedScoped.metadata = { name: meta.name, ...(meta.namespace ? { namespace: meta.namespace } : {}) };
    }
    this.customSchema(r, appliedScoped as KubeObject, opts, false);
    const appliedSet = fieldSetOf(appliedScoped, ctx, scope);
    const base: KubeObject = liveEntry
      ? this.asVersion(liveEntry.obj, r)
      : { apiVersion: apiVersionOf(r), kind: r.kind, metadata: { name, ...(r.namespaced ? { namespace } : {}) } };
    const managed = parseManaged(base.metadata.managedFields);
    let merged = mergeApplied(base, appliedScoped, ctx) as KubeObject;
    const changed = changedMembers(appliedSet, base, merged, ctx);
    const now = nowIso();
    // conflicts with other managers' fields that this apply changes
    const conflicts: { m: Managed; set: FieldSet }[] = [];
    for (const m of managed) {
      if (sameEntry(m, manager, 'Apply', sub)) continue;
      if (sub === 'status' ? m.subresource !== 'status' : m.subresource === 'status') continue;
      const c = changed.intersection(m.set);
      if (!c.isEmpty()) conflicts.push({ m, set: c });
    }
    if (conflicts.length > 0 && !opts.force) throw this.applyConflict(r, name, conflicts);
    for (const c of conflicts) c.m.set = c.m.set.difference(c.set);
    // fields this manager applied before and no longer applies go, unless someone else owns them
    const mine = managed.find((m) => sameEntry(m, manager, 'Apply', sub));
    if (mine) {
      let others = new FieldSet();
      for (const m of managed) if (m !== mine) others = others.union(m.set);
      const toRemove = mine.set.difference(appliedSet).difference(others);
      if (!toRemove.isEmpty()) merged = removeMembers(merged, toRemove, ctx) as KubeObject;
    }
    const setChanged = !mine || !jsonEqual(mine.set.toJSON(), appliedSet.toJSON());
    const entry: Managed = {
      manager,
      operation: 'Apply',
      apiVersion: apiVersionOf(r),
      time: mine && !setChanged && changed.isEmpty() ? mine.time : now,
      subresource: sub,
      set: appliedSet,
    };
    const nextManaged = mine ? managed.map((m) => (m === mine ? entry : m)) : [...managed, entry];
    if (!liveEntry) {
      const created = this.createApplied(r, merged, nextManaged, opts);
      return { object: created, created: true };
    }
    return { object: this.commitApplied(r, liveEntry, merged, sub, nextManaged, opts), created: false };
  }

  private applyConflict(r: ResourceType, name: string, conflicts: { m: Managed; set: FieldSet }[]): StatusError {
    const causes: { reason: string; message: string; field: string }[] = [];
    const lines: string[] = [];
    for (const { m, set } of conflicts) {
      const who = m.operation === 'Apply' ? `conflict with "${m.manager}"` : `conflict with "${m.manager}" using ${m.apiVersion}`;
      for (const p of set.members()) {
        causes.push({ reason: 'FieldManagerConflict', message: who, field: formatPath(p) });
        lines.push(`${who}: ${formatPath(p)}`);
      }
    }
    const message =
      causes.length === 1
        ? `Apply failed with 1 conflict: ${lines[0]}`
        : `Apply failed with ${causes.length} conflicts: ${lines.join('\n')}`;
    return new StatusError(409, StatusReason.Conflict, message, { name, ...(r.group ? { group: r.group } : {}), kind: r.plural, causes });
  }

  private createApplied(r: ResourceType, obj: KubeObject, managed: Managed[], opts: WriteOptions): KubeObject {
    const meta = obj.metadata;
    if (typeof meta.name !== 'string' || meta.name === '')
      throw invalid(r.group, r.kind, '', [
        { reason: 'FieldValueRequired', message: 'Required value: name is required', field: 'metadata.name' },
      ]);
    const next: KubeObject = structuredClone(obj);
    if (r.group === '' && r.kind === 'Namespace') next.status = { phase: 'Active' };
    next.metadata.uid = randomUUID();
    next.metadata.creationTimestamp = nowIso();
    this.customSchema(r, next, opts, true);
    applyDefaults(r, next);
    const causes = validateObject(r, next, undefined);
    if (causes.length > 0) throw invalid(r.group, r.kind, meta.name, causes);
    if (this.hasGeneration(r)) next.metadata.generation = 1;
    this.setManaged(next, managed);
    if (opts.dryRun) return next;
    const entry = this.store.put(r, next);
    this.afterCommit(r, undefined, entry.obj);
    return entry.obj;
  }

  private commitApplied(
    r: ResourceType,
    old: Entry,
    merged: KubeObject,
    sub: Subresource,
    managed: Managed[],
    opts: WriteOptions,
  ): KubeObject {
    const prev = old.obj;
    // defaulting mutates: work on a copy of the merged object (merging shares untouched subtrees)
    const next: KubeObject = structuredClone(merged);
    next.apiVersion = prev.apiVersion;
    const meta = next.metadata;
    for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'name', 'namespace'])
      if (prev.metadata[k] === undefined) delete meta[k];
      else meta[k] = prev.metadata[k];
    if (sub === 'status') {
      next.metadata = { ...prev.metadata };
      for (const k of Object.keys(next)) if (!['apiVersion', 'kind', 'metadata', 'status'].includes(k)) delete next[k];
      for (const k of Object.keys(prev)) if (!['apiVersion', 'kind', 'metadata', 'status'].includes(k)) next[k] = prev[k];
    } else {
      if (r.subresources.status) {
        if (prev.status === undefined) delete next.status;
        else next.status = structuredClone(prev.status);
      }
      this.customSchema(r, next, opts, true);
      applyDefaults(r, next);
      const causes = validateObject(r, next, prev);
      if (causes.length > 0) throw invalid(r.group, r.kind, prev.metadata.name ?? '', causes);
      if (this.hasGeneration(r) && this.specChanged(r, prev, next)) next.metadata.generation = (prev.metadata.generation ?? 0) + 1;
    }
    this.setManaged(next, managed);
    return this.commit(r, old, next, opts);
  }

  // ------------------------------------------------------------------------------------------------
  // scale

  /**
   * Structural-schema handling of custom resources: prunes undeclared fields (Strict: 400 instead),
   * applies defaults, and (unless `validate` is false) checks the schema.
   */
  private customSchema(r: ResourceType, obj: KubeObject, opts: WriteOptions, validate: boolean): void {
    if (!this.isCustom(r)) return;
    const schema = this.crdOpenApi.get(`${storageKey(r)}/${r.version}`);
    if (!schema) return;
    const pruned = pruneAndDefault(obj, schema);
    if (pruned.length > 0 && opts.fieldValidation === 'Strict')
      throw badRequest(
        `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: strict decoding error: ${pruned.map((p) => `unknown field "${p}"`).join(', ')}`,
      );
    if (!validate) return;
    const causes = validateCustom(obj, schema);
    if (causes.length > 0) throw invalid(r.group, r.kind, obj.metadata.name ?? '', causes);
  }

  /** A custom resource version's additionalPrinterColumns (for Table output). */
  printerColumns(r: ResourceType): unknown {
    return this.isCustom(r) ? this.crdPrinterColumns.get(`${storageKey(r)}/${r.version}`) : undefined;
  }

  scaleInfo(r: ResourceType): ScaleInfo | undefined {
    if (!r.subresources.scale) return undefined;
    if (this.isCustom(r)) return this.crdScale.get(`${storageKey(r)}/${r.version}`);
    return { specReplicasPath: ['spec', 'replicas'], statusReplicasPath: ['status', 'replicas'], labelSelectorPath: ['spec', 'selector'] };
  }

  getScale(r: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const info = this.scaleInfo(r);
    if (!info) throw notFound(r.group, `${r.plural}/scale`, name);
    const obj = this.mustGet(r, namespace, name).obj;
    return this.toScale(obj, info);
  }

  private toScale(obj: KubeObject, info: ScaleInfo): KubeObject {
    const at = (path: string[]): unknown => path.reduce<unknown>((cur, k) => (isObj(cur) ? cur[k] : undefined), obj);
    const sel = info.labelSelectorPath ? at(info.labelSelectorPath) : undefined;
    const selector = typeof sel === 'string' ? sel : isObj(sel) ? formatLabelSelector(fromLabelSelectorObject(sel)) : undefined;
    const status: Record<string, unknown> = { replicas: Number(at(info.statusReplicasPath) ?? 0) };
    if (selector) status.selector = selector;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: obj.metadata.name,
        ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
        creationTimestamp: obj.metadata.creationTimestamp,
      },
      spec: { replicas: Number(at(info.specReplicasPath) ?? 0) },
      status,
    };
  }

  /** PUT or PATCH (merge/json/strategic) of the scale subresource. */
  writeScale(
    r: ResourceType,
    namespace: string | undefined,
    name: string,
    change: { put: unknown } | { patchType: PatchType; patch: unknown },
    opts: WriteOptions,
  ): KubeObject {
    const info = this.scaleInfo(r);
    if (!info) throw notFound(r.group, `${r.plural}/scale`, name);
    const old = this.mustGet(r, namespace, name);
    const scale = this.toScale(old.obj, info);
    let next: unknown;
    if ('put' in change) next = change.put;
    else if (change.patchType === PatchType.Merge || change.patchType === PatchType.Strategic) next = mergePatch(scale, change.patch);
    else if (change.patchType === PatchType.Json) {
      try {
        next = jsonPatch(scale, change.patch);
      } catch (err) {
        if (err instanceof PatchError) throw badRequest(err.message);
        throw err;
      }
    } else throw unsupportedMediaType(change.patchType);
    if (!isObj(next) || !isObj(next.spec) || typeof next.spec.replicas !== 'number')
      throw invalid('autoscaling', 'Scale', name, [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.replicas' }]);
    const replicas = next.spec.replicas;
    if (replicas < 0)
      throw invalid('autoscaling', 'Scale', name, [
        { message: `Invalid value: ${replicas}: must be greater than or equal to 0`, field: 'spec.replicas' },
      ]);
    const rv = isObj(next.metadata) ? next.metadata.resourceVersion : undefined;
    if (typeof rv === 'string' && rv !== '' && rv !== old.obj.metadata.resourceVersion)
      throw conflict(
        r.group,
        r.plural,
        name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    const updated = structuredClone(old.obj);
    let cur: Record<string, unknown> = updated;
    for (const k of info.specReplicasPath.slice(0, -1)) {
      if (!isObj(cur[k])) cur[k] = {};
      cur = cur[k] as Record<string, unknown>;
    }
    cur[info.specReplicasPath[info.specReplicasPath.length - 1]!] = replicas;
    const result = this.commitWrite(r, old, updated, 'scale', opts);
    return this.toScale(result, info);
  }

  // ------------------------------------------------------------------------------------------------
  // delete and garbage collection

  delete(r: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions): { object: KubeObject; pending: boolean } {
    const entry = this.mustGet(r, namespace, name);
    const obj = entry.obj;
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== obj.metadata.uid)
      throw conflict(
        r.group,
        r.plural,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`,
      );
    if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion)
      throw conflict(
        r.group,
        r.plural,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`,
      );
    const policy = opts.propagationPolicy ?? PropagationPolicy.Background;
    const fins = [...(obj.metadata.finalizers ?? [])];
    const hasDependents = this.store.dependentsOf(obj.metadata.uid ?? '').length > 0;
    if (policy === PropagationPolicy.Foreground && hasDependents && !fins.includes('foregroundDeletion')) fins.push('foregroundDeletion');
    if (policy === PropagationPolicy.Orphan && hasDependents && !fins.includes('orphan')) fins.push('orphan');
    const next: KubeObject = { ...obj, metadata: { ...obj.metadata } };
    if (fins.length > 0) next.metadata.finalizers = fins;
    if (r.group === '' && r.kind === 'Namespace') next.status = { ...(isObj(obj.status) ? obj.status : {}), phase: 'Terminating' };
    if (!this.pendingDeletion(next)) {
      if (opts.dryRun) return { object: obj, pending: false };
      const gone = this.store.remove(r, namespace, name)!;
      this.afterDelete(r, gone);
      return { object: gone, pending: false };
    }
    if (!obj.metadata.deletionTimestamp) {
      next.metadata.deletionTimestamp = nowIso();
      next.metadata.deletionGracePeriodSeconds = 0;
      if (this.hasGeneration(r)) next.metadata.generation = (obj.metadata.generation ?? 0) + 1;
    }
    if (opts.dryRun) return { object: next, pending: true };
    if (jsonEqual({ ...next, metadata: { ...next.metadata, resourceVersion: obj.metadata.resourceVersion } }, obj))
      return { object: obj, pending: true };
    const stored = this.store.put(r, next);
    this.afterCommit(r, obj, stored.obj);
    return { object: stored.obj, pending: true };
  }

  /** Deletes every object of a list selection; returns what was deleted (or marked). */
  deleteCollection(r: ResourceType, entries: Entry[], opts: DeleteOptions): KubeObject[] {
    const out: KubeObject[] = [];
    for (const e of entries) {
      try {
        out.push(this.delete(r, e.obj.metadata.namespace, e.obj.metadata.name!, opts).object);
      } catch (err) {
        if (!(err instanceof StatusError && err.code === 404)) throw err;
      }
    }
    return out;
  }

  private afterCommit(r: ResourceType, prev: KubeObject | undefined, obj: KubeObject): void {
    if (r.group === CRD_GROUP && r.kind === 'CustomResourceDefinition') this.crdChanged(obj);
    if (obj.metadata.deletionTimestamp) {
      if (r.group === '' && r.kind === 'Namespace') this.terminating.add(obj.metadata.name!);
      else this.gcUids.add(obj.metadata.uid!);
      this.scheduleGc();
    }
    if (prev && obj.metadata.namespace && this.terminating.has(obj.metadata.namespace)) this.scheduleGc();
    this.onDirty?.();
  }

  private afterDelete(r: ResourceType, obj: KubeObject): void {
    if (r.group === CRD_GROUP && r.kind === 'CustomResourceDefinition') this.crdRemoved(obj);
    if (obj.metadata.uid && this.store.dependentsOf(obj.metadata.uid).length > 0) this.gcUids.add(obj.metadata.uid);
    for (const o of obj.metadata.ownerReferences ?? []) this.gcUids.add(o.uid);
    if (obj.metadata.namespace && this.terminating.has(obj.metadata.namespace)) this.scheduleGc();
    if (this.gcUids.size > 0) this.scheduleGc();
    this.onDirty?.();
  }

  private scheduleGc(): void {
    if (this.gcScheduled || this.closed) return;
    this.gcScheduled = true;
    setImmediate(() => {
      this.gcScheduled = false;
      if (this.closed) return;
      try {
        this.gcPass();
      } catch {
        // a failed collection is retried on the next change
      }
    }).unref();
  }

  private resourceOfStorage(skey: string, apiVersion: string, kind: string): ResourceType | undefined {
    const r = this.registry.byApiVersionKind(apiVersion, kind);
    if (r && storageKey(r) === skey) return r;
    return this.registry.all().find((x) => storageKey(x) === skey);
  }

  private internalUpdate(r: ResourceType, entry: Entry, mutate: (o: KubeObject) => void): void {
    const next = structuredClone(entry.obj);
    mutate(next);
    try {
      this.commitWrite(r, entry, next, '', { fieldManager: 'kube-controller-manager' });
    } catch (err) {
      if (!(err instanceof StatusError)) throw err;
    }
  }

  private gcPass(): void {
    const uids = [...this.gcUids];
    this.gcUids.clear();
    for (const uid of uids) {
      const found = this.store.byUidLookup(uid);
      if (found) {
        const obj = found.entry.obj;
        const r = this.resourceOfStorage(found.skey, obj.apiVersion, obj.kind);
        if (!r || !obj.metadata.deletionTimestamp) continue;
        const fins = obj.metadata.finalizers ?? [];
        const deps = this.store.dependentsOf(uid);
        if (fins.includes('orphan')) {
          for (const d of deps) this.dropOwnerRef(d, uid);
          this.internalUpdate(r, found.entry, (o) => {
            o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== 'orphan');
          });
          continue;
        }
        if (fins.includes('foregroundDeletion')) {
          if (deps.length === 0) {
            this.internalUpdate(r, found.entry, (o) => {
              o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== 'foregroundDeletion');
            });
          } else for (const d of deps) this.deleteByUid(d, PropagationPolicy.Foreground);
        }
        continue;
      }
      // the owner is gone: collect its dependents
      for (const d of this.store.dependentsOf(uid)) {
        const dep = this.store.byUidLookup(d);
        if (!dep) continue;
        const owners = dep.entry.obj.metadata.ownerReferences ?? [];
        const alive = owners.filter((o) => o.uid !== uid && this.store.byUidLookup(o.uid));
        if (alive.length === 0) this.deleteByUid(d, PropagationPolicy.Background);
        else this.dropOwnerRef(d, uid);
      }
    }
    for (const ns of [...this.terminating]) {
      const nsEntry = this.store.get(this.namespaceResource(), undefined, ns);
      if (!nsEntry) {
        this.terminating.delete(ns);
        continue;
      }
      const contents = this.store.inNamespace(ns);
      for (const { entry } of contents)
        if (!entry.obj.metadata.deletionTimestamp) this.deleteByUid(entry.obj.metadata.uid!, PropagationPolicy.Background);
      if (this.store.inNamespace(ns).length === 0) {
        this.terminating.delete(ns);
        this.internalUpdate(this.namespaceResource(), nsEntry, (o) => {
          const spec = isObj(o.spec) ? o.spec : {};
          spec.finalizers = (Array.isArray(spec.finalizers) ? spec.finalizers : []).filter((f) => f !== 'kubernetes');
          o.spec = spec;
        });
        // namespace status/spec reset by the status rule does not apply to internal spec edits
      }
    }
  }

  private deleteByUid(uid: string, policy: PropagationPolicy): void {
    const found = this.store.byUidLookup(uid);
    if (!found) return;
    const obj = found.entry.obj;
    if (obj.metadata.deletionTimestamp && policy !== PropagationPolicy.Foreground) return;
    const r = this.resourceOfStorage(found.skey, obj.apiVersion, obj.kind);
    if (!r) return;
    try {
      this.delete(r, obj.metadata.namespace, obj.metadata.name!, { propagationPolicy: policy });
    } catch (err) {
      if (!(err instanceof StatusError)) throw err;
    }
  }

  private dropOwnerRef(uid: string, ownerUid: string): void {
    const found = this.store.byUidLookup(uid);
    if (!found) return;
    const obj = found.entry.obj;
    const r = this.resourceOfStorage(found.skey, obj.apiVersion, obj.kind);
    if (!r) return;
    this.internalUpdate(r, found.entry, (o) => {
      const refs = (o.metadata.ownerReferences ?? []).filter((x) => x.uid !== ownerUid);
      if (refs.length > 0) o.metadata.ownerReferences = refs;
      else delete o.metadata.ownerReferences;
    });
  }

  // ------------------------------------------------------------------------------------------------
  // CRDs

  /** Resource types a CRD object serves (one per served version). */
  crdTypes(crd: KubeObject): ResourceType[] {
    const spec = crd.spec;
    if (!isObj(spec) || !isObj(spec.names)) return [];
    const names = spec.names as Record<string, unknown>;
    const group = String(spec.group ?? '');
    const kind = String(names.kind ?? '');
    const plural = String(names.plural ?? '');
    const versions = Array.isArray(spec.versions) ? spec.versions.filter(isObj) : [];
    return versions
      .filter((v) => v.served !== false)
      .map((v) => {
        const sub = isObj(v.subresources) ? v.subresources : {};
        return {
          group,
          version: String(v.name),
          kind,
          plural,
          singular: typeof names.singular === 'string' && names.singular ? names.singular : kind.toLowerCase(),
          namespaced: spec.scope === 'Namespaced',
          shortNames: Array.isArray(names.shortNames) ? names.shortNames.map(String) : [],
          verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
          subresources: { status: isObj(sub.status), scale: isObj(sub.scale) },
          ...(Array.isArray(names.categories) ? { categories: names.categories.map(String) } : {}),
        };
      });
  }

  private crdChanged(crd: KubeObject): void {
    const types = this.crdTypes(crd);
    this.registerCrdTypes(crd, types);
    if (crd.metadata.deletionTimestamp) return;
    const status = isObj(crd.status) ? crd.status : {};
    const conditions = Array.isArray(status.conditions) ? status.conditions : [];
    const established = conditions.some((c) => isObj(c) && c.type === 'Established' && c.status === 'True');
    const spec = crd.spec as Record<string, unknown>;
    const storage = (Array.isArray(spec.versions) ? spec.versions : []).find((v) => isObj(v) && v.storage === true) as
      Record<string, unknown> | undefined;
    if (established && jsonEqual(status.acceptedNames, spec.names)) return;
    const now = nowIso();
    const newStatus = {
      acceptedNames: spec.names,
      conditions: [
        { type: 'NamesAccepted', status: 'True', lastTransitionTime: now, reason: 'NoConflicts', message: 'no conflicts found' },
        {
          type: 'Established',
          status: 'True',
          lastTransitionTime: now,
          reason: 'InitialNamesAccepted',
          message: 'the initial names have been accepted',
        },
      ],
      storedVersions: storage ? [String(storage.name)] : [],
    };
    const r = this.registry.byGroupVersionPlural(CRD_GROUP, 'v1', 'customresourcedefinitions')!;
    const entry = this.store.get(r, undefined, crd.metadata.name!);
    if (!entry) return;
    // established asynchronously, as the apiextensions controller does
    setImmediate(() => {
      const cur = this.store.get(r, undefined, crd.metadata.name!);
      if (!cur || this.closed) return;
      try {
        this.commitWrite(r, cur, { ...cur.obj, status: newStatus }, 'status', { fieldManager: 'kube-apiserver' });
      } catch {
        // the CRD changed meanwhile; the next change establishes it
      }
    }).unref();
  }

  registerCrdTypes(crd: KubeObject, types: ResourceType[]): void {
    this.registry.setCrd(crd.metadata.name!, types);
    const spec = crd.spec as Record<string, unknown> | undefined;
    const versions = Array.isArray(spec?.versions) ? (spec.versions as unknown[]).filter(isObj) : [];
    for (const t of types) {
      const v = versions.find((x) => x.name === t.version);
      const schema = isObj(v?.schema) ? v.schema.openAPIV3Schema : undefined;
      this.crdSchemas.set(`${storageKey(t)}/${t.version}`, customListKinds(schema));
      this.crdPrinterColumns.set(`${storageKey(t)}/${t.version}`, v?.additionalPrinterColumns);
      this.crdOpenApi.set(`${storageKey(t)}/${t.version}`, isObj(schema) ? schema : undefined);
      const scale = isObj(v?.subresources) && isObj(v.subresources.scale) ? v.subresources.scale : undefined;
      if (scale) {
        const path = (p: unknown): string[] | undefined => (typeof p === 'string' && p.startsWith('.') ? p.slice(1).split('.') : undefined);
        this.crdScale.set(`${storageKey(t)}/${t.version}`, {
          specReplicasPath: path(scale.specReplicasPath) ?? ['spec', 'replicas'],
          statusReplicasPath: path(scale.statusReplicasPath) ?? ['status', 'replicas'],
          labelSelectorPath: path(scale.labelSelectorPath),
        });
      }
    }
  }

  private crdRemoved(crd: KubeObject): void {
    const types = this.crdTypes(crd);
    const first = types[0];
    this.registry.setCrd(crd.metadata.name!, []);
    if (first) {
      this.store.dropStorage(first);
      for (const t of types) {
        this.crdSchemas.delete(`${storageKey(t)}/${t.version}`);
        this.crdScale.delete(`${storageKey(t)}/${t.version}`);
        this.crdPrinterColumns.delete(`${storageKey(t)}/${t.version}`);
        this.crdOpenApi.delete(`${storageKey(t)}/${t.version}`);
      }
    }
  }
}
