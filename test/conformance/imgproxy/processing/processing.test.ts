/**
 * Port of imgproxy's processing/processing_test.go (TestProcessing): result sizes of every
 * resizing type with enlarge, extend and extend_aspect_ratio on geometry.png (200×100), the
 * max_result_dimension matrix, and the source-resolution limit.
 * https://github.com/imgproxy/imgproxy/blob/master/processing/processing_test.go
 */
import { describe, expect } from 'vitest';
import { options, port, ported } from '../harness.js';
import { processingSuite } from './suite.js';

const suite = processingSuite();

/** Cases we fail today, filled in from the first run. */
const GAPS: Record<string, string> = {};

type Size = [number, number];

interface SizeCase {
  limit?: number;
  width: number;
  height: number;
  type: 'fit' | 'fill' | 'fill-down';
  enlarge?: boolean;
  extend?: boolean;
  extendAR?: boolean;
  padding?: [number, number, number, number];
  rotate?: number;
}

/** sizeTestCase.URLOptions. */
function urlOptions(c: SizeCase): string {
  const o: Record<string, (string | number)[]> = {};
  if (c.limit) o.max_result_dimension = [c.limit];
  o.resize = [c.type, c.width, c.height];
  if (c.enlarge) o.enlarge = [1];
  if (c.extend) o.extend = [1];
  if (c.extendAR) o.extend_aspect_ratio = [1];
  if (c.rotate) o.rotate = [c.rotate];
  if (c.padding) o.padding = c.padding;
  return options(o);
}

/** sizeTestCase.String. */
function caseName(c: SizeCase): string {
  let s = `${c.type}:${c.width}x${c.height}`;
  if (c.limit) s += `:limit:${c.limit}`;
  if (c.enlarge) s += '_en:true';
  if (c.extend) s += '_ex:true';
  if (c.extendAR) s += '_exAR:true';
  if (c.rotate) s += `_rotate:${c.rotate}`;
  if (c.padding) s += `_padding:${c.padding.join('x')}`;
  return s;
}

async function expectSize(c: SizeCase, [w, h]: Size): Promise<void> {
  await suite.check(await suite.process(urlOptions(c), 'geometry.png'), w, h);
}

const table = (cases: [number, number, Size][]) => cases;

function resizeTable(name: string, base: Omit<SizeCase, 'width' | 'height'>, cases: [number, number, Size][]): void {
  describe(name, () => {
    for (const [width, height, out] of cases) ported(`${name}/${width}x${height}`, () => expectSize({ ...base, width, height }, out));
  });
}

