import { describe, expect, it } from 'vitest';
import { applyClientFeatures, detectClientFeatures, varyHeader } from '../../src/negotiate.js';
import { createImgproxyDialect } from '../../src/dialects/imgproxy/index.js';
import { defaultOptions } from '../../src/default-options.js';
import { chooseOutputFormat } from '../../src/processing/format.js';
import { config } from '../helpers/dialects.js';

const plain = config();
const hints = config({ IMGPROXY_ENABLE_CLIENT_HINTS: 'true' });

describe('Accept parsing', () => {
  const table: [string | undefined, { webp: boolean; avif: boolean; jxl: boolean }][] = [
    [undefined, { webp: false, avif: false, jxl: false }],
    ['', { webp: false, avif: false, jxl: false }],
    ['*/*', { webp: false, avif: false, jxl: false }],
    ['image/*', { webp: false, avif: false, jxl: false }],
    ['image/*,*/*;q=0.8', { webp: false, avif: false, jxl: false }],
    ['image/webp', { webp: true, avif: false, jxl: false }],
    ['image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8', { webp: true, avif: true, jxl: false }],
    ['image/jxl, image/avif;q=0.9', { webp: false, avif: true, jxl: true }],
    ['image/webp;q=0', { webp: false, avif: false, jxl: false }],
    ['image/webp; q=0.0, image/avif;q=0.001', { webp: false, avif: true, jxl: false }],
    ['IMAGE/WEBP', { webp: true, avif: false, jxl: false }],
    ['image/webp;q=bogus', { webp: false, avif: false, jxl: false }],
    ['image/webp;q=1.5', { webp: false, avif: false, jxl: false }],
    ['image/webpx, ximage/webp', { webp: false, avif: false, jxl: false }],
    ['image/webp, image/webp;q=0', { webp: false, avif: false, jxl: false }],
    ['text/html;level=1, image/webp;level=2;q=0.5', { webp: true, avif: false, jxl: false }],
  ];
  it.each(table)('%j', (accept, expected) => {
    const f = detectClientFeatures(accept === undefined ? {} : { accept }, plain);
    expect({ webp: f.webp, avif: f.avif, jxl: f.jxl }).toEqual(expected);
  });
});

describe('applyClientFeatures × config flags', () => {
  const all = { webp: true, avif: true, jxl: true };
  const cases: [Record<string, string>, Record<string, boolean>][] = [
    [{}, { preferWebp: false, preferAvif: false, preferJxl: false, enforceWebp: false, enforceAvif: false, enforceJxl: false }],
    [{ IMGPROXY_AUTO_WEBP: 'true' }, { preferWebp: true, preferAvif: false, enforceWebp: false }],
    [{ IMGPROXY_AUTO_AVIF: 'true', IMGPROXY_AUTO_JXL: 'true' }, { preferWebp: false, preferAvif: true, preferJxl: true, enforceAvif: false }],
    [{ IMGPROXY_ENFORCE_WEBP: 'true' }, { preferWebp: true, enforceWebp: true, preferAvif: false }],
    [{ IMGPROXY_ENFORCE_AVIF: 'true', IMGPROXY_ENFORCE_JXL: 'true' }, { preferAvif: true, enforceAvif: true, preferJxl: true, enforceJxl: true, enforceWebp: false }],
  ];
  it.each(cases)('%j with a client supporting everything', (env, expected) => {
    const c = config(env);
    const o = defaultOptions(c);
    applyClientFeatures(o, all, c);
    expect(o).toMatchObject(expected);
  });

  it('flags do nothing for a client without support', () => {
    const c = config({ IMGPROXY_AUTO_WEBP: 'true', IMGPROXY_ENFORCE_AVIF: 'true', IMGPROXY_AUTO_JXL: 'true' });
    const o = defaultOptions(c);
    applyClientFeatures(o, detectClientFeatures({ accept: 'image/*,*/*;q=0.8' }, c), c);
    expect(o).toEqual(defaultOptions(c));
  });

  it('end to end through the dialect: explicit Accept only', () => {
    const d = createImgproxyDialect(config({ IMGPROXY_AUTO_WEBP: 'true', IMGPROXY_AUTO_AVIF: 'true' }));
    const path = '/unsafe/plain/http://e.com/a.jpg';
    expect(d.parseImage(path, { accept: 'image/avif,image/webp,*/*' }).options).toMatchObject({ preferWebp: true, preferAvif: true });
    expect(d.parseImage(path, { accept: '*/*' }).options).toMatchObject({ preferWebp: false, preferAvif: false });
    expect(d.parseImage(path, { accept: 'image/webp;q=0,image/avif' }).options).toMatchObject({ preferWebp: false, preferAvif: true });
    expect(d.parseImage(path, {}).options).toMatchObject({ preferWebp: false, preferAvif: false });
  });
});

