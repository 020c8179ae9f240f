#!/usr/bin/env node
// `npm run bench [-- name…]`: runs every bench/*.ts (or those whose name contains an argument) one
// after another with `node --import tsx`, passes their progress (stderr) through, and prints one JSON
// object on stdout: { "<bench name>": <that bench's JSON output>, … }. Exit code 1 if any failed.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const filter = process.argv.slice(2);
const benches = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .filter((name) => filter.length === 0 || filter.some((x) => name.includes(x)))
  .sort();

function runBench(name) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', `${name}.ts`)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.on('close', (code, signal) => resolve({ code, signal, stdout }));
    child.on('error', (error) => resolve({ code: 1, signal: null, stdout: '', error }));
  });
}

const results = {};
let failed = false;
for (const name of benches) {
  process.stderr.write(`\n=== bench ${name} ===\n`);
  const { code, signal, stdout, error } = await runBench(name);
  let output;
  try {
    output = JSON.parse(stdout);
  } catch {
    output = { error: error?.message ?? 'no JSON on stdout', stdout: stdout.slice(-2000) };
  }
  if (code !== 0) {
    failed = true;
    if (output && typeof output === 'object' && !('exitCode' in output)) output = { ...output, exitCode: code ?? signal };
  }
  results[name] = output;
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
process.exitCode = failed ? 1 : 0;
