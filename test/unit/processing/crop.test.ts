// Crop sizes and imgproxy Pro's crop_aspect_ratio correction
// (https://docs.imgproxy.net/usage/processing#crop-aspect-ratio): pure arithmetic.
import { describe, expect, it } from 'vitest';
import { correctCropAspect, cropSize } from '../../../src/processing/crop.js';

describe('cropSize', () => {
  it('cropSize: 0 none, ≥1 absolute, <1 relative with a 1px floor', () => {
    expect([cropSize(800, 0), cropSize(800, 300.7), cropSize(800, 0.25), cropSize(800, 0.0001)]).toEqual([0, 300, 200, 1]);
  });
});

describe('correctCropAspect', () => {
  it.each([
    // [w, h, imgW, imgH, ratio, enlarge] → [w, h]
    [100, 200, 1000, 1000, 1, false, [100, 100]],
    [100, 200, 1000, 1000, 1, true, [200, 200]],
    [300, 100, 1000, 1000, 1.5, false, [150, 100]],
    [300, 100, 1000, 1000, 1.5, true, [300, 200]],
    // Enlarged past the image: shrunk back at the same ratio.
    [800, 100, 1000, 500, 1, true, [500, 500]],
    [100, 400, 300, 1000, 0.5, true, [200, 400]],
    [100, 900, 300, 1000, 0.5, true, [300, 600]],
    // Already right.
    [160, 90, 1000, 1000, 16 / 9, false, [160, 90]],
    // Never below a pixel.
    [1, 1000, 1000, 1000, 1000, false, [1, 1]],
  ] as const)('%i×%i in %i×%i at %f (enlarge %s)', (w, h, iw, ih, ratio, enlarge, out) => {
    expect(correctCropAspect(w, h, iw, ih, { ratio, enlarge })).toEqual(out);
  });
});
