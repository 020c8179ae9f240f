/**
 * Git webhooks: verify the sender (constant time), read which repository and ref a push touched, and
 * pick the apps to refresh, as Argo CD does: apps on that repository whose targetRevision is the
 * pushed branch or tag, or HEAD/empty when the push went to the default branch. Pure: headers and
 * bytes in, values out.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Which kind of sender a request came from, by its headers. */
export const WebhookProvider = {
  GitHub: 'github',
  GitLab: 'gitlab',
  Gitea: 'gitea',
  Gogs: 'gogs',
  BitbucketServer: 'bitbucket-server',
  Generic: 'generic',
} as const;
export type WebhookProvider = (typeof WebhookProvider)[keyof typeof WebhookProvider];

/** Header names, lower-case (as node gives them). */
export const WebhookHeader = {
  GitHubEvent: 'x-github-event',
  GitHubSignature: 'x-hub-signature-256',
  GitLabEvent: 'x-gitlab-event',
  GitLabToken: 'x-gitlab-token',
  GiteaSignature: 'x-gitea-signature',
  GogsSignature: 'x-gogs-signature',
  BitbucketEvent: 'x-event-key',
  BitbucketSignature: 'x-hub-signature',
  FerrySignature: 'x-ferry-signature',
} as const;

type Headers = Readonly<Record<string, string | string[] | undefined>>;

