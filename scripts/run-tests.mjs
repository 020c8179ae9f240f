#!/usr/bin/env node
// Runs every test file of the workspace with node's test runner (tsx loads TypeScript).
// Node 20 does not expand globs for --test, so the files are listed here explicitly.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const roots = ['libs', 'services', 'cli'];
const filter = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, full));
  }
  return out;
}

const files = [];
for (const r of roots) {
  for (const pkg of readdirSync(join(root, r))) {
    const testDir = join(root, r, pkg, 'test');
    try {
      if (statSync(testDir).isDirectory()) walk(testDir, files);
    } catch {
      // package without tests
    }
  }
}
for (const dir of [join(root, 'cli', 'test'), join(root, 'tests')]) {
  try {
    if (statSync(dir).isDirectory()) walk(dir, files);
  } catch {
    // no tests there
  }
}
const selected = [...new Set(files)].filter((f) => filter.length === 0 || filter.some((x) => f.includes(x))).sort();
if (selected.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...selected],
  { cwd: root, stdio: 'inherit' },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
