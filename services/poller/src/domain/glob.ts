/**
 * Glob patterns as Argo CD matches `directory.include` / `directory.exclude`: gobwas/glob compiled
 * without separators, matched against the whole path relative to the app path. So:
 * - `*` and `**` match any run of characters, `/` included (`*.yaml` matches `sub/a.yaml`);
 * - `?` matches one character; `[abc]`, `[a-z]`, `[!abc]` match one character of (not of) a class;
 * - `{a,b}` matches any alternative, alternatives are patterns themselves and may nest;
 * - `\` escapes the next character.
 * A pattern that does not compile (unclosed `[` or `{`) matches nothing, as in Argo CD.
 */
export interface Glob {
  readonly pattern: string;
  /** False when the pattern does not compile; such a glob matches nothing. */
  readonly valid: boolean;
  match(path: string): boolean;
}

/** Compiles a glob (see {@link Glob} for the syntax). */
export function compileGlob(pattern: string): Glob {
  let regex: RegExp | undefined;
  try {
    const parser = new Parser(pattern);
    const source = parser.parseSequence(false);
    if (!parser.done()) throw new SyntaxError('unexpected character');
    regex = new RegExp(`^${source}$`, 'su');
  } catch {
    regex = undefined;
  }
  return {
    pattern,
    valid: regex !== undefined,
    match: (path: string) => regex !== undefined && regex.test(path),
  };
}

/** Matches `path` against `pattern` once (compile with {@link compileGlob} to reuse). */
export function matchGlob(pattern: string, path: string): boolean {
  return compileGlob(pattern).match(path);
}

function escapeRegex(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

function escapeClassChar(ch: string): string {
  return /[\\\]^[-]/.test(ch) ? `\\${ch}` : ch;
}

class Parser {
  private pos = 0;
  private readonly chars: string[];

  constructor(pattern: string) {
    this.chars = [...pattern];
  }

  done(): boolean {
    return this.pos >= this.chars.length;
  }

  /** Parses until the end, or (inside braces) until an unnested `,` or `}`. */
  parseSequence(inBraces: boolean): string {
    let out = '';
    while (this.pos < this.chars.length) {
      const ch = this.chars[this.pos] as string;
      if (inBraces && (ch === ',' || ch === '}')) return out;
      this.pos++;
      switch (ch) {
        case '*':
          while (this.chars[this.pos] === '*') this.pos++;
          out += '.*';
          break;
        case '?':
          out += '.';
          break;
        case '[':
          out += this.parseClass();
          break;
        case '{':
          out += this.parseAlternatives();
          break;
        case '\\': {
          const next = this.chars[this.pos];
          if (next === undefined) throw new SyntaxError('dangling escape');
          this.pos++;
          out += escapeRegex(next);
          break;
        }
        default:
          out += escapeRegex(ch);
      }
    }
    if (inBraces) throw new SyntaxError('unclosed {');
    return out;
  }

  private parseAlternatives(): string {
    const alternatives: string[] = [];
    for (;;) {
      alternatives.push(this.parseSequence(true));
      const ch = this.chars[this.pos];
      this.pos++;
      if (ch === '}') return `(?:${alternatives.join('|')})`;
      if (ch !== ',') throw new SyntaxError('unclosed {');
    }
  }

  private parseClass(): string {
    let negate = false;
    if (this.chars[this.pos] === '!') {
      negate = true;
      this.pos++;
    }
    let body = '';
    let count = 0;
    for (;;) {
      const ch = this.chars[this.pos];
      if (ch === undefined) throw new SyntaxError('unclosed [');
      this.pos++;
      if (ch === ']') break;
      count++;
      if (this.chars[this.pos] === '-' && this.chars[this.pos + 1] !== undefined && this.chars[this.pos + 1] !== ']') {
        const hi = this.chars[this.pos + 1] as string;
        this.pos += 2;
        if (hi < ch) throw new SyntaxError('bad range');
        body += `${escapeClassChar(ch)}-${escapeClassChar(hi)}`;
      } else {
        body += escapeClassChar(ch);
      }
    }
    if (count === 0) throw new SyntaxError('empty class');
    return negate ? `[^${body}]` : `[${body}]`;
  }
}
