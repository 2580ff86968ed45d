/**
 * Numeric URL arguments, for both dialects: a spec per argument (integer or not, bounds, and
 * what the peer does at the edges, for the docs) and one checker that enforces it. Each
 * dialect keeps its table next to its option table (imgproxy/arg-ranges.ts,
 * previewproxy/params.ts) and wraps failures in its own error. Checking here, at parse time,
 * is what keeps NaN, Infinity, 1e308 and 2^60 away from sharp, where they throw (a 500) or
 * allocate without bound.
 */

export interface NumberSpec {
  readonly kind: 'int' | 'float';
  readonly min: number;
  /** Infinity = any finite value. */
  readonly max: number;
  /** `> min` rather than `≥ min`. */
  readonly minExclusive?: boolean;
  /** What the peer accepts at the edges, and why we differ where we do (docs only). */
  readonly peer: string;
}

const INT_RE = /^[+-]?\d+$/;
// Decimal notation only. Go's strconv.ParseFloat and Rust's f32::from_str also take `inf`,
// `NaN` and (Go) hex floats; none of those is a sensible image parameter.
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The value, or undefined when `text` is not a number of the spec's kind within its bounds. */
export function checkNumber(spec: NumberSpec, text: string): number | undefined {
  const syntax = spec.kind === 'int' ? INT_RE : FLOAT_RE;
  const n = syntax.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n) || (spec.kind === 'int' && !Number.isSafeInteger(n))) return undefined;
  if (spec.minExclusive ? n <= spec.min : n < spec.min) return undefined;
  if (n > spec.max) return undefined;
  // `-0` and `0` are one value (and one cache key).
  return n + 0;
}

/** `1e7` for round powers of ten, plain digits otherwise. */
const fmt = (n: number): string => {
  const e = n.toExponential();
  return Math.abs(n) >= 1e6 && /^-?1e\+\d+$/.test(e) ? e.replace('e+', 'e') : String(n);
};

/** `integer ≥ 0 and ≤ 1e7`, `number > 0`, `any number`: for error messages and the docs. */
export function describeRange(spec: NumberSpec): string {
  const kind = spec.kind === 'int' ? 'integer' : 'number';
  const hasMin = spec.min > Number.MIN_SAFE_INTEGER && spec.min !== -Infinity;
  const hasMax = spec.max < Number.MAX_SAFE_INTEGER && spec.max !== Infinity;
  const low = `${spec.minExclusive ? '>' : '≥'} ${fmt(spec.min)}`;
  if (hasMin && hasMax) return `${kind} ${low} and ≤ ${fmt(spec.max)}`;
  if (hasMin) return `${kind} ${low}`;
  if (hasMax) return `${kind} ≤ ${fmt(spec.max)}`;
  return spec.kind === 'int' ? 'integer' : 'any number';
}
