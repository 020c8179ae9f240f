// Walks every row of Argo CD's health corpus (../shared/corpus/argo-health/expected.tsv) and checks
// that Ferry assigns the status Argo CD's own tests assert for that file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { assessHealth } from '../../src/domain/assess.js';

const corpusUrl = new URL('../../../../../shared/corpus/argo-health/', import.meta.url);
const corpusDir = fileURLToPath(corpusUrl);
const expectedPath = fileURLToPath(new URL('expected.tsv', corpusUrl));
const testdataUrl = new URL('testdata/', corpusUrl);

if (!existsSync(expectedPath)) {
  // Fail loudly: a missing corpus must not look like a passing suite.
  throw new Error(`Argo CD health corpus not found at ${corpusDir} (expected.tsv missing); it lives in ../shared/corpus/argo-health next to the repository`);
}

interface Row {
  readonly file: string;
  readonly kind: string;
  readonly expected: string;
  readonly source: string;
}

const [header, ...lines] = readFileSync(expectedPath, 'utf8').split('\n').filter((line) => line.trim() !== '');
const rows: Row[] = lines.map((line, index) => {
  const [file, kind, expected, source] = line.split('\t');
  if (file === undefined || kind === undefined || expected === undefined || source === undefined) {
    throw new Error(`expected.tsv line ${index + 2} does not have 4 tab-separated columns: ${JSON.stringify(line)}`);
  }
  return { file, kind, expected, source };
});

test('the corpus table has its documented columns and at least one row', () => {
  assert.equal(header, 'file\tkind\texpected_status\tsource');
  assert.ok(rows.length > 0);
});

test('every testdata file of the corpus has a row, so none goes unchecked', () => {
  const files = readdirSync(testdataUrl).filter((name) => name.endsWith('.yaml')).sort();
  assert.deepEqual(files, rows.map((row) => row.file).sort());
});

for (const row of rows) {
  test(row.file, () => {
    const object: unknown = parse(readFileSync(new URL(row.file, testdataUrl), 'utf8'), { uniqueKeys: false });
    assert.ok(typeof object === 'object' && object !== null, `${row.file} does not hold a mapping`);
    const { kind, apiVersion } = object as { kind?: unknown; apiVersion?: unknown };
    assert.equal(`${String(kind)} (${String(apiVersion)})`, row.kind, 'the file holds the kind the table names');
    const assessment = assessHealth(object);
    const actual = assessment === undefined ? '<nil>' : assessment.status;
    assert.equal(actual, row.expected, `${row.file}: Argo CD says ${row.expected} (${row.source}); Ferry says ${actual}${assessment?.message === undefined ? '' : ` (${assessment.message})`}`);
  });
}
