/**
 * imgproxy Pro's encrypted source URLs (`/enc/%blob`): the source padded with PKCS #7,
 * AES-CBC with IMGPROXY_SOURCE_URL_ENCRYPTION_KEY (16, 24 or 32 bytes: AES-128/192/256), then
 * URL-safe base64 of IV ‖ ciphertext, as https://docs.imgproxy.net/usage/encrypting_source_url
 * describes (imgproxy's examples/encrypted_source_url.go does the same).
 *
 * The IV is deterministic unless one is given: the same source gives the same blob, so the
 * URLs stay cacheable by a CDN. imgproxy's documentation suggests "an HMAC hash of the plain
 * source URL with a different key, truncated to the IV size"; the different key here is
 * derived from the encryption key, so there is no second secret to manage.
 *
 * Only the encrypting side exists so far (`pixproxy encrypt-url`); the server does not decrypt
 * `/enc/` sources yet.
 */
import { createCipheriv, createHmac } from 'node:crypto';

const IV_KEY_LABEL = 'pixproxy imgproxy source URL IV';

function algorithm(key: Uint8Array): string {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new RangeError('AES key must be 16, 24 or 32 bytes');
  return `aes-${key.length * 8}-cbc`;
}

/** The IV `encryptSourceUrl` uses when none is given. */
export function deterministicIv(url: string, key: Uint8Array): Buffer {
  const ivKey = createHmac('sha256', key).update(IV_KEY_LABEL).digest();
  return createHmac('sha256', ivKey).update(url, 'utf8').digest().subarray(0, 16);
}

/** The blob that follows `/enc/` in an imgproxy URL. */
export function encryptSourceUrl(url: string, key: Uint8Array, iv: Uint8Array = deterministicIv(url, key)): string {
  if (iv.length !== 16) throw new RangeError('IV must be 16 bytes');
  // Node's cipher pads with PKCS #7 by default.
  const cipher = createCipheriv(algorithm(key), key, iv);
  return Buffer.concat([iv, cipher.update(url, 'utf8'), cipher.final()]).toString('base64url');
}
