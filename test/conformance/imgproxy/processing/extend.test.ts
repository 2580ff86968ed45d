/**
 * Port of imgproxy's processing/extend_test.go (TestExtend): `extend` and
 * `extend_aspect_ratio` with every gravity, offsets and DPR on geometry.png. Instead of the
 * golden hash we check where the image landed on the canvas (calcPosition) and that the
 * canvas around it is transparent.
 * https://github.com/imgproxy/imgproxy/blob/master/processing/extend_test.go
 */
import { describe, expect } from 'vitest';
import { options, pixels, ported } from '../harness.js';
import { calcPosition, type Gravity } from './position.js';
import { processingSuite } from './suite.js';

const suite = processingSuite();

interface ExtendCase {
  gravity: Gravity;
  x?: number;
  y?: number;
  dpr?: number;
}

const CASES: ExtendCase[] = [
  ...(['ce', 'no', 'so', 'ea', 'we', 'noea', 'soea', 'sowe', 'nowe'] as const).map((gravity) => ({ gravity })),
  { gravity: 'no', y: 5 },
  { gravity: 'no', y: 5, dpr: 0.5 },
  { gravity: 'no', y: 5, dpr: 2 },
  { gravity: 'ea', x: 5 },
  { gravity: 'ea', x: 5, dpr: 0.5 },
  { gravity: 'ea', x: 5, dpr: 2 },
  { gravity: 'no', y: 0.1 },
  { gravity: 'no', y: 0.1, dpr: 0.5 },
  { gravity: 'no', y: 0.1, dpr: 2 },
];

const goFloat = (n = 0) => n.toFixed(6);
const suffix = (c: ExtendCase) => `_gravity_${c.gravity}${c.x || c.y ? `_offset_${goFloat(c.x)}_${goFloat(c.y)}` : ''}${c.dpr ? `_dpr_${c.dpr}` : ''}`;

function table(name: string, option: string, prefix: string, target: [number, number], expected: [number, number]): void {
  describe(name, () => {
    for (const c of CASES) {
      const out: [number, number] = c.dpr === 0.5 ? [target[0] / 2, target[1] / 2] : expected;
      ported(`${name}/${prefix}_${target[0]}x${target[1]}${suffix(c)}`, async () => {
        const o = options({ width: [target[0]], height: [target[1]], [option]: [1, c.gravity, c.x, c.y], ...(c.dpr ? { dpr: [c.dpr] } : {}) });
        const result = await suite.process(o, 'geometry.png');
        await suite.check(result, ...out);
        if (c.dpr) return;
        // The 200×100 image sits where calcPosition puts it; outside it the canvas is empty.
        const inner: [number, number] = [200, 100];
        const [left, top] = calcPosition(out[0], out[1], inner, c.gravity, c.x, c.y);
        const p = await pixels(result);
        expect(p.at(left + 100, top + 50).a).toBe(255);
        expect(p.at(left + 100, top + 50).r).toBeGreaterThan(100);
        const outside = top > 0 ? p.at(left + 100, top - 1) : p.at(left + 100, top + 100);
        expect(outside.a).toBeLessThan(8);
      });
    }
  });
}

describe('TestExtend', () => {
  table('TestExtend', 'extend', 'extend', [500, 500], [500, 500]);
  table('TestExtendAspectRatio', 'extend_aspect_ratio', 'extendAr', [300, 600], [200, 400]);
});
