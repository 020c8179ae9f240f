/** The kubeconfig the sandbox writes for its clients (cluster, user and context all named `sandbox`). */
import { writeFile, rename } from 'node:fs/promises';
import { stringify } from 'yaml';

export function kubeconfigText(url: string, token: string, caPem: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'sandbox', cluster: { server: url, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: 'sandbox', user: { token } }],
    contexts: [{ name: 'sandbox', context: { cluster: 'sandbox', user: 'sandbox', namespace: 'default' } }],
    'current-context': 'sandbox',
    preferences: {},
  });
}

export async function writeKubeconfig(path: string, url: string, token: string, caPem: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, kubeconfigText(url, token, caPem), { mode: 0o600 });
  await rename(tmp, path);
}
