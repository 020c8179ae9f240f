/**
 * A line-based unified diff (as `diff -u` / `kubectl diff` print it), from a longest common
 * subsequence of the lines. Inputs are small (one object's YAML); beyond `MAX_CELLS` of LCS table the
 * differing middle is shown as removed and added as a whole.
 */

const MAX_CELLS = 4_000_000;

type Edit = { kind: ' ' | '-' | '+'; line: string };

function editScript(a: readonly string[], b: readonly string[]): Edit[] {
  // Common prefix and suffix first: most object diffs touch a few lines.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const head: Edit[] = a.slice(0, start).map((line) => ({ kind: ' ', line }));
  const tail: Edit[] = a.slice(endA).map((line) => ({ kind: ' ', line }));
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  const n = x.length;
  const m = y.length;
  const middle: Edit[] = [];
  if ((n + 1) * (m + 1) > MAX_CELLS) {
    for (const line of x) middle.push({ kind: '-', line });
    for (const line of y) middle.push({ kind: '+', line });
    return [...head, ...middle, ...tail];
  }
  // lcs[i][j] = LCS length of x[i..] and y[j..], in one flat table.
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] =
        x[i] === y[j] ? (lcs[(i + 1) * w + j + 1] as number) + 1 : Math.max(lcs[(i + 1) * w + j] as number, lcs[i * w + j + 1] as number);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      middle.push({ kind: ' ', line: x[i] as string });
      i++;
      j++;
    } else if ((lcs[(i + 1) * w + j] as number) >= (lcs[i * w + j + 1] as number)) {
      middle.push({ kind: '-', line: x[i++] as string });
    } else {
      middle.push({ kind: '+', line: y[j++] as string });
    }
  }
  while (i < n) middle.push({ kind: '-', line: x[i++] as string });
  while (j < m) middle.push({ kind: '+', line: y[j++] as string });
  return [...head, ...middle, ...tail];
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * The unified diff from `before` to `after` (texts of lines) with `context` lines around each change,
 * headed `--- <fromLabel>` / `+++ <toLabel>`; '' when the texts are equal.
 */
export function unifiedDiff(before: string, after: string, fromLabel: string, toLabel: string, context = 3): string {
  if (before === after) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  const edits = editScript(a, b);
  const changed = edits.map((e, k) => (e.kind === ' ' ? -1 : k)).filter((k) => k >= 0);
  if (changed.length === 0) return '';
  // Group changes whose context windows touch into hunks.
  const hunks: Array<[number, number]> = [];
  for (const k of changed) {
    const from = Math.max(0, k - context);
    const to = Math.min(edits.length, k + context + 1);
    const lastHunk = hunks[hunks.length - 1];
    if (lastHunk && from <= lastHunk[1]) lastHunk[1] = Math.max(lastHunk[1], to);
    else hunks.push([from, to]);
  }
  // Line numbers: position of each edit in a and b.
  const posA: number[] = [];
  const posB: number[] = [];
  let la = 0;
  let lb = 0;
  for (const e of edits) {
    posA.push(la);
    posB.push(lb);
    if (e.kind !== '+') la++;
    if (e.kind !== '-') lb++;
  }
  const out = [`--- ${fromLabel}`, `+++ ${toLabel}`];
  for (const [from, to] of hunks) {
    const slice = edits.slice(from, to);
    const countA = slice.filter((e) => e.kind !== '+').length;
    const countB = slice.filter((e) => e.kind !== '-').length;
    const startA = countA === 0 ? (posA[from] as number) : (posA[from] as number) + 1;
    const startB = countB === 0 ? (posB[from] as number) : (posB[from] as number) + 1;
    out.push(`@@ -${startA},${countA} +${startB},${countB} @@`);
    for (const e of slice) out.push(`${e.kind}${e.line}`);
  }
  return `${out.join('\n')}\n`;
}