describe('TestProcessing', () => {
  resizeTable('TestResizeToFit', { type: 'fit' }, table([
    [50, 50, [50, 25]], [50, 20, [40, 20]], [20, 50, [20, 10]], [300, 300, [200, 100]], [300, 50, [100, 50]],
    [100, 300, [100, 50]], [0, 50, [100, 50]], [50, 0, [50, 25]], [0, 200, [200, 100]], [300, 0, [200, 100]],
  ]));
  resizeTable('TestResizeToFitEnlarge', { type: 'fit', enlarge: true }, table([
    [50, 50, [50, 25]], [50, 20, [40, 20]], [20, 50, [20, 10]], [300, 300, [300, 150]], [300, 125, [250, 125]],
    [250, 300, [250, 125]], [0, 50, [100, 50]], [50, 0, [50, 25]], [0, 200, [400, 200]], [300, 0, [300, 150]],
  ]));
  resizeTable('TestResizeToFitExtend', { type: 'fit', extend: true }, table([
    [50, 50, [50, 50]], [50, 20, [50, 20]], [20, 50, [20, 50]], [300, 300, [300, 300]], [300, 125, [300, 125]],
    [250, 300, [250, 300]], [0, 50, [100, 50]], [50, 0, [50, 25]], [0, 200, [200, 200]], [300, 0, [300, 100]],
  ]));
  resizeTable('TestResizeToFitExtendAR', { type: 'fit', extendAR: true }, table([
    [50, 50, [50, 50]], [50, 20, [50, 20]], [20, 50, [20, 50]], [300, 300, [200, 200]], [300, 125, [240, 100]],
    [250, 500, [200, 400]], [0, 50, [100, 50]], [50, 0, [50, 25]], [0, 200, [200, 100]], [300, 0, [200, 100]],
  ]));
  resizeTable('TestResizeToFill', { type: 'fill' }, table([
    [50, 50, [50, 50]], [50, 20, [50, 20]], [20, 50, [20, 50]], [300, 300, [200, 100]], [300, 50, [200, 50]],
    [100, 300, [100, 100]], [0, 50, [100, 50]], [50, 0, [50, 25]], [0, 200, [200, 100]], [300, 0, [200, 100]],
  ]));
  resizeTable('TestResizeToFillEnlarge', { type: 'fill', enlarge: true }, table([
    [50, 50, [50, 50]], [50, 20, [50, 20]], [20, 50, [20, 50]], [300, 300, [300, 300]], [300, 125, [300, 125]],
    [250, 300, [250, 300]], [0, 50, [100, 50]], [50, 0, [50, 25]], [0, 200, [400, 200]], [300, 0, [300, 150]],
  ]));
  resizeTable('TestResizeToFillExtend', { type: 'fill', extend: true }, table([
    [50, 50, [50, 50]], [50, 20, [50, 20]], [20, 50, [20, 50]], [300, 300, [300, 300]], [300, 125, [300, 125]],
    [250, 300, [250, 300]], [300, 50, [300, 50]], [100, 300, [100, 300]], [0, 50, [100, 50]], [50, 0, [50, 25]],
    [0, 200, [200, 200]], [300, 0, [300, 100]],
  ]));
  resizeTable('TestResizeToFillExtendAR', { type: 'fill', extendAR: true }, table([
    [50, 50, [50, 50]], [50, 20, [50, 20]], [20, 50, [20, 50]], [300, 300, [200, 200]], [300, 125, [240, 100]],
    [250, 500, [200, 400]], [300, 50, [300, 50]], [100, 300, [100, 300]], [0, 50, [100, 50]], [50, 0, [50, 25]],
    [0, 200, [200, 100]], [300, 0, [200, 100]],
  ]));
  resizeTable('TestResizeToFillDown', { type: 'fill-down' }, table([
    [50, 50, [50, 50]], [50, 20, [50, 20]], [20, 50, [20, 50]], [300, 300, [100, 100]], [300, 125, [200, 83]],
    [250, 300, [83, 100]], [0, 50, [100, 50]], [50, 0, [50, 25]], [0, 200, [200, 100]], [300, 0, [200, 100]],
  ]));
  resizeTable('TestResizeToFillDownEnlarge', { type: 'fill-down', enlarge: true }, table([
    [50, 50, [50, 50]], [50, 20, [50, 20]], [20, 50, [20, 50]], [300, 300, [300, 300]], [300, 125, [300, 125]],
    [250, 300, [250, 300]], [0, 50, [100, 50]], [50, 0, [50, 25]], [0, 200, [400, 200]], [300, 0, [300, 150]],
  ]));
  resizeTable('TestResizeToFillDownExtend', { type: 'fill-down', extend: true }, table([
    [50, 50, [50, 50]], [50, 20, [50, 20]], [20, 50, [20, 50]], [300, 300, [300, 300]], [300, 125, [300, 125]],
    [250, 300, [250, 300]], [300, 50, [300, 50]], [100, 300, [100, 300]], [0, 50, [100, 50]], [50, 0, [50, 25]],
    [0, 200, [200, 200]], [300, 0, [300, 100]],
  ]));
  resizeTable('TestResizeToFillDownExtendAR', { type: 'fill-down', extendAR: true }, table([
    [50, 50, [50, 50]], [50, 20, [50, 20]], [20, 50, [20, 50]], [300, 300, [100, 100]], [300, 125, [200, 83]],
    [250, 300, [83, 100]], [0, 50, [100, 50]], [50, 0, [50, 25]], [0, 200, [200, 100]], [300, 0, [200, 100]],
  ]));

  describe('TestResultSizeLimit', () => {
    const pad: [number, number, number, number] = [100, 200, 300, 400];
    const cases: [SizeCase, Size][] = [
      [{ limit: 1000, width: 100, height: 100, type: 'fit' }, [100, 50]],
      [{ limit: 50, width: 100, height: 100, type: 'fit' }, [50, 25]],
      [{ limit: 50, width: 0, height: 0, type: 'fit' }, [50, 25]],
      [{ limit: 100, width: 0, height: 100, type: 'fit' }, [100, 50]],
      [{ limit: 50, width: 150, height: 0, type: 'fit' }, [50, 25]],
      [{ limit: 100, width: 1000, height: 1000, type: 'fit' }, [100, 50]],
      [{ limit: 100, width: 1000, height: 1000, type: 'fit', enlarge: true }, [100, 50]],
      [{ limit: 100, width: 1000, height: 2000, type: 'fit', extend: true }, [50, 100]],
      [{ limit: 100, width: 1000, height: 2000, type: 'fit', extendAR: true }, [50, 100]],
      [{ limit: 100, width: 100, height: 150, type: 'fit', rotate: 90 }, [50, 100]],
      [{ limit: 100, width: 0, height: 0, type: 'fit', rotate: 90 }, [50, 100]],
      [{ limit: 200, width: 100, height: 100, type: 'fit', padding: pad }, [200, 129]],
      [{ limit: 1000, width: 100, height: 100, type: 'fill' }, [100, 100]],
      [{ limit: 50, width: 100, height: 100, type: 'fill' }, [50, 50]],
      [{ limit: 50, width: 1000, height: 50, type: 'fill' }, [50, 13]],
      [{ limit: 50, width: 100, height: 1000, type: 'fill' }, [50, 50]],
      [{ limit: 50, width: 0, height: 0, type: 'fill' }, [50, 25]],
      [{ limit: 100, width: 0, height: 100, type: 'fill' }, [100, 50]],
      [{ limit: 50, width: 150, height: 0, type: 'fill' }, [50, 25]],
      [{ limit: 100, width: 1000, height: 1000, type: 'fill' }, [100, 50]],
      [{ limit: 100, width: 1000, height: 1000, type: 'fill', enlarge: true }, [100, 100]],
      [{ limit: 100, width: 1000, height: 2000, type: 'fill', extend: true }, [50, 100]],
      [{ limit: 100, width: 1000, height: 2000, type: 'fill', extendAR: true }, [50, 100]],
      [{ limit: 100, width: 100, height: 150, type: 'fill', rotate: 90 }, [67, 100]],
      [{ limit: 100, width: 0, height: 0, type: 'fill', rotate: 90 }, [50, 100]],
      [{ limit: 200, width: 100, height: 100, type: 'fill', padding: pad }, [200, 144]],
      [{ limit: 1000, width: 100, height: 100, type: 'fill-down' }, [100, 100]],
      [{ limit: 50, width: 100, height: 100, type: 'fill-down' }, [50, 50]],
      [{ limit: 50, width: 1000, height: 50, type: 'fill-down' }, [50, 3]],
      [{ limit: 50, width: 100, height: 1000, type: 'fill-down' }, [5, 50]],
      [{ limit: 50, width: 0, height: 0, type: 'fill-down' }, [50, 25]],
      [{ limit: 100, width: 0, height: 100, type: 'fill-down' }, [100, 50]],
      [{ limit: 50, width: 150, height: 0, type: 'fill-down' }, [50, 25]],
      [{ limit: 100, width: 1000, height: 1000, type: 'fill-down' }, [100, 100]],
      [{ limit: 100, width: 1000, height: 1000, type: 'fill-down', enlarge: true }, [100, 100]],
      [{ limit: 100, width: 1000, height: 2000, type: 'fill-down', extend: true }, [50, 100]],
      [{ limit: 100, width: 1000, height: 2000, type: 'fill-down', extendAR: true }, [50, 100]],
      [{ limit: 100, width: 1000, height: 1500, type: 'fill-down', rotate: 90 }, [67, 100]],
      [{ limit: 100, width: 0, height: 0, type: 'fill-down', rotate: 90 }, [50, 100]],
      [{ limit: 200, width: 100, height: 100, type: 'fill-down', padding: pad }, [200, 144]],
      [{ limit: 200, width: 1000, height: 1000, type: 'fill-down', padding: pad }, [200, 144]],
    ];
    for (const [c, out] of cases) port(`TestResultSizeLimit/${caseName(c)}`, GAPS[caseName(c)], () => expectSize(c, out));
  });

  ported('TestImageResolutionTooLarge', async () => {
    const reply = await suite.request('/unsafe/max_src_resolution:0.00001/plain/local:///geometry.png');
    expect(reply.status).toBe(422);
  });
});
