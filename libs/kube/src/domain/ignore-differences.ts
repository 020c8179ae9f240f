/**
 * Argo CD's `spec.ignoreDifferences`, compiled once and applied to plain objects: which fields of an
 * object the comparison leaves out (differ) and which live values a RespectIgnoreDifferences apply
 * keeps (applier). Pure: no cluster, no I/O.
 *
 * A rule matches an object by group ('' or missing = core; `*`/`?` globs as Argo CD allows), kind
 * (glob), and optionally exact name and namespace. Its fields are named three ways:
 * - `jsonPointers`: RFC 6901 pointers (`/spec/replicas`, `/metadata/annotations/a~1b`);
 * - `jqPathExpressions`: a subset of jq path expressions (see {@link compileJqPath}); anything outside
 *   it is rejected at compile time with FERRY_ERR_APP_INVALID naming the expression and the part;
 * - `managedFieldsManagers`: every field the named managers own in the live object's `managedFields`
 *   (fieldsV1), as leaves: a field owned as a whole map/list item is ignored as a whole, a struct whose
 *   children are listed only through those children.
 */
import { ErrorCode, FerryError } from '@ferry/contracts';
import type { IgnoreDifference } from '@ferry/contracts';
import type { KubeObject } from '../types.js';
import { groupOf } from './identity.js';

type Json = unknown;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---- RFC 6901 pointers ------------------------------------------------------------------------------

