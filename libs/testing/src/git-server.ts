import { spawn } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { FixtureStartError } from './errors.js';
import { LineBuffer, terminate, trackChild } from './child-process.js';
import { runGit, workingCopy, type FileChanges, type GitRepoHandle } from './git.js';
import { tempDir } from './temp-dir.js';
import { tsxImport } from './tsx-path.js';

export interface GitServerOptions {
  /** Directory holding the bare repositories. Default: a temp dir removed on close(). */
  root?: string;
  /** Require HTTP basic auth with these credentials on every request (401 + WWW-Authenticate otherwise). */
  auth?: { username: string; password: string };
  /** Milliseconds to wait for the server process to listen. Default 15000. */
  startTimeoutMs?: number;
}

/** A Git smart-HTTP server (`git http-backend` behind node:http, in its own process). */
export interface GitServerHandle {
  /** Base URL, `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Directory holding the bare repositories. */
  readonly root: string;
  /** Clone URL of repository `name` (`<url>/<name>.git`); `credentials: true` embeds the basic-auth user. */
  repoUrl(name: string, options?: { credentials?: boolean }): string;
  /**
   * Creates bare repository `name` with HEAD on `branch` (default main) and a working clone the fixture
   * owns; with `files`, commits and pushes them as the first commit. Rejects if the repository exists.
   */
  createRepo(name: string, files?: FileChanges, options?: { branch?: string }): Promise<GitRepoHandle>;
  /** The server process's last log lines (git http-backend errors). */
  logs(): string;
  /** Stops the server process and removes the temp dirs it made; idempotent. */
  close(): Promise<void>;
}

const serverScript = fileURLToPath(new URL('./git-http-server.ts', import.meta.url));

function bareName(name: string): string {
  if (!/^[A-Za-z0-9._][A-Za-z0-9._/-]*$/.test(name) || name.split('/').includes('..')) {
    throw new Error(`invalid repository name: ${name}`);
  }
  return name.endsWith('.git') ? name : `${name}.git`;
}

/** Starts a real Git smart-HTTP server on a free port of 127.0.0.1 (clone, fetch, push; protocol v0/v1/v2). */
export async function startGitServer(options: GitServerOptions = {}): Promise<GitServerHandle> {
  const own = await tempDir('ferry-git');
  const root = options.root ?? join(own.path, 'repos');
  const workRoot = join(own.path, 'work');
  await mkdir(root, { recursive: true });
  await mkdir(workRoot, { recursive: true });

  const env: NodeJS.ProcessEnv = { ...process.env, FERRY_GIT_ROOT: root, HOME: own.path };
  delete env['NODE_TEST_CONTEXT'];
  delete env['FERRY_GIT_AUTH'];
  if (options.auth) env['FERRY_GIT_AUTH'] = `${options.auth.username}:${options.auth.password}`;
  const child = spawn(process.execPath, ['--import', tsxImport(), serverScript], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = trackChild(child);
  const output = new LineBuffer(500);
  child.stderr.setEncoding('utf8').on('data', (c: string) => output.push(c));

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out')), options.startTimeoutMs ?? 15_000);
      timer.unref();
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        output.push(`${line}\n`);
        try {
          const parsed = JSON.parse(line) as { port?: unknown };
          if (typeof parsed.port === 'number' && parsed.port > 0) {
            clearTimeout(timer);
            resolve(parsed.port);
          }
        } catch {
          // a log line
        }
      });
      child.once('error', reject);
      void exited.then((info) => reject(new Error(`exited early (${JSON.stringify(info)})`)));
    });
  } catch (error) {
    await terminate(child, exited, 'SIGKILL');
    await own.cleanup();
    throw new FixtureStartError('git server', 'did not start', output.tail(), { cause: error });
  }

  const url = `http://127.0.0.1:${port}`;
  const repoUrl = (name: string, opts: { credentials?: boolean } = {}): string => {
    const path = bareName(name);
    if (opts.credentials && options.auth) {
      const user = encodeURIComponent(options.auth.username);
      const pass = encodeURIComponent(options.auth.password);
      return `http://${user}:${pass}@127.0.0.1:${port}/${path}`;
    }
    return `${url}/${path}`;
  };
  let repoCount = 0;
  let closing: Promise<void> | undefined;

  return {
    url,
    port,
    root,
    repoUrl,
    createRepo: async (name, files = {}, opts = {}) => {
      const branch = opts.branch ?? 'main';
      const bareDir = join(root, bareName(name));
      const exists = await stat(bareDir).then(
        () => true,
        () => false,
      );
      if (exists) throw new Error(`repository ${name} already exists in ${root}`);
      await mkdir(bareDir, { recursive: true });
      await runGit(['init', '-q', '--bare', '-b', branch, bareDir]);
      repoCount += 1;
      const workdir = join(workRoot, `${repoCount}-${bareName(name).replace(/[/]/g, '_').replace(/\.git$/, '')}`);
      await runGit(['init', '-q', '-b', branch, workdir]);
      const authUrl = repoUrl(name, { credentials: true });
      await runGit(['remote', 'add', 'origin', authUrl], workdir);
      const copy = workingCopy(workdir, branch, true);
      if (Object.keys(files).length > 0) await copy.commit(files, 'initial commit');
      return Object.assign(copy, { url: repoUrl(name), authUrl, bareDir }) as GitRepoHandle;
    },
    logs: () => output.text(),
    close: () =>
      (closing ??= (async () => {
        child.stdin.end();
        await terminate(child, exited, 'SIGTERM', 3000);
        await own.cleanup();
      })()),
  };
}
