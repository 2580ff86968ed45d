/**
 * Port of imgproxy's processing/trim_test.go (TestTrim): thresholds on trim1.png's grey
 * bands, colours on trim2.png's stripes, and trim3.png whose transparent bottom imgproxy
 * flattens on the trim colour before trimming.
 * https://github.com/imgproxy/imgproxy/blob/master/processing/trim_test.go
 */
import { describe } from 'vitest';
import { options, port } from '../harness.js';
import { processingSuite } from './suite.js';

const suite = processingSuite();

interface TrimCase {
  threshold: number;
  color?: string;
  hor?: boolean;
  ver?: boolean;
  out: [number, number];
  gap?: string;
}

const COLORS: Record<string, string> = { ff0000: '#ff0000', '0000ff': '#0000ff', ffffff: '#ffffff', ff00ff: '#ff00ff' };
const name = (c: TrimCase) => `trim_threshold_${c.threshold}${c.color ? `_color_${COLORS[c.color]}` : ''}${c.hor ? '_equalHor' : ''}${c.ver ? '_equalVer' : ''}`;

function table(name_: string, image: string, cases: TrimCase[]): void {
  describe(name_, () => {
    for (const c of cases) {
      port(`${name_}/${name(c)}`, c.gap, async () => {
        const result = await suite.process(options({ trim: [c.threshold, c.color, c.hor ? 1 : undefined, c.ver ? 1 : undefined] }), image);
        await suite.check(result, ...c.out);
      });
    }
  });
}

describe('TestTrim', () => {
  table('TestThreshold', 'trim1.png', [
    { threshold: 5, out: [320, 220] },
    { threshold: 100, out: [290, 190] },
    { threshold: 150, out: [260, 160] },
    { threshold: 200, out: [230, 130] },
    { threshold: 220, out: [200, 100] },
    { threshold: 0, color: 'ff0000', out: [350, 250] },
    { threshold: 5, hor: true, out: [330, 220] },
    { threshold: 5, ver: true, out: [320, 230] },
    { threshold: 5, hor: true, ver: true, out: [330, 230] },
  ]);
  table('TestColor', 'trim2.png', [
    { threshold: 1, out: [200, 170] },
    { threshold: 1, color: 'ff0000', out: [200, 170] },
    { threshold: 1, color: '0000ff', out: [200, 130] },
    { threshold: 1, color: 'ffffff', out: [200, 200] },
  ]);
  table('TestAlpha', 'trim3.png', [
    { threshold: 1, color: 'ff00ff', out: [200, 130] },
  ]);
});
