import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotificationTrigger } from '@ferry/contracts';
import { DEFAULT_TEMPLATES, renderMessage, renderTemplate, shortRevision, unknownPlaceholders, type TemplateContext } from '../../src/domain/templates.js';

const context: TemplateContext = {
  app: 'web',
  revision: '0123456789abcdef0123456789abcdef01234567',
  shortRevision: '0123456',
  health: 'Healthy',
  syncStatus: 'Synced',
  message: 'successfully synced (all tasks run)',
  trigger: 'on-deployed',
};

test('every placeholder is replaced, with or without spaces inside the braces', () => {
  assert.equal(
    renderTemplate('{{app}} {{ revision }} {{shortRevision}} {{health}} {{syncStatus}} {{message}} {{trigger}}', context),
    'web 0123456789abcdef0123456789abcdef01234567 0123456 Healthy Synced successfully synced (all tasks run) on-deployed',
  );
});

test('unknown placeholders are reported and left as written', () => {
  assert.deepEqual(unknownPlaceholders('{{app}} {{commit}} {{ author }} {{commit}}'), ['commit', 'author']);
  assert.equal(renderTemplate('{{commit}}', context), '{{commit}}');
});

test('the default on-deployed message uses Argo CD catalog wording', () => {
  const m = renderMessage(DEFAULT_TEMPLATES[NotificationTrigger.OnDeployed], context);
  assert.equal(m.title, 'New version of an application web is up and running.');
  assert.match(m.body, /^Application web is now running new version of deployments manifests\./);
});

test('every trigger has a default template using only known placeholders', () => {
  for (const trigger of Object.values(NotificationTrigger)) {
    const t = DEFAULT_TEMPLATES[trigger];
    assert.deepEqual(unknownPlaceholders(t.title + t.body), [], trigger);
  }
});

test('a commit SHA is shortened to 7 characters, other revisions are kept', () => {
  assert.equal(shortRevision(context.revision), '0123456');
  assert.equal(shortRevision('unknown'), 'unknown');
});
