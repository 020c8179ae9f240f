import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { checkExpression, loadSourceMetrics, repoRoot } from './source-metrics.js';
import { findTool, run } from './tools.js';

const rulesDir = join(repoRoot, 'deploy/prometheus/rules');
const rulesFile = join(rulesDir, 'ferry.rules.yml');
const testsFile = join(rulesDir, 'ferry.rules.test.yml');
const promtool = findTool('promtool');
const noPromtool = promtool === undefined ? 'promtool not found at /usr/bin/promtool or on PATH (Debian package prometheus)' : false;

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTest {
  alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
}

const rules = (parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const alerts = rules.filter((r): r is Rule & { alert: string } => r.alert !== undefined);

test('the alert rules define the alerts DESIGN.md and the deploy brief ask for', () => {
  const names = alerts.map((a) => a.alert);
  for (const required of [
    'FerrySyncFailed',
    'FerryAppOutOfSyncTooLong',
    'FerryAppDegraded',
    'FerryDriftDetected',
    'FerryServiceDown',
    'FerryNotificationsFailing',
  ]) {
    assert.ok(names.includes(required), `${required} missing from ferry.rules.yml`);
  }
  assert.equal(new Set(names).size, names.length, 'alert names are unique');
  const byName = new Map(alerts.map((a) => [a.alert, a]));
  assert.equal(byName.get('FerryAppOutOfSyncTooLong')?.for, '15m');
  assert.equal(byName.get('FerryAppDegraded')?.for, '5m');
  assert.equal(byName.get('FerryServiceDown')?.for, '2m');
  assert.match(byName.get('FerryServiceDown')?.expr ?? '', /up\{job=~"ferry-\.\*"\} == 0/);
});

test('every alert has a severity, a summary, a description and a runbook anchor in docs/operations.md', () => {
  const operations = readFileSync(join(repoRoot, 'docs/operations.md'), 'utf8');
  for (const alert of alerts) {
    assert.ok(['critical', 'warning', 'info'].includes(alert.labels?.['severity'] ?? ''), `${alert.alert}: severity`);
    assert.ok(alert.annotations?.['summary'], `${alert.alert}: summary`);
    assert.ok(alert.annotations?.['description'], `${alert.alert}: description`);
    assert.equal(alert.annotations?.['runbook'], `docs/operations.md#${alert.alert.toLowerCase()}`);
    assert.match(operations, new RegExp(`^#{2,4} ${alert.alert}$`, 'm'), `docs/operations.md has a heading for ${alert.alert}`);
  }
});

test('every metric, label and label value the rules use is defined by the services', () => {
  const metrics = loadSourceMetrics();
  assert.ok(metrics.size > 10, 'the source defines the services metrics');
  const problems = rules.flatMap((r) => checkExpression(r.expr, metrics).map((p) => `${r.alert ?? r.record}: ${p}`));
  assert.deepEqual(problems, []);
});

test('every alert is covered by promtool tests that expect it to fire and not to fire', () => {
  const tests = (parse(readFileSync(testsFile, 'utf8')) as { tests: RuleTest[] }).tests;
  const cases = tests.flatMap((t) => t.alert_rule_test ?? []);
  for (const alert of alerts) {
    const mine = cases.filter((c) => c.alertname === alert.alert);
    assert.ok(
      mine.some((c) => (c.exp_alerts ?? []).length > 0),
      `${alert.alert}: no test expects it to fire`,
    );
    assert.ok(
      mine.some((c) => (c.exp_alerts ?? []).length === 0),
      `${alert.alert}: no test expects it to stay quiet`,
    );
  }
});

test('promtool check rules accepts the rules file', { skip: noPromtool }, async () => {
  const result = await run(promtool!, ['check', 'rules', rulesFile]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
});

test('promtool test rules passes the unit tests of every alert', { skip: noPromtool }, async () => {
  const result = await run(promtool!, ['test', 'rules', testsFile], { cwd: rulesDir });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /SUCCESS/);
});

test('the promtool tests catch a weakened rule (an OutOfSync alert after 10 instead of 15 minutes)', { skip: noPromtool }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-rules-'));
  try {
    for (const f of readdirSync(rulesDir)) copyFileSync(join(rulesDir, f), join(dir, f));
    const text = readFileSync(join(dir, 'ferry.rules.yml'), 'utf8');
    const weakened = text.replace(/(alert: FerryAppOutOfSyncTooLong[\s\S]*?for: )15m/, '$110m');
    assert.notEqual(weakened, text);
    writeFileSync(join(dir, 'ferry.rules.yml'), weakened);
    const result = await run(promtool!, ['test', 'rules', 'ferry.rules.test.yml'], { cwd: dir });
    assert.notEqual(result.code, 0);
    assert.match(result.stdout + result.stderr, /FerryAppOutOfSyncTooLong/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prometheus.yml scrapes every service as job ferry-<service> on the port docker-compose.yml gives it', () => {
  const config = parse(readFileSync(join(repoRoot, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
    rule_files: string[];
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { command?: string[]; environment?: Record<string, string>; volumes?: string[] }>;
  };
  const services = readdirSync(join(repoRoot, 'services'));
  for (const service of services) {
    const job = config.scrape_configs.find((s) => s.job_name === `ferry-${service}`);
    assert.ok(job, `no scrape job ferry-${service}`);
    const port = compose.services[service]?.environment?.['FERRY_HTTP_PORT'];
    assert.ok(port, `docker-compose.yml sets FERRY_HTTP_PORT for ${service}`);
    assert.deepEqual(
      job.static_configs.flatMap((s) => s.targets),
      [`${service}:${port}`],
    );
  }
  const mount = compose.services['prometheus']?.volumes?.find((v) => v.startsWith('./deploy/prometheus/rules:'));
  assert.ok(mount, 'docker-compose.yml mounts deploy/prometheus/rules');
  const target = mount.split(':')[1];
  assert.deepEqual(config.rule_files, [`${target}/ferry.rules.yml`], 'loads the rules file only (the tests file sits beside it)');
});

test('promtool check config accepts prometheus.yml', { skip: noPromtool }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-prom-'));
  try {
    const text = readFileSync(join(repoRoot, 'deploy/prometheus/prometheus.yml'), 'utf8').replace('/etc/prometheus/rules/', `${rulesDir}/`);
    writeFileSync(join(dir, 'prometheus.yml'), text);
    const result = await run(promtool!, ['check', 'config', join(dir, 'prometheus.yml')]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /SUCCESS: 1 rule files found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
