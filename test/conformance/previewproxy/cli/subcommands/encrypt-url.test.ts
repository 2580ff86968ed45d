/**
 * src/modules/cli/subcommands/encrypt_url.rs (https://github.com/ViGrise/previewproxy):
 * `previewproxy encrypt-url <url> --key <hex>`, against the dialect's `encryptSourceUrl` (what
 * such a command prints) and PreviewProxy's decryption as written out in `../../pp.ts`.
 * `test_encrypt_url_invalid_hex_key_errors` tests the command's hex argument parsing; pixproxy
 * has no such command yet (README).
 */
import { describe, expect } from 'vitest';
import { encryptSourceUrl } from '../../../../../src/dialects/previewproxy/index.js';
import { ported } from '../../../harness.js';
import { ppDecrypt } from '../../pp.js';

describe('src/modules/cli/subcommands/encrypt_url.rs', () => {
  ported('test_encrypt_url_produces_decryptable_blob', () => {
    const key = Buffer.from('1eb5b0e971ad7f45324c1bb15c947cb207c43152fa5c6c7f35c4f36e0c18e0f1', 'hex');
    const url = 'https://example.com/images/photo.jpg';
    expect(ppDecrypt(key, encryptSourceUrl(url, key))).toBe(url);
  });

  ported('test_encrypt_url_wrong_key_length_errors', () => {
    expect(() => encryptSourceUrl('https://example.com/img.jpg', Buffer.from('deadbeefdeadbeef1234', 'hex'))).toThrow();
  });
});
