import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../src/selectors.js';
import { StatusError } from '../src/status-error.js';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', env: 'prod' };
  const cases: [string, boolean][] = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=api', false],
    ['app!=api', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['tier in (front,back)', true],
    ['tier in (back)', false],
    ['tier notin (back)', true],
    ['tier notin (front, back)', false],
    ['missing notin (x)', true],
    ['missing in (x)', false],
    ['env', true],
    ['missing', false],
    ['!missing', true],
    ['!env', false],
    ['app=web,tier in (front),!missing', true],
    ['app=web,env=dev', false],
  ];
  for (const [text, expected] of cases) {
    it(`${expected ? 'matches' : 'rejects'} ${JSON.stringify(labels)} with "${text}"`, () => {
      assert.equal(matchesLabels(parseLabelSelector(text), labels), expected);
    });
  }

  it('treats objects without labels as having none', () => {
    assert.equal(matchesLabels(parseLabelSelector('!a'), undefined), true);
    assert.equal(matchesLabels(parseLabelSelector('a'), undefined), false);
  });

  it('rejects malformed selectors with a BadRequest status', () => {
    for (const bad of ['a=b,', 'in (x)', 'a in (b', '-bad=x', 'a=b c']) {
      assert.throws(
        () => parseLabelSelector(bad),
        (e: unknown) => e instanceof StatusError && e.code === 400,
        bad,
      );
    }
  });
});

describe('field selectors', () => {
  const obj = { metadata: { name: 'a', namespace: 'ns1' }, status: { phase: 'Running' } };

  it('matches metadata.name and metadata.namespace with = and !=', () => {
    assert.equal(matchesFields(parseFieldSelector('metadata.name=a', 'ConfigMap'), obj), true);
    assert.equal(matchesFields(parseFieldSelector('metadata.name==b', 'ConfigMap'), obj), false);
    assert.equal(matchesFields(parseFieldSelector('metadata.namespace!=ns2,metadata.name=a', 'ConfigMap'), obj), true);
  });

  it('supports the per-kind fields of a real server and rejects others', () => {
    assert.equal(matchesFields(parseFieldSelector('status.phase=Running', 'Pod'), obj), true);
    assert.throws(
      () => parseFieldSelector('status.phase=Running', 'ConfigMap'),
      (e: unknown) => e instanceof StatusError && e.code === 400 && /field label not supported/.test(e.message),
    );
  });
});
