/**
 * `npm start`: Ferry on its built-in defaults, on one machine.
 *
 * Starts a nats-server (from PATH) with its data in .ferry/nats, the sandbox cluster (unless a
 * kubeconfig is given through FERRY_KUBECONFIG or KUBECONFIG), a local Git repository made from
 * examples/, every service as its own process, registers the example apps through the api, and
 * leaves the CLI's login where `ferry` finds it. Ctrl-C stops everything; the next `npm start`
 * picks up where this one left off (JetStream state, sandbox objects and the Git repository persist
 * in .ferry/).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { startSandbox, type Sandbox } from '@ferry/kube-sandbox';
import { natsServerPath, startNatsServer, startServiceProcess, type NatsServerHandle, type ServiceProcess } from '@ferry/testing';

const run = promisify(execFile);
const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const home = resolve(process.env['FERRY_HOME'] ?? join(root, '.ferry'));
const natsPort = Number(process.env['FERRY_QUICKSTART_NATS_PORT'] ?? 4222);
const apiPort = Number(process.env['FERRY_QUICKSTART_API_PORT'] ?? 8080);
const sandboxPort = Number(process.env['FERRY_QUICKSTART_SANDBOX_PORT'] ?? 6443);
const metricsPorts: Record<string, number> = { poller: 9101, differ: 9102, applier: 9103, health: 9104, notifier: 9105 };
const services = ['poller', 'differ', 'applier', 'health', 'notifier', 'api'] as const;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function cliConfigPath(): string {
  const base = process.env['XDG_CONFIG_HOME'] ?? join(homedir(), '.config');
  return join(base, 'ferry', 'config.json');
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  const env = { ...process.env, GIT_AUTHOR_NAME: 'Ferry Quick Start', GIT_AUTHOR_EMAIL: 'quickstart@ferry.invalid', GIT_COMMITTER_NAME: 'Ferry Quick Start', GIT_COMMITTER_EMAIL: 'quickstart@ferry.invalid' };
  const { stdout } = await run('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, env });
  return stdout.trim();
}

/** The example GitOps repository as a local Git repository (made once; later runs keep the user's commits). */
async function ensureExampleRepo(): Promise<string> {
  const repo = join(home, 'git', 'skynet-gitops');
  if (existsSync(join(repo, '.git'))) return repo;
  mkdirSync(repo, { recursive: true });
  cpSync(join(root, 'examples'), repo, { recursive: true });
  await git(repo, 'init', '-q');
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-q', '-m', 'Example GitOps repository from Ferry\'s quick start');
  return repo;
}

