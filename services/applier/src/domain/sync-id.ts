import { createHash } from 'node:crypto';
import type { SyncTrigger } from '@ferry/contracts';

/** What identifies one sync operation: the same diff event (redelivered or not) gives the same id. */
export interface SyncIdInput {
  app: string;
  artifactKey: string;
  trigger: SyncTrigger;
  /** The CloudEvent id of the diff.computed that caused the sync. */
  diffEventId: string;
}

/**
 * A sync's id: 20 hex characters of SHA-256 over app, artifact key, trigger and the diff event id.
 * Deterministic, so a diff redelivered after a crash resumes (or re-reports) the same operation and
 * its events keep their message ids (`sync.started:<app>:<syncId>`).
 */
export function syncIdOf(input: SyncIdInput): string {
  return createHash('sha256')
    .update([input.app, input.artifactKey, input.trigger, input.diffEventId].join('\n'))
    .digest('hex')
    .slice(0, 20);
}