/** `['spec', 'a/b']` → `/spec/a~1b`. */
export function formatPointer(tokens: readonly (string | number)[]): string {
  return tokens.map((t) => `/${String(t).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** `/spec/a~1b` → `['spec', 'a/b']`; '' → [] (the whole document). Throws on a pointer not starting with '/'. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`"${pointer}" is not a JSON pointer (it must start with /)`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function arrayIndex(token: string, length: number): number | undefined {
  if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
  const i = Number(token);
  return i < length ? i : undefined;
}

/** The value at `pointer` in `doc`, and whether it exists. */
export function getPointer(doc: Json, pointer: string): { found: boolean; value?: Json } {
  let node: Json = doc;
  for (const token of parsePointer(pointer)) {
    if (Array.isArray(node)) {
      const i = arrayIndex(token, node.length);
      if (i === undefined) return { found: false };
      node = node[i];
    } else if (isRecord(node) && Object.hasOwn(node, token)) {
      node = node[token];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: node };
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

const TOMBSTONE = Symbol('removed');

/**
 * A copy of `object` without the values at `pointers` (array items removed, later items shift);
 * pointers to missing paths are ignored; pointers may overlap. The input is not modified.
 */
export function removePointers<T>(object: T, pointers: readonly string[]): T {
  if (pointers.length === 0) return clone(object);
  const copy = clone(object) as Json;
  if (pointers.includes('')) return undefined as T;
  // Mark first, sweep after: indexes stay valid whatever the order of the pointers.
  for (const pointer of pointers) {
    const tokens = parsePointer(pointer);
    const last = tokens.pop() as string;
    const parent = getPointer(copy, formatPointer(tokens));
    if (!parent.found) continue;
    const node = parent.value;
    if (Array.isArray(node)) {
      const i = arrayIndex(last, node.length);
      if (i !== undefined) node[i] = TOMBSTONE;
    } else if (isRecord(node) && Object.hasOwn(node, last)) {
      node[last] = TOMBSTONE;
    }
  }
  const sweep = (node: Json): Json => {
    if (Array.isArray(node)) return node.filter((v) => v !== TOMBSTONE).map(sweep);
    if (isRecord(node)) {
      for (const [k, v] of Object.entries(node)) {
        if (v === TOMBSTONE) delete node[k];
        else node[k] = sweep(v);
      }
    }
    return node;
  };
  return sweep(copy) as T;
}

/** The item of `list` that corresponds to `item` of another list: same `name` (keyed lists), else none. */
function correspondingIndex(list: unknown[], item: unknown, fallback: number): number {
  if (isRecord(item) && typeof item['name'] === 'string') {
    return list.findIndex((x) => isRecord(x) && x['name'] === item['name']);
  }
  return fallback < list.length ? fallback : -1;
}

/**
 * A copy of `to` where each pointer (into `from`) takes `from`'s value, or is removed from `to` when `from`
 * has nothing there — Argo CD's RespectIgnoreDifferences: the ignored fields of the apply are the live
 * ones. Parents missing in `to` are created; array items are matched by their `name` field when they have
 * one (containers, env, volumes …), else by index; an item `to` lacks is appended when the pointer names
 * the item itself, and the pointer is skipped when it names something inside it.
 */
export function copyPointers<T>(from: Json, to: T, pointers: readonly string[]): T {
  let out = clone(to) as Json;
  const absent: string[] = [];
  for (const pointer of pointers) {
    const source = getPointer(from, pointer);
    if (!source.found) {
      absent.push(pointer);
      continue;
    }
    const tokens = parsePointer(pointer);
    if (tokens.length === 0) {
      out = clone(source.value);
      continue;
    }
    let node: Json = out;
    let fromNode: Json = from;
    let ok = true;
    for (let i = 0; i < tokens.length && ok; i++) {
      const token = tokens[i] as string;
      const last = i === tokens.length - 1;
      if (Array.isArray(fromNode)) {
        const fi = arrayIndex(token, fromNode.length) as number;
        const fromItem: Json = fromNode[fi];
        if (!Array.isArray(node)) {
          ok = false;
          break;
        }
        const ti = correspondingIndex(node, fromItem, fi);
        if (last) {
          if (ti >= 0) node[ti] = clone(fromItem);
          else node.push(clone(fromItem));
        } else if (ti < 0) {
          ok = false;
        } else {
          node = node[ti];
          fromNode = fromItem;
        }
        continue;
      }
      // from is an object here (getPointer found the path)
      const fromChild: Json = (fromNode as Record<string, unknown>)[token];
      if (!isRecord(node)) {
        ok = false;
        break;
      }
      if (last) {
        node[token] = clone(fromChild);
      } else {
        if (!isRecord(node[token]) && !Array.isArray(node[token])) node[token] = Array.isArray(fromChild) ? [] : {};
        node = node[token];
        fromNode = fromChild;
      }
    }
  }
  return removePointers(out, absent) as T;
}

// ---- jq path expressions (subset) -------------------------------------------------------------------

/**
 * The supported jq subset (what Argo CD users write; gojq evaluates the full language there):
 * - paths: `.a.b`, `."quoted key"`, `.a["key.with.dots"]`, `.a[0]`, `.a[-1]`, `.a[]`, `.a[]?`, `.[]`, `.`;
 * - `select(<path> == <literal>)` and `select(<path> != <literal>)`, literal a string, number, true, false or null;
 * - `|` chaining any of those.
 * Anything else (functions, `and`/`or`, slices, recursion `..`, alternatives `//`) is an error at compile time.
 */
type Step =
  | { op: 'field'; name: string }
  | { op: 'index'; index: number }
  | { op: 'iterate'; optional: boolean }
  | { op: 'select'; path: Step[]; negate: boolean; literal: Json };

/** A compiled jq path expression: the pointers it names in a document. */
export interface JqPath {
  readonly expression: string;
  /** Concrete pointers of the paths the expression yields in `doc` (paths to missing fields included). */
  pointers(doc: Json): string[];
}

/** Thrown by {@link compileIgnoreDifferences} for a rule Ferry cannot evaluate (FERRY_ERR_APP_INVALID). */
export class IgnoreDifferencesError extends FerryError {
  /** `spec.ignoreDifferences[i].jqPathExpressions[j]` (or the jsonPointers entry). */
  readonly path: string;
  readonly expression: string;
  constructor(path: string, expression: string, problem: string) {
    super(ErrorCode.AppInvalid, `${path} "${expression}": ${problem}`);
    this.path = path;
    this.expression = expression;
  }
}

class JqSyntaxError extends Error {}

const SUPPORTED_JQ = 'supported: .a.b, ."k", .a["k"], .a[0], .a[], .a[]?, select(<path> == / != <string|number|bool|null>), |';

function parseJq(expression: string): Step[] {
  const src = expression;
  let pos = 0;
  const fail = (what: string): never => {
    throw new JqSyntaxError(`unsupported jq at column ${pos + 1} ("${src.slice(pos, pos + 20)}"): ${what}; ${SUPPORTED_JQ}`);
  };
  const ws = (): void => {
    while (pos < src.length && /\s/.test(src[pos] as string)) pos++;
  };
  const peek = (s: string): boolean => src.startsWith(s, pos);
  const readString = (): string => {
    // JSON string literal (jq strings are JSON strings without interpolation).
    const start = pos;
    pos++;
    while (pos < src.length && src[pos] !== '"') {
      if (src[pos] === '\\') {
        if (src[pos + 1] === '(') fail('string interpolation');
        pos++;
      }
      pos++;
    }
    if (pos >= src.length) {
      pos = start;
      fail('unterminated string');
    }
    pos++;
    return JSON.parse(src.slice(start, pos)) as string;
  };
  const readLiteral = (): Json => {
    ws();
    if (peek('"')) return readString();
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)(?![\w$])/.exec(src.slice(pos));
    if (!m) return fail('expected a string, number, true, false or null');
    pos += m[0].length;
    return JSON.parse(m[0]) as Json;
  };
  const readBrackets = (steps: Step[]): void => {
    // at '['
    pos++;
    ws();
    if (peek(']')) {
      pos++;
      const optional = peek('?');
      if (optional) pos++;
      steps.push({ op: 'iterate', optional });
      return;
    }
    if (peek('"')) {
      steps.push({ op: 'field', name: readString() });
    } else {
      const m = /^-?\d+/.exec(src.slice(pos));
      if (!m) fail('expected ], an index or a string key inside [ ]');
      pos += (m as RegExpExecArray)[0].length;
      steps.push({ op: 'index', index: Number((m as RegExpExecArray)[0]) });
    }
    ws();
    if (!peek(']')) fail('expected ] (slices and expressions inside [ ] are not supported)');
    pos++;
    if (peek('?')) pos++; // `.a["k"]?` / `.a[0]?`: errors suppressed, same paths
  };
  /** A path starting with '.': `.`, `.a`, `.a.b[0]["k"][]`. */
  const readPath = (): Step[] => {
    ws();
    if (!peek('.')) fail('expected a path starting with .');
    const steps: Step[] = [];
    if (peek('..')) fail('recursive descent ..');
    pos++;
    let first = true;
    for (;;) {
      if (first) {
        first = false;
        const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(pos));
        if (ident) {
          pos += ident[0].length;
          steps.push({ op: 'field', name: ident[0] });
        } else if (peek('"')) {
          steps.push({ op: 'field', name: readString() });
        } else if (peek('[')) {
          readBrackets(steps);
        }
        if (peek('?') && steps.length > 0) pos++;
        continue;
      }
      if (peek('[')) {
        readBrackets(steps);
        continue;
      }
      if (peek('.') && !peek('..')) {
        pos++;
        const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(pos));
        if (ident) {
          pos += ident[0].length;
          steps.push({ op: 'field', name: ident[0] });
        } else if (peek('"')) {
          steps.push({ op: 'field', name: readString() });
        } else if (peek('[')) {
          readBrackets(steps);
        } else {
          fail('expected a field name after .');
        }
        if (peek('?')) pos++;
        continue;
      }
      break;
    }
    return steps;
  };
  const readTerm = (): Step[] => {
    ws();
    if (peek('select') && /^select\s*\(/.test(src.slice(pos))) {
      pos = src.indexOf('(', pos) + 1;
      const path = readPath();
      ws();
      let negate = false;
      if (peek('==')) pos += 2;
      else if (peek('!=')) {
        pos += 2;
        negate = true;
      } else fail('select() needs <path> == <literal> or <path> != <literal>');
      const literal = readLiteral();
      ws();
      if (!peek(')')) fail('expected ) closing select (and/or and functions are not supported)');
      pos++;
      return [{ op: 'select', path, negate, literal }];
    }
    if (!peek('.')) fail('expected a path or select(...)');
    return readPath();
  };
  const steps: Step[] = [...readTerm()];
  for (;;) {
    ws();
    if (pos >= src.length) break;
    if (!peek('|')) fail('expected | or the end of the expression');
    pos++;
    steps.push(...readTerm());
  }
  return steps;
}

