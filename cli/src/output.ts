/** Output helpers: aligned tables (as `argocd` prints them), key/value summaries, JSON and YAML. */
import { stringify } from 'yaml';
import { OutputFormat } from './args.js';

/** `<none>` for an empty cell, as argocd prints it. */
export const NONE = '<none>';

/** Columns separated by two spaces, each as wide as its widest cell; trailing spaces trimmed. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all
    .map((row) =>
      headers
        .map((_, i) => (row[i] ?? '').padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `Key:` padded to 20 columns, then the value (argocd's summary layout). */
export function keyValues(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([key, value]) => `${`${key}:`.padEnd(20)}${value}`.trimEnd()).join('\n');
}

/** Machine output: JSON (2-space indent) or YAML. */
export function serialize(format: OutputFormat, value: unknown): string {
  return format === OutputFormat.Yaml ? stringify(value).trimEnd() : JSON.stringify(value, null, 2);
}

/** The first 7 characters of a commit SHA. */
export function shortRevision(revision: string | undefined): string {
  return revision ? revision.slice(0, 7) : '';
}

/** `2024-05-01 12:00:03 +0200` in the local time zone (TZ); the input unchanged when it is not a date. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number, w = 2): string => String(Math.trunc(n)).padStart(w, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ` +
    `${sign}${pad(Math.abs(offset) / 60)}${pad(Math.abs(offset) % 60)}`
  );
}

/** `1m5s`, `3s`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

/** Duration between two RFC 3339 times, '' when either is missing. */
export function durationBetween(start: string | undefined, end: string | undefined): string {
  if (!start || !end) return '';
  const ms = Date.parse(end) - Date.parse(start);
  return Number.isFinite(ms) ? formatDuration(ms) : '';
}
