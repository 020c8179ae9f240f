import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { kubectlPath, requireTool, startSandbox } from '@ferry/testing';

const exec = promisify(execFile);

test('the sandbox cluster re-exported from @ferry/testing starts, answers kubectl, and closes', async (t) => {
  if (!requireTool('kubectl', t)) return;
  const sandbox = await startSandbox();
  t.after(() => sandbox.close());
  const { stdout } = await exec(kubectlPath() ?? 'kubectl', ['--kubeconfig', sandbox.kubeconfigPath, 'get', 'namespaces', '-o', 'name']);
  assert.match(stdout, /namespace\/default/);
});
