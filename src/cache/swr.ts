/**
 * Stale-while-revalidate and stale-if-error for results (RFC 5861,
 * https://www.rfc-editor.org/rfc/rfc5861): how long a result stays fresh, and how long after
 * that it may still be answered, in the background of a refresh (§3) or while its source
 * fails (§4). The windows come from the source's own `Cache-Control` directives, else from
 * PIXPROXY_CACHE_STALE_WHILE_REVALIDATE_SECS / _STALE_IF_ERROR_SECS.
 *
 * A result with a stale window is fresh as long as its source (no longer than
 * PP_CACHE_DISK_TTL_SECS); one without keeps the classic life of PP_CACHE_DISK_TTL_SECS,
 * whatever its source's freshness. `sourceTag` is what a refresh compares to tell a source
 * that did not change (a 304, the same bytes: every variant is kept) from one that did (a 200
 * with new bytes: its variants are retired).
 */
import { bodyDigestSliced } from '../body-digest.js';
import type { SourceResponse } from '../sources/types.js';

export interface StaleWindows {
  /** Seconds of `stale-while-revalidate`. */
  swrSecs: number;
  /** Seconds of `stale-if-error`. */
  sieSecs: number;
}

/** When a result stops being fresh, and until when it may still be answered stale. */
export interface ResultFreshness {
  staleAt: number;
  /** Answered at once while a background refresh runs, until then. */
  swrUntil: number;
  /** Answered when the refresh fails, until then. */
  sieUntil: number;
}

export type Staleness = 'fresh' | 'revalidate' | 'if-error' | 'expired';

function directive(cacheControl: string | undefined, name: string): number | undefined {
  const m = new RegExp(`(?:^|[\\s,])${name}\\s*=\\s*"?(\\d{1,10})"?`, 'i').exec(cacheControl ?? '');
  return m ? Number(m[1]) : undefined;
}

/** The source's RFC 5861 directives, each falling back to the operator's default. */
export function staleWindows(headers: Readonly<Record<string, string>>, defaults: StaleWindows): StaleWindows {
  const cc = headers['cache-control'];
  return { swrSecs: directive(cc, 'stale-while-revalidate') ?? defaults.swrSecs, sieSecs: directive(cc, 'stale-if-error') ?? defaults.sieSecs };
}

/**
 * The freshness of a result computed now from a source fresh until `sourceFreshUntil`, or
 * null when no stale window applies (the result then lives `lifeMs`).
 */
export function resultFreshness(now: number, lifeMs: number, sourceFreshUntil: number, windows: StaleWindows): ResultFreshness | null {
  if (windows.swrSecs <= 0 && windows.sieSecs <= 0) return null;
  const staleAt = Math.min(now + lifeMs, Math.max(now, sourceFreshUntil));
  return { staleAt, swrUntil: staleAt + windows.swrSecs * 1000, sieUntil: staleAt + windows.sieSecs * 1000 };
}

/** Where a result with freshness `f` stands at `now` (no freshness = fresh until it expires). */
export function staleness(f: Partial<ResultFreshness>, now: number): Staleness {
  if (f.staleAt === undefined || now < f.staleAt) return 'fresh';
  if (f.swrUntil !== undefined && now < f.swrUntil) return 'revalidate';
  if (f.sieUntil !== undefined && now < f.sieUntil) return 'if-error';
  return 'expired';
}

/** Until when an entry with freshness `f` is worth keeping at all. */
export function keepUntil(f: ResultFreshness): number {
  return Math.max(f.staleAt, f.swrUntil, f.sieUntil);
}

/**
 * What identifies the source bytes a result was made from: the origin's validator when it
 * sent one (a 304 keeps it), else a digest of the bytes, only when `hash` is set (the bytes
 * are hashed on the event loop, in slices: only where a refresh makes the comparison worth it).
 * The digest is the one the origin sub-store's entry records of the same Buffer, computed once
 * for both (body-digest.ts).
 */
export async function sourceTag(res: Pick<SourceResponse, 'etag' | 'lastModified' | 'body'>, hash = true): Promise<string | undefined> {
  if (res.etag) return `e:${res.etag}`;
  if (res.lastModified) return `m:${res.lastModified}`;
  return hash ? `h:${(await bodyDigestSliced(res.body)).toString('base64url').slice(0, 22)}` : undefined;
}
