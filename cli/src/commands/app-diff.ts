import type { CommandSpec } from '../args.js';
import type { AppDiff, ResourceDiff } from '../client.js';
import { ExitCodeError } from '../errors.js';
import { connect, emit, nameArg } from './shared.js';

/** Exit code of `ferry app diff` on an error (1 means "differences found", as for kubectl diff). */
export const DIFF_ERROR_EXIT_CODE = 2;

/** True when the resource differs: not Synced (OutOfSync, Missing, Extra), or it carries a diff. */
export function differs(r: ResourceDiff): boolean {
  return (r.diffState ?? r.status) !== 'Synced' || (typeof r.diff === 'string' && r.diff !== '');
}

/** argocd app diff's header: `===== apps/Deployment web/web ======` (`/Service …` for the core group, `/name` cluster-scoped). */
export function diffHeader(r: ResourceDiff): string {
  return `===== ${r.group}/${r.kind} ${r.namespace}/${r.name} ======`;
}

/** The text output: each differing resource's header and unified diff (a note when the differ gave none). */
export function formatDiff(diff: AppDiff): string {
  const blocks: string[] = [];
  for (const r of diff.resources.filter(differs)) {
    const state = r.diffState ?? r.status;
    const body =
      typeof r.diff === 'string' && r.diff !== ''
        ? r.diff.replace(/\n$/, '')
        : state === 'Missing'
          ? '(in Git, not in the cluster)'
          : state === 'Extra'
            ? '(in the cluster, no longer in Git: pruned by a sync with --prune)'
            : `(${state})`;
    blocks.push(`${diffHeader(r)}\n${body}`);
  }
  return blocks.join('\n');
}

/**
 * `ferry app diff <name>` — the differ's per-resource diff of the last comparison (live → desired),
 * like `argocd app diff`; exit 0 when nothing differs, 1 when something does, 2 on errors (kubectl diff).
 */
export const appDiff: CommandSpec = {
  path: ['app', 'diff'],
  args: ['name'],
  summary: 'Show how the live resources differ from Git (exit 1 when they do, like kubectl diff)',
  help: [
    'Prints, for each resource that differs, a header "===== GROUP/KIND NAMESPACE/NAME ======" and the',
    'unified diff from the live object to the desired one (both normalised: server-set fields, status',
    'and ignoreDifferences left out). -o json prints the stored diff object (with JSON patches).',
    'Exit codes: 0 no differences, 1 differences, 2 an error (no diff yet, app not found, server down).',
  ].join('\n'),
  flags: {},
  remote: true,
  output: true,
  async run(ctx, input) {
    const name = nameArg(input);
    let diff: AppDiff;
    try {
      const client = await connect(ctx, input);
      diff = await client.diff(name);
    } catch (error) {
      throw new ExitCodeError(error, DIFF_ERROR_EXIT_CODE);
    }
    emit(ctx, input, diff, () => formatDiff(diff));
    return diff.resources.some(differs) ? 1 : 0;
  },
};
