/** The validation a real server does that tests are likely to meet (field causes as on a real server). */
import type { StatusCause } from './status-error.js';
import type { KubeObject, ResourceType } from './types.js';
import { fromLabelSelectorObject, matchesLabels } from './selectors.js';
import { jsonEqual } from './fieldset.js';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_KEY_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const DNS_LABEL_KINDS = new Set(['Namespace', 'Service']);
const PATH_SEGMENT_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'Event']);

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function required(field: string): StatusCause {
  return { reason: 'FieldValueRequired', message: 'Required value', field };
}

function invalidValue(field: string, value: unknown, why: string): StatusCause {
  return { reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${why}`, field };
}

export function validateName(kind: string, name: string): string | undefined {
  if (PATH_SEGMENT_KINDS.has(kind)) {
    if (name === '.' || name === '..' || name.includes('/') || name.includes('%')) return 'may not contain "/" or "%"';
    return undefined;
  }
  if (DNS_LABEL_KINDS.has(kind)) {
    if (name.length > 63 || !LABEL.test(name))
      return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
    return undefined;
  }
  if (name.length > 253 || !SUBDOMAIN.test(name))
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

function validateLabels(labels: unknown, field: string, causes: StatusCause[]): void {
  if (labels === undefined) return;
  if (!isObj(labels)) {
    causes.push(invalidValue(field, labels, 'must be a map of strings'));
    return;
  }
  for (const [k, v] of Object.entries(labels)) {
    const slash = k.lastIndexOf('/');
    const name = slash >= 0 ? k.slice(slash + 1) : k;
    const prefix = slash >= 0 ? k.slice(0, slash) : '';
    if (!LABEL_KEY_NAME.test(name) || name.length > 63 || (prefix && !SUBDOMAIN.test(prefix)))
      causes.push(invalidValue(field, k, "name part must consist of alphanumeric characters, '-', '_' or '.'"));
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v))
      causes.push(
        invalidValue(`${field}`, v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'"),
      );
  }
}

function validateAnnotations(annotations: unknown, causes: StatusCause[]): void {
  if (annotations === undefined) return;
  if (!isObj(annotations)) {
    causes.push(invalidValue('metadata.annotations', annotations, 'must be a map of strings'));
    return;
  }
  for (const [k, v] of Object.entries(annotations))
    if (typeof v !== 'string') causes.push(invalidValue(`metadata.annotations[${k}]`, v, 'must be a string'));
}

function validateContainers(list: unknown, field: string, causes: StatusCause[], requireOne: boolean): void {
  if (list === undefined) {
    if (requireOne) causes.push(required(field));
    return;
  }
  if (!Array.isArray(list)) {
    causes.push(invalidValue(field, list, 'must be a list'));
    return;
  }
  if (requireOne && list.length === 0) causes.push(required(field));
  const names = new Set<string>();
  list.forEach((c, i) => {
    if (!isObj(c)) {
      causes.push(invalidValue(`${field}[${i}]`, c, 'must be an object'));
      return;
    }
    if (typeof c.name !== 'string' || c.name === '') causes.push(required(`${field}[${i}].name`));
    else if (names.has(c.name))
      causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: "${c.name}"`, field: `${field}[${i}].name` });
    else names.add(c.name);
    if (typeof c.image !== 'string' || c.image === '') causes.push(required(`${field}[${i}].image`));
  });
}

function validatePodSpec(spec: unknown, field: string, causes: StatusCause[]): void {
  if (!isObj(spec)) {
    causes.push(required(field));
    return;
  }
  validateContainers(spec.containers, `${field}.containers`, causes, true);
  validateContainers(spec.initContainers, `${field}.initContainers`, causes, false);
}

const WORKLOADS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet']);

