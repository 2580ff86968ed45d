/**
 * Request paths generated from a pattern, identical to what bench/lua/pattern.lua does
 * inside wrk, so the driver can warm up or pre-fill exactly the paths wrk will ask for.
 *
 * Placeholders: {n} request number, {w} {h} a (w, h) pair unique per n, {src} {ext} the
 * source picked by n (round robin over the list), {i} the index of that source.
 */
export interface Source {
  /** File name at the origin, e.g. big.jpg. */
  name: string;
  /** Output extension for the imgproxy URL (`@jpg`), e.g. jpg, png. */
  ext: string;
}

/** How wrk picks n: unique increasing numbers, a cycle over 0..k-1, or uniform random in 0..k-1. */
export type PatternMode = 'seq' | 'cycle' | 'rand';

export function expand(pattern: string, n: number, sources: readonly Source[]): string {
  const i = sources.length > 0 ? n % sources.length : 0;
  const src = sources[i] ?? { name: '', ext: '' };
  const w = 100 + (n % 900);
  const h = 100 + Math.floor(n / 900);
  return pattern
    .replaceAll('{n}', String(n))
    .replaceAll('{w}', String(w))
    .replaceAll('{h}', String(h))
    .replaceAll('{src}', src.name)
    .replaceAll('{ext}', src.ext)
    .replaceAll('{i}', String(i));
}

export function sourcesArg(sources: readonly Source[]): string {
  return sources.map((s) => `${s.name}:${s.ext}`).join(',');
}

/**
 * Per-run base for `seq` mode so that no two wrk runs of one bench process produce the same
 * n. Threads add tid * 50,000; n stays below 10^7, which keeps {h} below ~11,200 px.
 */
let runCounter = 0;
export function nextSeqBase(): number {
  runCounter += 1;
  return runCounter * 200_000;
}
