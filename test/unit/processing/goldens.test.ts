// Golden images by perceptual hash: each operation on the fixture set must hash within a small
// Hamming distance of the stored golden. Regenerate deliberately with
//   UPDATE_GOLDENS=1 npx vitest run test/unit/processing
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { defaultOptions } from '../../../src/default-options.js';
import type { ProcessingOptions } from '../../../src/options.js';
import { createProcessor } from '../../../src/processing/pipeline.js';
import { alphaPng, animatedGif, photoJpeg, svg } from '../../fixtures/generate.js';
import { hamming, phash } from '../../helpers/phash.js';

const GOLDENS = fileURLToPath(new URL('../../fixtures/goldens.json', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDENS === '1';
/** Bits out of 64 allowed to differ (encoder and libvips version noise). */
const TOLERANCE = 6;

const config = loadConfig({});
const run = createProcessor(config);
const base = defaultOptions(config);
const ce = { type: 'ce' as const, x: 0, y: 0 };

type Fixture = 'jpeg' | 'png' | 'gif' | 'svg';
const ops: [string, Fixture, Partial<ProcessingOptions>][] = [
  ['jpeg-original', 'jpeg', {}],
  ['jpeg-fit-60', 'jpeg', { width: 60 }],
  ['jpeg-fill-50x50', 'jpeg', { resizingType: 'fill', width: 50, height: 50 }],
  ['jpeg-fill-50x50-sowe', 'jpeg', { resizingType: 'fill', width: 50, height: 50, gravity: { type: 'sowe', x: 0, y: 0 } }],
  ['jpeg-fill-50x50-smart', 'jpeg', { resizingType: 'fill', width: 50, height: 50, gravity: { type: 'sm', x: 0, y: 0 } }],
  ['jpeg-force-60x60', 'jpeg', { resizingType: 'force', width: 60, height: 60 }],
  ['jpeg-crop-nowe', 'jpeg', { crop: { width: 60, height: 40, gravity: { type: 'nowe', x: 0, y: 0 } } }],
  ['jpeg-rotate-90', 'jpeg', { rotate: 90 }],
  ['jpeg-flip-h', 'jpeg', { flipHorizontal: true }],
  ['jpeg-flip-v', 'jpeg', { flipVertical: true }],
  ['jpeg-blur-4', 'jpeg', { blur: 4 }],
  ['jpeg-sharpen-2', 'jpeg', { sharpen: 2 }],
  ['jpeg-pixelate-10', 'jpeg', { pixelate: 10 }],
  ['jpeg-monochrome', 'jpeg', { monochrome: { intensity: 1, color: 'b3b3b3' } }],
  ['jpeg-extend-200', 'jpeg', { width: 200, height: 200, extend: { enabled: true, gravity: ce }, background: { r: 255, g: 255, b: 255 } }],
  ['jpeg-padding', 'jpeg', { padding: { top: 20, right: 20, bottom: 20, left: 20 }, background: { r: 0, g: 0, b: 0 } }],
  ['png-original', 'png', {}],
  ['png-fit-50-webp', 'png', { width: 50, format: 'webp' }],
  ['png-on-green', 'png', { background: { r: 0, g: 200, b: 0 }, format: 'jpeg' }],
  ['gif-frame-0', 'gif', {}],
  ['gif-page-2', 'gif', { page: 2 }],
  ['svg-raster-400', 'svg', { format: 'png', width: 400 }],
];

const sources = {} as Record<Fixture, Buffer>;
let goldens: Record<string, string> = {};
const fresh: Record<string, string> = {};

beforeAll(async () => {
  [sources.jpeg, sources.png, sources.gif] = await Promise.all([photoJpeg(), alphaPng(), animatedGif()]);
  sources.svg = svg();
  goldens = existsSync(GOLDENS) ? (JSON.parse(readFileSync(GOLDENS, 'utf8')) as Record<string, string>) : {};
});

afterAll(() => {
  if (UPDATE) writeFileSync(GOLDENS, `${JSON.stringify({ ...goldens, ...fresh }, null, 2)}\n`);
});

describe('golden perceptual hashes', () => {
  it.each(ops)('%s', async (name, fixture, o) => {
    const r = await run(sources[fixture], { ...base, ...o }, {});
    const hash = await phash(r.data);
    fresh[name] = hash;
    if (UPDATE) return;
    const golden = goldens[name];
    expect(golden, `no golden for ${name}: run with UPDATE_GOLDENS=1`).toBeDefined();
    expect(hamming(hash, golden as string)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('the hash tells different operations apart', () => {
    if (UPDATE) return;
    const far = (a: string, b: string) => hamming(goldens[a] ?? '', goldens[b] ?? '');
    expect(far('jpeg-original', 'jpeg-rotate-90')).toBeGreaterThan(TOLERANCE);
    expect(far('jpeg-original', 'jpeg-flip-h')).toBeGreaterThan(TOLERANCE);
    expect(far('jpeg-fill-50x50', 'jpeg-fill-50x50-sowe')).toBeGreaterThan(TOLERANCE);
    expect(far('gif-frame-0', 'gif-page-2')).toBeGreaterThan(TOLERANCE);
  });
});
