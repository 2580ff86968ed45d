// The numeric range table of both dialects: every argument's edges, the numbers the issue saw
// reach sharp, and generated numbers over every option (never a plain Error, never a
// non-finite value in the options).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ARG_RANGES, MAX_DIMENSION, type ArgKey } from '../../../../src/dialects/imgproxy/arg-ranges.js';
import { createImgproxyDialect } from '../../../../src/dialects/imgproxy/index.js';
import { OPTION_TABLE } from '../../../../src/dialects/imgproxy/option-table.js';
import { createPreviewProxyDialect } from '../../../../src/dialects/previewproxy/index.js';
import { PP_RANGES } from '../../../../src/dialects/previewproxy/params.js';
import { checkNumber, describeRange } from '../../../../src/dialects/numeric.js';
import { ProxyError } from '../../../../src/errors.js';
import type { ProcessingOptions } from '../../../../src/options.js';
import { config, expectProxyError } from '../../../helpers/dialects.js';

const cfg = config({ IMGPROXY_ALLOW_SECURITY_OPTIONS: 'true', IMGPROXY_PRESETS: 'p1=w:10' });
const dialect = createImgproxyDialect(cfg);
const parse = (opts: string): ProcessingOptions => dialect.parseImage(`/unsafe/${opts}/plain/http://e.com/a.jpg`, {}).options;

/** One option that reads each argument, `%` standing for the number. */
const USE: Record<ArgKey, string> = {
  width: 'w:%', height: 'h:%', 'min-width': 'mw:%', 'min-height': 'mh:%', zoom: 'z:%', dpr: 'dpr:%',
  'gravity offset': 'g:no:%', 'focus point': 'g:fp:%:0.5', 'crop size': 'c:%', 'trim threshold': 't:%', padding: 'pd:%',
  rotate: 'rot:%', 'background channel': 'bg:%:0:0', brightness: 'br:%', contrast: 'co:%', saturation: 'sa:%',
  'monochrome intensity': 'mc:%', blur: 'bl:%', sharpen: 'sh:%', pixelate: 'pix:%', 'watermark opacity': 'wm:%',
  'watermark offset': 'wm:1:ce:%', 'watermark scale': 'wm:1:ce:0:0:%', 'watermark size': 'wms:%', 'watermark rotate': 'wmr:%', 'watermark shadow': 'wmsh:%', quality: 'q:%', 'format quality': 'fq:png:%',
  max_bytes: 'mb:%', page: 'pg:%', pages: 'pgs:%', video_thumbnail_second: 'vts:%', expires: 'exp:%', max_src_resolution: 'msr:%', max_src_file_size: 'msfs:%',
  max_animation_frames: 'maf:%', max_animation_frame_resolution: 'mafr:%', max_result_dimension: 'mrd:%',
  'crop aspect ratio': 'car:%', 'background alpha': 'bga:%', 'duotone intensity': 'dt:%',
  'unsharp masking weight': 'ush:auto:%', 'unsharp masking divider': 'ush:auto:1:%', 'area blur sigma': 'ba:%:0:0:1:1',
  'blur area': 'ba:5:%:0:1:1', 'progressive blur sigma': 'pbl:%', 'ramp angle': 'gr:0.5:000:%', 'ramp position': 'gr:0.5:000:down:%',
  'colorize opacity': 'col:%', 'gradient opacity': 'gr:%', dpi: 'dpi:%',
  'autoquality target': 'aq:size:%', 'autoquality quality': 'aq:dssim:0.02:%', 'autoquality allowed error': 'aq:dssim:0.02:70:80:%',
  'jpeg quant table': 'jpgo::::::%', 'png quantization colors': 'pngo:1:1:%',
};
const at = (key: ArgKey, v: string): string => USE[key].replace('%', v);

const KEYS = Object.keys(ARG_RANGES) as ArgKey[];
/** Arguments whose empty form means "keep" or "off" rather than an error. */
const OPTIONAL = new Set<ArgKey>([
  'gravity offset', 'focus point', 'watermark offset', 'watermark scale', 'watermark size', 'padding', 'trim threshold',
  'crop aspect ratio', 'unsharp masking weight', 'unsharp masking divider', 'ramp angle', 'ramp position',
  'autoquality target', 'autoquality quality', 'autoquality allowed error', 'jpeg quant table', 'png quantization colors',
]);

