// composeEmbeds against a pixel-level simulation of embeds in a row (extend,
// extend_aspect_ratio, padding of real plans).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { defaultOptions } from '../../../src/default-options.js';
import type { ProcessingOptions } from '../../../src/options.js';
import { composeEmbeds, type EmbedStep } from '../../../src/processing/embeds.js';
import { planGeometry, type GeometryPlan } from '../../../src/processing/geometry.js';

const base = defaultOptions(loadConfig({}));

function plan(o: Partial<ProcessingOptions>, width = 64, height = 48): GeometryPlan {
  return planGeometry({ width, height, isVector: false }, { ...base, ...o });
}

/** Embeds one after the other on a grid of pixel ids (-1 = transparent), libvips embed semantics. */
function embedAll(width: number, height: number, steps: EmbedStep[]): number[][] {
  let img = Array.from({ length: height }, (_, y) => Array.from({ length: width }, (_, x) => y * width + x));
  for (const e of steps) {
    const w = Math.min(img[0]?.length ?? 0, e.width);
    const h = Math.min(img.length, e.height);
    const cut = img.slice(0, h).map((row) => row.slice(0, w));
    const left = Math.max(0, e.left);
    const top = Math.max(0, e.top);
    img = Array.from({ length: e.height }, (_, y) => Array.from({ length: e.width }, (_, x) => cut[y - top]?.[x - left] ?? -1));
  }
  return img;
}

describe('composeEmbeds', () => {
  it('extend, extend_aspect_ratio and padding of real plans are one embed', () => {
    const arb = fc.record({
      w: fc.integer({ min: 1, max: 40 }),
      h: fc.integer({ min: 1, max: 40 }),
      tw: fc.integer({ min: 0, max: 60 }),
      th: fc.integer({ min: 0, max: 60 }),
      rt: fc.constantFrom('fit', 'fill', 'fill-down', 'force', 'auto'),
      enlarge: fc.boolean(),
      ex: fc.boolean(),
      ear: fc.boolean(),
      g: fc.constantFrom('ce', 'no', 'so', 'ea', 'we', 'noea', 'sowe'),
      pd: fc.option(fc.tuple(fc.nat(6), fc.nat(6), fc.nat(6), fc.nat(6)), { nil: null }),
    });
    fc.assert(
      fc.property(arb, (a) => {
        const gravity = { type: a.g, x: 0, y: 0 } as ProcessingOptions['gravity'];
        const p = plan(
          {
            resizingType: a.rt as ProcessingOptions['resizingType'],
            width: a.tw,
            height: a.th,
            enlarge: a.enlarge,
            extend: { enabled: a.ex, gravity },
            extendAspectRatio: { enabled: a.ear, gravity },
            padding: a.pd ? { top: a.pd[0], right: a.pd[1], bottom: a.pd[2], left: a.pd[3] } : null,
          },
          a.w,
          a.h,
        );
        const steps: EmbedStep[] = [];
        if (p.extend) steps.push(p.extend);
        if (p.extendAspectRatio) steps.push(p.extendAspectRatio);
        const W = p.extendAspectRatio?.width ?? p.extend?.width ?? p.resultWidth;
        const H = p.extendAspectRatio?.height ?? p.extend?.height ?? p.resultHeight;
        if (p.padding) steps.push({ width: W + p.padding.left + p.padding.right, height: H + p.padding.top + p.padding.bottom, left: p.padding.left, top: p.padding.top });
        const want = embedAll(p.resultWidth, p.resultHeight, steps);
        const c = composeEmbeds(p.resultWidth, p.resultHeight, p);
        if (!c) return steps.length === 0;
        const got = embedAll(p.resultWidth, p.resultHeight, [
          { width: c.keepWidth, height: c.keepHeight, left: 0, top: 0 },
          { width: c.width, height: c.height, left: c.left, top: c.top },
        ]);
        expect([c.width, c.height]).toEqual([p.width, p.height]);
        expect(c.right).toBeGreaterThanOrEqual(0);
        expect(c.bottom).toBeGreaterThanOrEqual(0);
        expect(got).toEqual(want);
        return true;
      }),
      { seed: 9, numRuns: 400 },
    );
  });
});
