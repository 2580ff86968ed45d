/**
 * src/modules/security/hmac.rs (https://github.com/ViGrise/previewproxy): HMAC-SHA256 over the
 * canonical string, base64url without padding, against the dialect's verifier; every signature
 * is made the way PreviewProxy makes it (`ppSign` in `../pp.ts`), not by our signer.
 */
import { describe, expect } from 'vitest';
import { signCanonical, verifyCanonical } from '../../../../src/dialects/previewproxy/index.js';
import { ported } from '../../harness.js';
import { ppSign } from '../pp.js';

const verifies = (key: string, message: string, sig: string): boolean => {
  try {
    verifyCanonical(message, sig, key);
    return true;
  } catch {
    return false;
  }
};

describe('src/modules/security/hmac.rs', () => {
  ported('test_sign_and_verify', () => {
    const message = 'blur=5&format=webp:https://example.com/photo.jpg';
    const sig = ppSign('secret', message);
    expect(signCanonical(message, 'secret')).toBe(sig);
    expect(verifies('secret', message, sig)).toBe(true);
  });

  ported('test_wrong_key_fails', () => expect(verifies('key2', 'msg', ppSign('key1', 'msg'))).toBe(false));
  ported('test_tampered_sig_fails', () => expect(verifies('key', 'msg', `${ppSign('key', 'msg')}x`)).toBe(false));

  ported('test_empty_message', () => {
    const sig = ppSign('key', '');
    expect(verifies('key', '', sig)).toBe(true);
    expect(verifies('key', 'notempty', sig)).toBe(false);
  });
});
