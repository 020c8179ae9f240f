import { LineCounter, parseAllDocuments, parseDocument, isMap, isSeq } from 'yaml';
import type { Node as YamlNode, Document as YamlDocument, Tags } from 'yaml';
import type { ManifestProblem } from './errors.js';

/** A Kubernetes object as rendered: apiVersion, kind and metadata are guaranteed present. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; generateName?: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** Where a rendered object came from. */
export interface ObjectSource {
  /** File path relative to the repository root (POSIX separators). For Kustomize output: the kustomization file. */
  readonly file: string;
  /** 1-based line where the object starts in that file; 0 when a tool generated it (Kustomize). */
  readonly line: number;
}

/** One rendered object and its origin. */
export interface RenderedObject {
  readonly object: KubeObject;
  readonly source: ObjectSource;
}

/** A manifest file's text, ready to parse. */
export interface ManifestText {
  /** Path relative to the repository root, used in problems and sources. */
  readonly file: string;
  /** `json` files hold exactly one JSON value; `yaml` files hold any number of YAML documents. */
  readonly format: 'yaml' | 'json';
  readonly content: string;
}

/** The outcome of parsing: objects in file then document order, and every problem found. */
export interface ParsedManifests {
  readonly objects: RenderedObject[];
  readonly problems: ManifestProblem[];
}

/**
 * YAML as Kubernetes reads it (sigs.k8s.io/yaml over go-yaml v2): YAML 1.1, so `0644` is octal
 * (420), `yes`/`on` are booleans and `<<` merge keys work; but timestamps stay strings, as they do
 * when go-yaml decodes into an untyped value.
 */
const YAML_OPTIONS = {
  version: '1.1',
  prettyErrors: false,
  uniqueKeys: true,
  customTags: (tags: Tags): Tags => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp'),
} as const;

/** Aliases expanded per document at most (guards against "billion laughs" documents). */
const MAX_ALIAS_COUNT = 100;

/**
 * Parses manifest texts into Kubernetes objects: multi-document YAML, single-value JSON, empty
 * documents skipped, `*List` kinds with an `items` array expanded into their items. Each document
 * (and each List item) must be a mapping with a string `apiVersion`, `kind` and `metadata.name`
 * (or `metadata.generateName`); anything else is a problem. All problems are collected.
 */
export function parseManifests(texts: readonly ManifestText[]): ParsedManifests {
  const objects: RenderedObject[] = [];
  const problems: ManifestProblem[] = [];
  for (const text of texts) {
    const content = text.content.charCodeAt(0) === 0xfeff ? text.content.slice(1) : text.content;
    if (text.format === 'json') parseJson(text.file, content, objects, problems);
    else parseYaml(text.file, content, objects, problems);
  }
  return { objects, problems };
}

function parseYaml(file: string, content: string, objects: RenderedObject[], problems: ManifestProblem[]): void {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(content, { ...YAML_OPTIONS, lineCounter });
  const lineOf = (offset: number): number => lineCounter.linePos(offset).line;
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        problems.push({ file, line: lineOf(error.pos[0]), message: firstLine(error.message) });
      }
      continue;
    }
    if (doc.contents === null) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      problems.push({ file, line: lineOf(doc.contents.range[0]), message: firstLine(errorMessage(error)) });
      continue;
    }
    if (value === null || value === undefined) continue;
    const startLine = lineOf(doc.contents.range[0]);
    const itemLine = (index: number): number => {
      const items = isMap(doc.contents) ? doc.contents.get('items', true) : undefined;
      const node = isSeq(items) ? (items.items[index] as YamlNode | undefined) : undefined;
      return node?.range ? lineOf(node.range[0]) : startLine;
    };
    addObject(file, value, startLine, itemLine, objects, problems);
  }
}

function parseJson(file: string, content: string, objects: RenderedObject[], problems: ManifestProblem[]): void {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (error) {
    const message = errorMessage(error);
    const position = /at position (\d+)/.exec(message);
    // An error at the very end (after trailing whitespace) belongs to the last line with content.
    const line =
      position?.[1] !== undefined
        ? lineAt(content, Math.min(Number(position[1]), content.trimEnd().length))
        : jsonErrorLineFallback(content);
    problems.push({ file, line, message: cleanJsonMessage(message) });
    return;
  }
  const startLine = lineAt(content, content.search(/\S/));
  let doc: YamlDocument | undefined;
  const itemLine = (index: number): number => {
    // Positions of List items come from a YAML parse of the same text (JSON is YAML); values come from JSON.parse.
    if (doc === undefined) doc = parseDocument(content, { prettyErrors: false });
    const items = isMap(doc.contents) ? doc.contents.get('items', true) : undefined;
    const node = isSeq(items) ? (items.items[index] as YamlNode | undefined) : undefined;
    return node?.range ? lineAt(content, node.range[0]) : startLine;
  };
  addObject(file, value, startLine, itemLine, objects, problems);
}

function addObject(
  file: string,
  value: unknown,
  line: number,
  itemLine: (index: number) => number,
  objects: RenderedObject[],
  problems: ManifestProblem[],
): void {
  if (!isPlainObject(value)) {
    problems.push({ file, line, message: `expected a Kubernetes object (a mapping), found ${describe(value)}` });
    return;
  }
  const kind = value['kind'];
  if (typeof kind === 'string' && kind.endsWith('List') && (Array.isArray(value['items']) || value['items'] === null)) {
    const items = (value['items'] as unknown[] | null) ?? [];
    items.forEach((item, index) => {
      const at = itemLine(index);
      if (!isPlainObject(item)) {
        problems.push({ file, line: at, message: `${kind} item ${index}: expected a Kubernetes object, found ${describe(item)}` });
        return;
      }
      const problem = checkObject(item);
      if (problem !== undefined) problems.push({ file, line: at, message: `${kind} item ${index}: ${problem}` });
      else objects.push({ object: item as KubeObject, source: { file, line: at } });
    });
    return;
  }
  const problem = checkObject(value);
  if (problem !== undefined) problems.push({ file, line, message: problem });
  else objects.push({ object: value as KubeObject, source: { file, line } });
}

/** Returns what makes `value` not a Kubernetes object, or undefined when it is one. */
function checkObject(value: Record<string, unknown>): string | undefined {
  const missing: string[] = [];
  if (!nonEmptyString(value['apiVersion'])) missing.push('apiVersion');
  if (!nonEmptyString(value['kind'])) missing.push('kind');
  const metadata = value['metadata'];
  if (!isPlainObject(metadata) || (!nonEmptyString(metadata['name']) && !nonEmptyString(metadata['generateName']))) {
    missing.push('metadata.name');
  }
  if (missing.length === 0) return undefined;
  return `not a Kubernetes object: missing ${missing.join(', ')}`;
}

function nonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return 'a string';
  return `a ${typeof value}`;
}

/** 1-based line of a character offset. */
function lineAt(content: string, offset: number): number {
  if (offset <= 0) return 1;
  let line = 1;
  const end = Math.min(offset, content.length);
  for (let i = 0; i < end; i++) if (content.charCodeAt(i) === 10) line++;
  return line;
}

/** V8 reports "Unexpected end of JSON input" without a position: that is the last line. */
function jsonErrorLineFallback(content: string): number {
  return lineAt(content, content.trimEnd().length);
}

function cleanJsonMessage(message: string): string {
  // V8 quotes a window of the input (`"…" is not valid JSON`); keep the problem, drop the echo.
  const cleaned = message.replace(/,\s*".*" is not valid JSON$/s, '').replace(/\s+in JSON at position \d+.*$/s, '');
  return firstLine(cleaned);
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').trim();
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
