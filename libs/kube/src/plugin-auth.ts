/**
 * Authentication by `exec` plugins and `auth-provider`s (cloud CLIs, OIDC), delegated to
 * client-node's KubeConfig. It is imported lazily, on the first request of such a user:
 * its root import loads ~2,500 generated model files (+125 MiB under tsx), which nobody else pays for.
 */
import type { RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ClusterAuth, ClusterAuthType } from './kubeconfig.js';

export type PluginAuth = Extract<ClusterAuth, { type: typeof ClusterAuthType.Plugin }>;

/** What a plugin hands out for one request: headers (Authorization) and, for some, a client certificate. */
export interface PluginCredentials {
  headers: Record<string, string>;
  cert: string | Buffer | undefined;
  key: string | Buffer | undefined;
}

/** Server given to client-node: it only authenticates the user, never connects, so the URL is a placeholder. */
const PLACEHOLDER_SERVER = 'https://ferry-plugin-auth.invalid';

async function pluginKubeConfig(auth: PluginAuth): Promise<KubeConfig> {
  const { KubeConfig: KubeConfigClass } = await import('@kubernetes/client-node');
  const kc = new KubeConfigClass();
  kc.loadFromOptions({
    clusters: [{ name: 'ferry', server: PLACEHOLDER_SERVER, skipTLSVerify: false }],
    users: [
      { name: auth.userName, ...(auth.exec ? { exec: auth.exec } : {}), ...(auth.authProvider ? { authProvider: auth.authProvider } : {}) },
    ],
    contexts: [{ name: 'ferry', cluster: 'ferry', user: auth.userName }],
    currentContext: 'ferry',
  });
  return kc;
}

/**
 * One user's plugin authenticator. The KubeConfig (and with it client-node's credential cache: an
 * ExecCredential is reused until its `expirationTimestamp`) lives as long as the authenticator.
 * Concurrent calls share one plugin run.
 */
export function createPluginAuthenticator(auth: PluginAuth): () => Promise<PluginCredentials> {
  let kubeConfig: Promise<KubeConfig> | undefined;
  let inFlight: Promise<PluginCredentials> | undefined;
  const run = async (): Promise<PluginCredentials> => {
    kubeConfig ??= pluginKubeConfig(auth).catch((error: unknown) => {
      kubeConfig = undefined;
      throw error;
    });
    const kc = await kubeConfig;
    const opts: RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(opts.headers ?? {})) {
      if (typeof value === 'string' || typeof value === 'number') headers[key] = String(value);
      else if (Array.isArray(value)) headers[key] = value.join(', ');
    }
    const cert = typeof opts.cert === 'string' || Buffer.isBuffer(opts.cert) ? opts.cert : undefined;
    const key = typeof opts.key === 'string' || Buffer.isBuffer(opts.key) ? opts.key : undefined;
    return { headers, cert, key };
  };
  return () => {
    inFlight ??= run().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}
