// Geometry matrix: expected sizes worked out by hand from imgproxy's prepare.go / crop.go /
// extend.go / padding.go semantics (comments show the arithmetic), plus an independent
// scale-based oracle for the plain resize matrix.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { defaultOptions } from '../../../src/default-options.js';
import type { Gravity, GravityType, ProcessingOptions, ResizingType } from '../../../src/options.js';
import { planGeometry } from '../../../src/processing/geometry.js';

const config = loadConfig({});
const base = defaultOptions(config);

interface Spec {
  rt?: ResizingType;
  w?: number;
  h?: number;
  el?: boolean;
  ex?: boolean | GravityType;
  exar?: boolean;
  dpr?: number;
  zoom?: number | [number, number];
  mw?: number;
  mh?: number;
  crop?: [number, number] | [number, number, Gravity];
  pd?: number | [number, number, number, number];
  mrd?: number;
  rot?: number;
  g?: Gravity;
}

function opts(s: Spec): ProcessingOptions {
  const zoom = s.zoom === undefined ? [1, 1] : typeof s.zoom === 'number' ? [s.zoom, s.zoom] : s.zoom;
  const pd = s.pd === undefined ? null : typeof s.pd === 'number' ? [s.pd, s.pd, s.pd, s.pd] : s.pd;
  return {
    ...base,
    resizingType: s.rt ?? 'fit',
    width: s.w ?? 0,
    height: s.h ?? 0,
    enlarge: s.el ?? false,
    extend: { enabled: !!s.ex, gravity: { type: typeof s.ex === 'string' ? s.ex : 'ce', x: 0, y: 0 } },
    extendAspectRatio: { enabled: !!s.exar, gravity: { type: 'ce', x: 0, y: 0 } },
    dpr: s.dpr ?? 1,
    zoomX: zoom[0] ?? 1,
    zoomY: zoom[1] ?? 1,
    minWidth: s.mw ?? 0,
    minHeight: s.mh ?? 0,
    crop: s.crop ? { width: s.crop[0], height: s.crop[1], gravity: s.crop[2] ?? null } : null,
    padding: pd ? { top: pd[0] ?? 0, right: pd[1] ?? 0, bottom: pd[2] ?? 0, left: pd[3] ?? 0 } : null,
    maxResultDimension: s.mrd ?? 0,
    rotate: s.rot ?? 0,
    gravity: s.g ?? { type: 'ce', x: 0, y: 0 },
  };
}

const L = [1200, 800] as const; // landscape
const P = [800, 1200] as const; // portrait
const S = [1000, 1000] as const; // square

type Case = [name: string, src: readonly [number, number], spec: Spec, expected: [number, number]];

