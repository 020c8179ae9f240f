import { readFile } from 'node:fs/promises';
import { ClusterAuthType, type ClusterAccessConfig } from './kubeconfig.js';
import { createPluginAuthenticator } from './plugin-auth.js';

/** The authentication of one request. */
export interface RequestAuth {
  /** Authorization and impersonation headers. */
  headers: Record<string, string>;
  /** Client certificate and key handed out by an exec plugin (PEM), if any. */
  cert: string | Buffer | undefined;
  key: string | Buffer | undefined;
}

/** Produces the authentication of each request to one cluster. */
export interface ClusterCredentials {
  authenticate(): Promise<RequestAuth>;
}

export interface CredentialsOptions {
  /**
   * A token file (`tokenFile`, in-cluster service-account token) is read again when its last read is
   * older than this, in ms, as client-go does for rotated projected tokens. 0 = on every request.
   * Default 60000.
   */
  tokenFileRefreshMs?: number;
  /** Clock for tests. Default Date.now. */
  now?: () => number;
}

/**
 * The credentials of one cluster: static tokens and basic auth as headers, token files re-read
 * periodically (a failed re-read keeps the last token, as client-go does), exec and auth-provider
 * users through client-node, loaded on first use (plugin-auth.ts).
 */
export function createCredentials(access: ClusterAccessConfig, options: CredentialsOptions = {}): ClusterCredentials {
  const base = access.headers;
  const auth = access.auth;
  const withHeaders = (extra: Record<string, string>): RequestAuth => ({ headers: { ...base, ...extra }, cert: undefined, key: undefined });
  switch (auth.type) {
    case ClusterAuthType.None: {
      const result = withHeaders({});
      return { authenticate: () => Promise.resolve(result) };
    }
    case ClusterAuthType.Token: {
      const result = withHeaders({ Authorization: `Bearer ${auth.token}` });
      return { authenticate: () => Promise.resolve(result) };
    }
    case ClusterAuthType.Basic: {
      const result = withHeaders({ Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` });
      return { authenticate: () => Promise.resolve(result) };
    }
    case ClusterAuthType.TokenFile: {
      const refreshMs = options.tokenFileRefreshMs ?? 60_000;
      const now = options.now ?? Date.now;
      let token = auth.token;
      let readAt = now();
      let reading: Promise<void> | undefined;
      const reread = async (): Promise<void> => {
        try {
          const text = (await readFile(auth.path, 'utf8')).trim();
          if (text) token = text;
        } catch {
          // keep the last token: a rotation in progress, or a transient read error
        }
        readAt = now();
      };
      return {
        async authenticate() {
          if (now() - readAt >= refreshMs) {
            reading ??= reread().finally(() => {
              reading = undefined;
            });
            await reading;
          }
          return withHeaders({ Authorization: `Bearer ${token}` });
        },
      };
    }
    case ClusterAuthType.Plugin: {
      const plugin = createPluginAuthenticator(auth);
      return {
        async authenticate() {
          const got = await plugin();
          return { headers: { ...base, ...got.headers }, cert: got.cert, key: got.key };
        },
      };
    }
  }
}
