/**
 * Strong ETag of a processed result, derived from its bytes: it differs per options and
 * per negotiated format (unlike imgproxy v4, which passes the origin's ETag through).
 */
import { createHash } from 'node:crypto';

export function resultEtag(data: Buffer): string {
  return `"${createHash('sha256').update(data).digest('base64url').slice(0, 27)}"`;
}