interface Located {
  value: Json;
  tokens: Array<string | number>;
  exists: boolean;
}

function evaluate(steps: readonly Step[], start: Located[]): Located[] {
  let current = start;
  for (const step of steps) {
    const next: Located[] = [];
    for (const at of current) {
      const { value, tokens } = at;
      switch (step.op) {
        case 'field':
          // jq: .a on null is null (the path still exists); on a non-object it is an error (no path).
          if (isRecord(value)) {
            const exists = Object.hasOwn(value, step.name);
            next.push({ value: exists ? value[step.name] : null, tokens: [...tokens, step.name], exists });
          } else if (value === null || value === undefined) {
            next.push({ value: null, tokens: [...tokens, step.name], exists: false });
          }
          break;
        case 'index':
          if (Array.isArray(value)) {
            const i = step.index < 0 ? value.length + step.index : step.index;
            const exists = i >= 0 && i < value.length;
            if (i >= 0) next.push({ value: exists ? value[i] : null, tokens: [...tokens, i], exists });
          } else if (value === null || value === undefined) {
            next.push({ value: null, tokens: [...tokens, step.index], exists: false });
          }
          break;
        case 'iterate':
          if (Array.isArray(value)) value.forEach((v, i) => next.push({ value: v, tokens: [...tokens, i], exists: true }));
          else if (isRecord(value))
            for (const [k, v] of Object.entries(value)) next.push({ value: v, tokens: [...tokens, k], exists: true });
          break;
        case 'select': {
          const matches = evaluate(step.path, [{ value, tokens: [], exists: at.exists }]).some((r) => {
            const equal = JSON.stringify(r.exists ? r.value : null) === JSON.stringify(step.literal);
            return step.negate ? !equal : equal;
          });
          if (matches) next.push(at);
          break;
        }
      }
    }
    current = next;
  }
  return current;
}

