import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TRACKING_ANNOTATION, isTrackedBy, parseTrackingId, trackingApp, trackingId, withTracking } from '../../src/domain/tracking.js';
import type { KubeObject } from '../../src/types.js';

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', annotations: { keep: 'me' } },
  spec: { replicas: 1 },
};
const namespace: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } };
const service: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' } };

describe('tracking ids', () => {
  it('uses Argo CD annotation format app:group/kind:namespace/name', () => {
    assert.equal(trackingId('shop', deployment), 'shop:apps/Deployment:default/web');
  });

  it('leaves the group empty for core kinds and the namespace empty for cluster-scoped ones', () => {
    assert.equal(trackingId('shop', service), 'shop:/Service:default/web');
    assert.equal(trackingId('shop', namespace), 'shop:/Namespace:/shop');
  });

  it('parses what it formats', () => {
    assert.deepEqual(parseTrackingId(trackingId('shop', deployment)), {
      app: 'shop',
      group: 'apps',
      kind: 'Deployment',
      namespace: 'default',
      name: 'web',
    });
    assert.deepEqual(parseTrackingId('shop:/Namespace:/shop'), { app: 'shop', group: '', kind: 'Namespace', namespace: '', name: 'shop' });
  });

  it('rejects values that are not tracking ids', () => {
    for (const bad of [
      '',
      'shop',
      'shop:apps/Deployment',
      'shop:Deployment:default/web',
      ':apps/Deployment:default/web',
      'a:b/c:d/e:f',
      'shop:apps/:default/web',
      'shop:apps/Deployment:default/',
    ]) {
      assert.equal(parseTrackingId(bad), undefined, bad);
    }
  });
});

describe('withTracking', () => {
  it('returns a copy with the annotation set and the other annotations kept', () => {
    const tracked = withTracking('shop', deployment);
    assert.equal(tracked.metadata.annotations?.[TRACKING_ANNOTATION], 'shop:apps/Deployment:default/web');
    assert.equal(tracked.metadata.annotations?.keep, 'me');
    assert.equal(deployment.metadata.annotations?.[TRACKING_ANNOTATION], undefined, 'input not modified');
    assert.deepEqual(tracked.spec, deployment.spec);
  });

  it('works on an object without annotations', () => {
    assert.equal(withTracking('shop', namespace).metadata.annotations?.[TRACKING_ANNOTATION], 'shop:/Namespace:/shop');
  });
});

describe('isTrackedBy', () => {
  it('is true for the app named by the annotation of the object itself', () => {
    const tracked = withTracking('shop', deployment);
    assert.equal(isTrackedBy('shop', tracked), true);
    assert.equal(trackingApp(tracked), 'shop');
  });

  it('is false for another app', () => {
    assert.equal(isTrackedBy('blog', withTracking('shop', deployment)), false);
  });

  it('is false for an untracked object', () => {
    assert.equal(isTrackedBy('shop', deployment), false);
  });

  it('does not claim an object copied from a tracked one under another name or namespace', () => {
    const tracked = withTracking('shop', deployment);
    const renamed: KubeObject = { ...tracked, metadata: { ...tracked.metadata, name: 'web-copy' } };
    const moved: KubeObject = { ...tracked, metadata: { ...tracked.metadata, namespace: 'other' } };
    const rekinded: KubeObject = { ...tracked, kind: 'StatefulSet' };
    assert.equal(isTrackedBy('shop', renamed), false);
    assert.equal(isTrackedBy('shop', moved), false);
    assert.equal(isTrackedBy('shop', rekinded), false);
  });

  it('is false for a malformed annotation', () => {
    const broken: KubeObject = { ...deployment, metadata: { ...deployment.metadata, annotations: { [TRACKING_ANNOTATION]: 'shop' } } };
    assert.equal(isTrackedBy('shop', broken), false);
  });

  it('ignores the API version: an object read back under another version is still tracked', () => {
    const tracked = withTracking('shop', { ...deployment, apiVersion: 'apps/v1beta2' });
    assert.equal(isTrackedBy('shop', { ...tracked, apiVersion: 'apps/v1' }), true);
  });
});
