/**
 * Port of imgproxy's processing/flatten_test.go (TestFlatten): `background` on sources with
 * and without alpha, 8 and 16 bits, colour and grey, with IMGPROXY_PRESERVE_HDR on: the
 * result's interpretation (16-bit stays 16-bit, grey stays grey unless the colour is not
 * grey) and the padding filled with the background colour.
 * https://github.com/imgproxy/imgproxy/blob/master/processing/flatten_test.go
 */
import { describe, expect } from 'vitest';
import { near, options, pixels, port, type Interpretation } from '../harness.js';
import { processingSuite } from './suite.js';

const suite = processingSuite();

const RED = [255, 0, 0] as const;
const GRAY = [128, 128, 128] as const;

interface Case {
  name: string;
  source: string;
  background?: readonly [number, number, number];
  format: 'jpeg' | 'png';
  out?: Interpretation;
  gap?: string;
}

const CASES: Case[] = [
  { name: '32-bpp-red-jpeg', source: 'bmp/32-bpp-with-alpha.bmp', background: RED, format: 'jpeg' },
  { name: '32-bpp-red-png', source: 'bmp/32-bpp-with-alpha.bmp', background: RED, format: 'png' },
  { name: '32-bpp-none-jpeg', source: 'bmp/32-bpp-with-alpha.bmp', format: 'jpeg' },
  { name: '32-bpp-none-png', source: 'bmp/32-bpp-with-alpha.bmp', format: 'png' },
  { name: '16-bpp-gray-rgb16', source: 'png/16-bpp.png', background: GRAY, format: 'png', out: 'rgb16' },
  { name: '16-bpp-red-rgb16', source: 'png/16-bpp.png', background: RED, format: 'png', out: 'rgb16' },
  { name: '8-bpp-grayscale-gray-bw', source: 'png/8-bpp-grayscale.png', background: GRAY, format: 'png', out: 'b-w' },
  { name: '8-bpp-grayscale-red-srgb', source: 'png/8-bpp-grayscale.png', background: RED, format: 'png', out: 'srgb' },
  { name: '16-bpp-grayscale-gray-grey16', source: 'png/16-bpp-grayscale.png', background: GRAY, format: 'png', out: 'grey16' },
  { name: '16-bpp-grayscale-red-rgb16', source: 'png/16-bpp-grayscale.png', background: RED, format: 'png', out: 'rgb16' },
  { name: '8-bpp-gray-srgb', source: 'png/8-bpp.png', background: GRAY, format: 'png', out: 'srgb' },
  { name: '8-bpp-red-srgb', source: 'png/8-bpp.png', background: RED, format: 'png', out: 'srgb' },
];

describe('TestFlatten', () => {
  for (const c of CASES) {
    port(`TestBackground/${c.name}`, c.gap, async () => {
      const o = options({ resize: ['fill', 300, 300], enlarge: [1], padding: [100], format: [c.format], ...(c.background ? { background: [...c.background] } : {}) });
      const result = await suite.process(o, `test-images/${c.source}`, { IMGPROXY_PRESERVE_HDR: 'true' });
      await suite.check(result, 500, 500, c.out);
      if (c.background) {
        const [r, g, b] = c.background;
        expect(near((await pixels(result)).at(10, 10), { r, g, b, a: 255 }, 6)).toBe(true);
      }
    });
  }
});