/** Compiles one jq path expression of the supported subset; throws IgnoreDifferencesError otherwise. */
export function compileJqPath(expression: string, path = 'jqPathExpressions'): JqPath {
  let steps: Step[];
  try {
    steps = parseJq(expression);
  } catch (error) {
    if (error instanceof JqSyntaxError) throw new IgnoreDifferencesError(path, expression, error.message);
    throw new IgnoreDifferencesError(path, expression, `cannot parse: ${(error as Error).message}`);
  }
  return {
    expression,
    pointers(doc) {
      const seen = new Set<string>();
      for (const r of evaluate(steps, [{ value: doc, tokens: [], exists: true }])) {
        if (r.tokens.length > 0) seen.add(formatPointer(r.tokens));
      }
      return [...seen];
    },
  };
}

// ---- managedFields (fieldsV1) ------------------------------------------------------------------------

/** One entry of `metadata.managedFields`. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

/** The `metadata.managedFields` entries of an object (empty when it has none). */
export function managedFieldsOf(object: KubeObject | Record<string, unknown>): ManagedFieldsEntry[] {
  const metadata = (object as Record<string, unknown>)['metadata'];
  const entries = isRecord(metadata) ? metadata['managedFields'] : undefined;
  return Array.isArray(entries) ? entries.filter(isRecord).map((e) => e as ManagedFieldsEntry) : [];
}

function sameKeyValue(a: unknown, b: unknown): boolean {
  return a === b || (a !== undefined && b !== undefined && String(a) === String(b));
}

/**
 * The index in `list` of the item a `k:{...}` key names. The server builds the key after defaulting
 * (`k:{"containerPort":80,"protocol":"TCP"}`) while Git usually omits the defaulted field, so a key field
 * absent from an item matches as long as one key field is present; an exact match wins.
 */
export function indexByKey(list: unknown, keyJson: string): number {
  if (!Array.isArray(list)) return -1;
  let key: Record<string, unknown>;
  try {
    key = JSON.parse(keyJson) as Record<string, unknown>;
  } catch {
    return -1;
  }
  const entries = Object.entries(key);
  const exact = list.findIndex((item) => isRecord(item) && entries.every(([k, v]) => sameKeyValue(item[k], v)));
  if (exact >= 0) return exact;
  return list.findIndex(
    (item) =>
      isRecord(item) &&
      entries.some(([k]) => item[k] !== undefined) &&
      entries.every(([k, v]) => item[k] === undefined || sameKeyValue(item[k], v)),
  );
}