// Each row: final size (after crop, scale, result crop, extend, padding) for the source.
const table: Case[] = [
  // --- fit: shrink = max(wshrink, hshrink)
  ['L fit 300x200: shrink 4/4', L, { w: 300, h: 200 }, [300, 200]],
  ['L fit 300x300: max(4, 2.67)=4', L, { w: 300, h: 300 }, [300, 200]],
  ['L fit 600x0: width only, shrink 2', L, { w: 600 }, [600, 400]],
  ['L fit 0x400: height only, shrink 2', L, { h: 400 }, [600, 400]],
  ['L fit 0x0: untouched', L, {}, [1200, 800]],
  ['L fit 2400x1600 no enlarge: clamp to 1', L, { w: 2400, h: 1600 }, [1200, 800]],
  ['L fit 2400x1600 enlarge', L, { w: 2400, h: 1600, el: true }, [2400, 1600]],
  ['L fit 500x500: shrink 2.4 → 333.3', L, { w: 500, h: 500 }, [500, 333]],
  ['P fit 500x500: shrink 2.4', P, { w: 500, h: 500 }, [333, 500]],
  ['S fit 300x200: max(3.33, 5)=5', S, { w: 300, h: 200 }, [200, 200]],
  ['S fit 400x0', S, { w: 400 }, [400, 400]],
  ['P fit 0x600', P, { h: 600 }, [400, 600]],
  // --- fill: shrink = min, then crop to target
  ['L fill 300x300: min(4, 2.67) → 450x300 → crop', L, { rt: 'fill', w: 300, h: 300 }, [300, 300]],
  ['L fill 600x200: min(2, 4) → 600x400 → crop', L, { rt: 'fill', w: 600, h: 200 }, [600, 200]],
  ['P fill 300x300', P, { rt: 'fill', w: 300, h: 300 }, [300, 300]],
  ['L fill 2000x2000 no enlarge: stays 1200x800, crop is no-op', L, { rt: 'fill', w: 2000, h: 2000 }, [1200, 800]],
  ['L fill 1000x1000 no enlarge: 1200x800 cropped to 1000x800', L, { rt: 'fill', w: 1000, h: 1000 }, [1000, 800]],
  ['L fill 2000x2000 enlarge: 3000x2000 → crop', L, { rt: 'fill', w: 2000, h: 2000, el: true }, [2000, 2000]],
  ['S fill 300x200: min 3.33 → 300x300 → crop', S, { rt: 'fill', w: 300, h: 200 }, [300, 200]],
  ['L fill 300x0: width only', L, { rt: 'fill', w: 300 }, [300, 200]],
  // --- fill-down: like fill, but crops to the aspect ratio when it cannot fill
  ['L fill-down 300x300 = fill', L, { rt: 'fill-down', w: 300, h: 300 }, [300, 300]],
  ['L fill-down 1000x1000: diffH 1.25 → crop 800x800', L, { rt: 'fill-down', w: 1000, h: 1000 }, [800, 800]],
  ['L fill-down 2400x1200: diffW 2 → crop 1200x600', L, { rt: 'fill-down', w: 2400, h: 1200 }, [1200, 600]],
  ['P fill-down 1000x500: diffW 1.25 → 800x400', P, { rt: 'fill-down', w: 1000, h: 500 }, [800, 400]],
  ['L fill-down 2400x1200 enlarge = fill', L, { rt: 'fill-down', w: 2400, h: 1200, el: true }, [2400, 1200]],
  // --- force: axes independent
  ['L force 300x300', L, { rt: 'force', w: 300, h: 300 }, [300, 300]],
  ['L force 300x0: height kept', L, { rt: 'force', w: 300 }, [300, 800]],
  ['L force 0x0', L, { rt: 'force' }, [1200, 800]],
  ['L force 2400x400 no enlarge: shrinks /0.5 → 1200x200', L, { rt: 'force', w: 2400, h: 400 }, [1200, 200]],
  ['L force 2400x400 enlarge', L, { rt: 'force', w: 2400, h: 400, el: true }, [2400, 400]],
  // --- auto: fill when orientations match, else fit
  ['L auto 300x200 → fill', L, { rt: 'auto', w: 300, h: 200 }, [300, 200]],
  ['L auto 300x300 (square target counts as landscape) → fill', L, { rt: 'auto', w: 300, h: 300 }, [300, 300]],
  ['L auto 200x300 → fit: shrink 6', L, { rt: 'auto', w: 200, h: 300 }, [200, 133]],
  ['P auto 200x300 → fill', P, { rt: 'auto', w: 200, h: 300 }, [200, 300]],
  ['P auto 300x200 → fit: shrink 6', P, { rt: 'auto', w: 300, h: 200 }, [133, 200]],
  ['S auto 300x200 → fill → crop', S, { rt: 'auto', w: 300, h: 200 }, [300, 200]],
  ['S auto 200x300 → fit', S, { rt: 'auto', w: 200, h: 300 }, [200, 200]],
  ['L auto 600x0 → width only', L, { rt: 'auto', w: 600 }, [600, 400]],
  // --- zoom
  ['L fit 300x200 zoom 2: shrink 4/2', L, { w: 300, h: 200, zoom: 2 }, [600, 400]],
  ['L zoom 0.5', L, { zoom: 0.5 }, [600, 400]],
  ['L zoom 2 no enlarge', L, { zoom: 2 }, [1200, 800]],
  ['L zoom 2 enlarge', L, { zoom: 2, el: true }, [2400, 1600]],
  ['L zoom 0.5x1', L, { zoom: [0.5, 1] }, [600, 800]],
  ['L fill 300x300 zoom 0.5: target 150x150', L, { rt: 'fill', w: 300, h: 300, zoom: 0.5 }, [150, 150]],
  // --- dpr: multiplies, but never enlarges without enlarge
  ['L fit 300x200 dpr 2', L, { w: 300, h: 200, dpr: 2 }, [600, 400]],
  ['L fit 300x200 dpr 3', L, { w: 300, h: 200, dpr: 3 }, [900, 600]],
  ['L fit 300x200 dpr 5: capped at shrink 4', L, { w: 300, h: 200, dpr: 5 }, [1200, 800]],
  ['L fit 1000x0 dpr 2: dpr capped to 1.2', L, { w: 1000, dpr: 2 }, [1200, 800]],
  ['L fit 2400x0 dpr 0.5: compensated back to 1', L, { w: 2400, dpr: 0.5 }, [1200, 800]],
  ['L fit 2400x0 dpr 0.5 extend: not compensated → 600x400 on 1200x400', L, { w: 2400, dpr: 0.5, ex: true }, [1200, 400]],
  ['L fit 300x200 dpr 2 enlarge', L, { w: 300, h: 200, dpr: 2, el: true }, [600, 400]],
  ['L fill 300x300 dpr 2: 900x600 → 600x600', L, { rt: 'fill', w: 300, h: 300, dpr: 2 }, [600, 600]],
  ['L fit 2400x1600 dpr 2 enlarge', L, { w: 2400, h: 1600, dpr: 2, el: true }, [4800, 3200]],
  ['L fit 300x200 dpr 1.5', L, { w: 300, h: 200, dpr: 1.5 }, [450, 300]],
  // --- min-width / min-height (applied after the enlarge clamp, may enlarge)
  ['L fit 300x200 mw 600: 600x400 then cropped to 300x200', L, { w: 300, h: 200, mw: 600 }, [300, 200]],
  ['L fit 300x0 mh 400: 600x400, crop width 300', L, { w: 300, mh: 400 }, [300, 400]],
  ['L mw 2400 no enlarge: still enlarges', L, { mw: 2400 }, [2400, 1600]],
  ['P fit 400x0 mw 500: 500x750 → crop 400', P, { w: 400, mw: 500 }, [400, 750]],
  ['L fit 300x200 mh 100: no effect', L, { w: 300, h: 200, mh: 100 }, [300, 200]],
  ['L fit 0x200 mw 450: 450x300, then cropped to height 200', L, { h: 200, mw: 450 }, [450, 200]],
  // --- crop before resize
  ['L crop 600x400', L, { crop: [600, 400] }, [600, 400]],
  ['L crop 0.5x0.5 relative', L, { crop: [0.5, 0.5] }, [600, 400]],
  ['L crop 600x0: full height', L, { crop: [600, 0] }, [600, 800]],
  ['L crop 2000x2000: larger than source, no-op', L, { crop: [2000, 2000] }, [1200, 800]],
  ['L crop 600x600 + fit 300', L, { crop: [600, 600], w: 300 }, [300, 300]],
  ['L crop 0.5x1: 1 is absolute 1px', L, { crop: [0.5, 1] }, [600, 1]],
  ['L crop .25x.25 + fill 100x100: 300x200 → 150x100 → crop', L, { crop: [0.25, 0.25], rt: 'fill', w: 100, h: 100 }, [100, 100]],
  ['P crop 800x600 + fit 400x400', P, { crop: [800, 600], w: 400, h: 400 }, [400, 300]],
  // --- extend
  ['L fit 2000x2000 extend', L, { w: 2000, h: 2000, ex: true }, [2000, 2000]],
  ['L fit 300x300 extend', L, { w: 300, h: 300, ex: true }, [300, 300]],
  ['L fit 300x0 extend: no target height, no-op', L, { w: 300, ex: true }, [300, 200]],
  ['L fill 2000x1000 extend', L, { rt: 'fill', w: 2000, h: 1000, ex: true }, [2000, 1000]],
  ['L fit 300x300 extend dpr 2', L, { w: 300, h: 300, ex: true, dpr: 2 }, [600, 600]],
  ['L fit 2000x2000 extend dpr 2: dpr capped to 1', L, { w: 2000, h: 2000, ex: true, dpr: 2 }, [2000, 2000]],
  ['P fit 1000x1000 extend so', P, { w: 1000, h: 1000, ex: 'so' }, [1000, 1000]],
  // --- extend_aspect_ratio
  ['L fit 2000x1000 exar: 1200x800 → 1600x800', L, { w: 2000, h: 1000, exar: true }, [1600, 800]],
  ['L fit 400x400 exar: 400x267 → 400x400', L, { w: 400, h: 400, exar: true }, [400, 400]],
  ['P fit 0x600 exar: needs both target sides', P, { h: 600, exar: true }, [400, 600]],
  ['S fit 500x250 exar: 250x250 → 500x250', S, { w: 500, h: 250, exar: true }, [500, 250]],
  ['L fit 2000x1000 exar + extend: extend wins first', L, { w: 2000, h: 1000, exar: true, ex: true }, [2000, 1000]],
  // --- padding (scaled by dpr, round half to even)
  ['L fit 300x200 pd 10', L, { w: 300, h: 200, pd: 10 }, [320, 220]],
  ['L fit 300x200 pd 10/20/30/40', L, { w: 300, h: 200, pd: [10, 20, 30, 40] }, [360, 240]],
  ['L fit 300x200 dpr 2 pd 10', L, { w: 300, h: 200, dpr: 2, pd: 10 }, [640, 440]],
  ['L fit 300x200 dpr 1.5 pd 5: 7.5 → 8', L, { w: 300, h: 200, dpr: 1.5, pd: 5 }, [466, 316]],
  ['L fit 300x200 dpr 2.5 pd 1: 2.5 → 2', L, { w: 300, h: 200, dpr: 2.5, pd: 1 }, [754, 504]],
  ['L fit 300x300 extend pd 10', L, { w: 300, h: 300, ex: true, pd: 10 }, [320, 320]],
  // --- max_result_dimension (downscales, counts extend and padding)
  ['L mrd 600', L, { mrd: 600 }, [600, 400]],
  ['L mrd 600 pd 100: 1400 → scale 3/7', L, { mrd: 600, pd: 100 }, [600, 429]],
  ['L fit 2000x2000 extend mrd 1000', L, { w: 2000, h: 2000, ex: true, mrd: 1000 }, [1000, 1000]],
  ['L fit 300x200 mrd 1000: no effect', L, { w: 300, h: 200, mrd: 1000 }, [300, 200]],
  ['P mrd 600', P, { mrd: 600 }, [400, 600]],
  ['L fill 600x600 mrd 300', L, { rt: 'fill', w: 600, h: 600, mrd: 300 }, [300, 300]],
  // --- rotate option swaps the source axes
  ['L rot 90 fit 300x0: source 800x1200', L, { rot: 90, w: 300 }, [300, 450]],
  ['L rot 180 fit 300x0', L, { rot: 180, w: 300 }, [300, 200]],
  ['L rot 270 fill 100x100', L, { rot: 270, rt: 'fill', w: 100, h: 100 }, [100, 100]],
  ['L rot -90 fit 0x300', L, { rot: -90, h: 300 }, [200, 300]],
];

