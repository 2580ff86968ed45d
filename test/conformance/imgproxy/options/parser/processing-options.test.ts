/**
 * Port of imgproxy's options/parser/processing_options_test.go (TestProcessingOptions):
 * URL grammar and every option's parsing, against our imgproxy dialect. imgproxy's parser
 * takes client features as a struct; we derive them from the request headers they come
 * from (Accept with IMGPROXY_AUTO_* / IMGPROXY_ENFORCE_*, DPR and Width with
 * IMGPROXY_ENABLE_CLIENT_HINTS).
 * https://github.com/imgproxy/imgproxy/blob/master/options/parser/processing_options_test.go
 */
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect } from 'vitest';
import { loadConfig } from '../../../../../src/config/index.js';
import { createImgproxyDialect } from '../../../../../src/dialects/imgproxy/index.js';
import { ProxyError } from '../../../../../src/errors.js';
import type { ImageRequest } from '../../../../../src/request.js';
import { ported } from '../../harness.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64url');

/** imgproxy's `ParsePath(path, features)`: the path has no signature segment there. */
function parse(path: string, env: Record<string, string> = {}, headers: IncomingHttpHeaders = {}): ImageRequest {
  return createImgproxyDialect(loadConfig(env)).parseImage(`/unsafe${path}`, headers);
}

function parseError(path: string, env: Record<string, string> = {}): ProxyError {
  try {
    parse(path, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ProxyError);
    return err as ProxyError;
  }
  throw new Error(`expected ${path} to be refused`);
}

const REPLACEMENTS = { IMGPROXY_URL_REPLACEMENTS: 'test://*/=test2://images.dev/${1}/dolor/;test2://=http://' };

