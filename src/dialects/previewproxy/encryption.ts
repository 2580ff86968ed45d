/**
 * PreviewProxy's encrypted source URLs: base64url (no padding) of IV(16) ‖ AES-CBC/PKCS#7
 * ciphertext, key from PP_SOURCE_URL_ENCRYPTION_KEY (16/24/32 bytes → AES-128/192/256), IV
 * derived as HMAC-SHA256(key, url)[0..16] so one URL always gives one blob (CDN-friendly).
 *
 * Every failure (base64, length, padding, UTF-8) is the same 400 with the same message:
 * PreviewProxy names the failure (`invalid_padding`…), which is the signal a padding-oracle
 * attack needs. The dialect also decrypts only after the signature check (see index.ts).
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { ProxyError } from '../../errors.js';
import { decodeBase64Url, utf8 } from '../imgproxy/args.js';

function algorithm(key: Uint8Array): string {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new RangeError('AES key must be 16, 24 or 32 bytes');
  return `aes-${key.length * 8}-cbc`;
}

/** What PreviewProxy's `encrypt-url` command prints; for clients, tools and tests. */
export function encryptSourceUrl(url: string, key: Uint8Array): string {
  const iv = createHmac('sha256', key).update(url, 'utf8').digest().subarray(0, 16);
  const cipher = createCipheriv(algorithm(key), key, iv);
  return Buffer.concat([iv, cipher.update(url, 'utf8'), cipher.final()]).toString('base64url');
}

/** The public detail is deliberately the same for every way a blob can be bad. */
const BAD_BLOB = 'Invalid encrypted source URL';

export function decryptSourceUrl(blob: string, key: Uint8Array): string {
  const raw = decodeBase64Url(blob);
  // At least the IV and one block, and whole blocks only.
  if (raw === undefined || raw.length < 32 || raw.length % 16 !== 0) throw new ProxyError('BAD_REQUEST', BAD_BLOB);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv(algorithm(key), key, raw.subarray(0, 16));
    plain = Buffer.concat([decipher.update(raw.subarray(16)), decipher.final()]);
  } catch {
    throw new ProxyError('BAD_REQUEST', BAD_BLOB);
  }
  const text = utf8(plain);
  if (text === undefined) throw new ProxyError('BAD_REQUEST', BAD_BLOB);
  return text;
}
