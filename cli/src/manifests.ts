/**
 * Reading Application manifests for `ferry app create -f`: YAML or JSON, one or several documents
 * per file, each validated with the contracts' `parseApplication`, every problem located on the
 * line of the field it names.
 */
import { readFile } from 'node:fs/promises';
import { ApplicationInvalidError, ErrorCode, parseApplication, type Application, type ApplicationProblem } from '@ferry/contracts';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node as YamlNode } from 'yaml';
import { CliError } from './errors.js';

/** One document of a manifest file. */
export interface ManifestDocument {
  readonly file: string;
  /** 0-based index of the document in its file. */
  readonly index: number;
  /** 1-based line where the document's content starts. */
  readonly line: number;
  readonly value: unknown;
  /** 1-based line of a dotted field path (`spec.source.helm`, `spec.syncPolicy.syncOptions[0]`), or the nearest parent's. */
  readonly locate: (path: string) => number | undefined;
}

/** A document that validated, ready to send. */
export interface ValidManifest extends ManifestDocument {
  readonly application: Application;
}

/** A located problem: `file:line: path message`. */
export interface LocatedProblem extends ApplicationProblem {
  readonly file: string;
}

export function formatProblem(p: LocatedProblem): string {
  return `${p.file}${p.line ? `:${p.line}` : ''}: ${p.path} ${p.message}`;
}

/**
 * Reads and parses one file into its non-empty documents.
 * @throws CliError FERRY_ERR_CLI_FILE_INVALID naming file and line when it cannot be read or parsed.
 */
export async function readManifestFile(file: string): Promise<ManifestDocument[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory (give a file)' : (error as Error).message;
    throw new CliError(ErrorCode.CliFileInvalid, `cannot read ${file}: ${reason}`, { cause: error });
  }
  return parseManifestText(file, text);
}

/** Parses manifest text (YAML 1.2, so JSON too). @throws CliError FERRY_ERR_CLI_FILE_INVALID */
export function parseManifestText(file: string, text: string): ManifestDocument[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  if (!Array.isArray(documents)) return [];
  const out: ManifestDocument[] = [];
  documents.forEach((doc, index) => {
    const error = doc.errors[0];
    if (error) {
      const pos = lineCounter.linePos(error.pos[0]);
      const message = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?\s*$/, '');
      throw new CliError(ErrorCode.CliFileInvalid, `${file}:${pos.line}:${pos.col}: ${message}`, { cause: error });
    }
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return; // empty document
    const value: unknown = doc.toJS();
    const start = doc.contents.range?.[0] ?? 0;
    out.push({ file, index, line: lineCounter.linePos(start).line, value, locate: (path) => locate(doc, lineCounter, path) });
  });
  return out;
}

/** Validates every document; returns the valid ones and every problem (of all documents). */
export function validateManifests(documents: readonly ManifestDocument[]): { valid: ValidManifest[]; problems: LocatedProblem[] } {
  const valid: ValidManifest[] = [];
  const problems: LocatedProblem[] = [];
  for (const doc of documents) {
    try {
      valid.push({ ...doc, application: parseApplication(doc.value, { file: doc.file, locate: doc.locate }) });
    } catch (error) {
      if (!(error instanceof ApplicationInvalidError)) throw error;
      problems.push(...error.problems.map((p) => ({ ...p, line: p.line ?? doc.line, file: doc.file })));
    }
  }
  return { valid, problems };
}

/** Splits `spec.syncPolicy.syncOptions[0]` into `['spec', 'syncPolicy', 'syncOptions', 0]`. */
export function pathSegments(path: string): Array<string | number> {
  if (path === '' || path === '(root)') return [];
  const segments: Array<string | number> = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[2] !== undefined) segments.push(Number(match[2]));
    else if (match[1] !== undefined) segments.push(match[1]);
  }
  return segments;
}

/** The line of a field (its key), or of the deepest parent that exists (a missing required field points at its parent). */
export function locate(doc: Document, lineCounter: LineCounter, path: string): number | undefined {
  let node: unknown = doc.contents;
  let position = (doc.contents as YamlNode | null)?.range?.[0];
  for (const segment of pathSegments(path)) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment));
      if (!pair) break;
      const key = pair.key as YamlNode | null;
      position = key?.range?.[0] ?? position;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as YamlNode | undefined;
      if (!item) break;
      position = item.range?.[0] ?? position;
      node = item;
    } else {
      break;
    }
  }
  return position === undefined ? undefined : lineCounter.linePos(position).line;
}
