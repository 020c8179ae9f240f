/**
 * Typed reads from an untyped Kubernetes object (parsed YAML or JSON).
 *
 * Like Go's conversion of an unstructured object to its typed form, a missing or `null` field
 * reads as absent, and a field of the wrong type throws `FieldTypeError` naming the field, so a
 * malformed object is assessed as Unknown with a message instead of being guessed at.
 */

/** A Kubernetes object or a nested mapping in one, as parsed from YAML or JSON. */
export type KubeObject = Readonly<Record<string, unknown>>;

/** A field of an object does not have the type Kubernetes gives it. */
export class FieldTypeError extends Error {
  /** The field's path, dotted from the object's root (`.spec.replicas`). */
  readonly path: string;

  constructor(path: string, expected: string, actual: unknown) {
    super(`${path}: expected ${expected}, got ${describe(actual)}`);
    this.name = 'FieldTypeError';
    this.path = path;
  }
}

/** True for a plain mapping (not an array, not null). */
export function isKubeObject(value: unknown): value is KubeObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${String(value)}`;
}

function splitPath(path: string): string[] {
  return path.split('.').filter((part) => part.length > 0);
}

function read(root: KubeObject, path: string): unknown {
  let current: unknown = root;
  let walked = '';
  for (const part of splitPath(path)) {
    if (current === undefined || current === null) return undefined;
    if (!isKubeObject(current)) throw new FieldTypeError(walked || '.', 'a mapping', current);
    current = Object.hasOwn(current, part) ? current[part] : undefined;
    walked += `.${part}`;
  }
  return current === null ? undefined : current;
}

function normalise(path: string): string {
  return `.${splitPath(path).join('.')}`;
}

/** The string at `path`, or undefined when absent. */
export function getString(root: KubeObject, path: string): string | undefined {
  const value = read(root, path);
  if (value === undefined || typeof value === 'string') return value;
  throw new FieldTypeError(normalise(path), 'a string', value);
}

/** The integer at `path`, or undefined when absent. */
export function getInt(root: KubeObject, path: string): number | undefined {
  const value = read(root, path);
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw new FieldTypeError(normalise(path), 'an integer', value);
}

/** The boolean at `path`, or undefined when absent. */
export function getBool(root: KubeObject, path: string): boolean | undefined {
  const value = read(root, path);
  if (value === undefined || typeof value === 'boolean') return value;
  throw new FieldTypeError(normalise(path), 'a boolean', value);
}

/** The mapping at `path`, or undefined when absent. */
export function getObject(root: KubeObject, path: string): KubeObject | undefined {
  const value = read(root, path);
  if (value === undefined || isKubeObject(value)) return value;
  throw new FieldTypeError(normalise(path), 'a mapping', value);
}

/** The list of mappings at `path` (empty when absent). */
export function getObjectList(root: KubeObject, path: string): readonly KubeObject[] {
  const value = read(root, path);
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new FieldTypeError(normalise(path), 'a list', value);
  return value.map((item: unknown, index) => {
    if (isKubeObject(item)) return item;
    throw new FieldTypeError(`${normalise(path)}[${index}]`, 'a mapping', item);
  });
}

/** The list at `path` whatever its items (empty when absent). */
export function getList(root: KubeObject, path: string): readonly unknown[] {
  const value = read(root, path);
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  throw new FieldTypeError(normalise(path), 'a list', value);
}

/** A string-to-string map such as `.metadata.annotations` (empty when absent). */
export function getStringMap(root: KubeObject, path: string): Readonly<Record<string, string>> {
  const value = getObject(root, path);
  if (value === undefined) return {};
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === null) continue;
    if (typeof item !== 'string') throw new FieldTypeError(`${normalise(path)}[${JSON.stringify(key)}]`, 'a string', item);
    result[key] = item;
  }
  return result;
}
