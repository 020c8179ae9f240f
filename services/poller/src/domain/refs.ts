import { ErrorCode } from '@ferry/contracts';
import { GitError } from './errors.js';

/**
 * What `git ls-remote` shows of a repository: branches, tags (annotated tags peeled to the
 * commit they point at) and HEAD. Plain data (JSON-serialisable), so it can be cached and shared
 * by every app of the repository within a poll cycle.
 */
export interface RefListing {
  /** The repository URL, credentials removed. */
  readonly repoURL: string;
  /** The commit HEAD points at; undefined for an empty repository or an unborn HEAD. */
  readonly head: string | undefined;
  /** The ref HEAD is a symbolic ref to (`refs/heads/main`); undefined when detached or unknown. */
  readonly headRef: string | undefined;
  /** Branch short name (`main`, `feature/x`) → commit SHA. */
  readonly branches: Readonly<Record<string, string>>;
  /** Tag short name (`v1.0.0`) → commit SHA (peeled for annotated tags). */
  readonly tags: Readonly<Record<string, string>>;
}

/** A ref as a server or repository reports it (isomorphic-git's `ServerRef` shape). */
export interface ServerRef {
  readonly ref: string;
  readonly oid: string;
  /** For a symbolic ref (HEAD): the ref it points to. */
  readonly target?: string | undefined;
  /** For an annotated tag: the object it points to once peeled. */
  readonly peeled?: string | undefined;
}

const FULL_SHA = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;

/** True for a full commit id (40 hex digits, or 64 for SHA-256 repositories), any case. */
export function isFullCommitSha(value: string): boolean {
  return FULL_SHA.test(value.toLowerCase());
}

/** Builds a {@link RefListing} from a server's ref advertisement; refs outside heads/tags/HEAD are ignored. */
export function buildRefListing(repoURL: string, refs: readonly ServerRef[]): RefListing {
  const branches: Record<string, string> = {};
  const tags: Record<string, string> = {};
  let head: string | undefined;
  let headRef: string | undefined;
  for (const r of refs) {
    if (r.ref === 'HEAD') {
      head = r.oid;
      if (r.target !== undefined && r.target.startsWith('refs/')) headRef = r.target;
    } else if (r.ref.startsWith('refs/heads/')) {
      branches[r.ref.slice('refs/heads/'.length)] = r.oid;
    } else if (r.ref.startsWith('refs/tags/') && !r.ref.endsWith('^{}')) {
      tags[r.ref.slice('refs/tags/'.length)] = r.peeled ?? r.oid;
    }
  }
  // Servers that do not advertise HEAD's target: infer it when exactly one branch has HEAD's commit.
  if (head !== undefined && headRef === undefined) {
    const candidates = Object.keys(branches).filter((b) => branches[b] === head);
    if (candidates.length === 1) headRef = `refs/heads/${candidates[0]}`;
  }
  return { repoURL, head, headRef, branches: sortRecord(branches), tags: sortRecord(tags) };
}

/**
 * Resolves an Argo CD `targetRevision` against a ref listing, without any Git access:
 * - `''` or `HEAD` (any case) → HEAD's commit;
 * - a full commit SHA (40 or 64 hex) → itself, lower-cased (it need not be a ref tip);
 * - `refs/heads/<b>` → that branch; `refs/tags/<t>` → that tag (peeled);
 * - a short name → the branch of that name, else the tag (a name that is both resolves to the
 *   branch: Argo CD users write `main`, rarely a tag called `main`).
 * Throws {@link GitError} FERRY_ERR_GIT_REVISION_NOT_FOUND naming repository and revision otherwise
 * (abbreviated SHAs included: they cannot be resolved from a listing).
 */
export function resolveRevision(listing: RefListing, targetRevision: string | undefined): string {
  const revision = (targetRevision ?? '').trim();
  const notFound = (detail: string): GitError =>
    new GitError(ErrorCode.GitRevisionNotFound, `revision '${revision || 'HEAD'}' not found in ${listing.repoURL}: ${detail}`, {
      repoURL: listing.repoURL,
      revision: revision || 'HEAD',
    });
  if (revision === '' || revision.toUpperCase() === 'HEAD') {
    if (listing.head === undefined) throw notFound('the repository has no HEAD (empty repository?)');
    return listing.head;
  }
  if (isFullCommitSha(revision)) return revision.toLowerCase();
  if (revision.startsWith('refs/heads/')) {
    const sha = own(listing.branches, revision.slice('refs/heads/'.length));
    if (sha === undefined) throw notFound('no such branch');
    return sha;
  }
  if (revision.startsWith('refs/tags/')) {
    const sha = own(listing.tags, revision.slice('refs/tags/'.length));
    if (sha === undefined) throw notFound('no such tag');
    return sha;
  }
  const sha = own(listing.branches, revision) ?? own(listing.tags, revision);
  if (sha !== undefined) return sha;
  if (/^[0-9a-f]{4,39}$/i.test(revision))
    throw notFound('no branch or tag has that name; abbreviated commit SHAs are not supported, use the full 40-character SHA');
  throw notFound('no branch or tag has that name');
}

function own(record: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function sortRecord(record: Record<string, string>): Record<string, string> {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key] as string;
  return sorted;
}
