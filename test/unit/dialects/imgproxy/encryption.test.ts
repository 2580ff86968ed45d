// imgproxy Pro's encrypted source URLs (https://docs.imgproxy.net/usage/encrypting_source_url).
import { createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSourceUrl, deterministicIv, encryptSourceUrl } from '../../../../src/dialects/imgproxy/encryption.js';

const DOC_KEY = Buffer.from('1eb5b0e971ad7f45324c1bb15c947cb207c43152fa5c6c7f35c4f36e0c18e0f1', 'hex');

function decrypt(blob: string, key: Buffer): string {
  const raw = Buffer.from(blob, 'base64url');
  const d = createDecipheriv(`aes-${key.length * 8}-cbc`, key, raw.subarray(0, 16));
  return Buffer.concat([d.update(raw.subarray(16)), d.final()]).toString('utf8');
}

describe('imgproxy source URL encryption', () => {
  it("gives the documented example's blob for its key and IV", () => {
    const iv = Buffer.from('A79563A2B35D86CEE6451C3C800F535A', 'hex');
    expect(encryptSourceUrl('http://example.com/images/curiosity.jpg', DOC_KEY, iv)).toBe(
      'p5VjorNdhs7mRRw8gA9TWoRlGci3l1kuzqN43UQlRaRIQ0qtBKW3qFABIsx-ZRz_cVc8iVTYbhsNsxNBL1BHaQ',
    );
  });

  it('derives the IV from the URL: one URL, one blob; another URL, another IV', () => {
    const a = encryptSourceUrl('https://example.com/a.jpg', DOC_KEY);
    expect(encryptSourceUrl('https://example.com/a.jpg', DOC_KEY)).toBe(a);
    expect(deterministicIv('https://example.com/a.jpg', DOC_KEY).equals(deterministicIv('https://example.com/b.jpg', DOC_KEY))).toBe(false);
    expect(Buffer.from(a, 'base64url').subarray(0, 16).equals(deterministicIv('https://example.com/a.jpg', DOC_KEY))).toBe(true);
  });

  it.each([16, 24, 32])('round-trips with a %i-byte key (AES-%i-CBC)', (n) => {
    const key = DOC_KEY.subarray(0, n);
    const url = 'https://example.com/ünïcode path/a.jpg?x=1';
    expect(decrypt(encryptSourceUrl(url, key), key)).toBe(url);
  });

  it('refuses a key or IV of the wrong size', () => {
    expect(() => encryptSourceUrl('x', DOC_KEY.subarray(0, 20))).toThrow(RangeError);
    expect(() => encryptSourceUrl('x', DOC_KEY, Buffer.alloc(8))).toThrow(RangeError);
  });

  it("opens the documented example's blob (any IV), and every bad blob alike as null", () => {
    const blob = 'p5VjorNdhs7mRRw8gA9TWoRlGci3l1kuzqN43UQlRaRIQ0qtBKW3qFABIsx-ZRz_cVc8iVTYbhsNsxNBL1BHaQ';
    expect(decryptSourceUrl(blob, DOC_KEY)).toBe('http://example.com/images/curiosity.jpg');
    const raw = Buffer.from(blob, 'base64url');
    const flipped = Buffer.from(raw);
    flipped[flipped.length - 17] = (flipped[flipped.length - 17] ?? 0) ^ 0xff; // garbles the last block's padding
    const bad = [
      '', '!!!', blob.slice(0, -1), raw.subarray(0, 16).toString('base64url'), raw.subarray(0, 40).toString('base64url'), flipped.toString('base64url'),
      encryptSourceUrl('http://x/\u0000', DOC_KEY), encryptSourceUrl('', DOC_KEY),
    ];
    for (const b of bad) expect(decryptSourceUrl(b, DOC_KEY), b).toBeNull();
    expect(decryptSourceUrl(blob, Buffer.alloc(32, 1))).toBeNull();
  });
});
