import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { checkExpression, loadSourceMetrics, repoRoot, seriesNames } from './source-metrics.js';
import { findTool, run } from './tools.js';

const dashboardsDir = join(repoRoot, 'deploy/grafana/dashboards');
const promtool = findTool('promtool');

interface Target {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string; current?: { value?: string } }[] };
}

const dashboards = readdirSync(dashboardsDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, dashboard: JSON.parse(readFileSync(join(dashboardsDir, f), 'utf8')) as Dashboard }));
const overview = dashboards.find((d) => d.file === 'ferry-overview.json')?.dashboard;

function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}
function allExpressions(d: Dashboard): { panel: string; expr: string }[] {
  return allPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}
/** Grafana's own variables replaced by values PromQL accepts. */
function concrete(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m');
}

test('the overview dashboard is Grafana JSON of schema 39 with unique panel ids on a 24-column grid', () => {
  assert.ok(overview, 'deploy/grafana/dashboards/ferry-overview.json');
  assert.equal(overview.schemaVersion, 39);
  assert.equal(overview.uid, 'ferry-overview');
  const panels = allPanels(overview);
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  for (const p of panels) {
    assert.ok(Number.isInteger(p.id) && p.id > 0, `${p.title}: id`);
    assert.ok(p.gridPos.x >= 0 && p.gridPos.w > 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: fits 24 columns`);
    assert.ok(['row', 'timeseries', 'stat', 'piechart', 'table'].includes(p.type), `${p.title}: known panel type ${p.type}`);
    if (p.type !== 'row') assert.ok((p.targets ?? []).length > 0, `${p.title}: has queries`);
  }
});

test("every query uses the dashboard's Prometheus data source variable, which defaults to the provisioned one", () => {
  const variable = overview!.templating.list.find((v) => v.name === 'datasource');
  assert.equal(variable?.type, 'datasource');
  assert.equal(variable?.query, 'prometheus');
  const provisioned = parse(readFileSync(join(repoRoot, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
    datasources: { uid: string; type: string; url: string }[];
  };
  assert.equal(provisioned.datasources[0]?.type, 'prometheus');
  assert.equal(variable?.current?.value, provisioned.datasources[0]?.uid);
  assert.equal(provisioned.datasources[0]?.url, 'http://prometheus:9090', 'the compose service name and port');
  for (const p of allPanels(overview!).filter((p) => p.type !== 'row')) {
    for (const t of [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)])
      assert.deepEqual(t, { type: 'prometheus', uid: '${datasource}' }, p.title);
  }
});

test('the dashboard shows apps, syncs, Git, comparison and drift, notifications and event handler errors', () => {
  const used = new Set(allExpressions(overview!).flatMap((e) => seriesNames(e.expr)));
  for (const name of [
    'ferry_differ_app_sync_status',
    'ferry_health_app_status',
    'ferry_applier_syncs_total',
    'ferry_applier_sync_duration_seconds_bucket',
    'ferry_poller_git_requests_total',
    'ferry_poller_git_request_duration_seconds_bucket',
    'ferry_differ_comparisons_total',
    'ferry_differ_drift_events_total',
    'ferry_notifier_notifications_total',
    'ferry_events_handled_total',
  ]) {
    assert.ok(used.has(name), `no panel queries ${name}`);
  }
  const p95 = allExpressions(overview!)
    .filter((e) => e.expr.includes('ferry_applier_sync_duration_seconds_bucket'))
    .map((e) => /histogram_quantile\(([\d.]+)/.exec(e.expr)?.[1]);
  assert.deepEqual(p95.sort(), ['0.5', '0.95'], 'sync duration p50 and p95');
});

test('every metric, label and label value a dashboard query uses is defined by the services', () => {
  const metrics = loadSourceMetrics();
  const problems: string[] = [];
  for (const { file, dashboard } of dashboards) {
    for (const { panel, expr } of allExpressions(dashboard)) {
      if (seriesNames(expr).length === 0 && !/\bup\{/.test(expr)) problems.push(`${file} "${panel}": queries no Ferry metric: ${expr}`);
      problems.push(...checkExpression(expr, metrics).map((p) => `${file} "${panel}": ${p}`));
    }
  }
  assert.deepEqual(problems, []);
});

test(
  'every dashboard query is valid PromQL (promtool checks them as recording rules)',
  { skip: promtool === undefined ? 'promtool not found at /usr/bin/promtool or on PATH (Debian package prometheus)' : false },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-dash-'));
    try {
      const rules = dashboards
        .flatMap(({ dashboard }) => allExpressions(dashboard))
        .map((e, i) => ({ record: `dashboard:query_${i}`, expr: concrete(e.expr) }));
      writeFileSync(join(dir, 'queries.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
      const result = await run(promtool!, ['check', 'rules', join(dir, 'queries.yml')]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
      // The check has teeth: a broken query is refused.
      writeFileSync(
        join(dir, 'broken.yml'),
        stringify({ groups: [{ name: 'x', rules: [{ record: 'x:y', expr: 'sum by (le (rate(ferry_applier_syncs_total[5m]))' }] }] }),
      );
      assert.notEqual((await run(promtool!, ['check', 'rules', join(dir, 'broken.yml')])).code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('Grafana provisioning loads dashboards from where docker-compose.yml mounts deploy/grafana/dashboards', () => {
  const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { volumes?: string[] }>;
  };
  const volumes = compose.services['grafana']?.volumes ?? [];
  const target = (source: string): string | undefined => volumes.find((v) => v.startsWith(`${source}:`))?.split(':')[1];
  const dashboardsMount = target('./deploy/grafana/dashboards');
  assert.equal(target('./deploy/grafana/provisioning'), '/etc/grafana/provisioning');
  const providers = parse(readFileSync(join(repoRoot, 'deploy/grafana/provisioning/dashboards/ferry.yml'), 'utf8')) as {
    providers: { type: string; options: { path: string } }[];
  };
  assert.equal(providers.providers[0]?.type, 'file');
  assert.equal(providers.providers[0]?.options.path, dashboardsMount);
});
