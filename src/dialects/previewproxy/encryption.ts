/**
 * PreviewProxy's encrypted source URLs (`enc/<blob>`), key from PP_SOURCE_URL_ENCRYPTION_KEY:
 * the shared cipher (../url-cipher.ts) with the IV derived as HMAC-SHA256(key, url)[0..16], so
 * one URL always gives one blob (CDN-friendly).
 *
 * Every failure (base64, length, padding, UTF-8) is the same 400 with the same message:
 * PreviewProxy names the failure (`invalid_padding`…), which is the signal a padding-oracle
 * attack needs. The dialect also decrypts only after the signature check (see index.ts).
 */
import { createHmac } from 'node:crypto';
import { ProxyError } from '../../errors.js';
import { openUrl, sealUrl } from '../url-cipher.js';

/** What PreviewProxy's `encrypt-url` command prints; for clients, tools and tests. */
export function encryptSourceUrl(url: string, key: Uint8Array): string {
  return sealUrl(url, key, createHmac('sha256', key).update(url, 'utf8').digest().subarray(0, 16));
}

/** The public detail is deliberately the same for every way a blob can be bad. */
const BAD_BLOB = 'Invalid encrypted source URL';

export function decryptSourceUrl(blob: string, key: Uint8Array): string {
  const url = openUrl(blob, key);
  if (url === null) throw new ProxyError('BAD_REQUEST', BAD_BLOB);
  return url;
}
