/**
 * Reads services' Prometheus text exposition and summarises every histogram ending in `_seconds`:
 * per series (name + labels) the observation count and mean in milliseconds, optionally as the
 * difference between two scrapes (the work done in between).
 */
export interface HistogramTotals {
  sum: number;
  count: number;
}

export interface HistogramSummary {
  count: number;
  meanMs: number;
}

/** Series key (`name{labels}`) → sum and count of every `*_seconds` histogram in `text`. */
export function parseHistograms(text: string): Map<string, HistogramTotals> {
  const out = new Map<string, HistogramTotals>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*_seconds)_(sum|count)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const key = `${m[1]}${m[3] ?? ''}`;
    const totals = out.get(key) ?? { sum: 0, count: 0 };
    totals[m[2] === 'sum' ? 'sum' : 'count'] = Number(m[4]);
    out.set(key, totals);
  }
  return out;
}

/** count and mean of `after - before` per series, for series with new observations. */
export function summariseHistograms(
  after: Map<string, HistogramTotals>,
  before = new Map<string, HistogramTotals>(),
): Record<string, HistogramSummary> {
  const out: Record<string, HistogramSummary> = {};
  for (const [key, a] of after) {
    const b = before.get(key) ?? { sum: 0, count: 0 };
    const count = a.count - b.count;
    if (!(count > 0)) continue;
    out[key] = { count, meanMs: Math.round(((a.sum - b.sum) / count) * 1e4) / 10 };
  }
  return out;
}

/** GET `<url>/metrics` and parse its histograms; an empty map when it cannot be read. */
export async function scrapeHistograms(url: string): Promise<Map<string, HistogramTotals>> {
  try {
    const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) return new Map();
    return parseHistograms(await response.text());
  } catch {
    return new Map();
  }
}
