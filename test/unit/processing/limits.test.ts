// Pixel bounds from the plan, without sharp: every class of canvas an option makes (padding,
// enlarge, DPR, extend, pixelate's grid, frames, 16-bit) is refused over its bound, and the
// canvases that fit pass.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { ProxyError } from '../../../src/errors.js';
import { defaultOptions } from '../../../src/default-options.js';
import type { ProcessingOptions } from '../../../src/options.js';
import { planGeometry, type GeometryPlan } from '../../../src/processing/geometry.js';
import { checkCanvas, checkPlan, checkSource, pixelLimits } from '../../../src/processing/limits.js';

const config = loadConfig({});
const limits = pixelLimits(config);
const base = defaultOptions(config);
const ce = { type: 'ce' as const, x: 0, y: 0 };

function plan(o: Partial<ProcessingOptions>, width = 64, height = 48): GeometryPlan {
  return planGeometry({ width, height, isVector: false }, { ...base, ...o });
}

function refusal(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(ProxyError);
    expect((err as ProxyError).status).toBe(422);
    return (err as ProxyError).code;
  }
}

describe('defaults', () => {
  it('bound results at 50 MP and intermediates at 100 MP', () => {
    expect(limits).toEqual({ result: 50_000_000, intermediate: 100_000_000 });
    const custom = pixelLimits(loadConfig({ PIXPROXY_MAX_RESULT_RESOLUTION: '2.5', PIXPROXY_MAX_INTERMEDIATE_RESOLUTION: '4' }));
    expect(custom).toEqual({ result: 2_500_000, intermediate: 4_000_000 });
  });

  it('refuse a bound that is not a positive number at startup', () => {
    expect(() => loadConfig({ PIXPROXY_MAX_RESULT_RESOLUTION: '0' })).toThrow(/PIXPROXY_MAX_RESULT_RESOLUTION/);
    expect(() => loadConfig({ PIXPROXY_MAX_INTERMEDIATE_RESOLUTION: 'lots' })).toThrow(/PIXPROXY_MAX_INTERMEDIATE_RESOLUTION/);
  });
});

