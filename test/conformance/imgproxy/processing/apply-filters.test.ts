/**
 * Port of imgproxy's processing/apply_filters_test.go (TestApplyFilters): blur, sharpen and
 * pixelate alone and together on png/png.png, URL options printed as Go's `%f` (so the
 * filters that are off read `blur:0.000000`). The hash check becomes: the result differs
 * from the source the way the filter should (blur and pixelate flatten detail).
 * https://github.com/imgproxy/imgproxy/blob/master/processing/apply_filters_test.go
 */
import { describe, expect } from 'vitest';
import sharp from 'sharp';
import { goF, ported } from '../harness.js';
import { processingSuite } from './suite.js';

const suite = processingSuite();

/** Mean absolute difference between horizontally adjacent pixels: detail that blur removes. */
async function detail(image: Buffer): Promise<number> {
  const { data, info } = await sharp(image).removeAlpha().greyscale().raw().toBuffer({ resolveWithObject: true });
  let sum = 0;
  for (let y = 0; y < info.height; y++) for (let x = 1; x < info.width; x++) sum += Math.abs((data[y * info.width + x] ?? 0) - (data[y * info.width + x - 1] ?? 0));
  return sum / (info.height * (info.width - 1));
}


describe('TestApplyFilters', () => {
  const cases: [number, number, number][] = [
    [10, 0, 0],
    [0, 10, 0],
    [0, 0, 10],
    [10, 10, 10],
  ];
  for (const [blur, sharpen, pixelate] of cases) {
    const name = [blur ? `blur_${goF(blur)}` : '', sharpen ? `sharpen_${goF(sharpen)}` : '', pixelate ? `pixelate_${pixelate}` : ''].filter(Boolean).join('_');
    ported(`TestEffects/${name}`, async () => {
      const result = await suite.process(`blur:${goF(blur)}/sharpen:${goF(sharpen)}/pixelate:${pixelate}`, 'test-images/png/png.png');
      await suite.check(result, 400, 400);
      const source = await detail(await suite.process('q:100', 'test-images/png/png.png'));
      if (blur || pixelate) expect(await detail(result)).toBeLessThan(source);
      else expect(await detail(result)).toBeGreaterThan(source);
    });
  }
});
