/**
 * Evaluating a GET's preconditions against a representation's validators (RFC 9110 §13,
 * https://www.rfc-editor.org/rfc/rfc9110#section-13): for processed results, `raw` files and
 * stored origin entries alike.
 */
import { parseHttpDate } from './http/http-date.js';

/** imgproxy's UnquoteEtag (httpheaders/conditional.go): without `W/` and the quotes. */
export function unquoteEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"+|"+$/g, '');
}

/** RFC 9110 §13.1.2: weak comparison of an If-None-Match list (or `*`) against an ETag. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const ours = etag.trim().replace(/^W\//, '');
  return header.split(',').some((t) => t.trim() === '*' || t.trim().replace(/^W\//, '') === ours);
}

/**
 * Whether a GET with these conditional headers is answered 304 for a representation with these
 * validators (RFC 9110 §13.2.2: If-None-Match decides when present, If-Modified-Since only
 * without it).
 */
export function answersNotModified(ifNoneMatch: string | undefined, ifModifiedSince: string | undefined, etag: string | undefined, lastModified: string | undefined): boolean {
  if (ifNoneMatch) return etag !== undefined && ifNoneMatchHits(ifNoneMatch, etag);
  if (!ifModifiedSince || lastModified === undefined) return false;
  const since = parseHttpDate(ifModifiedSince);
  const modified = parseHttpDate(lastModified);
  return since !== null && modified !== null && modified <= since;
}
