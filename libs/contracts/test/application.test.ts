import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ApplicationInvalidError, ErrorCode, isAutomated, parseApplication, syncOption } from '@ferry/contracts';

const dir = new URL('./fixtures/applications/', import.meta.url);

for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
  const text = readFileSync(new URL(file, dir), 'utf8');
  const expectation = /^# expect: (.*)$/m.exec(text)?.[1] ?? '';
  test(`${file}: ${expectation === 'valid' ? 'is accepted' : `is rejected with "${expectation}"`}`, () => {
    const manifest: unknown = parse(text);
    if (expectation === 'valid') {
      const app = parseApplication(manifest);
      assert.equal(app.kind, 'Application');
      return;
    }
    assert.throws(
      () => parseApplication(manifest, { file }),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationInvalidError);
        assert.equal(error.code, ErrorCode.AppInvalid);
        assert.ok(
          error.problems.some((p) => `${p.path} ${p.message}`.includes(expectation)),
          `expected a problem containing "${expectation}", got ${JSON.stringify(error.problems)}`,
        );
        assert.ok(error.message.includes(file), 'the message names the file');
        return true;
      },
    );
  });
}

test('every problem of a manifest is reported at once, with the line when a locator is given', () => {
  const manifest = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'web' },
    spec: { source: { repoURL: 'x', chart: 'c' }, destination: { server: 's' }, info: [] },
  };
  assert.throws(
    () => parseApplication(manifest, { file: 'apps/web.yaml', locate: (path) => (path === 'spec.info' ? 9 : undefined) }),
    (error: unknown) => {
      assert.ok(error instanceof ApplicationInvalidError);
      assert.deepEqual(
        error.problems.map((p) => p.path).sort(),
        ['spec.info', 'spec.source.chart'],
      );
      assert.match(error.message, /apps\/web\.yaml:9: spec\.info is not a supported field/);
      return true;
    },
  );
});

test('sync options and the automated policy are read from the spec', () => {
  const app = parseApplication(parse(readFileSync(new URL('valid-skynet-docs.yaml', dir), 'utf8')));
  assert.equal(syncOption(app, 'CreateNamespace'), 'true');
  assert.equal(syncOption(app, 'Prune'), undefined);
  assert.equal(isAutomated(app), true);
});
