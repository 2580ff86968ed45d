/**
 * Warnings for variables that look like ours but are not: any IMGPROXY_*, PP_* or PIXPROXY_*
 * name in the environment (or `.env`) that neither pixproxy nor its peers read. A typo must
 * not be silent, so each warning names the closest known name when one is close enough,
 * across the three prefixes too (`PIXPROXY_CACHE_DIR` → `PP_CACHE_DIR`).
 */
import type { Env } from './types.js';

const PREFIXES = ['IMGPROXY_', 'PIXPROXY_', 'PP_'] as const;

function prefixOf(name: string): string | undefined {
  return PREFIXES.find((p) => name.startsWith(p));
}

/** Optimal-string-alignment distance: edits, with a swap of two neighbours counting as one. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const up = rows[i - 1];
      let d = i === 0 ? j : Math.min((up?.[j] ?? Infinity) + 1, (row[j - 1] ?? Infinity) + 1, (up?.[j - 1] ?? Infinity) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (rows[i - 2]?.[j - 2] ?? Infinity) + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? Math.max(a.length, b.length);
}

/** How far `name` is from `known`: the whole name, or the part after the prefix plus one for the prefix. */
function distance(name: string, known: string): number {
  const whole = editDistance(name, known);
  const p = prefixOf(name);
  const q = prefixOf(known);
  if (p === undefined || q === undefined || p === q) return whole;
  return Math.min(whole, editDistance(name.slice(p.length), known.slice(q.length)) + 1);
}

/** The closest known name, when it is close enough to be the intended one. */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  const body = name.slice(prefixOf(name)?.length ?? 0);
  const limit = Math.max(2, Math.floor(body.length / 4));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestDistance || (d === bestDistance && best !== undefined && k < best)) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** One warning per unknown IMGPROXY_*, PP_* or PIXPROXY_* variable, sorted by name. */
export function unknownVariableWarnings(env: Env, known: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (prefixOf(name) === undefined || known.has(name)) continue;
    const near = closestName(name, known);
    out.push(`${name} is not a variable pixproxy knows and is ignored${near ? `; did you mean ${near}?` : ''}`);
  }
  return out;
}