describe('planGeometry: hand-computed table', () => {
  it.each(table)('%s', (_name, src, spec, expected) => {
    const plan = planGeometry({ width: src[0], height: src[1], isVector: false }, opts(spec));
    expect([plan.width, plan.height]).toEqual(expected);
  });
});

describe('planGeometry: step details', () => {
  it('fill 300x300 on 1200x800 scales to 450x300 then crops the centre', () => {
    const p = planGeometry({ width: 1200, height: 800, isVector: false }, opts({ rt: 'fill', w: 300, h: 300 }));
    expect([p.scaledWidth, p.scaledHeight]).toEqual([450, 300]);
    // left = roundToEven((450 - 300 + 1) / 2) = roundToEven(75.5) = 76
    expect(p.resultCrop).toEqual({ kind: 'rect', rect: { left: 76, top: 0, width: 300, height: 300 } });
  });

  it('smart gravity marks the result crop for the attention strategy', () => {
    const p = planGeometry({ width: 1200, height: 800, isVector: false }, opts({ rt: 'fill', w: 300, h: 300, g: { type: 'sm', x: 0, y: 0 } }));
    expect(p.resultCrop).toEqual({ kind: 'smart', width: 300, height: 300 });
  });

  it('crop gravity defaults to the main gravity', () => {
    const p = planGeometry({ width: 1200, height: 800, isVector: false }, opts({ crop: [600, 400], g: { type: 'sowe', x: 0, y: 0 } }));
    expect(p.crop).toEqual({ kind: 'rect', rect: { left: 0, top: 400, width: 600, height: 400 } });
  });

  it('crop with its own gravity ignores the main gravity', () => {
    const p = planGeometry(
      { width: 1200, height: 800, isVector: false },
      opts({ crop: [600, 400, { type: 'noea', x: 0, y: 0 }], g: { type: 'sowe', x: 0, y: 0 } }),
    );
    expect(p.crop).toEqual({ kind: 'rect', rect: { left: 600, top: 0, width: 600, height: 400 } });
  });

  it('crop offsets are not multiplied by dpr', () => {
    const p = planGeometry({ width: 1200, height: 800, isVector: false }, opts({ crop: [600, 400, { type: 'nowe', x: 10, y: 20 }], dpr: 2 }));
    expect(p.crop).toEqual({ kind: 'rect', rect: { left: 10, top: 20, width: 600, height: 400 } });
  });

  it('result-crop offsets are multiplied by dpr', () => {
    const p = planGeometry({ width: 1200, height: 800, isVector: false }, opts({ rt: 'fill', w: 300, h: 300, dpr: 2, g: { type: 'nowe', x: 10, y: 0 } }));
    // scaled 900x600, target 600x600, offset 10 * 2
    expect(p.resultCrop).toEqual({ kind: 'rect', rect: { left: 20, top: 0, width: 600, height: 600 } });
  });

  it('extend places the image with the extend gravity', () => {
    const p = planGeometry({ width: 1200, height: 800, isVector: false }, opts({ w: 300, h: 300, ex: 'no' }));
    expect(p.extend).toEqual({ width: 300, height: 300, left: 0, top: 0 });
    const c = planGeometry({ width: 1200, height: 800, isVector: false }, opts({ w: 300, h: 300, ex: 'so' }));
    expect(c.extend).toEqual({ width: 300, height: 300, left: 0, top: 100 });
    const ce = planGeometry({ width: 1200, height: 800, isVector: false }, opts({ w: 300, h: 300, ex: true }));
    // top = roundToEven((300 - 200 + 1) / 2) = roundToEven(50.5) = 50
    expect(ce.extend).toEqual({ width: 300, height: 300, left: 0, top: 50 });
  });

  it('padding is scaled by dpr', () => {
    const p = planGeometry({ width: 1200, height: 800, isVector: false }, opts({ w: 300, h: 200, dpr: 2, pd: [1, 2, 3, 4] }));
    expect(p.padding).toEqual({ top: 2, right: 4, bottom: 6, left: 8 });
  });

  it('vector sources enlarge freely', () => {
    const p = planGeometry({ width: 100, height: 50, isVector: true }, opts({ w: 400 }));
    expect([p.width, p.height]).toEqual([400, 200]);
    const r = planGeometry({ width: 100, height: 50, isVector: false }, opts({ w: 400 }));
    expect([r.width, r.height]).toEqual([100, 50]);
  });

  it('max_result_dimension never scales below one pixel', () => {
    const p = planGeometry({ width: 4000, height: 2, isVector: false }, opts({ mrd: 100 }));
    expect([p.width, p.height]).toEqual([100, 1]);
  });
});

