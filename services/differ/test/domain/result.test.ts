import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResourceComparison } from '@ferry/contracts';
import {
  comparedRecord,
  driftMessageId,
  failedRecord,
  parseArtifact,
  revisionMessageId,
  statusesHash,
  type RecordContext,
} from '../../src/domain/result.js';

const r = (name: string, status: ResourceComparison['status'], requiresPruning?: boolean): ResourceComparison => ({
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  namespace: 'web',
  name,
  status,
  ...(requiresPruning ? { requiresPruning } : {}),
});

test('the statuses hash ignores resource order but not a status, a pruning mark or the app status', () => {
  const a = statusesHash('OutOfSync', [r('a', 'Synced'), r('b', 'OutOfSync')]);
  assert.match(a, /^[0-9a-f]{12}$/);
  assert.equal(statusesHash('OutOfSync', [r('b', 'OutOfSync'), r('a', 'Synced')]), a);
  assert.notEqual(statusesHash('OutOfSync', [r('a', 'OutOfSync'), r('b', 'OutOfSync')]), a);
  assert.notEqual(statusesHash('OutOfSync', [r('a', 'Synced'), r('b', 'OutOfSync', true)]), a);
  assert.notEqual(statusesHash('Unknown', [r('a', 'Synced'), r('b', 'OutOfSync')]), a);
});

test('message ids: revision results carry the request id of a sync intent, drift results their sequence', () => {
  assert.equal(revisionMessageId('web', 'web.abc.123', 'h'), 'diff.computed:web:web.abc.123:h');
  assert.equal(revisionMessageId('web', 'web.abc.123', 'h', 'req-1'), 'diff.computed:web:web.abc.123:h:req-1');
  assert.equal(driftMessageId('web', 'web.abc.123', 'h', 3), 'diff.computed:web:web.abc.123:h:drift-3');
});

const ctx = (previous?: RecordContext['previous']): RecordContext => ({
  app: 'web',
  revision: 'a'.repeat(40),
  artifactKey: 'k1',
  now: '2026-01-01T00:00:00.000Z',
  previous,
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  detectedAt: '2025-12-31T23:59:59.000Z',
});

test('a failed comparison is Unknown with a ComparisonError naming the code, keeping the last resources as Unknown', () => {
  const good = comparedRecord(ctx(), 'Synced', [r('a', 'Synced')], 2);
  assert.deepEqual(good.conditions, []);
  assert.equal(good.driftSequence, 2);
  assert.equal(good.traceparent, ctx().traceparent);
  const bad = failedRecord(
    { ...ctx(good), now: '2026-01-01T00:01:00.000Z' },
    { code: 'FERRY_ERR_KUBE_REQUEST', message: 'connection refused' },
    2,
  );
  assert.equal(bad.status, 'Unknown');
  assert.deepEqual(
    bad.resources.map((x) => x.status),
    ['Unknown'],
  );
  assert.deepEqual(bad.conditions, [
    { type: 'ComparisonError', message: 'FERRY_ERR_KUBE_REQUEST: connection refused', lastTransitionTime: '2026-01-01T00:01:00.000Z' },
  ]);
  // The same error again keeps its transition time; a success clears it.
  const again = failedRecord(
    { ...ctx(bad), now: '2026-01-01T00:02:00.000Z' },
    { code: 'FERRY_ERR_KUBE_REQUEST', message: 'connection refused' },
    2,
  );
  assert.equal(again.conditions[0]?.lastTransitionTime, '2026-01-01T00:01:00.000Z');
  assert.deepEqual(comparedRecord(ctx(again), 'Synced', [r('a', 'Synced')], 2).conditions, []);
});

test('an artifact is decoded at the edge: missing and malformed ones are typed errors', () => {
  const objects = parseArtifact('k', {
    app: 'web',
    revision: 'x',
    objects: [{ object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }, source: { file: 'a.yaml', line: 1 } }],
  });
  assert.equal(objects[0]?.kind, 'ConfigMap');
  assert.throws(() => parseArtifact('k', undefined), { code: 'FERRY_ERR_DIFF_ARTIFACT_MISSING' });
  assert.throws(() => parseArtifact('k', { objects: 'nope' }), { code: 'FERRY_ERR_DIFF_ARTIFACT_INVALID' });
  assert.throws(() => parseArtifact('k', { objects: [{ object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} } }] }), {
    code: 'FERRY_ERR_DIFF_ARTIFACT_INVALID',
    message: /objects\[0\] needs apiVersion, kind and metadata.name/,
  });
});
