/**
 * Pure decisions of the poll loop: grouping apps by repository, when to announce a revision, the
 * message ids, the source status conditions and the poll interval jitter. No I/O here.
 */
import { ConditionType, ErrorCode } from '@ferry/contracts';
import type { AppCondition, RenderProblem } from '@ferry/contracts';
import { ManifestParseError, formatProblem } from './errors.js';
import { listingKey } from './repo-url.js';

/**
 * Apps keyed by repository identity ({@link listingKey}: credential-free URL or local path, plus a
 * digest of credentials embedded in the URL), in first-seen order: each group can share one listing.
 */
export function groupByRepository<T>(apps: readonly T[], repoURLOf: (app: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const app of apps) {
    const key = listingKey(repoURLOf(app));
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [app]);
    else group.push(app);
  }
  return groups;
}

/**
 * Whether a resolved revision is announced (revision.detected): when its artifact differs from the
 * last one announced for the app, or when a sync intent travels with the request (the applier
 * waits for it even when nothing changed).
 */
export function shouldAnnounce(lastArtifactKey: string | undefined, artifactKey: string, hasSyncIntent: boolean): boolean {
  return hasSyncIntent || lastArtifactKey !== artifactKey;
}

/** `revision.detected:<app>:<artifactKey>[:<requestId>]` (requestId only with a sync intent). */
export function detectedMessageId(app: string, artifactKey: string, syncRequestId?: string): string {
  return `revision.detected:${app}:${artifactKey}${syncRequestId === undefined ? '' : `:${syncRequestId}`}`;
}

/** `revision.failed:<app>:<revision|unresolved>:<code>[:<requestId>]` (requestId only with a sync intent). */
export function failedMessageId(app: string, revision: string | undefined, code: string, syncRequestId?: string): string {
  return `revision.failed:${app}:${revision ?? 'unresolved'}:${code}${syncRequestId === undefined ? '' : `:${syncRequestId}`}`;
}

/**
 * Whether a failure is announced (revision.failed): always with a sync intent; otherwise only when
 * it differs (revision or code) from the failure already recorded, so a broken commit polled every
 * cycle produces one event, not one per cycle.
 */
export function shouldAnnounceFailure(
  previous: { code: string; revision?: string | undefined } | undefined,
  failure: { code: string; revision?: string | undefined },
  hasSyncIntent: boolean,
): boolean {
  if (hasSyncIntent) return true;
  return previous === undefined || previous.code !== failure.code || previous.revision !== failure.revision;
}

/** The problems of a render failure as events and status carry them (line omitted when unknown). */
export function renderProblems(error: unknown): RenderProblem[] {
  if (!(error instanceof ManifestParseError)) return [];
  return error.problems.map((p) =>
    p.line > 0 ? { file: p.file, line: p.line, message: p.message } : { file: p.file, message: p.message },
  );
}

/** Problems spelled out in a condition message at most. */
const CONDITION_PROBLEM_LIMIT = 10;

/**
 * The ComparisonError condition text: for manifest problems, each as `file:line: message` (so the
 * user sees where), otherwise the error's message.
 */
export function failureConditionMessage(error: { message: string }, problems: readonly RenderProblem[]): string {
  if (problems.length === 0) return error.message;
  const shown = problems
    .slice(0, CONDITION_PROBLEM_LIMIT)
    .map((p) => formatProblem({ file: p.file, line: p.line ?? 0, message: p.message }));
  const more = problems.length > CONDITION_PROBLEM_LIMIT ? `; and ${problems.length - CONDITION_PROBLEM_LIMIT} more` : '';
  return `${shown.join('; ')}${more}`;
}

/**
 * `conditions` with the ComparisonError set to `message` (its lastTransitionTime kept when the
 * message is unchanged); other condition types are left as they are.
 */
export function withComparisonError(conditions: readonly AppCondition[], message: string, now: string): AppCondition[] {
  const existing = conditions.find((c) => c.type === ConditionType.ComparisonError);
  const others = conditions.filter((c) => c.type !== ConditionType.ComparisonError);
  const lastTransitionTime = existing !== undefined && existing.message === message ? existing.lastTransitionTime : now;
  return [...others, { type: ConditionType.ComparisonError, message, lastTransitionTime }];
}

/** `conditions` without the ComparisonError (the source resolved and rendered again). */
export function withoutComparisonError(conditions: readonly AppCondition[]): AppCondition[] {
  return conditions.filter((c) => c.type !== ConditionType.ComparisonError);
}

/** Git failures worth retrying soon (network, server errors): everything else waits for a change. */
export function isTransientSourceError(code: string): boolean {
  return code === ErrorCode.GitUnreachable;
}

/**
 * The delay before the next poll cycle: `intervalMs` varied uniformly by ± `jitter` (a fraction),
 * so replicas and restarts do not poll a Git server in lockstep. `random` returns [0, 1).
 */
export function nextPollDelayMs(intervalMs: number, jitter: number, random: () => number = Math.random): number {
  const factor = 1 + jitter * (2 * random() - 1);
  return Math.max(1, Math.round(intervalMs * factor));
}