/** Decimal text of a number, never exponent notation for integers (as a URL builder writes it). */
const text = (n: number): string => (Number.isInteger(n) ? BigInt(n).toString() : String(n));

describe('imgproxy argument ranges', () => {
  it('every option argument is reachable through the table', () => {
    for (const key of KEYS) for (const name of ARG_RANGES[key].options) expect(OPTION_TABLE.some((o) => o.name === name)).toBe(true);
  });

  it.each(KEYS)('%s: edges in, beyond them a 404 naming the argument', (key) => {
    const spec = ARG_RANGES[key];
    const lo = spec.min === -Infinity || spec.min <= Number.MIN_SAFE_INTEGER ? null : spec.min;
    const hi = spec.max === Infinity || spec.max >= Number.MAX_SAFE_INTEGER ? null : spec.max;
    if (lo !== null && !('minExclusive' in spec)) expect(() => parse(at(key, text(lo)))).not.toThrow();
    if (hi !== null) expect(() => parse(at(key, text(hi)))).not.toThrow();
    const beyond = [
      ...(lo !== null ? [text(spec.kind === 'int' ? lo - 1 : lo - Math.max(1e-9, Math.abs(lo) * 1e-9))] : []),
      ...(lo !== null && 'minExclusive' in spec ? [text(lo)] : []),
      ...(hi !== null ? [text(spec.kind === 'int' ? hi + 1 : hi + Math.max(1e-9, hi * 1e-9))] : []),
      'NaN', 'Infinity', '-Infinity', 'inf', '0x10', '1e400', '', ' 1', '1_0',
      // Beyond 2^53 an integer is no longer exact; as a float it is only out of a bounded range.
      ...(spec.kind === 'int' || spec.max < 2 ** 53 ? ['9007199254740993'] : []),
      ...(spec.kind === 'int' || spec.min > -(2 ** 53) ? ['-9007199254740993'] : []),
      ...(spec.kind === 'int' ? ['1.5', '1e3'] : []),
    ];
    for (const v of beyond) {
      // Empty optional arguments are skipped by design; only required ones must refuse ''.
      if (v === '' && OPTIONAL.has(key)) continue;
      const err = expectProxyError(() => parse(at(key, v)), 404, 'INVALID_URL');
      // bg channels take digits only (strconv.ParseUint) before any range.
      if (v !== '' && (key !== 'background channel' || /^\d+$/.test(v))) expect(err.message).toContain(`(expected ${describeRange(spec)})`);
    }
  });

  it('the values that reached sharp are refused at parse time', () => {
    for (const opt of ['sh:11', 'bl:1001', 't:-1', 'co:1e308', 'a:255:1e308:1e308', 'sa:1e308', 'z:1e308', 'dpr:1e308', 'wm:1:ce:0:0:1e308', 'pd:1e20', `w:${MAX_DIMENSION + 1}`]) {
      expectProxyError(() => parse(opt), 404, 'INVALID_URL');
    }
  });

  it('imgproxy normal forms: fq quality 0 = default, negative security limits = none, -0 = 0', () => {
    expect(parse('fq:png:50/fq:png:0').formatQuality).toEqual({});
    expect(parse('msfs:-5').maxSrcFileSize).toBe(0);
    expect(parse('mrd:-1').maxResultDimension).toBe(0);
    expect(Object.is(parse('g:no:-0').gravity.x, 0)).toBe(true);
  });

  it('messages have imgproxy\'s shape', () => {
    expect(expectProxyError(() => parse('w:abc'), 404).message).toBe('Invalid width: abc (expected integer ≥ 0 and ≤ 1e7)');
    expect(expectProxyError(() => parse('c:10:10:no:x'), 404).message).toBe('Invalid crop gravity x offset: x (expected number ≥ -1e7 and ≤ 1e7)');
  });
});

