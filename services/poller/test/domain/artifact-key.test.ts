import { test } from 'node:test';
import assert from 'node:assert/strict';
import { artifactKey } from '../../src/domain/artifact-key.js';
import { normaliseAppPath, sourceSettingsHash } from '../../src/domain/source.js';
import { RenderError } from '../../src/domain/errors.js';

const SHA = '3f786850e387550fdab836ed7e6dc881de23001b';

test('the artifact key is app, commit and 16 hex digits of the settings hash', () => {
  const key = artifactKey('guestbook', SHA, { path: 'k8s' });
  assert.match(key, /^guestbook\.3f786850e387550fdab836ed7e6dc881de23001b\.[0-9a-f]{16}$/);
  assert.equal(key.split('.')[2], sourceSettingsHash({ path: 'k8s' }).slice(0, 16));
});

test('equivalent source settings give the same key; different settings give different keys', () => {
  const base = artifactKey('app', SHA, { path: 'k8s' });
  assert.equal(artifactKey('app', SHA, { path: './k8s/' }), base);
  assert.equal(
    artifactKey('app', SHA, { path: 'k8s', directory: { recurse: false } }),
    artifactKey('app', SHA, { path: 'k8s', directory: {} }),
  );
  const others = [
    artifactKey('app', SHA, { path: 'k8s/overlays' }),
    artifactKey('app', SHA, { path: 'k8s', directory: {} }), // an explicit directory disables Kustomize detection
    artifactKey('app', SHA, { path: 'k8s', directory: { recurse: true } }),
    artifactKey('app', SHA, { path: 'k8s', directory: { include: '*.yaml' } }),
    artifactKey('app', SHA, { path: 'k8s', directory: { exclude: '*.yaml' } }),
    artifactKey('app', SHA, { path: 'k8s', kustomize: {} }),
    artifactKey('app2', SHA, { path: 'k8s' }),
    artifactKey('app', 'a'.repeat(40), { path: 'k8s' }),
  ];
  assert.equal(new Set([base, ...others]).size, others.length + 1);
});

test('kustomize options are hashed independently of key order', () => {
  assert.equal(
    artifactKey('a', SHA, { kustomize: { namePrefix: 'p-', images: ['x'] } }),
    artifactKey('a', SHA, { kustomize: { images: ['x'], namePrefix: 'p-' } }),
  );
});

test('keys use only characters safe in NATS object and KV names; unusual app names are encoded injectively', () => {
  const a = artifactKey('My_App/α', SHA, {});
  const b = artifactKey('My-App/α', SHA, {});
  assert.match(a, /^[a-z0-9._-]+$/);
  assert.notEqual(a, b);
});

test('a commit that is not a full lower-case SHA is refused', () => {
  assert.throws(() => artifactKey('a', 'main', {}), TypeError);
  assert.throws(() => artifactKey('a', SHA.toUpperCase(), {}), TypeError);
});

test('app paths are normalised; absolute and climbing paths are FERRY_ERR_RENDER_PATH_ESCAPE', () => {
  assert.equal(normaliseAppPath(undefined), '.');
  assert.equal(normaliseAppPath('./k8s//base/'), 'k8s/base');
  assert.equal(normaliseAppPath('k8s/../k8s/base'), 'k8s/base');
  for (const path of ['../x', 'k8s/../../x', '/etc', '..']) {
    assert.throws(
      () => normaliseAppPath(path),
      (e: unknown) => e instanceof RenderError && e.code === 'FERRY_ERR_RENDER_PATH_ESCAPE',
      path,
    );
  }
});
