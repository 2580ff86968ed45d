/**
 * Request paths generated from a pattern, identical to what bench/lua/pattern.lua does
 * inside wrk, so the driver can warm up or pre-fill exactly the paths wrk will ask for.
 *
 * Placeholders: {n} request number, {w} {h} a square box of 100–999 px picked by n mod 900,
 * {src} {ext} the source picked by n (round robin over the list), {i} the index of that source.
 * The box is not unique per n: a pattern that must not repeat a result puts {n} in the source
 * URL or in a no-op option (imgproxy's `cb:{n}`).
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
  const h = w;
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
 * n (threads add tid * 50,000). A multiple of 900 and of every source-list length up to 6, so
 * that every run — whichever server it measures — asks for the same boxes of the same sources
 * in the same order: the cost of a resize grows with its width (a 900 px fit of the 12 MP JPEG
 * takes twice as long as a 150 px one), and with bases that shifted n mod 900 from one run to
 * the next, each server was measured on a different window of widths.
 */
const SEQ_BASE_STEP = 225_000;
let runCounter = 0;
export function nextSeqBase(): number {
  runCounter += 1;
  return runCounter * SEQ_BASE_STEP;
}
