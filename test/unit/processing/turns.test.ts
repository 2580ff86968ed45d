// The turn algebra against a grid of pixel ids: composing turns is turning twice, a crop mapped
// back through a turn (unturnCrop) cuts the same pixels before the turn as the plan's crop after
// it, and EXIF orientations are the turns libvips' autorot applies.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Rect } from '../../../src/processing/crop.js';
import { composeTurns, exifTurn, isIdentity, optionTurn, orientationSwaps, swapsAxes, unturnCrop, type Turn } from '../../../src/processing/turns.js';

type Grid = number[][];

const grid = (w: number, h: number): Grid => Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => y * w + x));
/** A quarter turn clockwise: the new row y is the old column y read bottom to top. */
const quarter = (g: Grid): Grid => (g[0] ?? []).map((_, x) => g.map((row) => row[x] as number).reverse());
const mirror = (g: Grid): Grid => g.map((row) => [...row].reverse());
const flipV = (g: Grid): Grid => [...g].reverse();
function turn(g: Grid, t: Turn): Grid {
  let out = g;
  for (let q = (((t.angle % 360) + 360) % 360) / 90; q > 0; q--) out = quarter(out);
  return t.flop ? mirror(out) : out;
}
const cut = (g: Grid, r: Rect): Grid => g.slice(r.top, r.top + r.height).map((row) => row.slice(r.left, r.left + r.width));

const arbTurn = fc.record({ angle: fc.constantFrom(0, 90, 180, 270, -90, 450), flop: fc.boolean() });

describe('turns', () => {
  it('composeTurns(a, b) is turning by a, then by b', () => {
    fc.assert(
      fc.property(arbTurn, arbTurn, (a, b) => {
        const g = grid(3, 2);
        expect(turn(g, composeTurns(a, b))).toEqual(turn(turn(g, a), b));
      }),
    );
  });

  it('optionTurn is rotate, then flip horizontal, then flip vertical', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 90, 180, 270), fc.boolean(), fc.boolean(), (rotate, flipHorizontal, flipVertical) => {
        const g = grid(3, 2);
        let want = turn(g, { angle: rotate, flop: false });
        if (flipHorizontal) want = mirror(want);
        if (flipVertical) want = flipV(want);
        const t = optionTurn({ rotate, flipHorizontal, flipVertical });
        expect(turn(g, t)).toEqual(want);
        expect(swapsAxes(t)).toBe(rotate % 180 === 90);
      }),
    );
  });

  it('unturnCrop cuts before the turn the pixels the crop cuts after it', () => {
    const arb = fc.record({ w: fc.integer({ min: 1, max: 6 }), h: fc.integer({ min: 1, max: 6 }), t: arbTurn, r: fc.tuple(fc.nat(5), fc.nat(5), fc.nat(5), fc.nat(5)) });
    fc.assert(
      fc.property(arb, ({ w, h, t, r }) => {
        const g = grid(w, h);
        const turned = turn(g, t);
        const fw = turned[0]?.length ?? 0;
        const fh = turned.length;
        const left = r[0] % fw;
        const top = r[1] % fh;
        const rect = { left, top, width: 1 + (r[2] % (fw - left)), height: 1 + (r[3] % (fh - top)) };
        const back = unturnCrop({ kind: 'rect', rect }, fw, fh, t);
        if (back?.kind !== 'rect') throw new Error('a rectangle maps to a rectangle');
        expect(turn(cut(g, back.rect), t)).toEqual(cut(turned, rect));
      }),
    );
  });

  it('a smart crop keeps its size, swapped by a quarter turn; no turn keeps the step', () => {
    expect(unturnCrop({ kind: 'smart', width: 3, height: 2 }, 10, 10, { angle: 90, flop: false })).toEqual({ kind: 'smart', width: 2, height: 3 });
    expect(unturnCrop({ kind: 'smart', width: 3, height: 2 }, 10, 10, { angle: 180, flop: true })).toEqual({ kind: 'smart', width: 3, height: 2 });
    const step = { kind: 'rect' as const, rect: { left: 1, top: 2, width: 3, height: 4 } };
    expect(unturnCrop(step, 10, 10, { angle: 360, flop: false })).toBe(step);
  });

  it('EXIF orientations 1–8 are the turns that show the image upright', () => {
    // The stored pixels of orientation n, as the EXIF specification draws them for an upright
    // 3×2 image: 2 mirrored, 3 half turn, 4 flipped, 5 transposed, 6 turned a quarter
    // anticlockwise, 7 transversed, 8 turned a quarter clockwise.
    const upright = grid(3, 2);
    const stored: Record<number, Grid> = {
      1: upright,
      2: mirror(upright),
      3: turn(upright, { angle: 180, flop: false }),
      4: flipV(upright),
      5: mirror(turn(upright, { angle: 90, flop: false })),
      6: turn(upright, { angle: 270, flop: false }),
      7: mirror(turn(upright, { angle: 270, flop: false })),
      8: turn(upright, { angle: 90, flop: false }),
    };
    for (const [n, pixels] of Object.entries(stored)) {
      expect(turn(pixels, exifTurn(Number(n))), `orientation ${n}`).toEqual(upright);
      expect(orientationSwaps(Number(n))).toBe(Number(n) >= 5);
    }
    expect(isIdentity(exifTurn(0))).toBe(true);
    expect(isIdentity(exifTurn(9))).toBe(true);
  });
});
