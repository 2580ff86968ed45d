/**
 * imgproxy Pro's encrypted source URLs (`/enc/%blob`), key from IMGPROXY_SOURCE_URL_ENCRYPTION_KEY:
 * the shared cipher (../url-cipher.ts) as https://docs.imgproxy.net/usage/encrypting_source_url
 * describes it (imgproxy's examples/encrypted_source_url.go does the same).
 *
 * The IV is deterministic unless one is given: the same source gives the same blob, so the
 * URLs stay cacheable by a CDN. imgproxy's documentation suggests "an HMAC hash of the plain
 * source URL with a different key, truncated to the IV size"; the different key here is
 * derived from the encryption key, so there is no second secret to manage. The server opens
 * blobs with any IV (source-url.ts), after the signature check.
 */
import { createHmac } from 'node:crypto';
import { openUrl, sealUrl } from '../url-cipher.js';

const IV_KEY_LABEL = 'pixproxy imgproxy source URL IV';

/** The IV `encryptSourceUrl` uses when none is given. */
export function deterministicIv(url: string, key: Uint8Array): Buffer {
  const ivKey = createHmac('sha256', key).update(IV_KEY_LABEL).digest();
  return createHmac('sha256', ivKey).update(url, 'utf8').digest().subarray(0, 16);
}

/** The blob that follows `/enc/` in an imgproxy URL. */
export function encryptSourceUrl(url: string, key: Uint8Array, iv: Uint8Array = deterministicIv(url, key)): string {
  return sealUrl(url, key, iv);
}

/** The source URL in a blob, or null for any bad blob (one answer for all: no padding oracle). */
export function decryptSourceUrl(blob: string, key: Uint8Array): string | null {
  return openUrl(blob, key);
}
