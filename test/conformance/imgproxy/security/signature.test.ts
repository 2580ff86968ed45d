/**
 * Port of imgproxy's security/signature_test.go (TestSignature): HMAC-SHA256 over salt ‖
 * path with imgproxy's own test vectors, truncation, key rotation, trusted signatures.
 * https://github.com/imgproxy/imgproxy/blob/master/security/signature_test.go
 */
import { describe, expect } from 'vitest';
import { loadConfig } from '../../../../src/config/index.js';
import { verifySignature } from '../../../../src/dialects/imgproxy/index.js';
import { ProxyError } from '../../../../src/errors.js';
import { ported } from '../harness.js';

const hex = (s: string): string => Buffer.from(s).toString('hex');
const KEYS = { IMGPROXY_KEY: hex('test-key'), IMGPROXY_SALT: hex('test-salt') };

function verify(signature: string, path: string, env: Record<string, string> = {}): void {
  verifySignature(signature, path, loadConfig({ ...KEYS, ...env }).security);
}

const refused = (fn: () => void) => expect(fn).toThrow(ProxyError);

describe('TestSignature', () => {
  ported('TestVerifySignature', () => {
    expect(() => verify('oWaL7QoW5TsgbuiS9-5-DI8S3Ibbo1gdB2SteJh3a20', 'asd')).not.toThrow();
  });

  ported('TestVerifySignatureTruncated', () => {
    expect(() => verify('oWaL7QoW5Ts', 'asd', { IMGPROXY_SIGNATURE_SIZE: '8' })).not.toThrow();
  });

  ported('TestVerifySignatureInvalid', () => {
    refused(() => verify('oWaL7QoW5Ts', 'asd'));
  });

  ported('TestVerifySignatureMultiplePairs', () => {
    const pairs = { IMGPROXY_KEY: `${hex('test-key')},${hex('test-key2')}`, IMGPROXY_SALT: `${hex('test-salt')},${hex('test-salt2')}` };
    expect(() => verify('jYz1UZ7j1BCdSzH3pZhaYf0iuz0vusoOTdqJsUT6WXI', 'asd', pairs)).not.toThrow();
    expect(() => verify('oWaL7QoW5TsgbuiS9-5-DI8S3Ibbo1gdB2SteJh3a20', 'asd', pairs)).not.toThrow();
    refused(() => verify('dtLwhdnPPis', 'asd', pairs));
  });

  ported('TestVerifySignatureTrusted', () => {
    const trusted = { IMGPROXY_TRUSTED_SIGNATURES: 'truested' };
    expect(() => verify('truested', 'asd', trusted)).not.toThrow();
    refused(() => verify('untrusted', 'asd', trusted));
  });
});