function ensureToken(): string {
  const file = join(home, 'api-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(24).toString('hex');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Registers an app through the api; an app registered by an earlier run is left as it is. */
async function register(manifest: unknown, token: string): Promise<'created' | 'kept'> {
  const response = await fetch(`http://127.0.0.1:${apiPort}/api/v1/applications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(manifest),
  });
  if (response.status === 409) return 'kept';
  if (!response.ok) throw new Error(`registering an example app: ${response.status} ${await response.text()}`);
  return 'created';
}

async function main(): Promise<void> {
  if (!natsServerPath()) {
    say('Ferry needs nats-server on PATH and it was not found.');
    say('  Debian/Ubuntu:  sudo apt-get install -y nats-server');
    say('  macOS:          brew install nats-server');
    say('  other:          https://github.com/nats-io/nats-server/releases (put the binary on PATH)');
    process.exitCode = 1;
    return;
  }
  mkdirSync(join(home, 'nats'), { recursive: true });
  const started: Array<{ name: string; stop: () => Promise<unknown> }> = [];
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      say('\nstopping Ferry…');
      for (const part of started.reverse()) {
        try {
          await part.stop();
        } catch (error) {
          say(`  ${part.name}: ${(error as Error).message}`);
        }
      }
      say('stopped.');
    })();
    return stopping;
  };
  process.on('SIGINT', () => void stopAll().then(() => process.exit(0)));
  process.on('SIGTERM', () => void stopAll().then(() => process.exit(0)));

  try {
    const nats: NatsServerHandle = await startNatsServer({ dataDir: join(home, 'nats'), port: natsPort });
    started.push({ name: 'nats-server', stop: () => nats.stop() });
    say(`nats-server      ${nats.url} (data in ${join(home, 'nats')})`);

    let kubeconfig = process.env['FERRY_KUBECONFIG'] ?? process.env['KUBECONFIG'];
    if (!kubeconfig) {
      mkdirSync(join(home, 'sandbox'), { recursive: true });
      const sandbox: Sandbox = await startSandbox({
        port: sandboxPort,
        kubeconfigPath: join(home, 'sandbox', 'kubeconfig'),
        statePath: join(home, 'sandbox', 'state.json'),
      });
      started.push({ name: 'sandbox', stop: () => sandbox.close() });
      kubeconfig = sandbox.kubeconfigPath;
      say(`sandbox cluster  ${sandbox.url} (a local stand-in for a Kubernetes API; objects kept in ${join(home, 'sandbox', 'state.json')})`);
    } else {
      say(`cluster          from kubeconfig ${kubeconfig}`);
    }

    const repo = await ensureExampleRepo();
    const token = ensureToken();
    const notifierConfig = join(home, 'notifications.yaml');
    const common: Record<string, string> = {
      FERRY_NATS_URL: nats.url,
      FERRY_KUBECONFIG: kubeconfig,
      FERRY_GIT_CACHE_DIR: join(home, 'git-cache'),
      FERRY_POLL_INTERVAL_MS: process.env['FERRY_POLL_INTERVAL_MS'] ?? '30000',
      FERRY_API_TOKENS: `admin=${token}`,
      ...(existsSync(notifierConfig) ? { FERRY_NOTIFIER_CONFIG: notifierConfig } : {}),
    };
    const processes = await Promise.all(
      services.map((name) =>
        startServiceProcess({
          name,
          entry: join(root, 'services', name, 'src', 'main.ts'),
          env: { ...common, FERRY_HTTP_PORT: String(name === 'api' ? apiPort : metricsPorts[name]) },
          timeoutMs: 30_000,
        }),
      ),
    );
    for (const p of processes as ServiceProcess[]) started.push({ name: p.name, stop: () => p.stop('SIGTERM', 15_000) });

    const apps = readdirSync(join(root, 'examples', 'apps')).filter((f) => f.endsWith('.yaml')).sort();
    const outcomes: string[] = [];
    for (const file of apps) {
      const manifest = parse(readFileSync(join(root, 'examples', 'apps', file), 'utf8')) as { metadata: { name: string }; spec: { source: { repoURL: string } } };
      manifest.spec.source.repoURL = repo; // the only change to the example manifests
      outcomes.push(`${manifest.metadata.name} (${await register(manifest, token)})`);
    }

    const configFile = cliConfigPath();
    mkdirSync(dirname(configFile), { recursive: true });
    writeFileSync(configFile, `${JSON.stringify({ server: `http://127.0.0.1:${apiPort}`, token }, null, 2)}\n`, { mode: 0o600 });

    say('');
    say(`Ferry is running. Example apps: ${outcomes.join(', ')}`);
    say(`  api              http://127.0.0.1:${apiPort}`);
    say(`  api token        ${token}`);
    say(`  kubeconfig       ${kubeconfig}`);
    say(`  Git repository   ${repo}  (commit here; Ferry deploys it)`);
    say(`  metrics          ${Object.entries(metricsPorts).map(([n, p]) => `${n} :${p}`).join(', ')}, api :${apiPort}`);
    say(`  logs             ${(processes as ServiceProcess[]).map((p) => p.logFile).join(' ')}`);
    say(`  CLI login        ${configFile}`);
    say('');
    say('In another terminal:  npx ferry app list');
    say(`                      KUBECONFIG=${kubeconfig} kubectl get deployments -A`);
    say('Ctrl-C stops everything; npm start again picks up where this left off.');
  } catch (error) {
    say(`quick start failed: ${(error as Error).message}`);
    await stopAll();
    process.exitCode = 1;
  }
}

await main();