describe('client hints', () => {
  it('ignored unless IMGPROXY_ENABLE_CLIENT_HINTS', () => {
    const f = detectClientFeatures({ 'sec-ch-dpr': '2', 'sec-ch-width': '800' }, plain);
    expect(f.dpr).toBeUndefined();
    expect(f.width).toBeUndefined();
  });

  it('Sec-CH-DPR wins over DPR; Sec-CH-Width over Width; width divided by DPR', () => {
    expect(detectClientFeatures({ 'sec-ch-dpr': '2', dpr: '3', 'sec-ch-width': '800', width: '900' }, hints)).toMatchObject({ dpr: 2, width: 400 });
    expect(detectClientFeatures({ dpr: '3', width: '900' }, hints)).toMatchObject({ dpr: 3, width: 300 });
  });

  it('rounds like imgproxy (half away from zero)', () => {
    expect(detectClientFeatures({ dpr: '3', width: '1000' }, hints).width).toBe(333);
    expect(detectClientFeatures({ dpr: '2', width: '801' }, hints).width).toBe(401);
    expect(detectClientFeatures({ dpr: '1.5', width: '100' }, hints).width).toBe(67);
  });

  it('DPR must be > 0 and ≤ 8; an invalid Sec-CH-DPR falls through to DPR', () => {
    expect(detectClientFeatures({ dpr: '8' }, hints).dpr).toBe(8);
    expect(detectClientFeatures({ dpr: '8.5' }, hints).dpr).toBeUndefined();
    expect(detectClientFeatures({ dpr: '0' }, hints).dpr).toBeUndefined();
    expect(detectClientFeatures({ dpr: '-1' }, hints).dpr).toBeUndefined();
    expect(detectClientFeatures({ dpr: 'abc' }, hints).dpr).toBeUndefined();
    expect(detectClientFeatures({ 'sec-ch-dpr': '9', dpr: '2' }, hints).dpr).toBe(2);
    expect(detectClientFeatures({ 'sec-ch-dpr': '9', width: '800' }, hints)).toMatchObject({ width: 800 });
  });

  it('Width must be a positive integer', () => {
    for (const width of ['0', '-5', '1.5', 'wide']) expect(detectClientFeatures({ width }, hints).width).toBeUndefined();
    expect(detectClientFeatures({ 'sec-ch-width': 'x', width: '640' }, hints).width).toBe(640);
  });

  it('hints are defaults: URL options override them', () => {
    const d = createImgproxyDialect(hints);
    const headers = { 'sec-ch-dpr': '2', 'sec-ch-width': '1000' };
    expect(d.parseImage('/unsafe/plain/http://e.com/a.jpg', headers).options).toMatchObject({ dpr: 2, width: 500 });
    expect(d.parseImage('/unsafe/w:300/dpr:1/plain/http://e.com/a.jpg', headers).options).toMatchObject({ dpr: 1, width: 300 });
  });
});

