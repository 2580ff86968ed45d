/**
 * Port of imgproxy's processing/padding_test.go (TestPadding): padding scales with the DPR
 * and is filled with the background colour.
 * https://github.com/imgproxy/imgproxy/blob/master/processing/padding_test.go
 */
import { describe, expect } from 'vitest';
import { goF, near, pixels, ported } from '../harness.js';
import { processingSuite } from './suite.js';

const suite = processingSuite();

describe('TestPadding', () => {
  const cases: [number, [number, number]][] = [
    [0.5, [120, 80]],
    [1, [240, 160]],
    [2, [480, 320]],
  ];
  for (const [dpr, out] of cases) {
    ported(`TestPadding/dpr_${dpr}_pad_20_30_40_10`, async () => {
      const result = await suite.process(`dpr:${goF(dpr)}/padding:20:30:40:10/background:f00/enlarge:1`, 'geometry.png');
      await suite.check(result, ...out);
      // Top padding is red; the image starts after left padding × DPR.
      const p = await pixels(result);
      expect(near(p.at(out[0] / 2, 1), { r: 255, g: 0, b: 0 }, 4)).toBe(true);
      expect(near(p.at(Math.round(10 * dpr) - 1, out[1] / 2), { r: 255, g: 0, b: 0 }, 4)).toBe(true);
      expect(p.at(Math.round(10 * dpr) + 2, out[1] / 2).g).toBeGreaterThan(60);
    });
  }
});
