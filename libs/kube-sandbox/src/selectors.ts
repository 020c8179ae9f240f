/** Label and field selectors as the list and watch verbs accept them. */
import { badRequest } from './status-error.js';

export type LabelRequirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export type LabelSelector = LabelRequirement[];

const KEY_RE = /^([a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$/;
const VALUE_RE = /^(([a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?)?)$/;

function checkKey(key: string, text: string): void {
  if (!KEY_RE.test(key) || key.length > 317)
    throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${text}"`);
}
function checkValue(value: string, text: string): void {
  if (!VALUE_RE.test(value) || value.length > 63)
    throw badRequest(`unable to parse requirement: invalid label value "${value}" in selector "${text}"`);
}

/** Splits on commas that are not inside parentheses. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`; throws BadRequest on a malformed selector. */
export function parseLabelSelector(text: string): LabelSelector {
  const out: LabelSelector = [];
  if (text.trim() === '') return out;
  for (const raw of splitTop(text)) {
    const part = raw.trim();
    if (part === '') throw badRequest(`unable to parse requirement: found '', expected: identifier in selector "${text}"`);
    const setMatch = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
    if (setMatch) {
      const key = setMatch[1]!;
      checkKey(key, text);
      const values = setMatch[3]!
        .split(',')
        .map((v) => v.trim())
        .filter((v, _i, a) => !(v === '' && a.length === 1));
      for (const v of values) checkValue(v, text);
      out.push({ op: setMatch[2] === 'in' ? 'in' : 'notin', key, values });
      continue;
    }
    const eq = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (eq) {
      const key = eq[1]!;
      const value = eq[3]!.trim();
      checkKey(key, text);
      checkValue(value, text);
      out.push({ op: eq[2] === '!=' ? 'neq' : 'eq', key, value });
      continue;
    }
    if (part.startsWith('!')) {
      const key = part.slice(1).trim();
      checkKey(key, text);
      out.push({ op: 'notexists', key });
      continue;
    }
    checkKey(part, text);
    out.push({ op: 'exists', key: part });
  }
  return out;
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  for (const r of selector) {
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = has ? labels![r.key] : undefined;
    switch (r.op) {
      case 'eq':
        if (v !== r.value) return false;
        break;
      case 'neq':
        if (v === r.value) return false;
        break;
      case 'in':
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case 'notin':
        if (v !== undefined && r.values.includes(v)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case 'notexists':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** A LabelSelector object (matchLabels/matchExpressions) as a requirement list. */
export function fromLabelSelectorObject(sel: unknown): LabelSelector {
  const out: LabelSelector = [];
  if (!sel || typeof sel !== 'object') return out;
  const s = sel as { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
  for (const [key, value] of Object.entries(s.matchLabels ?? {})) out.push({ op: 'eq', key, value });
  for (const e of s.matchExpressions ?? []) {
    if (e.operator === 'In') out.push({ op: 'in', key: e.key, values: e.values ?? [] });
    else if (e.operator === 'NotIn') out.push({ op: 'notin', key: e.key, values: e.values ?? [] });
    else if (e.operator === 'Exists') out.push({ op: 'exists', key: e.key });
    else if (e.operator === 'DoesNotExist') out.push({ op: 'notexists', key: e.key });
  }
  return out;
}

/** Renders a selector back to its string form (for Scale status.selector). */
export function formatLabelSelector(selector: LabelSelector): string {
  return selector
    .map((r) => {
      switch (r.op) {
        case 'eq':
          return `${r.key}=${r.value}`;
        case 'neq':
          return `${r.key}!=${r.value}`;
        case 'in':
          return `${r.key} in (${r.values.join(',')})`;
        case 'notin':
          return `${r.key} notin (${r.values.join(',')})`;
        case 'exists':
          return r.key;
        case 'notexists':
          return `!${r.key}`;
      }
      return '';
    })
    .join(',');
}

export interface FieldRequirement {
  field: string;
  op: 'eq' | 'neq';
  value: string;
}

/** Fields every kind supports, plus the per-kind extras a real server allows. */
const extraFields: Record<string, string[]> = {
  Pod: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  Event: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  Secret: ['type'],
  Namespace: ['status.phase'],
  ReplicaSet: ['status.replicas'],
  Job: ['status.successful'],
  Node: ['spec.unschedulable'],
};

/** Parses `metadata.name=x,metadata.namespace!=y`; unsupported fields are BadRequest as on a real server. */
export function parseFieldSelector(text: string, kind: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  if (text.trim() === '') return out;
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(extraFields[kind] ?? [])]);
  for (const raw of text.split(',')) {
    const m = /^\s*([^!=\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(raw);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${raw}'`);
    const field = m[1]!;
    if (!allowed.has(field)) throw badRequest(`field label not supported: ${field}`);
    out.push({ field, op: m[2] === '!=' ? 'neq' : 'eq', value: m[3]! });
  }
  return out;
}

function fieldValue(obj: Record<string, unknown>, path: string): string {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (!cur || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'string' ? cur : String(cur);
}

export function matchesFields(reqs: FieldRequirement[], obj: Record<string, unknown>): boolean {
  for (const r of reqs) {
    const v = fieldValue(obj, r.field);
    if (r.op === 'eq' ? v !== r.value : v === r.value) return false;
  }
  return true;
}