function indexByValue(list: unknown, valueJson: string): number {
  if (!Array.isArray(list)) return -1;
  try {
    const wanted = JSON.stringify(JSON.parse(valueJson));
    return list.findIndex((item) => JSON.stringify(item) === wanted);
  } catch {
    return -1;
  }
}

/** What {@link walkFieldsV1} reports for each owned field. */
export interface OwnedField {
  /** Pointer into the target object; undefined when the path does not resolve there. */
  pointer: string | undefined;
  /** Human path (`spec.ports[{"port":80}]`), for messages. */
  label: string;
}

/**
 * Walks a fieldsV1 set against `target`: every owned leaf (a node with no children besides ".") that
 * resolves is reported with its pointer; a node that does not resolve is reported once with pointer
 * undefined (its children are not visited). Top-level `status`, `apiVersion` and `kind` are skipped.
 */
export function walkFieldsV1(fields: Record<string, unknown>, target: unknown, visit: (field: OwnedField) => void): void {
  const walk = (set: Record<string, unknown>, node: unknown, tokens: Array<string | number>, label: string): void => {
    for (const [token, child] of Object.entries(set)) {
      if (token === '.') continue;
      const kind = token.slice(0, 2);
      const rest = token.slice(2);
      let step: string | number | undefined;
      let next: unknown;
      let childLabel: string;
      if (kind === 'f:') {
        if (tokens.length === 0 && (rest === 'status' || rest === 'apiVersion' || rest === 'kind')) continue;
        if (isRecord(node) && Object.hasOwn(node, rest)) {
          step = rest;
          next = node[rest];
        }
        childLabel = label ? `${label}.${rest}` : rest;
      } else if (kind === 'k:' || kind === 'v:') {
        const i = kind === 'k:' ? indexByKey(node, rest) : indexByValue(node, rest);
        if (i >= 0) {
          step = i;
          next = (node as unknown[])[i];
        }
        childLabel = `${label}[${rest}]`;
      } else if (kind === 'i:') {
        const i = Number(rest);
        if (Array.isArray(node) && i < node.length) {
          step = i;
          next = node[i];
        }
        childLabel = `${label}[${rest}]`;
      } else {
        continue;
      }
      if (step === undefined || next === undefined || next === null) {
        visit({ pointer: undefined, label: childLabel });
        continue;
      }
      const childTokens = [...tokens, step];
      const children = isRecord(child) ? Object.keys(child).filter((k) => k !== '.') : [];
      if (children.length === 0) visit({ pointer: formatPointer(childTokens), label: childLabel });
      else walk(child as Record<string, unknown>, next, childTokens, childLabel);
    }
  };
  walk(fields, target, [], '');
}

/**
 * Pointers (into `target`) of the fields `managers` own per `managedFieldsSource`'s managedFields
 * (default: `target`'s own). Used with the live object as source for both sides of a comparison.
 */
export function managedFieldsPointers(
  target: unknown,
  managers: readonly string[],
  managedFieldsSource: KubeObject | Record<string, unknown> = target as Record<string, unknown>,
): string[] {
  const wanted = new Set(managers);
  const out = new Set<string>();
  for (const entry of managedFieldsOf(managedFieldsSource)) {
    if (entry.manager === undefined || !wanted.has(entry.manager) || !isRecord(entry.fieldsV1)) continue;
    walkFieldsV1(entry.fieldsV1, target, (f) => {
      if (f.pointer !== undefined) out.add(f.pointer);
    });
  }
  return [...out];
}

// ---- rules -------------------------------------------------------------------------------------------

interface CompiledRule {
  readonly group: RegExp;
  readonly kind: RegExp;
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  readonly jsonPointers: readonly string[];
  readonly jq: readonly JqPath[];
  readonly managers: readonly string[];
}

/** `spec.ignoreDifferences` compiled by {@link compileIgnoreDifferences}; reuse it for every object of the app. */
export interface CompiledIgnoreRules {
  readonly rules: readonly CompiledRule[];
  /** True when there is no rule (nothing is ever ignored). */
  readonly empty: boolean;
}