describe('checkPlan', () => {
  const cases: [string, Partial<ProcessingOptions>, string | null][] = [
    // The classes of the hardening issue: each one allocated gigabytes or crashed.
    ['pd:16500 (33064×33048)', { padding: { top: 16500, right: 16500, bottom: 16500, left: 16500 } }, 'RESULT_TOO_BIG'],
    ['pd:16000', { padding: { top: 16000, right: 16000, bottom: 16000, left: 16000 } }, 'RESULT_TOO_BIG'],
    ['rs:fill:30000:30000:1', { resizingType: 'fill', width: 30000, height: 30000, enlarge: true }, 'RESULT_TOO_BIG'],
    ['dpr:8/rs:fill:4000:4000:1', { resizingType: 'fill', width: 4000, height: 4000, enlarge: true, dpr: 8 }, 'RESULT_TOO_BIG'],
    ['extend to 40000×40000', { width: 40000, height: 40000, extend: { enabled: true, gravity: ce } }, 'RESULT_TOO_BIG'],
    ['extend_aspect_ratio to 1:20000', { width: 1, height: 20000, extendAspectRatio: { enabled: true, gravity: ce } }, null],
    ['pixelate grid 4× the result', { resizingType: 'fill', width: 7000, height: 7000, enlarge: true, pixelate: 6999 }, 'RESULT_TOO_BIG'],
    // Fitting ones.
    ['rs:fill:7000:7000:1 (49 MP)', { resizingType: 'fill', width: 7000, height: 7000, enlarge: true }, null],
    ['pd:2000', { padding: { top: 2000, right: 2000, bottom: 2000, left: 2000 } }, null],
    ['no options', {}, null],
  ];
  it.each(cases)('%s', (_name, o, code) => {
    expect(refusal(() => checkPlan(plan(o), { pixelate: o.pixelate ?? 0 }, 'png', 1, 'uchar', limits))).toBe(code);
  });

  it('an enlarge whose result fits may still scale through a canvas over the intermediate bound', () => {
    // 10 × 10000 filled into 1000 × 1000: scaled to 1000 × 1000000 before the crop.
    const p = plan({ resizingType: 'fill', width: 1000, height: 1000, enlarge: true }, 10, 10000);
    expect([p.width, p.height]).toEqual([1000, 1000]);
    expect(refusal(() => checkPlan(p, { pixelate: 0 }, 'png', 1, 'uchar', limits))).toBe('RESULT_TOO_BIG');
  });

  it('counts frames, and 16-bit intermediates double', () => {
    const p = plan({ resizingType: 'fill', width: 5000, height: 5000, enlarge: true });
    expect(refusal(() => checkPlan(p, { pixelate: 0 }, 'png', 1, 'uchar', limits))).toBeNull();
    expect(refusal(() => checkPlan(p, { pixelate: 0 }, 'png', 3, 'uchar', limits))).toBe('RESULT_TOO_BIG');
    const q = plan({ resizingType: 'fill', width: 7000, height: 7000, enlarge: true });
    expect(refusal(() => checkPlan(q, { pixelate: 0 }, 'png', 1, 'uchar', limits))).toBeNull();
    expect(refusal(() => checkPlan(q, { pixelate: 0 }, 'png', 1, 'ushort', limits))).toBe('RESULT_TOO_BIG');
  });

  it('the result bound applies after the per-format fix (WebP shrinks to 16383)', () => {
    const p = plan({ width: 20000, height: 2500, resizingType: 'force', enlarge: true });
    expect(refusal(() => checkPlan(p, { pixelate: 0 }, 'png', 1, 'uchar', limits))).toBeNull();
    expect(checkPlan(p, { pixelate: 0 }, 'webp', 1, 'uchar', limits)).toEqual({ width: 16383, height: 2048 });
  });

  it('the detail names the step, the size and the variable', () => {
    expect(() => checkPlan(plan({ padding: { top: 16500, right: 16500, bottom: 16500, left: 16500 } }), { pixelate: 0 }, 'png', 1, 'uchar', limits)).toThrow(
      /padding: 33064x33048 \(1092\.7 MP\) is over PIXPROXY_MAX_INTERMEDIATE_RESOLUTION \(100 MP\)/,
    );
  });
});

describe('checkCanvas and checkSource', () => {
  it('refuses NaN and Infinity (a scale of 1e308)', () => {
    expect(refusal(() => checkCanvas(limits, 'intermediate', 'x', { width: Infinity, height: 1 }))).toBe('RESULT_TOO_BIG');
    expect(refusal(() => checkCanvas(limits, 'result', 'x', { width: Number.NaN, height: 1 }))).toBe('RESULT_TOO_BIG');
  });

  it('is imgproxy CheckDimensions, plus the frames together in per-frame mode', () => {
    const o = { maxSrcResolution: 50, maxAnimationFrameResolution: 0 };
    expect(refusal(() => checkSource(8000, 7000, 1, o, limits))).toBe('SOURCE_RESOLUTION_TOO_BIG');
    expect(refusal(() => checkSource(1000, 1000, 50, o, limits))).toBeNull();
    expect(refusal(() => checkSource(1000, 1000, 51, o, limits))).toBe('SOURCE_RESOLUTION_TOO_BIG');
    const perFrame = { maxSrcResolution: 50, maxAnimationFrameResolution: 2 };
    expect(refusal(() => checkSource(1000, 1000, 99, perFrame, limits))).toBeNull();
    // 101 frames of 1 MP: each under 2 MP, together over the 100 MP intermediate bound.
    expect(refusal(() => checkSource(1000, 1000, 101, perFrame, limits))).toBe('RESULT_TOO_BIG');
    expect(refusal(() => checkSource(1000, 1000, 51, perFrame, limits, 'ushort'))).toBe('RESULT_TOO_BIG');
  });
});