const header = (headers: Headers, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** The provider the headers name, or undefined when none is recognisable. */
export function detectProvider(headers: Headers): WebhookProvider | undefined {
  if (header(headers, WebhookHeader.GitHubEvent) !== undefined) return WebhookProvider.GitHub;
  if (header(headers, WebhookHeader.GitLabEvent) !== undefined) return WebhookProvider.GitLab;
  if (header(headers, WebhookHeader.GiteaSignature) !== undefined) return WebhookProvider.Gitea;
  if (header(headers, WebhookHeader.GogsSignature) !== undefined) return WebhookProvider.Gogs;
  if (header(headers, WebhookHeader.BitbucketEvent) !== undefined) return WebhookProvider.BitbucketServer;
  if (header(headers, WebhookHeader.FerrySignature) !== undefined) return WebhookProvider.Generic;
  return undefined;
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function hmacMatches(secret: string, body: Buffer, presentedHex: string | undefined): boolean {
  if (presentedHex === undefined || !/^[0-9a-fA-F]{64}$/.test(presentedHex)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return safeEqual(expected, Buffer.from(presentedHex, 'hex'));
}

/**
 * True when the request is signed with `secret`: GitHub `X-Hub-Signature-256: sha256=<hex>`, Bitbucket
 * Server `X-Hub-Signature: sha256=<hex>`, Gitea/Gogs `X-Gitea-Signature`/`X-Gogs-Signature: <hex>`,
 * Ferry's generic `X-Ferry-Signature: sha256=<hex>` (HMAC-SHA256 of the raw body), GitLab
 * `X-Gitlab-Token: <secret>` (compared as SHA-256 digests, so lengths do not leak). Constant time.
 */
export function verifyWebhook(provider: WebhookProvider, headers: Headers, body: Buffer, secret: string): boolean {
  const prefixed = (name: string): string | undefined => {
    const v = header(headers, name);
    return v?.startsWith('sha256=') ? v.slice('sha256='.length) : undefined;
  };
  switch (provider) {
    case WebhookProvider.GitHub:
      return hmacMatches(secret, body, prefixed(WebhookHeader.GitHubSignature));
    case WebhookProvider.BitbucketServer:
      return hmacMatches(secret, body, prefixed(WebhookHeader.BitbucketSignature));
    case WebhookProvider.Generic:
      return hmacMatches(secret, body, prefixed(WebhookHeader.FerrySignature));
    case WebhookProvider.Gitea:
      return hmacMatches(secret, body, header(headers, WebhookHeader.GiteaSignature));
    case WebhookProvider.Gogs:
      return hmacMatches(secret, body, header(headers, WebhookHeader.GogsSignature));
    case WebhookProvider.GitLab: {
      const token = header(headers, WebhookHeader.GitLabToken);
      if (token === undefined) return false;
      const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
      return safeEqual(digest(token), digest(secret));
    }
  }
}

/** What a push touched: the repository's URLs (clone, web), the ref, and whether it is the default branch. */
export interface WebhookPush {
  repoURLs: string[];
  /** Branch or tag name without `refs/heads/` / `refs/tags/`; undefined = unknown (refresh every app of the repo). */
  revision?: string;
  /** The push went to the repository's default branch (apps tracking HEAD refresh). Unknown → true. */
  touchedHead: boolean;
}

/** The result of reading a webhook body: a push, an event to acknowledge and ignore (ping, issues…), or a problem. */
export type WebhookReading =
  { kind: 'push'; push: WebhookPush } | { kind: 'ignored'; reason: string } | { kind: 'invalid'; problem: string };

const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function shortRef(ref: string | undefined): string | undefined {
  if (ref === undefined) return undefined;
  return ref.replace(/^refs\/(heads|tags)\//, '');
}

/** Reads the push from a parsed webhook body. */
export function readWebhookPush(provider: WebhookProvider, headers: Headers, payload: unknown): WebhookReading {
  const body = obj(payload);
  if (body === undefined) return { kind: 'invalid', problem: 'body is not a JSON object' };
  const urls = (...values: unknown[]): string[] => values.map(str).filter((v): v is string => v !== undefined);
  const pushOf = (repoURLs: string[], ref: string | undefined, defaultBranch: string | undefined): WebhookReading => {
    if (repoURLs.length === 0) return { kind: 'invalid', problem: 'the payload names no repository URL' };
    const revision = shortRef(ref);
    const touchedHead = revision === undefined || defaultBranch === undefined || revision === defaultBranch;
    return { kind: 'push', push: { repoURLs, ...(revision === undefined ? {} : { revision }), touchedHead } };
  };
  switch (provider) {
    case WebhookProvider.GitHub:
    case WebhookProvider.Gitea:
    case WebhookProvider.Gogs: {
      const event = header(headers, WebhookHeader.GitHubEvent) ?? header(headers, 'x-gitea-event') ?? header(headers, 'x-gogs-event');
      if (event !== undefined && event !== 'push') return { kind: 'ignored', reason: `event ${event}` };
      const repo = obj(body['repository']);
      return pushOf(
        urls(repo?.['clone_url'], repo?.['html_url'], repo?.['url'], repo?.['ssh_url']),
        str(body['ref']),
        str(repo?.['default_branch']),
      );
    }
    case WebhookProvider.GitLab: {
      const event = header(headers, WebhookHeader.GitLabEvent);
      if (event !== 'Push Hook' && event !== 'Tag Push Hook') return { kind: 'ignored', reason: `event ${event ?? '(none)'}` };
      const project = obj(body['project']);
      const repo = obj(body['repository']);
      return pushOf(
        urls(project?.['git_http_url'], project?.['web_url'], repo?.['git_http_url'], repo?.['homepage']),
        str(body['ref']),
        str(project?.['default_branch']),
      );
    }
    case WebhookProvider.BitbucketServer: {
      const event = header(headers, WebhookHeader.BitbucketEvent);
      if (event !== 'repo:refs_changed') return { kind: 'ignored', reason: `event ${event ?? '(none)'}` };
      const repo = obj(body['repository']);
      const clones = Array.isArray(obj(repo?.['links'])?.['clone']) ? (obj(repo?.['links'])?.['clone'] as unknown[]) : [];
      const changes = Array.isArray(body['changes']) ? (body['changes'] as unknown[]) : [];
      const ref = str(obj(obj(changes[0])?.['ref'])?.['id']);
      return pushOf(urls(...clones.map((c) => obj(c)?.['href'])), ref, undefined);
    }
    case WebhookProvider.Generic:
      return pushOf(urls(body['repoURL']), str(body['ref']) ?? str(body['revision']), undefined);
  }
}

/**
 * A repository URL reduced to what identifies the repository: host and path, lower-case, without
 * scheme, credentials, port 443/80, trailing `/` or `.git`. `git@host:org/repo.git` → `host/org/repo`.
 */
export function normalizeRepoURL(url: string): string {
  let u = url.trim();
  const scp = /^([^@/:]+@)?([^/:]+):(?!\/\/)(.+)$/.exec(u);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) u = `ssh://${scp[2]}/${scp[3]}`;
  try {
    const parsed = new URL(u);
    const port = parsed.port === '' || parsed.port === '443' || parsed.port === '80' ? '' : `:${parsed.port}`;
    u = `${parsed.hostname}${port}${parsed.pathname}`;
  } catch {
    // a local path: compared as it is
  }
  return u
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .toLowerCase();
}

/** An app as the webhook sees it. */
export interface WebhookApp {
  name: string;
  repoURL: string;
  targetRevision?: string | undefined;
}

/** The apps a push should refresh (Argo CD's rule; a commit-SHA targetRevision never matches). */
export function appsToRefresh(push: WebhookPush, apps: readonly WebhookApp[]): string[] {
  const repos = new Set(push.repoURLs.map(normalizeRepoURL));
  return apps
    .filter((a) => repos.has(normalizeRepoURL(a.repoURL)))
    .filter((a) => {
      const target = shortRef(a.targetRevision === undefined || a.targetRevision === '' ? 'HEAD' : a.targetRevision);
      if (push.revision === undefined) return true;
      if (target === 'HEAD') return push.touchedHead;
      return target === push.revision;
    })
    .map((a) => a.name)
    .sort();
}
