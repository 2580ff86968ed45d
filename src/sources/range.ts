/**
 * Byte ranges (RFC 9110 §14) for sources that serve them themselves (local://) and for
 * checking what an origin's 206 says. Only a single `bytes=` range is honoured: a server may
 * ignore a Range it does not support and answer 200 with the whole body (§14.2), which is
 * what we do for multi-range requests (multipart/byteranges buys nothing for images).
 */

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/**
 * The range a `Range` header selects in a representation of `size` bytes: a ByteRange,
 * `null` when the header is absent, malformed or multi-range (→ serve the whole body), or
 * `'unsatisfiable'` (→ 416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return null;
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return null;
  if (first === '') {
    // Suffix range: the last N bytes.
    const n = Number(last);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Infinity : Number(last);
  if (!Number.isSafeInteger(start) || end < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}

/** `bytes 0-99/1234` for a 206. */
export function contentRange(r: ByteRange, size: number): string {
  return `bytes ${r.start}-${r.end}/${size}`;
}

/** Parses a 206's `Content-Range`: start, end and the complete length (undefined for `*`). */
export function parseContentRange(header: string | undefined): { start: number; end: number; size: number | undefined } | null {
  if (header === undefined) return null;
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(header);
  if (!m) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) return null;
  return { start, end, size: m[3] === '*' ? undefined : Number(m[3]) };
}
