/**
 * PreviewProxy signatures: HMAC-SHA256 keyed with the raw UTF-8 bytes of PP_HMAC_KEY over the
 * canonical string (params.ts), base64url without padding, in `sig` (query or path token).
 * One key, no salt, no expiry — as in PreviewProxy.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ProxyError } from '../../errors.js';

export function signCanonical(canonical: string, key: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(canonical, 'utf8').digest('base64url');
}

/** No-op when `key` is empty (signing off); otherwise FORBIDDEN unless `sig` matches. */
export function verifyCanonical(canonical: string, sig: string | undefined, key: string): void {
  if (key === '') return;
  if (sig === undefined || sig === '') throw new ProxyError('FORBIDDEN', 'Missing signature');
  // Compared as text, as PreviewProxy does: one valid spelling per signature.
  const expected = Buffer.from(signCanonical(canonical, key), 'utf8');
  const given = Buffer.from(sig, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new ProxyError('FORBIDDEN', 'Invalid signature');
}