/** Validates an object about to be stored (after defaulting). `old` is set on updates. */
export function validateObject(r: ResourceType, obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = obj.metadata.name ?? '';
  const nameProblem = validateName(r.kind, name);
  if (nameProblem) causes.push(invalidValue('metadata.name', name, nameProblem));
  validateLabels(obj.metadata.labels, 'metadata.labels', causes);
  validateAnnotations(obj.metadata.annotations, causes);
  const spec = obj.spec;
  if (r.group === '' && r.kind === 'ConfigMap') {
    for (const f of ['data'] as const) {
      const d = obj[f];
      if (d !== undefined && !isObj(d)) causes.push(invalidValue(f, d, 'must be a map of strings'));
      else if (isObj(d))
        for (const [k, v] of Object.entries(d)) if (typeof v !== 'string') causes.push(invalidValue(`${f}[${k}]`, v, 'must be a string'));
    }
  }
  if (r.group === '' && r.kind === 'Secret' && isObj(obj.data)) {
    for (const [k, v] of Object.entries(obj.data))
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v))
        causes.push(invalidValue(`data[${k}]`, '<secret>', 'must be base64 encoded'));
  }
  if (r.group === '' && r.kind === 'Pod') validatePodSpec(spec, 'spec', causes);
  if (r.group === 'apps' && WORKLOADS.has(r.kind)) {
    if (!isObj(spec)) causes.push(required('spec'));
    else {
      const sel = spec.selector;
      if (!isObj(sel) || (Object.keys(sel.matchLabels ?? {}).length === 0 && !Array.isArray(sel.matchExpressions)))
        causes.push(required('spec.selector'));
      const template = spec.template;
      if (!isObj(template)) causes.push(required('spec.template'));
      else {
        const labels = (isObj(template.metadata) ? template.metadata.labels : undefined) as Record<string, string> | undefined;
        if (isObj(sel) && !matchesLabels(fromLabelSelectorObject(sel), labels))
          causes.push(invalidValue('spec.template.metadata.labels', labels ?? {}, '`selector` does not match template `labels`'));
        validatePodSpec(template.spec, 'spec.template.spec', causes);
      }
      if (typeof spec.replicas === 'number' && spec.replicas < 0)
        causes.push(invalidValue('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
      if (old && isObj(old.spec) && !jsonEqual(old.spec.selector, sel))
        causes.push(invalidValue('spec.selector', sel, 'field is immutable'));
    }
  }
  if (r.group === 'batch' && r.kind === 'Job') {
    if (!isObj(spec) || !isObj(spec.template)) causes.push(required('spec.template'));
    else validatePodSpec(spec.template.spec, 'spec.template.spec', causes);
  }
  if (r.group === 'batch' && r.kind === 'CronJob') {
    if (!isObj(spec) || typeof spec.schedule !== 'string' || spec.schedule === '') causes.push(required('spec.schedule'));
  }
  if (r.group === '' && r.kind === 'Service' && isObj(spec)) {
    const type = spec.type ?? 'ClusterIP';
    const ports = spec.ports;
    if (type !== 'ExternalName' && spec.clusterIP !== 'None' && (!Array.isArray(ports) || ports.length === 0))
      causes.push(required('spec.ports'));
    if (Array.isArray(ports))
      ports.forEach((p, i) => {
        if (!isObj(p) || typeof p.port !== 'number') causes.push(required(`spec.ports[${i}].port`));
        else if (p.port < 1 || p.port > 65535)
          causes.push(invalidValue(`spec.ports[${i}].port`, p.port, 'must be between 1 and 65535, inclusive'));
      });
  }
  if (r.group === 'apiextensions.k8s.io' && r.kind === 'CustomResourceDefinition') validateCrd(obj, causes);
  return causes;
}

function validateCrd(obj: KubeObject, causes: StatusCause[]): void {
  const spec = obj.spec;
  if (!isObj(spec)) {
    causes.push(required('spec'));
    return;
  }
  const names = isObj(spec.names) ? spec.names : undefined;
  if (typeof spec.group !== 'string' || spec.group === '') causes.push(required('spec.group'));
  if (!names || typeof names.plural !== 'string' || names.plural === '') causes.push(required('spec.names.plural'));
  if (!names || typeof names.kind !== 'string' || names.kind === '') causes.push(required('spec.names.kind'));
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster')
    causes.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${JSON.stringify(spec.scope)}: supported values: "Cluster", "Namespaced"`,
      field: 'spec.scope',
    });
  if (names && typeof names.plural === 'string' && typeof spec.group === 'string' && obj.metadata.name !== `${names.plural}.${spec.group}`)
    causes.push(invalidValue('metadata.name', obj.metadata.name, 'must be spec.names.plural+"."+spec.group'));
  const versions = spec.versions;
  if (!Array.isArray(versions) || versions.length === 0) causes.push(required('spec.versions'));
  else {
    const storage = versions.filter((v) => isObj(v) && v.storage === true).length;
    if (storage !== 1) causes.push(invalidValue('spec.versions', storage, 'must have exactly one version marked as storage version'));
    versions.forEach((v, i) => {
      if (!isObj(v) || typeof v.name !== 'string' || v.name === '') causes.push(required(`spec.versions[${i}].name`));
    });
  }
}
