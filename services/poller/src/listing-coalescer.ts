/**
 * Ref listings shared per repository: however many polls ask at once, a repository has at most one
 * listing in flight and one queued. A caller never gets a listing that started before it asked —
 * one that arrives while a listing runs joins the queued one, which starts when the running one
 * ends — so every caller sees every ref update made before its call.
 */
import type { RefListing } from './domain/refs.js';
import { listingKey } from './domain/repo-url.js';

/** Options of {@link createListingCoalescer}. */
export interface ListingCoalescerOptions {
  /** Lists one repository's refs (the Git client's `listRefs`). */
  listRefs(repoURL: string): Promise<RefListing>;
}

/** Shares ref listings between the polls of one repository. */
export interface ListingCoalescer {
  /**
   * A listing of `repoURL`'s refs that started at or after this call: a new one when the repository
   * has none running, else the queued one (created if needed). Callers with the same
   * {@link listingKey} (same repository, same embedded credentials) share it, its result and its
   * failure: a rejection reaches only the callers that joined that listing.
   */
  list(repoURL: string): Promise<RefListing>;
  /** Repositories with a listing running (for tests and introspection). */
  readonly active: number;
}

interface Queued {
  readonly repoURL: string;
  readonly promise: Promise<RefListing>;
  resolve(listing: RefListing): void;
  reject(error: unknown): void;
}

interface RepoState {
  /** The running listing; its callers all asked before it started. */
  running: Promise<RefListing>;
  /** Callers who asked while `running` runs; started when it settles. */
  queued: Queued | undefined;
}

/** Creates a coalescer over `listRefs`. Holds no timers; idle repositories hold no state. */
export function createListingCoalescer(options: ListingCoalescerOptions): ListingCoalescer {
  const repos = new Map<string, RepoState>();

  function startListing(key: string, repoURL: string): Promise<RefListing> {
    // A synchronous throw of listRefs becomes a rejection like any other failure.
    const running = Promise.resolve().then(() => options.listRefs(repoURL));
    const state = repos.get(key);
    if (state === undefined) repos.set(key, { running, queued: undefined });
    else state.running = running;
    const settled = (): void => {
      const current = repos.get(key);
      if (current === undefined || current.running !== running) return;
      const next = current.queued;
      if (next === undefined) {
        repos.delete(key);
        return;
      }
      current.queued = undefined;
      startListing(key, next.repoURL).then(next.resolve, next.reject);
    };
    running.then(settled, settled);
    return running;
  }

  return {
    list(repoURL: string): Promise<RefListing> {
      const key = listingKey(repoURL);
      const state = repos.get(key);
      if (state === undefined) return startListing(key, repoURL);
      if (state.queued !== undefined) return state.queued.promise;
      let resolve!: (listing: RefListing) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<RefListing>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      state.queued = { repoURL, promise, resolve, reject };
      return promise;
    },
    get active() {
      return repos.size;
    },
  };
}
