import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assessHealth } from '@ferry/health';
import { EngineHarness, HOOK, SYNC_OPTIONS, WAVE, configMap, deployment, hookJob, summary } from './fixtures.js';

describe('sync engine: phases, waves and hooks (sandbox cluster)', () => {
  const h = new EngineHarness();
  before(() => h.start());
  after(() => h.stop());

  it('applies waves in order, negative first, and applies wave 1 only after wave 0 is Healthy', async () => {
    const objects = [
      configMap('after', { w: '1' }, { [WAVE]: '1' }),
      deployment('db', { annotations: { [WAVE]: '0' } }),
      configMap('first', { w: '-1' }, { [WAVE]: '-1' }),
    ];
    // Watch the Deployment from the test. A read sent at t that finds it live and not Healthy proves it
    // was not Healthy at some moment after t, so wave 1 must come later than t. (A slow read only makes
    // t earlier: the check stays sound on a loaded machine.)
    let notHealthyAfter = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const sent = Date.now();
        const live = await h.get('apps/v1', 'Deployment', 'db', 'waves').catch(() => undefined);
        if (live && assessHealth(live)?.status !== 'Healthy') notHealthyAfter = sent;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const outcome = await h.sync('waves', objects);
    watching = false;
    await watcher;
    assert.equal(outcome.phase, 'Succeeded', outcome.message);
    assert.deepEqual(
      outcome.resources.map((r) => [r.name, r.wave, r.syncPhase]),
      [
        ['first', -1, 'Sync'],
        ['db', 0, 'Sync'],
        ['after', 1, 'Sync'],
      ],
    );
    const at = (name: string): number => Date.parse(outcome.resources.find((r) => r.name === name)?.appliedAt ?? '');
    assert.ok(at('first') <= at('db') && at('db') < at('after'), 'appliedAt follows the waves');
    assert.ok(at('after') - at('db') >= 100, `wave 1 waited for the rollout (${at('after') - at('db')} ms after wave 0)`);
    assert.ok(at('after') >= notHealthyAfter, `wave 1 applied ${notHealthyAfter - at('after')} ms before the Deployment was last seen not Healthy`);
    assert.equal(assessHealth(await h.get('apps/v1', 'Deployment', 'db', 'waves'))?.status, 'Healthy', 'the Deployment is Healthy after the sync');
  });

  it('runs PreSync and PostSync hook Jobs around the Sync phase and deletes them per policy (BeforeHookCreation re-creates a named hook)', async () => {
    const objects = [
      hookJob('migrate', 'PreSync'),
      configMap('app-config'),
      hookJob('smoke-', 'PostSync', { deletePolicy: 'HookSucceeded' }),
    ];
    const outcome = await h.sync('hooks', objects);
    assert.equal(outcome.phase, 'Succeeded', outcome.message);
    assert.deepEqual(
      outcome.resources.map((r) => [r.kind, r.syncPhase, r.hookType, r.hookPhase]),
      [
        ['Job', 'PreSync', 'PreSync', 'Succeeded'],
        ['ConfigMap', 'Sync', undefined, undefined],
        ['Job', 'PostSync', 'PostSync', 'Succeeded'],
      ],
    );
    const [pre, cm, post] = outcome.resources;
    assert.ok(pre && cm && post);
    assert.ok(Date.parse(pre.appliedAt ?? '') <= Date.parse(cm.appliedAt ?? ''), 'PreSync before Sync');
    assert.ok(Date.parse(cm.appliedAt ?? '') <= Date.parse(post.appliedAt ?? ''), 'Sync before PostSync');
    assert.match(post.name, /^smoke-.+/, 'generateName gave the PostSync hook its name');
    assert.equal(await h.get('batch/v1', 'Job', post.name, 'hooks'), undefined, 'HookSucceeded deleted the PostSync Job');
    const migrate = await h.get('batch/v1', 'Job', 'migrate', 'hooks');
    assert.ok(migrate, 'the PreSync Job (BeforeHookCreation) is kept after success');
    assert.equal(migrate.metadata.annotations?.['ferry.dev/tracking-id'], undefined, 'hooks are not tracked');

    const again = await h.sync('hooks', objects);
    assert.equal(again.phase, 'Succeeded', again.message);
    const recreated = await h.get('batch/v1', 'Job', 'migrate', 'hooks');
    assert.notEqual(recreated?.metadata.uid, migrate.metadata.uid, 'BeforeHookCreation deleted and re-created the named hook');
  });

  it('fails the sync when a PreSync hook fails: the Sync phase is not applied, HookFailed deletes the hook, SyncFail hooks run', async () => {
    const objects = [
      hookJob('check', 'PreSync', { image: 'busybox:fail', deletePolicy: 'HookFailed' }),
      configMap('never'),
      hookJob('cleanup-', 'SyncFail'),
    ];
    const outcome = await h.sync('failing', objects);
    assert.equal(outcome.phase, 'Failed');
    assert.equal(outcome.error?.code, 'FERRY_ERR_SYNC_HOOK_FAILED');
    assert.match(outcome.message, /PreSync hook Job\/failing\/check|Job failing\/check|check/);
    assert.deepEqual(
      outcome.resources.map((r) => [r.kind, r.syncPhase, r.hookPhase, r.status]),
      [
        ['Job', 'PreSync', 'Failed', 'SyncFailed'],
        ['Job', 'SyncFail', 'Succeeded', 'Synced'],
      ],
    );
    assert.equal(await h.get('v1', 'ConfigMap', 'never', 'failing'), undefined, 'the Sync phase never ran');
    assert.equal(await h.get('batch/v1', 'Job', 'check', 'failing'), undefined, 'HookFailed deleted the failed hook');
  });

  it('fails the sync when a resource of a wave turns Degraded, before applying the next wave', async () => {
    const outcome = await h.sync('degraded', [
      deployment('broken', { image: 'nginx:crashloop', progressDeadlineSeconds: 10, annotations: { [WAVE]: '0' } }),
      configMap('later', {}, { [WAVE]: '1' }),
      hookJob('notify-', 'SyncFail'),
    ]);
    assert.equal(outcome.phase, 'Failed');
    assert.equal(outcome.error?.code, 'FERRY_ERR_SYNC_RESOURCE_DEGRADED');
    assert.match(outcome.message, /Deployment degraded\/broken|broken/);
    assert.equal(await h.get('v1', 'ConfigMap', 'later', 'degraded'), undefined);
    assert.ok(
      outcome.resources.some((r) => r.hookType === 'SyncFail' && r.hookPhase === 'Succeeded'),
      'SyncFail hook ran',
    );
  });

  it('fails a wave that does not become Healthy within the wave timeout', async () => {
    const outcome = await h.sync(
      'slow',
      [deployment('stuck', { image: 'nginx:imagepullbackoff', annotations: { [WAVE]: '0' } }), configMap('later', {}, { [WAVE]: '1' })],
      { waveTimeoutMs: 400 },
    );
    assert.equal(outcome.phase, 'Failed');
    assert.equal(outcome.error?.code, 'FERRY_ERR_SYNC_WAVE_TIMEOUT');
    assert.match(outcome.message, /stuck/);
    assert.equal(await h.get('v1', 'ConfigMap', 'later', 'slow'), undefined);
  });

  it('never applies a Skip resource and does not track hooks for pruning', async () => {
    const outcome = await h.sync('skip', [configMap('skipped', {}, { [HOOK]: 'Skip' }), configMap('kept'), hookJob('once', 'Sync')], {
      prune: true,
    });
    assert.equal(outcome.phase, 'Succeeded', outcome.message);
    assert.equal(await h.get('v1', 'ConfigMap', 'skipped', 'skip'), undefined);
    const second = await h.sync('skip', [configMap('kept')], { prune: true });
    assert.equal(second.phase, 'Succeeded', second.message);
    assert.deepEqual(summary(second), [['kept', 'Synced']], 'the hook Job left from the first sync is not pruned');
    assert.ok(await h.get('batch/v1', 'Job', 'once', 'skip'));
  });

  it('fails naming the resource and the option when a per-resource sync option is unknown, and applies nothing', async () => {
    const outcome = await h.sync('unknown-option', [configMap('good'), configMap('bad', {}, { [SYNC_OPTIONS]: 'Prune=false,Turbo=true' })]);
    assert.equal(outcome.phase, 'Failed');
    assert.equal(outcome.error?.code, 'FERRY_ERR_SYNC_OPTION_INVALID');
    assert.match(outcome.message, /ConfigMap\/unknown-option\/bad/);
    assert.match(outcome.message, /Turbo/);
    assert.equal(await h.get('v1', 'ConfigMap', 'good', 'unknown-option'), undefined, 'nothing applied');
  });

  it('fails naming the resource when a sync-wave or a hook type is not valid', async () => {
    const outcome = await h.sync('bad-annotations', [configMap('w', {}, { [WAVE]: 'soon' }), configMap('h', {}, { [HOOK]: 'PreInstall' })]);
    assert.equal(outcome.error?.code, 'FERRY_ERR_SYNC_OPTION_INVALID');
    assert.match(outcome.message, /ConfigMap\/bad-annotations\/w.*"soon" is not an integer/);
    assert.match(outcome.message, /ConfigMap\/bad-annotations\/h.*hook type PreInstall is not supported/);
  });
});
