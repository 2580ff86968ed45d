/**
 * src/modules/security/encryption.rs (https://github.com/ViGrise/previewproxy): AES-CBC source
 * URLs with the deterministic IV, against the dialect's `encryptSourceUrl`/`decryptSourceUrl`
 * and PreviewProxy's algorithm as written out in `../pp.ts` (our blobs must equal its blobs).
 * PreviewProxy names each way a blob can be bad; we answer every bad blob alike (README).
 */
import { describe, expect } from 'vitest';
import { decryptSourceUrl, encryptSourceUrl } from '../../../../src/dialects/previewproxy/index.js';
import { ProxyError } from '../../../../src/errors.js';
import { differs, ported } from '../../harness.js';
import { KEY_16, KEY_32, ppEncrypt } from '../pp.js';

const SAME_ANSWER = 'every bad blob gets the same 400: naming the failure (base64, length, padding, UTF-8) is the padding-oracle signal PreviewProxy gives out (its decryption runs before the signature check)';

/** The one answer we give for any bad blob. */
function rejects(key: Uint8Array, blob: string): ProxyError {
  let err: unknown;
  try {
    decryptSourceUrl(blob, key);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ProxyError);
  expect((err as ProxyError).status).toBe(400);
  return err as ProxyError;
}

describe('src/modules/security/encryption.rs', () => {
  ported('test_round_trip_aes256', () => {
    const blob = encryptSourceUrl('https://example.com/img.jpg', KEY_32);
    expect(blob).toBe(ppEncrypt(KEY_32, 'https://example.com/img.jpg'));
    expect(decryptSourceUrl(blob, KEY_32)).toBe('https://example.com/img.jpg');
  });

  ported('test_round_trip_aes128', () => {
    const blob = encryptSourceUrl('https://cdn.example.com/photo.png', KEY_16);
    expect(blob).toBe(ppEncrypt(KEY_16, 'https://cdn.example.com/photo.png'));
    expect(decryptSourceUrl(blob, KEY_16)).toBe('https://cdn.example.com/photo.png');
  });

  ported('test_deterministic_iv', () => {
    expect(encryptSourceUrl('https://example.com/img.jpg', KEY_32)).toBe(encryptSourceUrl('https://example.com/img.jpg', KEY_32));
  });

  ported('test_different_urls_produce_different_blobs', () => {
    expect(encryptSourceUrl('https://example.com/a.jpg', KEY_32)).not.toBe(encryptSourceUrl('https://example.com/b.jpg', KEY_32));
  });

  ported('test_invalid_key_length', () => {
    const short = Buffer.from('short');
    expect(() => encryptSourceUrl('url', short)).toThrow();
    expect(() => decryptSourceUrl(ppEncrypt(KEY_32, 'url'), short)).toThrow();
  });

  differs(SAME_ANSWER, 'test_blob_too_short', () => {
    const a = rejects(KEY_32, Buffer.alloc(15).toString('base64url'));
    expect(a.message).toBe(rejects(KEY_32, 'not valid base64!!!').message);
  });

  differs(SAME_ANSWER, 'test_bad_base64', () => {
    const a = rejects(KEY_32, 'not valid base64!!!');
    expect(a.message).toBe(rejects(KEY_32, Buffer.alloc(15).toString('base64url')).message);
  });

  differs(SAME_ANSWER, 'test_wrong_key_corrupts_padding', () => {
    const a = rejects(Buffer.from('99999999999999999999999999999999', 'latin1'), ppEncrypt(KEY_32, 'https://example.com/img.jpg'));
    expect(a.message).toBe(rejects(KEY_32, 'not valid base64!!!').message);
  });
});