describe('varyHeader', () => {
  it.each([
    [{}, null],
    [{ IMGPROXY_AUTO_WEBP: 'true' }, 'Accept'],
    [{ IMGPROXY_ENFORCE_JXL: 'true' }, 'Accept'],
    [{ IMGPROXY_ENABLE_CLIENT_HINTS: 'true' }, 'Sec-CH-DPR, DPR, Sec-CH-Width, Width'],
    [{ IMGPROXY_AUTO_AVIF: 'true', IMGPROXY_ENABLE_CLIENT_HINTS: 'true' }, 'Accept, Sec-CH-DPR, DPR, Sec-CH-Width, Width'],
  ] as [Record<string, string>, string | null][])('%j → %s', (env, expected) => {
    expect(varyHeader(config(env))).toBe(expected);
  });
});

describe('negotiation reaches every writable format', () => {
  const choose = (env: Record<string, string>, accept: string, path = '/unsafe/plain/http://e.com/a.jpg') => {
    const c = config(env);
    const o = createImgproxyDialect(c).parseImage(path, { accept }).options;
    return { o, format: chooseOutputFormat({ sourceFormat: 'jpeg', hasAlpha: false, animated: false }, o, c) };
  };
  const CHROME = 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8';
  const JXL = 'image/jxl,image/avif,image/webp,*/*;q=0.8';

  it.each([
    [{ IMGPROXY_AUTO_JXL: 'true', IMGPROXY_AUTO_AVIF: 'true', IMGPROXY_AUTO_WEBP: 'true' }, JXL, 'jxl'],
    [{ IMGPROXY_AUTO_JXL: 'true', IMGPROXY_AUTO_AVIF: 'true' }, CHROME, 'avif'],
    [{ IMGPROXY_AUTO_JXL: 'true' }, CHROME, 'jpeg'],
    [{ IMGPROXY_AUTO_JXL: 'true' }, 'image/jxl;q=0', 'jpeg'],
    [{ IMGPROXY_PREFERRED_FORMATS: 'bmp,ico' }, '*/*', 'bmp'],
  ] as const)('%j with Accept %s → %s', (env, accept, expected) => {
    expect(choose(env, accept).format).toBe(expected);
  });

  it('IMGPROXY_ENFORCE_JXL overrides an explicit format for a client that accepts JPEG XL', () => {
    expect(choose({ IMGPROXY_ENFORCE_JXL: 'true' }, JXL, '/unsafe/plain/http://e.com/a.jpg@png').format).toBe('jxl');
    expect(choose({ IMGPROXY_ENFORCE_JXL: 'true' }, CHROME, '/unsafe/plain/http://e.com/a.jpg@png').format).toBe('png');
  });

  it('Vary: Accept with the JPEG XL flags too', () => {
    expect(varyHeader(config({ IMGPROXY_AUTO_JXL: 'true' }))).toBe('Accept');
    expect(varyHeader(config({ IMGPROXY_ENFORCE_JXL: 'true' }))).toBe('Accept');
  });

  it('format:best gets what Accept negotiation allowed, then the preferred formats', () => {
    const env = { IMGPROXY_AUTO_WEBP: 'true', IMGPROXY_AUTO_AVIF: 'true', IMGPROXY_PREFERRED_FORMATS: 'jpeg,png,webp' };
    expect(choose(env, CHROME, '/unsafe/f:best/plain/http://e.com/a.jpg').o.bestFormat?.candidates).toEqual(['avif', 'webp', 'jpeg', 'png']);
    expect(choose(env, '*/*', '/unsafe/plain/http://e.com/a.jpg@best').o.bestFormat?.candidates).toEqual(['jpeg', 'png', 'webp']);
    // A later format wins over best, and IMGPROXY_BEST_FORMAT_BY_DEFAULT asks for best without one.
    expect(choose(env, CHROME, '/unsafe/f:best/plain/http://e.com/a.jpg@png').o.bestFormat).toBeNull();
    const byDefault = choose({ IMGPROXY_BEST_FORMAT_BY_DEFAULT: 'true', IMGPROXY_BEST_FORMAT_MAX_RESOLUTION: '3' }, '*/*').o.bestFormat;
    expect(byDefault).toEqual({ candidates: ['jpeg', 'png', 'gif'], complexityThreshold: 5.5, maxResolution: 3, allowSkips: false });
  });
});
