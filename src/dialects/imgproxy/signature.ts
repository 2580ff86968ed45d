/**
 * imgproxy URL signatures: HMAC-SHA256 keyed with the key over salt ‖ path, truncated to
 * IMGPROXY_SIGNATURE_SIZE bytes, URL-safe base64 without padding. Several key/salt pairs
 * are tried in order so keys can be rotated without downtime.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../../config/index.js';
import { ProxyError } from '../../errors.js';

/** Signature of `path` (everything after the signature segment, leading `/` included). */
export function sign(path: string, key: Uint8Array, salt: Uint8Array, size = 32): string {
  return digest(path, key, salt, size).toString('base64url');
}

function digest(path: string, key: Uint8Array, salt: Uint8Array, size: number): Buffer {
  const mac = createHmac('sha256', key);
  mac.update(salt);
  // imgproxy signs the path with its leading slash and re-adds one if it was split off.
  if (!path.startsWith('/')) mac.update('/');
  mac.update(path);
  return mac.digest().subarray(0, Math.min(Math.max(size, 1), 32));
}

const RAW_BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Throws ProxyError FORBIDDEN unless `signature` is valid for `path`. */
export function verifySignature(signature: string, path: string, security: Config['security']): void {
  // Checked even without keys: a signature-less URL would otherwise silently lose its
  // first option to the signature slot.
  if (signature.includes(':')) {
    throw new ProxyError('FORBIDDEN', 'The signature appears to be a processing option. The signature section should always be present in the URL.');
  }
  if (security.trustedSignatures.includes(signature)) return;
  if (security.keys.length === 0 || security.salts.length === 0) return;

  // Go's RawURLEncoding: no padding, no foreign characters, no impossible length.
  if (!RAW_BASE64URL.test(signature) || signature.length % 4 === 1) {
    throw new ProxyError('FORBIDDEN', 'Invalid signature encoding');
  }
  const given = Buffer.from(signature, 'base64url');
  for (let i = 0; i < security.keys.length; i++) {
    const key = security.keys[i];
    const salt = security.salts[i];
    if (!key || !salt) continue;
    const expected = digest(path, key, salt, security.signatureSize);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return;
  }
  throw new ProxyError('FORBIDDEN', 'Invalid signature');
}
