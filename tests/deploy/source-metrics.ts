// The metrics Ferry's code defines, read from the source (services/*/src, libs/runtime/src), and a
// checker for PromQL expressions in deploy/ (alert rules, dashboards): every ferry_* metric they
// name must be defined, with the labels their selectors use, and `=` values must be words the code
// uses. Grep-based on purpose: it needs no service to run.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const repoRoot = new URL('../../', import.meta.url).pathname;

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface SourceMetric {
  readonly name: string;
  readonly type: MetricType;
  readonly labels: readonly string[];
  readonly file: string;
}

/** Labels every series carries besides its own: the registry's default label and Prometheus' target labels. */
const AMBIENT_LABELS = ['service', 'job', 'instance'];

function tsFiles(dir: string, out: string[] = []): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) tsFiles(full, out);
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** Source files whose metrics and string literals count: every service's and library's src/. */
export function sourceFiles(): string[] {
  const files: string[] = [];
  for (const group of ['services', 'libs']) {
    for (const pkg of readdirSync(join(repoRoot, group))) tsFiles(join(repoRoot, group, pkg, 'src'), files);
  }
  return files;
}

const METRIC_DEFINITION = /new\s+(Counter|Gauge|Histogram)\s*(?:<[^>(]*>)?\s*\(\s*\{([\s\S]*?)\}\s*\)/g;

/** Every `new Counter|Gauge|Histogram({ name: 'ferry_…', labelNames: […] })` in the source. */
export function loadSourceMetrics(): Map<string, SourceMetric> {
  const metrics = new Map<string, SourceMetric>();
  for (const file of sourceFiles()) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(METRIC_DEFINITION)) {
      const body = m[2] ?? '';
      const name = /name:\s*'(ferry_[a-z0-9_]+)'/.exec(body)?.[1];
      if (name === undefined) continue;
      const labelList = /labelNames:\s*\[([^\]]*)\]/.exec(body)?.[1] ?? '';
      const labels = [...labelList.matchAll(/'([a-zA-Z_][a-zA-Z0-9_]*)'/g)].map((l) => l[1] ?? '');
      metrics.set(name, { name, type: (m[1] ?? '').toLowerCase() as MetricType, labels, file: relative(repoRoot, file) });
    }
  }
  return metrics;
}

let literalCache: Set<string> | undefined;
/** Every single-quoted string literal in the source: the vocabulary label values come from. */
function sourceLiterals(): Set<string> {
  if (literalCache) return literalCache;
  literalCache = new Set();
  for (const file of sourceFiles()) {
    for (const m of readFileSync(file, 'utf8').matchAll(/'([^'\\\n]{1,80})'/g)) literalCache.add(m[1] ?? '');
  }
  return literalCache;
}

/** The metric a series name belongs to (`x_bucket` of histogram `x` → `x`), or undefined. */
export function metricOf(series: string, metrics: Map<string, SourceMetric>): SourceMetric | undefined {
  const direct = metrics.get(series);
  if (direct) return direct;
  const base = /^(.*)_(bucket|sum|count)$/.exec(series)?.[1];
  const metric = base === undefined ? undefined : metrics.get(base);
  return metric?.type === 'histogram' ? metric : undefined;
}

/** The ferry_* series names an expression uses. */
export function seriesNames(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\b(ferry_[a-z0-9_]+)\b/g)].map((m) => m[1] ?? ''))];
}

/**
 * Problems of one PromQL expression against the source: unknown metrics, selector labels the metric
 * does not have, `=`/`=~` values (plain words) the source never uses, and `by (…)` labels no metric
 * of the expression has.
 */
export function checkExpression(expr: string, metrics: Map<string, SourceMetric>): string[] {
  const problems: string[] = [];
  const used = seriesNames(expr);
  const known: SourceMetric[] = [];
  for (const series of used) {
    const metric = metricOf(series, metrics);
    if (!metric) problems.push(`${series} is not defined in the source`);
    else known.push(metric);
  }
  const literals = sourceLiterals();
  for (const m of expr.matchAll(/\b(ferry_[a-z0-9_]+)\s*\{([^}]*)\}/g)) {
    const metric = metricOf(m[1] ?? '', metrics);
    if (!metric) continue;
    const allowed = new Set([...metric.labels, ...AMBIENT_LABELS, ...(metric.type === 'histogram' ? ['le'] : [])]);
    for (const matcher of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
      const [, label = '', op = '', value = ''] = matcher;
      if (!allowed.has(label)) problems.push(`${metric.name} has no label ${label} (labels: ${metric.labels.join(', ') || 'none'})`);
      if (op === '=' || op === '=~') {
        const values = op === '=' ? [value] : /^[\w.-]+(\|[\w.-]+)*$/.test(value) ? value.split('|') : [];
        for (const v of values) {
          if (!AMBIENT_LABELS.includes(label) && !literals.has(v))
            problems.push(`${metric.name}{${label}="${v}"}: "${v}" is not a value the source uses`);
        }
      }
    }
  }
  const groupLabels = new Set([...known.flatMap((k) => k.labels), ...AMBIENT_LABELS, 'le']);
  for (const m of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const label of (m[1] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')) {
      if (!groupLabels.has(label)) problems.push(`grouping label ${label} belongs to no metric of the expression`);
    }
  }
  return problems;
}
