/**
 * The cipher both dialects' encrypted source URLs use (imgproxy Pro's `/enc/`,
 * https://docs.imgproxy.net/usage/encrypting_source_url, and PreviewProxy's `enc/`): the URL
 * padded with PKCS #7, AES-CBC under a 16, 24 or 32-byte key (AES-128/192/256), the 16-byte IV
 * in front of the ciphertext, all URL-safe base64 without padding. The dialects differ only in
 * how they pick the IV (encryption.ts of each).
 *
 * Opening answers null for every way a blob can be bad (base64, length, padding, UTF-8, control
 * characters), so a caller cannot tell them apart: telling a padding failure from a bad
 * plaintext is what a padding-oracle attack needs. Both dialects also open a blob only after
 * its URL's signature has been checked.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { decodeBase64Url, utf8 } from './imgproxy/args.js';

function algorithm(key: Uint8Array): string {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new RangeError('AES key must be 16, 24 or 32 bytes');
  return `aes-${key.length * 8}-cbc`;
}

/** The blob for `url` under `key` with this 16-byte IV. */
export function sealUrl(url: string, key: Uint8Array, iv: Uint8Array): string {
  if (iv.length !== 16) throw new RangeError('IV must be 16 bytes');
  // Node's cipher pads with PKCS #7 by default.
  const cipher = createCipheriv(algorithm(key), key, iv);
  return Buffer.concat([iv, cipher.update(url, 'utf8'), cipher.final()]).toString('base64url');
}

/** The URL sealed in `blob`, or null whatever is wrong with it. */
export function openUrl(blob: string, key: Uint8Array): string | null {
  const raw = decodeBase64Url(blob);
  // At least the IV and one block, and whole blocks only.
  if (raw === undefined || raw.length < 32 || raw.length % 16 !== 0) return null;
  let plain: Buffer;
  try {
    const decipher = createDecipheriv(algorithm(key), key, raw.subarray(0, 16));
    plain = Buffer.concat([decipher.update(raw.subarray(16)), decipher.final()]);
  } catch {
    return null;
  }
  const text = utf8(plain);
  // eslint-disable-next-line no-control-regex
  return text === undefined || text === '' || /[\u0000-\u001f\u007f]/.test(text) ? null : text;
}
