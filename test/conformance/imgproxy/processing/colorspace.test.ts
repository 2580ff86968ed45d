/**
 * Port of imgproxy's processing/colorspace_test.go (TestColorspace): which interpretation a
 * result keeps — 8/16-bit, colour/grey, PNG/TIFF sources, JPEG and PNG results — with
 * IMGPROXY_PRESERVE_HDR on and off, the `preserve_hdr` option overriding it, linear
 * processing (IMGPROXY_USE_LINEAR_COLORSPACE), and watermarks of another depth or colour
 * model not changing the result's.
 * https://github.com/imgproxy/imgproxy/blob/master/processing/colorspace_test.go
 */
import { join } from 'node:path';
import { describe } from 'vitest';
import { port, type Interpretation } from '../harness.js';
import { processingSuite } from './suite.js';

const suite = processingSuite();

interface Case {
  name: string;
  source: string;
  watermark?: string;
  format: 'png' | 'jpeg';
  out: Interpretation;
  gap?: string;
}

const opts = (c: Case) => `resize:fill:100:100/enlarge:1/format:${c.format}${c.watermark ? '/watermark:0.5' : ''}`;

function table(name: string, env: Record<string, string>, suffix: string, cases: Case[]): void {
  describe(name, () => {
    for (const c of cases) {
      port(`${name}/${c.name}${suffix}`, c.gap, async () => {
        const wm: Record<string, string> = c.watermark ? { IMGPROXY_WATERMARK_PATH: join(suite.root(), 'test-images', c.watermark) } : {};
        await suite.check(await suite.process(opts(c), `test-images/${c.source}`, { ...env, ...wm }), 100, 100, c.out);
      });
    }
  });
}

/*
 * The linear cases below check the interpretation, which is what we can assert without
 * imgproxy's hash of the linear-light result (test/unit/processing/linear-light.test.ts checks
 * that the resize really averages in linear light).
 */

describe('TestColorspace', () => {
  table('TestColorspace', { IMGPROXY_PRESERVE_HDR: 'true' }, '', [
    { name: '8-bpp-png-srgb', source: 'png/8-bpp.png', format: 'png', out: 'srgb' },
    { name: '16-bpp-png-rgb16', source: 'png/16-bpp.png', format: 'png', out: 'rgb16' },
    { name: '16-bpp-png-jpeg-srgb', source: 'png/16-bpp.png', format: 'jpeg', out: 'srgb' },
    { name: '8-bpp-tiff-srgb', source: 'tiff/8-bpp.tiff', format: 'png', out: 'srgb' },
    { name: '16-bpp-tiff-rgb16', source: 'tiff/16-bpp.tiff', format: 'png', out: 'rgb16' },
    { name: '8-bpp-grayscale-png-bw', source: 'png/8-bpp-grayscale.png', format: 'png', out: 'b-w' },
    { name: '16-bpp-grayscale-png-grey16', source: 'png/16-bpp-grayscale.png', format: 'png', out: 'grey16' },
    { name: '16-bpp-grayscale-png-jpeg-bw', source: 'png/16-bpp-grayscale.png', format: 'jpeg', out: 'b-w' },
    { name: '8-bpp-grayscale-tiff-bw', source: 'tiff/8-bpp-grayscale.tiff', format: 'png', out: 'b-w' },
    { name: '16-bpp-grayscale-tiff-grey16', source: 'tiff/16-bpp-grayscale.tiff', format: 'png', out: 'grey16' },
  ]);
  table('TestLinearColorspace', { IMGPROXY_PRESERVE_HDR: 'true', IMGPROXY_USE_LINEAR_COLORSPACE: 'true' }, '_linear', [
    { name: '16-bpp-linear-png-rgb16', source: 'png/16-bpp-linear.png', format: 'png', out: 'rgb16' },
    { name: '32-bpp-linear-tiff-rgb16', source: 'tiff/32-bpp-linear.tiff', format: 'png', out: 'rgb16' },
    { name: '16-bpp-linear-png-jpeg-srgb', source: 'png/16-bpp-linear.png', format: 'jpeg', out: 'srgb' },
    { name: '8-bpp-png-jpeg-srgb', source: 'png/8-bpp.png', format: 'jpeg', out: 'srgb' },
  ]);
  table('TestDownscaleHDR', { IMGPROXY_PRESERVE_HDR: 'false' }, '_no_preserve_hdr', [
    { name: '16-bpp-png-srgb', source: 'png/16-bpp.png', format: 'png', out: 'srgb' },
    { name: '16-bpp-tiff-srgb', source: 'tiff/16-bpp.tiff', format: 'png', out: 'srgb' },
    { name: '16-bpp-grayscale-png-bw', source: 'png/16-bpp-grayscale.png', format: 'png', out: 'b-w' },
    { name: '16-bpp-grayscale-tiff-bw', source: 'tiff/16-bpp-grayscale.tiff', format: 'png', out: 'b-w' },
  ]);
  table('TestWatermarkColorspace', { IMGPROXY_PRESERVE_HDR: 'true' }, '', [
    { name: '8-bpp-wm-16-bpp-srgb', source: 'png/8-bpp.png', watermark: 'png/16-bpp.png', format: 'png', out: 'srgb' },
    { name: '8-bpp-wm-16-bpp-grayscale-srgb', source: 'png/8-bpp.png', watermark: 'png/16-bpp-grayscale.png', format: 'png', out: 'srgb' },
    { name: '8-bpp-grayscale-wm-16-bpp-grayscale-bw', source: 'png/8-bpp-grayscale.png', watermark: 'png/16-bpp-grayscale.png', format: 'png', out: 'b-w' },
    { name: '16-bpp-grayscale-wm-8-bpp-grayscale-grey16', source: 'png/16-bpp-grayscale.png', watermark: 'png/8-bpp-grayscale.png', format: 'png', out: 'grey16' },
    { name: '16-bpp-grayscale-wm-16-bpp-rgb16', source: 'png/16-bpp-grayscale.png', watermark: 'png/16-bpp.png', format: 'png', out: 'rgb16' },
    { name: '16-bpp-grayscale-wm-8-bpp-rgb16', source: 'png/16-bpp-grayscale.png', watermark: 'png/8-bpp.png', format: 'png', out: 'rgb16' },
  ]);
  describe('TestPreserveHDROptionOverride', () => {
    port('TestPreserveHDROptionOverride/option-true-overrides-config-false', undefined, async () => {
      await suite.check(await suite.process('resize:fill:100:100/enlarge:1/format:png/preserve_hdr:true', 'test-images/png/16-bpp.png', { IMGPROXY_PRESERVE_HDR: 'false' }), 100, 100, 'rgb16');
    });
    port('TestPreserveHDROptionOverride/option-false-overrides-config-true', undefined, async () => {
      await suite.check(await suite.process('resize:fill:100:100/enlarge:1/format:png/preserve_hdr:false', 'test-images/png/16-bpp.png', { IMGPROXY_PRESERVE_HDR: 'true' }), 100, 100, 'srgb');
    });
  });
});
