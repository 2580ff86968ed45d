// Sizes the output format forces (imgproxy's processing/fix_size.go).
import { describe, expect, it } from 'vitest';
import { fixSize } from '../../../src/processing/step-sizes.js';

describe('fixSize (per-format limits)', () => {
  const cases: [string, number, number, Parameters<typeof fixSize>[2], [number, number]][] = [
    ['webp 20000x9000 → 16383 wide', 20000, 9000, 'webp', [16383, 7372]],
    ['webp 16383 fits', 16383, 100, 'webp', [16383, 100]],
    ['avif 20000x1000 → 16384 wide', 20000, 1000, 'avif', [16384, 819]],
    ['heic 1000x20000 → 16384 high', 1000, 20000, 'heic', [819, 16384]],
    ['ico 512x256 → 256x128', 512, 256, 'ico', [256, 128]],
    ['ico 200x100 fits', 200, 100, 'ico', [200, 100]],
    // 70000 * sqrt(65535/70000) = sqrt(65535 * 70000) = 67730.7: imgproxy takes the square root
    // of the dimension shrink too, so the result still exceeds 65535
    ['gif 70000x100 → sqrt shrink', 70000, 100, 'gif', [67731, 97]],
    ['jpeg has no limit here', 100000, 100, 'jpeg', [100000, 100]],
    ['png has no limit here', 100000, 100, 'png', [100000, 100]],
  ];
  it.each(cases)('%s', (_n, w, h, f, expected) => {
    const r = fixSize(w, h, f);
    expect([r.width, r.height]).toEqual(expected);
  });
});