describe('TestProcessingOptions', () => {
  ported('TestParseBase64URL', () => {
    const origin = 'http://images.dev/lorem/ipsum.jpg?param=value';
    const r = parse(`/size:100:100/${b64(origin)}.png`);
    expect(r.source).toBe(origin);
    expect(r.options.format).toBe('png');
  });

  ported('TestParseBase64URLWithFilename', () => {
    const origin = 'http://images.dev/lorem/ipsum.jpg?param=value';
    const r = parse(`/size:100:100/${b64(origin)}.png/puppy.jpg`, { IMGPROXY_BASE64_URL_INCLUDES_FILENAME: 'true' });
    expect(r.source).toBe(origin);
    expect(r.options.format).toBe('png');
  });

  ported('TestParseBase64URLWithoutExtension', () => {
    const origin = 'http://images.dev/lorem/ipsum.jpg?param=value';
    const r = parse(`/size:100:100/${b64(origin)}`);
    expect(r.source).toBe(origin);
    expect(r.options.format).toBeNull();
  });

  ported('TestParseBase64URLWithBase', () => {
    const r = parse(`/size:100:100/${b64('lorem/ipsum.jpg?param=value')}.png`, { IMGPROXY_BASE_URL: 'http://images.dev/' });
    expect(r.source).toBe('http://images.dev/lorem/ipsum.jpg?param=value');
    expect(r.options.format).toBe('png');
  });

  ported('TestParseBase64URLWithReplacement', () => {
    const r = parse(`/size:100:100/${b64('test://lorem/ipsum.jpg?param=value')}.png`, REPLACEMENTS);
    expect(r.source).toBe('http://images.dev/lorem/dolor/ipsum.jpg?param=value');
    expect(r.options.format).toBe('png');
  });

  ported('TestParsePlainURL', () => {
    const r = parse('/size:100:100/plain/http://images.dev/lorem/ipsum.jpg@png');
    expect(r.source).toBe('http://images.dev/lorem/ipsum.jpg');
    expect(r.options.format).toBe('png');
  });

  ported('TestParsePlainURLWithoutExtension', () => {
    const r = parse('/size:100:100/plain/http://images.dev/lorem/ipsum.jpg');
    expect(r.source).toBe('http://images.dev/lorem/ipsum.jpg');
    expect(r.options.format).toBeNull();
  });

  ported('TestParsePlainURLEscaped', () => {
    // Go's url.PathEscape leaves `:` and `/` and escapes `?` and `=`.
    const origin = 'http://images.dev/lorem/ipsum.jpg?param=value';
    const r = parse(`/size:100:100/plain/${origin.replace('?', '%3F').replace('=', '%3D')}@png`);
    expect(r.source).toBe(origin);
    expect(r.options.format).toBe('png');
  });

  ported('TestParsePlainURLWithBase', () => {
    const r = parse('/size:100:100/plain/lorem/ipsum.jpg@png', { IMGPROXY_BASE_URL: 'http://images.dev/' });
    expect(r.source).toBe('http://images.dev/lorem/ipsum.jpg');
    expect(r.options.format).toBe('png');
  });

  ported('TestParsePlainURLWithReplacement', () => {
    const r = parse('/size:100:100/plain/test://lorem/ipsum.jpg@png', REPLACEMENTS);
    expect(r.source).toBe('http://images.dev/lorem/dolor/ipsum.jpg');
    expect(r.options.format).toBe('png');
  });

  ported('TestParsePlainURLEscapedWithBase', () => {
    const r = parse('/size:100:100/plain/lorem/ipsum.jpg%3Fparam%3Dvalue@png', { IMGPROXY_BASE_URL: 'http://images.dev/' });
    expect(r.source).toBe('http://images.dev/lorem/ipsum.jpg?param=value');
    expect(r.options.format).toBe('png');
  });

  ported('TestParseWithArgumentsSeparator', () => {
    const o = parse('/size,100,100,1/plain/http://images.dev/lorem/ipsum.jpg', { IMGPROXY_ARGUMENTS_SEPARATOR: ',' }).options;
    expect([o.width, o.height, o.enlarge]).toEqual([100, 100, true]);
  });

  ported('TestParsePathFormat', () => {
    expect(parse('/format:webp/plain/http://images.dev/lorem/ipsum.jpg').options.format).toBe('webp');
  });

  ported('TestParsePathResize', () => {
    const o = parse('/resize:fill:100:200:1/plain/http://images.dev/lorem/ipsum.jpg').options;
    expect([o.resizingType, o.width, o.height, o.enlarge]).toEqual(['fill', 100, 200, true]);
  });

  ported('TestParsePathResizingType', () => {
    expect(parse('/resizing_type:fill/plain/http://images.dev/lorem/ipsum.jpg').options.resizingType).toBe('fill');
  });

  ported('TestParsePathSize', () => {
    const o = parse('/size:100:200:1/plain/http://images.dev/lorem/ipsum.jpg').options;
    expect([o.width, o.height, o.enlarge]).toEqual([100, 200, true]);
  });

  ported('TestParsePathWidth', () => {
    expect(parse('/width:100/plain/http://images.dev/lorem/ipsum.jpg').options.width).toBe(100);
  });

  ported('TestParsePathHeight', () => {
    expect(parse('/height:100/plain/http://images.dev/lorem/ipsum.jpg').options.height).toBe(100);
  });

  ported('TestParsePathEnlarge', () => {
    expect(parse('/enlarge:1/plain/http://images.dev/lorem/ipsum.jpg').options.enlarge).toBe(true);
  });

  ported('TestParsePathExtend', () => {
    const o = parse('/extend:1:so:10:20/plain/http://images.dev/lorem/ipsum.jpg').options;
    expect(o.extend).toEqual({ enabled: true, gravity: { type: 'so', x: 10, y: 20 } });
  });

  ported('TestParsePathExtendSmartGravity', () => {
    expect(parseError('/extend:1:sm/plain/http://images.dev/lorem/ipsum.jpg').status).toBe(404);
  });

  ported('TestParsePathExtendReplicateGravity', () => {
    expect(parseError('/extend:1:re/plain/http://images.dev/lorem/ipsum.jpg').status).toBe(404);
  });

  ported('TestParsePathGravity', () => {
    expect(parse('/gravity:soea/plain/http://images.dev/lorem/ipsum.jpg').options.gravity.type).toBe('soea');
  });

  ported('TestParsePathGravityFocusPoint', () => {
    expect(parse('/gravity:fp:0.5:0.75/plain/http://images.dev/lorem/ipsum.jpg').options.gravity).toEqual({ type: 'fp', x: 0.5, y: 0.75 });
  });

  ported('TestParsePathGravityReplicate', () => {
    expect(parseError('/gravity:re/plain/http://images.dev/lorem/ipsum.jpg').status).toBe(404);
  });

  ported('TestParsePathCrop', () => {
    // imgproxy leaves the crop gravity unset (it falls back to the main gravity): our null.
    expect(parse('/crop:100:200/plain/http://images.dev/lorem/ipsum.jpg').options.crop).toEqual({ width: 100, height: 200, gravity: null });
  });

  ported('TestParsePathCropGravity', () => {
    expect(parse('/crop:100:200:nowe:10:20/plain/http://images.dev/lorem/ipsum.jpg').options.crop).toEqual({ width: 100, height: 200, gravity: { type: 'nowe', x: 10, y: 20 } });
  });

  ported('TestParsePathCropGravityReplicate', () => {
    expect(parseError('/crop:100:200:re/plain/http://images.dev/lorem/ipsum.jpg').status).toBe(404);
  });

  ported('TestParsePathQuality', () => {
    expect(parse('/quality:55/plain/http://images.dev/lorem/ipsum.jpg').options.quality).toBe(55);
  });

  ported('TestParsePathBackground', () => {
    expect(parse('/background:128:129:130/plain/http://images.dev/lorem/ipsum.jpg').options.background).toEqual({ r: 128, g: 129, b: 130 });
  });

  ported('TestParsePathBackgroundHex', () => {
    expect(parse('/background:ffddee/plain/http://images.dev/lorem/ipsum.jpg').options.background).toEqual({ r: 0xff, g: 0xdd, b: 0xee });
  });

  ported('TestParsePathBackgroundDisable', () => {
    expect(parse('/background:fff/background:/plain/http://images.dev/lorem/ipsum.jpg').options.background).toBeNull();
  });

  ported('TestParsePathBlur', () => {
    expect(parse('/blur:0.2/plain/http://images.dev/lorem/ipsum.jpg').options.blur).toBeCloseTo(0.2, 4);
  });

  ported('TestParsePathSharpen', () => {
    expect(parse('/sharpen:0.2/plain/http://images.dev/lorem/ipsum.jpg').options.sharpen).toBeCloseTo(0.2, 4);
  });

  ported('TestParsePathDpr', () => {
    expect(parse('/dpr:2/plain/http://images.dev/lorem/ipsum.jpg').options.dpr).toBe(2);
  });

  ported('TestParsePathWatermark', () => {
    expect(parse('/watermark:0.5:soea:10:20:0.6/plain/http://images.dev/lorem/ipsum.jpg').options.watermark).toEqual({ opacity: 0.5, position: 'soea', x: 10, y: 20, scale: 0.6, layout: 'imgproxy' });
  });

  ported('TestParsePathPreset', () => {
    const o = parse('/preset:test1:test2/plain/http://images.dev/lorem/ipsum.jpg', { IMGPROXY_PRESETS: 'test1=resizing_type:fill,test2=blur:0.2/quality:50' }).options;
    expect(o.resizingType).toBe('fill');
    expect(o.blur).toBeCloseTo(0.2, 4);
    expect(o.quality).toBe(50);
    expect([...o.usedPresets].sort()).toEqual(['test1', 'test2']);
  });

  ported('TestParsePathPresetDefault', () => {
    const o = parse('/quality:70/plain/http://images.dev/lorem/ipsum.jpg', { IMGPROXY_PRESETS: 'default=resizing_type:fill/blur:0.2/quality:50' }).options;
    expect(o.resizingType).toBe('fill');
    expect(o.blur).toBeCloseTo(0.2, 4);
    expect(o.quality).toBe(70);
    expect(o.usedPresets).toEqual(['default']);
  });

  ported('TestParsePathPresetLoopDetection', () => {
    const o = parse('/preset:test1/plain/http://images.dev/lorem/ipsum.jpg', { IMGPROXY_PRESETS: 'test1=resizing_type:fill/preset:test2,test2=blur:0.2/preset:test1' }).options;
    expect([...o.usedPresets].sort()).toEqual(['test1', 'test2']);
  });

  ported('TestParsePathCachebuster', () => {
    expect(parse('/cachebuster:123/plain/http://images.dev/lorem/ipsum.jpg').options.cachebuster).toBe('123');
  });

  ported('TestParsePathStripMetadata', () => {
    expect(parse('/strip_metadata:true/plain/http://images.dev/lorem/ipsum.jpg', { IMGPROXY_STRIP_METADATA: 'false' }).options.stripMetadata).toBe(true);
  });

  ported('TestParsePathPreserveHDR', () => {
    expect(parse('/ph:1/plain/http://images.dev/lorem/ipsum.jpg').options.preserveHdr).toBe(true);
  });

  const formatFlags = (r: ImageRequest) => {
    const o = r.options;
    return { preferWebp: o.preferWebp, enforceWebp: o.enforceWebp, preferAvif: o.preferAvif, enforceAvif: o.enforceAvif, preferJxl: o.preferJxl, enforceJxl: o.enforceJxl };
  };
  const none = { preferWebp: false, enforceWebp: false, preferAvif: false, enforceAvif: false, preferJxl: false, enforceJxl: false };

  ported('TestParsePathWebpDetection', () => {
    const r = parse('/plain/http://images.dev/lorem/ipsum.jpg', { IMGPROXY_AUTO_WEBP: 'true' }, { accept: 'image/webp' });
    expect(formatFlags(r)).toEqual({ ...none, preferWebp: true });
  });

  ported('TestParsePathWebpEnforce', () => {
    const r = parse('/plain/http://images.dev/lorem/ipsum.jpg@png', { IMGPROXY_ENFORCE_WEBP: 'true' }, { accept: 'image/webp' });
    expect(formatFlags(r)).toEqual({ ...none, preferWebp: true, enforceWebp: true });
  });

  ported('TestParsePathAvifDetection', () => {
    const r = parse('/plain/http://images.dev/lorem/ipsum.jpg', { IMGPROXY_AUTO_AVIF: 'true' }, { accept: 'image/avif' });
    expect(formatFlags(r)).toEqual({ ...none, preferAvif: true });
  });

  ported('TestParsePathAvifEnforce', () => {
    const r = parse('/plain/http://images.dev/lorem/ipsum.jpg@png', { IMGPROXY_ENFORCE_AVIF: 'true' }, { accept: 'image/avif' });
    expect(formatFlags(r)).toEqual({ ...none, preferAvif: true, enforceAvif: true });
  });

  ported('TestParsePathJxlDetection', () => {
    const r = parse('/plain/http://images.dev/lorem/ipsum.jpg', { IMGPROXY_AUTO_JXL: 'true' }, { accept: 'image/jxl' });
    expect(formatFlags(r)).toEqual({ ...none, preferJxl: true });
  });

  ported('TestParsePathJxlEnforce', () => {
    const r = parse('/plain/http://images.dev/lorem/ipsum.jpg@png', { IMGPROXY_ENFORCE_JXL: 'true' }, { accept: 'image/jxl' });
    expect(formatFlags(r)).toEqual({ ...none, preferJxl: true, enforceJxl: true });
  });

  describe('TestParsePathClientHints', () => {
    const hints = { IMGPROXY_ENABLE_CLIENT_HINTS: 'true' };
    const cases: [string, IncomingHttpHeaders, number, number][] = [
      ['NoClientHints', {}, 0, 1],
      ['WidthOnly', { width: '100' }, 100, 1],
      ['DprOnly', { dpr: '2' }, 0, 2],
      ['WidthAndDpr', { width: '100', dpr: '2' }, 50, 2],
    ];
    for (const [name, headers, width, dpr] of cases) {
      ported(`TestParsePathClientHints/${name}`, () => {
        const o = parse('/plain/http://images.dev/lorem/ipsum.jpg@png', hints, headers).options;
        expect(o.width).toBe(width);
        expect(o.dpr).toBeCloseTo(dpr, 4);
      });
    }
  });

  ported('TestParsePathClientHintsRedefine', () => {
    const o = parse('/width:150/dpr:3.0/plain/http://images.dev/lorem/ipsum.jpg@png', { IMGPROXY_ENABLE_CLIENT_HINTS: 'true' }, { width: '100', dpr: '2' }).options;
    expect(o.width).toBe(150);
    expect(o.dpr).toBeCloseTo(3, 4);
  });

  ported('TestParseSkipProcessing', () => {
    expect([...parse('/skp:jpg:png/plain/http://images.dev/lorem/ipsum.jpg').options.skipProcessingFormats].sort()).toEqual(['jpeg', 'png']);
  });

  ported('TestParseSkipProcessingInvalid', () => {
    const err = parseError('/skp:jpg:png:bad_format/plain/http://images.dev/lorem/ipsum.jpg');
    expect(err.message).toBe('Invalid image format in skip_processing: bad_format');
  });

  ported('TestParseExpires', () => {
    expect(parse('/exp:32503669200/plain/http://images.dev/lorem/ipsum.jpg').options.expires).toBe(32503669200);
  });

  ported('TestParseExpiresExpired', () => {
    expect(parseError('/exp:1609448400/plain/http://images.dev/lorem/ipsum.jpg').status).toBe(404);
  });

  const ONLY_PRESETS = { IMGPROXY_ONLY_PRESETS: 'true', IMGPROXY_PRESETS: 'test1=blur:0.2,test2=quality:50' };

  ported('TestParsePathOnlyPresets', () => {
    const r = parse('/test1:test2/plain/http://images.dev/lorem/ipsum.jpg@png', ONLY_PRESETS);
    expect(r.options.blur).toBeCloseTo(0.2, 4);
    expect(r.options.quality).toBe(50);
    expect(r.options.format).toBe('png');
    expect(r.source).toBe('http://images.dev/lorem/ipsum.jpg');
  });

  ported('TestParseBase64URLOnlyPresets', () => {
    const origin = 'http://images.dev/lorem/ipsum.jpg?param=value';
    const r = parse(`/test1:test2/${b64(origin)}.png`, ONLY_PRESETS);
    expect(r.options.blur).toBeCloseTo(0.2, 4);
    expect(r.options.quality).toBe(50);
    expect(r.options.format).toBe('png');
    expect(r.source).toBe(origin);
  });

  describe('TestParseAllowedOptions', () => {
    const env = { IMGPROXY_ALLOWED_PROCESSING_OPTIONS: 'w,h,pr', IMGPROXY_PRESETS: 'test1=blur:0.2' };
    const origin = b64('http://images.dev/lorem/ipsum.jpg?param=value');
    const cases: [string, string][] = [
      ['w:100/h:200', ''],
      ['w:100/h:200/blur:10', 'Forbidden processing option blur'],
      ['w:100/h:200/pr:test1', ''],
      ['w:100/h:200/pr:test1/blur:10', 'Forbidden processing option blur'],
    ];
    for (const [opts, message] of cases) {
      ported(`TestParseAllowedOptions/${opts.replaceAll('/', '_')}`, () => {
        const path = `/${opts}/${origin}.png`;
        if (message === '') expect(() => parse(path, env)).not.toThrow();
        else expect(parseError(path, env).message).toBe(message);
      });
    }
  });
});
