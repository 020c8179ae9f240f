/** Discovery documents (/api, /apis, /api/v1, /apis/<g>/<v>) and the OpenAPI v3 documents kubectl reads. */
import { createHash } from 'node:crypto';
import type { ResourceType } from './types.js';
import type { ResourceRegistry } from './resources.js';
import { apiVersionOf } from './resources.js';

const ALL_CATEGORY = new Set([
  'pods',
  'services',
  'deployments',
  'replicasets',
  'statefulsets',
  'daemonsets',
  'jobs',
  'cronjobs',
  'horizontalpodautoscalers',
]);

export function versionInfo(): Record<string, string> {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.0-sandbox',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupDoc(group: string, versions: string[]): Record<string, unknown> {
  const vs = versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { name: group, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(registry: ResourceRegistry): Record<string, unknown> {
  const groups = registry
    .groupVersions()
    .filter((g) => g.group !== '')
    .map((g) => groupDoc(g.group, g.versions));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroup(registry: ResourceRegistry, group: string): Record<string, unknown> | undefined {
  const g = registry.groupVersions().find((x) => x.group === group);
  if (!g || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g.group, g.versions) };
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const rs = registry.resourcesIn(group, version);
  if (rs.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const r of rs.sort((a, b) => a.plural.localeCompare(b.plural))) {
    const categories = r.categories ?? (ALL_CATEGORY.has(r.plural) && r.group !== 'apiextensions.k8s.io' ? ['all'] : undefined);
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: [...r.verbs],
      ...(r.shortNames.length > 0 ? { shortNames: [...r.shortNames] } : {}),
      ...(categories ? { categories: [...categories] } : {}),
    });
    if (r.subresources.status)
      resources.push({
        name: `${r.plural}/status`,
        singularName: '',
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: ['get', 'patch', 'update'],
      });
    if (r.subresources.scale)
      resources.push({
        name: `${r.plural}/scale`,
        singularName: '',
        namespaced: r.namespaced,
        group: 'autoscaling',
        version: 'v1',
        kind: 'Scale',
        verbs: ['get', 'patch', 'update'],
      });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources };
}

/** Path of a group-version in the OpenAPI v3 index ("api/v1", "apis/apps/v1"). */
function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

function gvHash(registry: ResourceRegistry, group: string, version: string): string {
  const desc = registry
    .resourcesIn(group, version)
    .map((r) => `${r.kind}/${r.plural}/${r.namespaced}/${r.subresources.status}/${r.subresources.scale}`)
    .sort()
    .join(',');
  return createHash('sha256').update(desc).digest('hex').slice(0, 32).toUpperCase();
}

export function openApiIndex(registry: ResourceRegistry): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const { group, versions } of registry.groupVersions())
    for (const v of versions) {
      const p = gvPath(group, v);
      paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${gvHash(registry, group, v)}` };
    }
  return { paths };
}

function schemaName(r: ResourceType): string {
  const g = r.group === '' ? 'core' : r.group;
  return `sandbox.${g}.${r.version}.${r.kind}`;
}

const QUERY = (name: string, description: string): Record<string, unknown> => ({
  name,
  in: 'query',
  description,
  schema: { type: 'string', uniqueItems: true },
});

/**
 * The OpenAPI v3 document of one group-version: every resource path with its operations (carrying
 * `x-kubernetes-group-version-kind` and the write parameters such as `fieldValidation`), and a
 * permissive schema per kind. kubectl only needs the operations to decide it may send
 * `fieldValidation=Strict` with server-side apply.
 */
export function openApiDocument(registry: ResourceRegistry, pathKey: string): Record<string, unknown> | undefined {
  const m = /^(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(pathKey);
  if (!m) return undefined;
  const group = m[1] ? '' : m[2]!;
  const version = m[1] ?? m[3]!;
  const rs = registry.resourcesIn(group, version);
  if (rs.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {
    'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': {
      type: 'object',
      description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.',
    },
    'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    'io.k8s.apimachinery.pkg.apis.meta.v1.Status': { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions': { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  };
  const prefix = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  for (const r of rs) {
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const ref = { $ref: `#/components/schemas/${schemaName(r)}` };
    // No x-kubernetes-group-version-kind on the schema: kubectl would then compute client-side apply
    // patches from these permissive schemas; without it, it uses its compiled-in types (as for a
    // server without OpenAPI v3) and the operations below still enable server-side field validation.
    schemas[schemaName(r)] = {
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }], default: {} },
        spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    };
    schemas[`${schemaName(r)}List`] = {
      type: 'object',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        items: { type: 'array', items: ref },
        metadata: { type: 'object' },
      },
    };
    const op = (action: string, verb: string, body: boolean, extraParams: Record<string, unknown>[] = []): Record<string, unknown> => ({
      operationId: `${verb}${r.kind}`,
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      parameters: extraParams,
      ...(body
        ? {
            requestBody: {
              content: Object.fromEntries(
                (action === 'patch'
                  ? [
                      'application/apply-patch+yaml',
                      'application/json-patch+json',
                      'application/merge-patch+json',
                      'application/strategic-merge-patch+json',
                    ]
                  : ['*/*']
                ).map((ct) => [
                  ct,
                  { schema: action === 'patch' ? { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } : ref },
                ]),
              ),
              required: true,
            },
          }
        : {}),
      responses: { '200': { description: 'OK', content: { 'application/json': { schema: ref } } }, '401': { description: 'Unauthorized' } },
      tags: [group === '' ? `core_${version}` : `${group}_${version}`],
    });
    const writeParams = [
      QUERY('dryRun', 'When present, indicates that modifications should not be persisted.'),
      QUERY('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
      QUERY(
        'fieldValidation',
        'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.',
      ),
    ];
    const patchParams = [...writeParams, { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } }];
    const nsParam = { name: 'namespace', in: 'path', required: true, schema: { type: 'string', uniqueItems: true } };
    const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string', uniqueItems: true } };
    const base = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
    const common = r.namespaced ? [nsParam] : [];
    paths[base] = {
      get: op('list', 'list', false),
      post: op('post', 'create', true, writeParams),
      delete: op('deletecollection', 'deletecollection', false),
      parameters: common,
    };
    paths[`${base}/{name}`] = {
      get: op('get', 'read', false),
      put: op('put', 'replace', true, writeParams),
      patch: op('patch', 'patch', true, patchParams),
      delete: op('delete', 'delete', false, [QUERY('dryRun', 'dry run')]),
      parameters: [nameParam, ...common],
    };
    if (r.subresources.status)
      paths[`${base}/{name}/status`] = {
        get: op('get', 'read', false),
        put: op('put', 'replace', true, writeParams),
        patch: op('patch', 'patch', true, patchParams),
        parameters: [nameParam, ...common],
      };
    if (r.subresources.scale)
      paths[`${base}/{name}/scale`] = {
        get: { ...op('get', 'read', false), 'x-kubernetes-group-version-kind': { group: 'autoscaling', version: 'v1', kind: 'Scale' } },
        put: {
          ...op('put', 'replace', true, writeParams),
          'x-kubernetes-group-version-kind': { group: 'autoscaling', version: 'v1', kind: 'Scale' },
        },
        patch: {
          ...op('patch', 'patch', true, patchParams),
          'x-kubernetes-group-version-kind': { group: 'autoscaling', version: 'v1', kind: 'Scale' },
        },
        parameters: [nameParam, ...common],
      };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas } };
}