// Independent oracle for the plain resize matrix, formulated with scales instead of shrinks.
function oracle(W: number, H: number, rt: ResizingType, w: number, h: number, el: boolean): [number, number] {
  if (w === 0 && h === 0) return [W, H];
  let type = rt;
  if (type === 'auto') {
    const dw = w === 0 ? W : w;
    const dh = h === 0 ? H : h;
    type = (W - H >= 0) === (dw - dh >= 0) ? 'fill' : 'fit';
  }
  let sx = w === 0 ? 1 : w / W;
  let sy = h === 0 ? 1 : h / H;
  if (type !== 'force') {
    let s: number;
    if (w === 0) s = sy;
    else if (h === 0) s = sx;
    else s = type === 'fit' ? Math.min(sx, sy) : Math.max(sx, sy);
    sx = sy = s;
  }
  if (!el) {
    const m = Math.max(sx, sy);
    if (m > 1) {
      sx /= m;
      sy /= m;
    }
  }
  const scaledW = Math.round(W * sx);
  const scaledH = Math.round(H * sy);
  let tw = w;
  let th = h;
  if (type === 'fill-down' && !el && w > 0 && h > 0) {
    const dW = w / scaledW;
    const dH = h / scaledH;
    if (dW > dH && dW > 1) [tw, th] = [scaledW, Math.round(scaledW * (h / w))];
    else if (dH > dW && dH > 1) [tw, th] = [Math.round(scaledH * (w / h)), scaledH];
  }
  return [tw === 0 ? scaledW : Math.min(tw, scaledW), th === 0 ? scaledH : Math.min(th, scaledH)];
}

