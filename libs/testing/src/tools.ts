import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The first executable named `name` on PATH, then in `extraDirs`; undefined when there is none. */
export function findExecutable(name: string, extraDirs: readonly string[] = []): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** How to install each tool the fixtures know about (used in skip reasons and errors). */
export const toolInstallHints: Readonly<Record<string, string>> = Object.freeze({
  'nats-server': 'apt-get install -y nats-server',
  git: 'apt-get install -y git',
  kubectl: 'install kubectl 1.32 (https://kubernetes.io/docs/tasks/tools/); it is in this machine image at /usr/bin/kubectl',
  kustomize: 'use `kubectl kustomize` or install kustomize',
  promtool: 'apt-get install -y prometheus',
  helm: 'install helm 3 (https://helm.sh/docs/intro/install/)',
});

const commonDirs = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Path of kubectl: /usr/bin/kubectl if present, else the first on PATH, else undefined. */
export function kubectlPath(): string | undefined {
  return isExecutable('/usr/bin/kubectl') ? '/usr/bin/kubectl' : findExecutable('kubectl');
}

/** Path of nats-server from PATH, /usr/sbin or /usr/local/bin; undefined when absent. */
export function natsServerPath(): string | undefined {
  return findExecutable('nats-server', ['/usr/sbin', '/usr/local/bin', '/usr/local/sbin']);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The part of node:test's TestContext that requireTool uses. */
export interface SkippableTest {
  skip(message?: string): void;
}

/**
 * Returns true when `name` is installed (PATH or the usual system directories). Otherwise calls
 * `t.skip('<name> not found: <how to install>')` and returns false; the caller then returns early:
 * `if (!requireTool('kubectl', t)) return;`
 */
export function requireTool(name: string, t: SkippableTest): boolean {
  const found = name === 'kubectl' ? kubectlPath() : findExecutable(name, commonDirs);
  if (found) return true;
  t.skip(`${name} not found: ${toolInstallHints[name] ?? `install ${name}`}`);
  return false;
}
