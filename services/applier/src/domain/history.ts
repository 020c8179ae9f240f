import { DEFAULT_REVISION_HISTORY_LIMIT, type Application, type HistoryEntry } from '@ferry/contracts';

/** Appends an entry (id = last id + 1) and keeps the newest `revisionHistoryLimit` entries (Argo CD default 10). */
export function appendHistory(history: readonly HistoryEntry[], entry: Omit<HistoryEntry, 'id'>, app: Application): HistoryEntry[] {
  const id = history.length === 0 ? 0 : Math.max(...history.map((h) => h.id)) + 1;
  const limit = app.spec.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT;
  const next = [...history, { ...entry, id }];
  return limit === 0 ? [] : next.slice(Math.max(0, next.length - limit));
}