const SIZES: [number, number][] = [
  [300, 0],
  [0, 300],
  [300, 200],
  [200, 300],
  [450, 450],
  [1500, 0],
  [1500, 1100],
  [700, 1300],
];
const matrix: [string, number, number, ResizingType, number, number, boolean][] = [];
for (const [name, [W, H]] of [['L', L], ['P', P], ['S', S]] as const) {
  for (const rt of ['fit', 'fill', 'fill-down', 'force', 'auto'] as const) {
    for (const [w, h] of SIZES) {
      for (const el of [false, true]) matrix.push([`${name} ${rt} ${w}x${h} el=${el}`, W, H, rt, w, h, el]);
    }
  }
}

describe('planGeometry: resize matrix against a scale-based oracle', () => {
  it.each(matrix)('%s', (_n, W, H, rt, w, h, el) => {
    const p = planGeometry({ width: W, height: H, isVector: false }, opts({ rt, w, h, el }));
    expect([p.width, p.height]).toEqual(oracle(W, H, rt, w, h, el));
  });
});

// imgproxy Pro's crop_aspect_ratio (https://docs.imgproxy.net/usage/processing#crop-aspect-ratio) in the plan.
const plan = (w: number, h: number, o: Partial<ProcessingOptions>) => planGeometry({ width: w, height: h, isVector: false }, { ...base, ...o });

describe('planGeometry with crop_aspect_ratio', () => {
  it('corrects the crop area; the docs example keeps the corner of a nowe crop', () => {
    const p = plan(1000, 1000, { crop: { width: 100, height: 200, gravity: { type: 'nowe', x: 300, y: 400 } }, cropAspectRatio: { ratio: 1, enlarge: true } });
    expect(p.crop).toEqual({ kind: 'rect', rect: { left: 300, top: 400, width: 200, height: 200 } });
  });

  it('without crop the whole image is the area, centred by the gravity', () => {
    const p = plan(400, 200, { cropAspectRatio: { ratio: 1, enlarge: false } });
    expect(p.crop).toEqual({ kind: 'rect', rect: { left: 100, top: 0, width: 200, height: 200 } });
    expect([p.width, p.height]).toEqual([200, 200]);
  });

  it('the resize applies to the corrected area', () => {
    const p = plan(400, 200, { cropAspectRatio: { ratio: 2, enlarge: false }, crop: { width: 100, height: 100, gravity: null }, width: 50 });
    expect([p.croppedWidth, p.croppedHeight, p.width, p.height]).toEqual([100, 50, 50, 25]);
  });
});
