import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseApplication } from '@ferry/contracts';
import { composeStatus, invalidSpecStatus, toStatusRecords, type RawStatusRecords } from '../../src/index.js';

const dir = new URL('./fixtures/compose-status/', import.meta.url);
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('composeStatus (one YAML fixture per case: records in, status out)', () => {
  it('has fixtures to run', () => {
    assert.ok(fixtures.length >= 5, `only ${fixtures.length} fixtures found in ${dir.pathname}`);
  });

  for (const file of fixtures) {
    it(`composes the status of ${file.replace(/\.yaml$/, '')} as the fixture expects`, () => {
      const fixture = parse(readFileSync(new URL(file, dir), 'utf8')) as { app: unknown; records: RawStatusRecords; expected: unknown };
      const app = parseApplication(fixture.app);
      const status = composeStatus(app, toStatusRecords(fixture.records ?? {}));
      assert.deepEqual(JSON.parse(JSON.stringify(status)), fixture.expected);
    });
  }

  it('keeps a failed source condition naming the file and line, and reports sync Unknown', () => {
    const fixture = parse(readFileSync(new URL('source-failed.yaml', dir), 'utf8')) as { app: unknown; records: RawStatusRecords };
    const status = composeStatus(parseApplication(fixture.app), toStatusRecords(fixture.records));
    assert.equal(status.sync.status, 'Unknown');
    assert.equal(status.conditions.length, 1);
    assert.equal(status.conditions[0]?.type, 'ComparisonError');
    assert.match(status.conditions[0]?.message ?? '', /web\/deploy\.yaml:7/);
  });

  it('does not share arrays with the records it was given', () => {
    const fixture = parse(readFileSync(new URL('synced-healthy.yaml', dir), 'utf8')) as { app: unknown; records: RawStatusRecords };
    const records = toStatusRecords(fixture.records);
    const status = composeStatus(parseApplication(fixture.app), records);
    status.history.pop();
    status.resources.pop();
    assert.equal(records.operation?.history.length, 1);
    assert.equal(records.comparison?.resources.length, 3);
  });
});

describe('invalidSpecStatus', () => {
  it('reports an InvalidSpecError condition with the message and sync Unknown', () => {
    const now = new Date('2025-02-02T00:00:00.000Z');
    const status = invalidSpecStatus('spec.source.helm is not supported', {}, now);
    assert.equal(status.sync.status, 'Unknown');
    assert.deepEqual(status.conditions, [
      { type: 'InvalidSpecError', message: 'spec.source.helm is not supported', lastTransitionTime: now.toISOString() },
    ]);
  });
});
