/** Compare-and-set updates of an app's operation record (the syncer writes the same record, also by CAS). */
import { ErrorCode, FerryError } from '@ferry/contracts';
import type { JsonKv } from '@ferry/runtime';
import { emptyRecord, type StoredOperationRecord } from '../domain/operation.js';

const MAX_ATTEMPTS = 20;

/**
 * Applies `change` to the current record (or an empty one) and writes it by compare-and-set,
 * re-reading on conflict. `change` returning the very object it was given means "nothing to write".
 * Resolves with the record as stored after the call.
 */
export async function updateOperationRecord(
  kv: JsonKv<StoredOperationRecord>,
  app: string,
  change: (current: StoredOperationRecord) => StoredOperationRecord,
): Promise<StoredOperationRecord> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await kv.get(app);
    const base = current?.value ?? emptyRecord(app);
    const next = change(base);
    if (next === base) return base;
    const revision = current ? await kv.update(app, next, current.revision) : await kv.create(app, next);
    if (revision !== undefined) return next;
  }
  throw new FerryError(ErrorCode.MessagingUnavailable, `failed to write the operation record of ${app}: it kept changing`);
}
