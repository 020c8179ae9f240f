/**
 * Offline health of the objects in manifest files: what `ferry health -f <file or directory>`
 * prints. The one module of the domain that reads files.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { ErrorCode, FerryError } from '@ferry/contracts';
import { extname, join } from 'node:path';
import { isMap, isSeq, LineCounter, parseAllDocuments, type Node as YamlNode } from 'yaml';
import { assessHealth } from './assess.js';
import { isKubeObject, type KubeObject } from './fields.js';
import type { HealthStatus } from './health-status.js';

/** The status of an object whose kind has no health check (Argo CD shows no health for it). */
export const NoHealth = 'None';
export type NoHealth = typeof NoHealth;

/** One object found in a manifest file, with the health Ferry assigns to it. */
export interface FileHealth {
  /** The file, as the path given or joined under the directory given. */
  readonly file: string;
  /** 1-based line where the object starts in the file (absent when unknown). */
  readonly line?: number;
  readonly kind: string;
  readonly apiVersion: string;
  readonly namespace?: string;
  /** `metadata.name` (or `metadata.generateName`, or "" when neither is set). */
  readonly name: string;
  /** The assessed health, or `None` when the kind has no health check. */
  readonly status: HealthStatus | NoHealth;
  readonly message?: string;
}

/** A manifest file does not parse. Code FERRY_ERR_HEALTH_PARSE. */
export class HealthParseError extends FerryError {
  readonly file: string;
  /** 1-based line of the problem, when known. */
  readonly line: number | undefined;
  /** 1-based column of the problem, when known. */
  readonly column: number | undefined;
  /** The parser's description of the problem, without the location. */
  readonly problem: string;

  constructor(file: string, line: number | undefined, column: number | undefined, problem: string, options?: { cause?: unknown }) {
    const where = line === undefined ? file : column === undefined ? `${file}:${line}` : `${file}:${line}:${column}`;
    super(ErrorCode.HealthParse, `${where}: ${problem}`, options);
    this.file = file;
    this.line = line;
    this.column = column;
    this.problem = problem;
  }
}

/** A path given cannot be read. Code FERRY_ERR_HEALTH_INPUT_UNREADABLE. */
export class HealthInputError extends FerryError {
  readonly path: string;

  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super(ErrorCode.HealthInputUnreadable, `cannot read ${path}: ${reason}`, options);
    this.path = path;
  }
}

const manifestExtensions: ReadonlySet<string> = new Set(['.yaml', '.yml', '.json']);

/**
 * Finds every Kubernetes object in `paths` and assesses its health.
 *
 * A path is a file (read whatever its extension) or a directory (walked recursively for
 * `.yaml`, `.yml` and `.json` files, in name order, skipping entries whose name starts with a dot).
 * A file holds one or more YAML documents (or one JSON document); a `…List` object with `items`
 * is expanded into its items. Documents that are not Kubernetes objects (no string `apiVersion`
 * and `kind`: empty documents, Helm values, plain data) are skipped.
 *
 * @throws HealthInputError when a path cannot be read.
 * @throws HealthParseError for the first document that does not parse, naming file and line.
 */
export async function assessFiles(paths: readonly string[]): Promise<FileHealth[]> {
  const files: string[] = [];
  for (const path of paths) await collect(path, true, files);
  const results: FileHealth[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new HealthInputError(file, reasonOf(error), { cause: error });
    }
    for (const found of parseManifests(file, text)) results.push(toFileHealth(file, found));
  }
  return results;
}

async function collect(path: string, explicit: boolean, out: string[]): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new HealthInputError(path, reasonOf(error), { cause: error });
  }
  if (info.isDirectory()) {
    let entries: string[];
    try {
      entries = (await readdir(path)).sort();
    } catch (error) {
      throw new HealthInputError(path, reasonOf(error), { cause: error });
    }
    for (const entry of entries) {
      if (entry.startsWith('.')) continue;
      await collect(join(path, entry), false, out);
    }
  } else if (info.isFile()) {
    if (explicit || manifestExtensions.has(extname(path).toLowerCase())) out.push(path);
  } else if (explicit) {
    throw new HealthInputError(path, 'not a file or directory');
  }
}

function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}

/** An object found in a file, with the line it starts on. */
export interface ManifestObject {
  readonly object: KubeObject;
  readonly line: number | undefined;
}

/**
 * Parses the text of one manifest file into Kubernetes objects (multi-document YAML, or JSON;
 * duplicate keys allowed, the last one wins, as Kubernetes' own decoder does).
 *
 * @throws HealthParseError naming `file` and the line of the first problem.
 */
export function parseManifests(file: string, text: string): ManifestObject[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { uniqueKeys: false, lineCounter });
  if (!Array.isArray(documents)) return []; // an empty stream
  const found: ManifestObject[] = [];
  for (const document of documents) {
    const error = document.errors[0];
    if (error !== undefined) {
      const position = error.linePos?.[0] ?? lineCounter.linePos(error.pos[0]);
      throw new HealthParseError(file, position.line, position.col, problemOf(error.message), { cause: error });
    }
    let value: unknown;
    try {
      value = document.toJS();
    } catch (cause) {
      const start = document.contents?.range[0];
      throw new HealthParseError(
        file,
        start === undefined ? undefined : lineCounter.linePos(start).line,
        undefined,
        cause instanceof Error ? cause.message : String(cause),
        { cause },
      );
    }
    const node = document.contents ?? undefined;
    expand(value, node, lineCounter, found);
  }
  return found;
}

function expand(value: unknown, node: YamlNode | undefined, lineCounter: LineCounter, out: ManifestObject[]): void {
  if (!isKubeObject(value) || typeof value['apiVersion'] !== 'string' || typeof value['kind'] !== 'string') return;
  const start = node?.range?.[0];
  const line = start === undefined ? undefined : lineCounter.linePos(start).line;
  const items = value['items'];
  if (value['kind'].endsWith('List') && Array.isArray(items)) {
    const itemsNode = isMap(node) ? node.get('items', true) : undefined;
    items.forEach((item: unknown, index) => {
      const itemNode = isSeq(itemsNode) ? itemsNode.items[index] : undefined;
      expand(item, isYamlNode(itemNode) ? itemNode : undefined, lineCounter, out);
    });
    return;
  }
  out.push({ object: value, line });
}

function isYamlNode(value: unknown): value is YamlNode {
  return typeof value === 'object' && value !== null && 'range' in value;
}

/** The parser's message without its location suffix and source excerpt (the error carries them). */
function problemOf(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?\s*$/, '').trim();
}

function toFileHealth(file: string, found: ManifestObject): FileHealth {
  const { object, line } = found;
  const metadata = isKubeObject(object['metadata']) ? object['metadata'] : {};
  const name = stringOr(metadata['name']) ?? stringOr(metadata['generateName']) ?? '';
  const namespace = stringOr(metadata['namespace']);
  const assessment = assessHealth(object);
  return {
    file,
    ...(line === undefined ? {} : { line }),
    kind: String(object['kind']),
    apiVersion: String(object['apiVersion']),
    ...(namespace === undefined ? {} : { namespace }),
    name,
    status: assessment?.status ?? NoHealth,
    ...(assessment?.message === undefined ? {} : { message: assessment.message }),
  };
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
