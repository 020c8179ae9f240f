import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClustersFile } from '../src/clusters-file.js';

test('named clusters are read with kubeconfig paths relative to the file', () => {
  const { clusters, problems } = parseClustersFile(
    'clusters:\n  - name: prod\n    kubeconfig: prod.kubeconfig\n    context: admin\n    server: https://prod.example:6443\n  - name: dev\n    kubeconfig: /etc/dev.kubeconfig\n',
    '/etc/ferry/clusters.yaml',
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(clusters, [
    { name: 'prod', kubeconfigPath: '/etc/ferry/prod.kubeconfig', context: 'admin', server: 'https://prod.example:6443' },
    { name: 'dev', kubeconfigPath: '/etc/dev.kubeconfig' },
  ]);
});

test('every problem is reported, naming the entry and field', () => {
  const { problems } = parseClustersFile(
    'clusters:\n  - name: in-cluster\n    kubeconfig: a\n  - name: Prod\n  - name: x\n    kubeconfig: b\n    zone: eu\n  - name: x\n    kubeconfig: c\n    server: not a url\n',
    'c.yaml',
  );
  assert.deepEqual(problems, [
    "c.yaml: clusters[0].name 'in-cluster' is reserved for the default cluster",
    'c.yaml: clusters[1].name must be a lowercase DNS name',
    'c.yaml: clusters[1].kubeconfig must be a path',
    "c.yaml: clusters[2]: unknown field 'zone'",
    "c.yaml: clusters[3].name 'x' is declared twice",
    'c.yaml: clusters[3].server must be a URL',
  ]);
});

test('a YAML syntax error names the line; an empty file names no cluster', () => {
  assert.match(parseClustersFile('clusters:\n  - name: [\n', 'c.yaml').problems[0] ?? '', /^c\.yaml:\d+: /);
  assert.deepEqual(parseClustersFile('', 'c.yaml'), { clusters: [], problems: [] });
});
