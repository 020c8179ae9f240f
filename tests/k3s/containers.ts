/**
 * Containers for the real-cluster suite: a probe that decides once whether a container runtime
 * exists, k3s, and a NATS server with JetStream that Ferry's services can reach.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { K3sContainer, type StartedK3sContainer } from '@testcontainers/k3s';
import { NatsContainer, type StartedNatsContainer } from '@testcontainers/nats';

/** k3s server image; FERRY_TEST_K3S_IMAGE overrides it (a registry mirror, another version). */
export const k3sImage = process.env.FERRY_TEST_K3S_IMAGE ?? 'rancher/k3s:v1.31.2-k3s1';
/** NATS image; FERRY_TEST_NATS_IMAGE overrides it. */
export const natsImage = process.env.FERRY_TEST_NATS_IMAGE ?? 'nats:2.10.24-alpine';
/**
 * The workload's container image. k3s pulls `rancher/mirrored-pause:3.6` for every pod sandbox
 * anyway, so a Deployment running that same image adds no pull of its own (the node still needs
 * network for the first pod sandbox). FERRY_TEST_K3S_WORKLOAD_IMAGE overrides it.
 */
export const workloadImage = process.env.FERRY_TEST_K3S_WORKLOAD_IMAGE ?? 'rancher/mirrored-pause:3.6';

/**
 * Why containers cannot be used here, or `undefined` when a container runtime answered within
 * `timeoutMs`. Without Docker, testcontainers rejects in well under a second with "Could not find a
 * working container runtime strategy"; the timeout only guards against a socket that never answers.
 */
export async function containerRuntimeProblem(timeoutMs = 5_000): Promise<string | undefined> {
  if (process.env.FERRY_TEST_K3S === 'skip') return 'FERRY_TEST_K3S=skip';
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the container runtime did not answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([getContainerRuntimeClient(), timeout]);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

/** `command` without `--user X` and `--pass Y`. */
export function withoutNatsAuthArgs(command: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < command.length; i++) {
    const arg = command[i] as string;
    if (arg === '--user' || arg === '--pass') i++;
    else kept.push(arg);
  }
  return kept;
}

/**
 * `@testcontainers/nats` always starts the server with `--user test --pass test`; Ferry's services
 * take only `FERRY_NATS_URL` (no NATS credentials setting, and nats.js ignores user:pass in a URL),
 * so this drops the two flags just before the container is created (NatsContainer.start() sets the
 * command, then GenericContainer.start() calls this hook), leaving an open server.
 */
export class OpenNatsContainer extends NatsContainer {
  protected override async beforeContainerCreated(): Promise<void> {
    const command = this.createOpts.Cmd;
    if (Array.isArray(command)) this.createOpts.Cmd = withoutNatsAuthArgs(command);
  }
}

export interface NatsInContainer {
  container: StartedNatsContainer;
  /** `nats://host:port` on the host, for FERRY_NATS_URL. */
  url: string;
}

/** NATS with JetStream (`-js`), no auth, client port mapped to the host. */
export async function startNatsContainer(): Promise<NatsInContainer> {
  const container = await new OpenNatsContainer(natsImage).withJetStream().withStartupTimeout(60_000).start();
  return { container, url: `nats://${container.getHost()}:${container.getMappedPort(4222)}` };
}

export interface K3sCluster {
  container: StartedK3sContainer;
  /** A kubeconfig file on the host pointing at the container's mapped API port. */
  kubeconfigPath: string;
  /** Stops the container and removes the kubeconfig; idempotent. */
  close(): Promise<void>;
}

/** Starts k3s (privileged; ~30–60 s) and writes its kubeconfig to a temp file. */
export async function startK3s(): Promise<K3sCluster> {
  const container = await new K3sContainer(k3sImage).withStartupTimeout(180_000).start();
  const dir = mkdtempSync(join(tmpdir(), 'ferry-k3s-'));
  const kubeconfigPath = join(dir, 'kubeconfig.yaml');
  writeFileSync(kubeconfigPath, container.getKubeConfig(), { mode: 0o600 });
  let closing: Promise<void> | undefined;
  return {
    container,
    kubeconfigPath,
    close: () =>
      (closing ??= (async () => {
        try {
          await container.stop({ timeout: 10_000 });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      })()),
  };
}
