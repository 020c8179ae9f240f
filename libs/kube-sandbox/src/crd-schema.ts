/**
 * What a real server does with a CRD's structural `openAPIV3Schema` on every write of a custom
 * resource: prune fields the schema does not declare (unless `x-kubernetes-preserve-unknown-fields`),
 * apply `default`s, and validate types, required fields, enums, bounds, lengths and patterns.
 */
import type { StatusCause } from './status-error.js';

type Schema = Record<string, unknown>;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function props(s: Schema): Record<string, Schema> | undefined {
  return isObj(s.properties) ? (s.properties as Record<string, Schema>) : undefined;
}

function additional(s: Schema): Schema | undefined {
  return isObj(s.additionalProperties) ? (s.additionalProperties as Schema) : undefined;
}

function preserves(s: Schema): boolean {
  return s['x-kubernetes-preserve-unknown-fields'] === true || s.additionalProperties === true;
}

const ROOT_KEEP = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * Prunes undeclared fields and fills in defaults, in place (on a private copy). Returns the paths of
 * the fields it pruned (for fieldValidation=Strict).
 */
export function pruneAndDefault(obj: Record<string, unknown>, schema: Schema | undefined): string[] {
  const pruned: string[] = [];
  if (!schema) return pruned;
  walk(obj, schema, '', true);
  return pruned;

  function walk(value: unknown, s: Schema, path: string, root: boolean): void {
    if (isObj(value)) {
      const p = props(s);
      const ap = additional(s);
      if (p) {
        for (const [k, sub] of Object.entries(p)) {
          if (value[k] === undefined && sub.default !== undefined) value[k] = structuredClone(sub.default);
        }
      }
      for (const k of Object.keys(value)) {
        if (root && ROOT_KEEP.has(k)) continue;
        const sub = p?.[k] ?? ap;
        if (!sub) {
          if (!preserves(s)) {
            pruned.push(path ? `${path}.${k}` : k);
            delete value[k];
          }
          continue;
        }
        walk(value[k], sub, path ? `${path}.${k}` : k, false);
      }
      return;
    }
    if (Array.isArray(value) && isObj(s.items)) {
      value.forEach((item, i) => walk(item, s.items as Schema, `${path}[${i}]`, false));
    }
  }
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Validation causes for an object against its schema (paths as a real server prints them). */
export function validateCustom(obj: Record<string, unknown>, schema: Schema | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!schema) return causes;
  check(obj, schema, '', true);
  return causes;

  function bad(path: string, value: unknown, why: string): void {
    causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${JSON.stringify(value)}: ${why}` });
  }

  function check(value: unknown, s: Schema, path: string, root: boolean): void {
    if (value === null) {
      if (s.nullable !== true && !root) bad(path, value, `${path} in body must be of type ${String(s.type ?? 'object')}: "null"`);
      return;
    }
    const t = s.type;
    if (typeof t === 'string' && !s['x-kubernetes-int-or-string']) {
      const actual = typeOf(value);
      const ok = t === actual || (t === 'number' && actual === 'integer') || (t === 'object' && actual === 'object');
      if (!ok) {
        bad(path, value, `${path} in body must be of type ${t}: "${actual}"`);
        return;
      }
    }
    if (s['x-kubernetes-int-or-string'] === true && typeof value !== 'string' && !Number.isInteger(value)) {
      bad(path, value, `${path} in body must be of type integer or string: "${typeOf(value)}"`);
      return;
    }
    if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
      causes.push({
        reason: 'FieldValueNotSupported',
        field: path,
        message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${s.enum.map((e) => JSON.stringify(e)).join(', ')}`,
      });
    }
    if (typeof value === 'number') {
      if (typeof s.minimum === 'number' && value < s.minimum)
        bad(path, value, `${path} in body should be greater than or equal to ${s.minimum}`);
      if (typeof s.maximum === 'number' && value > s.maximum)
        bad(path, value, `${path} in body should be less than or equal to ${s.maximum}`);
    }
    if (typeof value === 'string') {
      if (typeof s.minLength === 'number' && value.length < s.minLength)
        bad(path, value, `${path} in body should be at least ${s.minLength} chars long`);
      if (typeof s.maxLength === 'number' && value.length > s.maxLength)
        bad(path, value, `${path} in body may not be longer than ${s.maxLength}`);
      if (typeof s.pattern === 'string') {
        let re: RegExp | undefined;
        try {
          re = new RegExp(s.pattern, 'u');
        } catch {
          re = undefined;
        }
        if (re && !re.test(value)) bad(path, value, `${path} in body should match '${s.pattern}'`);
      }
    }
    if (Array.isArray(value)) {
      if (typeof s.minItems === 'number' && value.length < s.minItems)
        bad(path, value, `${path} in body should have at least ${s.minItems} items`);
      if (typeof s.maxItems === 'number' && value.length > s.maxItems)
        bad(path, value, `${path} in body should have at most ${s.maxItems} items`);
      if (isObj(s.items)) value.forEach((item, i) => check(item, s.items as Schema, `${path}[${i}]`, false));
      return;
    }
    if (isObj(value)) {
      for (const r of Array.isArray(s.required) ? s.required : []) {
        if (value[String(r)] === undefined)
          causes.push({ reason: 'FieldValueRequired', field: path ? `${path}.${String(r)}` : String(r), message: 'Required value' });
      }
      const p = props(s);
      const ap = additional(s);
      for (const [k, v] of Object.entries(value)) {
        if (root && ROOT_KEEP.has(k)) continue;
        const sub = p?.[k] ?? ap;
        if (sub) check(v, sub, path ? `${path}.${k}` : k, false);
      }
    }
  }
}