// Numbers as a fuzzer (or an attacker) writes them.
const edgeNumber = fc.oneof(
  fc.constantFrom('0', '-0', '1', '-1', '0.5', '1e308', '-1e308', '1e-308', '5e-324', 'NaN', 'Infinity', '0x1p3', '', '+1', '00', '.5', '5.', '1e', '9007199254740993', '18446744073709551616', '255', '256', '1000', '1001', '10', '11', '100', '101'),
  fc.integer().map(String),
  fc.double({ noNaN: false }).map(String),
  fc.nat({ max: 20000 }).map(String),
);
const optionName = fc.constantFrom(...OPTION_TABLE.flatMap((o) => [o.name, ...o.aliases]).filter((n) => n !== 'preset' && n !== 'pr'));
const word = fc.constantFrom('ce', 'no', 'sm', 'fp', 're', 'fill', 'fit', 'png', 'jpg', 't', 'f', 'ff0000', 'abc');
const optionArb = fc.tuple(optionName, fc.array(fc.oneof(edgeNumber, word), { minLength: 1, maxLength: 8 })).map(([n, a]) => `${n}:${a.join(':')}`);

function numbersOf(value: unknown, out: number[] = []): number[] {
  if (typeof value === 'number') out.push(value);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) numbersOf(v, out);
  return out;
}

describe('generated arguments over every imgproxy option', () => {
  it('either options with finite numbers within the table, or a ProxyError below 500', () => {
    fc.assert(
      fc.property(fc.array(optionArb, { minLength: 1, maxLength: 4 }), (opts) => {
        let o: ProcessingOptions;
        try {
          o = parse(opts.join('/'));
        } catch (err) {
          expect(err).toBeInstanceOf(ProxyError);
          expect((err as ProxyError).status).toBeLessThan(500);
          return;
        }
        for (const n of numbersOf(o)) expect(Number.isFinite(n)).toBe(true);
        expect(o.width).toBeLessThanOrEqual(MAX_DIMENSION);
        expect(o.blur).toBeLessThanOrEqual(1000);
        expect(o.sharpen).toBeLessThanOrEqual(10);
        expect(o.contrast).toBeLessThanOrEqual(1000);
        if (o.trim) expect(o.trim.threshold).toBeGreaterThanOrEqual(0);
        if (o.watermark) expect(o.watermark.scale).toBeLessThanOrEqual(2);
      }),
      { seed: 42, numRuns: 3000 },
    );
  });
});

describe('PreviewProxy parameter ranges', () => {
  const pp = createPreviewProxyDialect(config());
  const query = (q: string): ProcessingOptions => pp.parseQuery(new URLSearchParams(`url=http://e.com/a.jpg&${q}`), {}).options;

  it('wm_scale=1e308 is a 400, not `Cannot convert Infinity to a BigInt`', () => {
    expectProxyError(() => query('wm_scale=1e308'), 400, 'BAD_REQUEST');
    expectProxyError(() => pp.parsePath('/wm_scale:1e308/http://e.com/a.jpg', new URLSearchParams(), {}), 400, 'BAD_REQUEST');
    expect(() => query('wm_scale=2')).not.toThrow();
    expectProxyError(() => query('wm_scale=2.001'), 400);
  });

  it.each(Object.keys(PP_RANGES) as (keyof typeof PP_RANGES)[])('%s: bounds and garbage', (key) => {
    const spec = PP_RANGES[key];
    for (const v of ['NaN', 'inf', '0x10', '', '1e400', ...(spec.kind === 'int' ? ['1.5', String(spec.max + 1), String(spec.min - 1)] : [])]) {
      expectProxyError(() => query(`${key}=${encodeURIComponent(v)}`), 400, 'BAD_REQUEST');
    }
    if (spec.kind === 'int') expect(checkNumber(spec, String(spec.max))).toBe(spec.max);
  });

  it('generated values: a 400 or finite options', () => {
    const keys = fc.constantFrom(...(Object.keys(PP_RANGES) as string[]));
    fc.assert(
      fc.property(fc.array(fc.tuple(keys, edgeNumber), { maxLength: 5 }), (pairs) => {
        const q = new URLSearchParams([['url', 'http://e.com/a.jpg'], ...pairs]);
        try {
          for (const n of numbersOf(pp.parseQuery(q, {}).options)) expect(Number.isFinite(n)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(ProxyError);
          expect((err as ProxyError).status).toBeLessThan(500);
        }
      }),
      { seed: 7, numRuns: 2000 },
    );
  });
});
