/**
 * The body digest (src/body-digest.ts): SHA-256, the same bytes whether hashed at once or in
 * slices, and one hash per Buffer however many callers ask (the origin sub-store's write and the
 * result's source tag share it); a view of a Buffer is hashed as the bytes it shows.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bodyDigest, bodyDigestSliced, DIGEST_SLICE } from '../../src/body-digest.js';

const sha = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

describe('body digest', () => {
  it('is the SHA-256 of the bytes, small or sliced', async () => {
    const small = Buffer.from('abc');
    const large = Buffer.alloc(3 * DIGEST_SLICE + 17, 7);
    large[DIGEST_SLICE] = 1;
    expect(bodyDigest(small)).toEqual(sha(small));
    expect(await bodyDigestSliced(small)).toEqual(sha(small));
    expect(await bodyDigestSliced(large)).toEqual(sha(large));
  });

  it('hashes a large Buffer once: every caller gets the same digest, in flight or done', async () => {
    const large = Buffer.alloc(2 * DIGEST_SLICE, 3);
    const first = bodyDigestSliced(large);
    expect(bodyDigestSliced(large)).toBe(first);
    await first;
    expect(bodyDigestSliced(large)).toBe(first);
  });

  it('a view is a Buffer of its own: hashed as the bytes it shows', async () => {
    const large = Buffer.alloc(3 * DIGEST_SLICE, 5);
    large[0] = 9;
    const whole = await bodyDigestSliced(large);
    const view = large.subarray(1);
    expect(await bodyDigestSliced(view)).toEqual(sha(view));
    expect(await bodyDigestSliced(view)).not.toEqual(whole);
  });
});
