/**
 * A small JSON Schema subset (draft 2020-12 keywords: type, properties, required,
 * additionalProperties, items, enum, const, pattern, minimum, maximum, minLength, maxLength,
 * anyOf, description). The schemas are published in docs/events.md and double as validators,
 * so what outside subscribers read is what Ferry enforces.
 */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: readonly unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  anyOf?: readonly JsonSchema[];
}

/** One problem found by {@link validateSchema}: a dotted path (`spec.source.repoURL`, `items[2].name`) and what is wrong. */
export interface SchemaProblem {
  path: string;
  message: string;
  /** True when the problem is a field the schema does not know (rejected by name). */
  unknownField?: boolean;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Validates `value` against `schema`; returns every problem found (empty when valid). */
export function validateSchema(schema: JsonSchema, value: unknown, path = ''): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const at = path === '' ? '(root)' : path;
  if (schema.anyOf) {
    const results = schema.anyOf.map((s) => validateSchema(s, value, path));
    if (!results.some((r) => r.length === 0)) {
      problems.push(...(results.sort((a, b) => a.length - b.length)[0] ?? []));
    }
    return problems;
  }
  if (schema.type) {
    const actual = typeOf(value);
    const ok = actual === schema.type || (schema.type === 'number' && actual === 'integer');
    if (!ok) {
      problems.push({ path: at, message: `must be ${schema.type}, got ${actual}` });
      return problems;
    }
  }
  if (schema.const !== undefined && value !== schema.const) {
    problems.push({ path: at, message: `must be ${JSON.stringify(schema.const)}` });
  }
  if (schema.enum && !schema.enum.includes(value)) {
    problems.push({ path: at, message: `must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}` });
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) {
      problems.push({ path: at, message: schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters` });
    }
    if (schema.maxLength !== undefined && value.length > schema.maxLength) {
      problems.push({ path: at, message: `must be at most ${schema.maxLength} characters` });
    }
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) {
      problems.push({ path: at, message: `must match ${schema.pattern}` });
    }
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) problems.push({ path: at, message: `must be >= ${schema.minimum}` });
    if (schema.maximum !== undefined && value > schema.maximum) problems.push({ path: at, message: `must be <= ${schema.maximum}` });
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => problems.push(...validateSchema(schema.items as JsonSchema, item, `${path}[${i}]`)));
  }
  if (typeOf(value) === 'object' && (schema.properties || schema.required || schema.additionalProperties !== undefined)) {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (record[key] === undefined) problems.push({ path: join(path, key), message: 'is required' });
    }
    for (const [key, child] of Object.entries(record)) {
      if (child === undefined) continue;
      const prop = schema.properties?.[key];
      if (prop) {
        problems.push(...validateSchema(prop, child, join(path, key)));
      } else if (schema.additionalProperties === false) {
        problems.push({ path: join(path, key), message: 'is not a supported field', unknownField: true });
      } else if (typeof schema.additionalProperties === 'object') {
        problems.push(...validateSchema(schema.additionalProperties, child, join(path, key)));
      }
    }
  }
  return problems;
}