function glob(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${escaped}$`);
}

/**
 * Compiles an app's `spec.ignoreDifferences`. Throws IgnoreDifferencesError (FERRY_ERR_APP_INVALID) naming
 * `spec.ignoreDifferences[i].jqPathExpressions[j]`, the expression and the unsupported part, or a JSON
 * pointer that does not start with '/'.
 */
export function compileIgnoreDifferences(rules: readonly IgnoreDifference[] | undefined): CompiledIgnoreRules {
  const compiled = (rules ?? []).map((rule, i): CompiledRule => {
    const at = `spec.ignoreDifferences[${i}]`;
    for (const [j, pointer] of (rule.jsonPointers ?? []).entries()) {
      if (pointer !== '' && !pointer.startsWith('/'))
        throw new IgnoreDifferencesError(`${at}.jsonPointers[${j}]`, pointer, 'a JSON pointer must start with /');
    }
    return {
      group: glob(rule.group ?? ''),
      kind: glob(rule.kind),
      name: rule.name || undefined,
      namespace: rule.namespace || undefined,
      jsonPointers: rule.jsonPointers ?? [],
      jq: (rule.jqPathExpressions ?? []).map((e, j) => compileJqPath(e, `${at}.jqPathExpressions[${j}]`)),
      managers: rule.managedFieldsManagers ?? [],
    };
  });
  return { rules: compiled, empty: compiled.length === 0 };
}

function matches(rule: CompiledRule, object: KubeObject): boolean {
  return (
    rule.group.test(groupOf(object.apiVersion)) &&
    rule.kind.test(object.kind) &&
    (rule.name === undefined || rule.name === object.metadata?.name) &&
    (rule.namespace === undefined || rule.namespace === (object.metadata?.namespace ?? ''))
  );
}

export interface IgnoredPointersOptions {
  /** Whose managedFields name the `managedFieldsManagers` fields (default `object` itself): pass the live object when `object` is the desired one. */
  managedFieldsOf?: KubeObject;
}

/**
 * The concrete RFC 6901 pointers the rules ignore in `object`: every matching rule's jsonPointers (as
 * written), the paths its jq expressions yield in `object`, and the fields its managedFieldsManagers own
 * (from `object`'s managedFields, or `options.managedFieldsOf`'s). Sorted, without duplicates.
 */
export function ignoredPointers(compiled: CompiledIgnoreRules, object: KubeObject, options: IgnoredPointersOptions = {}): string[] {
  if (compiled.empty) return [];
  const out = new Set<string>();
  for (const rule of compiled.rules) {
    if (!matches(rule, object)) continue;
    for (const p of rule.jsonPointers) out.add(p);
    for (const jq of rule.jq) for (const p of jq.pointers(object)) out.add(p);
    if (rule.managers.length > 0) {
      for (const p of managedFieldsPointers(object, rule.managers, options.managedFieldsOf ?? object)) out.add(p);
    }
  }
  return [...out].sort();
}

/**
 * Both sides of a comparison without their ignored fields (Argo CD normalises each object on its own;
 * managedFieldsManagers fields come from the live object's managedFields for both).
 */
export function withoutIgnored<T extends KubeObject | undefined>(
  compiled: CompiledIgnoreRules,
  desired: KubeObject,
  live: T,
): { desired: KubeObject; live: T } {
  if (compiled.empty) return { desired, live };
  const desiredPointers = ignoredPointers(compiled, desired, live ? { managedFieldsOf: live } : {});
  const livePointers = live ? ignoredPointers(compiled, live) : [];
  return {
    desired: removePointers(desired, desiredPointers),
    live: (live ? removePointers(live, livePointers) : live) as T,
  };
}

/**
 * What a RespectIgnoreDifferences apply sends (Argo CD's normalizeTargetResources): `desired` with its
 * ignored fields replaced by the live values (removed where live has none). Without a live object, `desired`.
 */
export function respectIgnoredFields(compiled: CompiledIgnoreRules, desired: KubeObject, live: KubeObject | undefined): KubeObject {
  if (!live || compiled.empty) return desired;
  const stripped = removePointers(desired, ignoredPointers(compiled, desired, { managedFieldsOf: live }));
  const livePointers = ignoredPointers(compiled, live).filter((p) => getPointer(live, p).found);
  return copyPointers(live, stripped, livePointers);
}
