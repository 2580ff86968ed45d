// URLs built by the official @imgproxy/imgproxy-node builder must be accepted and parsed.
import { generateImageUrl } from '@imgproxy/imgproxy-node';
import { describe, expect, it } from 'vitest';
import { createImgproxyDialect } from '../../../../src/dialects/imgproxy/index.js';
import { config, expectProxyError } from '../../../helpers/dialects.js';

const KEY = '943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881';
const SALT = '520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5';
const SOURCE = 'https://example.com/images/curiosity.jpg';

const signed = createImgproxyDialect(config({ IMGPROXY_KEY: KEY, IMGPROXY_SALT: SALT }));
const pathOf = (url: string): string => new URL(url).pathname;

describe('@imgproxy/imgproxy-node URLs', () => {
  it('signed base64 source with many options', () => {
    const url = generateImageUrl({
      endpoint: 'https://imgproxy.example',
      url: SOURCE,
      key: KEY,
      salt: SALT,
      options: {
        resize: { resizing_type: 'fill', width: 300, height: 400, enlarge: 1, extend: { extend: 1, gravity: { type: 'no', x_offset: 1, y_offset: 2 } } },
        gravity: { type: 'sm' },
        rotate: 90,
        quality: 80,
        format: 'webp',
        padding: { top: 1, right: 2 },
        background: { r: 1, g: 2, b: 3 },
        watermark: { opacity: 0.5, position: 're' },
        trim: { threshold: 10, color: 'ff00ff', equal_hor: 1 },
        crop: { width: 100, height: 200, gravity: { type: 'nowe', x_offset: 5, y_offset: 3 } },
        zoom: { zoom_x: 2, zoom_y: 3 },
        dpr: 2,
        blur: 2,
        sharpen: 1,
        pixelate: 5,
        cachebuster: 'abc',
        filename: { name: 'a.jpg' },
        format_quality: [{ format: 'jpg', quality: 80 }, { format: 'webp', quality: 70 }],
        skip_processing: ['svg', 'gif'],
      },
    });
    const req = signed.parseImage(pathOf(url), {});
    expect(req.source).toBe(SOURCE);
    expect(req.options).toMatchObject({
      resizingType: 'fill', width: 300, height: 400, enlarge: true,
      extend: { enabled: true, gravity: { type: 'no', x: 1, y: 2 } },
      gravity: { type: 'sm', x: 0, y: 0 }, rotate: 90, quality: 80, format: 'webp',
      padding: { top: 1, right: 2, bottom: 1, left: 2 }, background: { r: 1, g: 2, b: 3 },
      watermark: { opacity: 0.5, position: 're' },
      trim: { threshold: 10, color: 'ff00ff', equalHor: true, equalVer: false },
      crop: { width: 100, height: 200, gravity: { type: 'nowe', x: 5, y: 3 } },
      zoomX: 2, zoomY: 3, dpr: 2, blur: 2, sharpen: 1, pixelate: 5, cachebuster: 'abc', filename: 'a.jpg',
      formatQuality: { jpeg: 80, webp: 70 }, skipProcessingFormats: ['gif', 'svg'],
    });
  });

  it('signed plain source with format', () => {
    const url = generateImageUrl({ endpoint: 'https://imgproxy.example/', url: { value: SOURCE, displayAs: 'plain' }, key: KEY, salt: SALT, options: { width: 300, format: 'png', expires: 4102444800 } });
    const req = signed.parseImage(pathOf(url), {});
    expect(req.source).toBe(SOURCE);
    expect(req.options).toMatchObject({ width: 300, format: 'png', expires: 4102444800 });
  });

  it('the same URL with a tampered option is rejected', () => {
    const url = generateImageUrl({ endpoint: 'https://imgproxy.example', url: SOURCE, key: KEY, salt: SALT, options: { width: 300 } });
    expectProxyError(() => signed.parseImage(pathOf(url).replace('w:300', 'w:3000'), {}), 403, 'FORBIDDEN');
  });

  it('unsigned ("insecure") URLs pass without keys and fail with keys', () => {
    const url = generateImageUrl({ endpoint: 'https://imgproxy.example', url: SOURCE, options: { size: { width: 10, height: 20 } } });
    const open = createImgproxyDialect(config());
    expect(open.parseImage(pathOf(url), {}).options).toMatchObject({ width: 10, height: 20 });
    expectProxyError(() => signed.parseImage(pathOf(url), {}), 403, 'FORBIDDEN');
  });

  it('a second key pair signs valid URLs too (rotation)', () => {
    const rotated = createImgproxyDialect(config({ IMGPROXY_KEY: `aa,${KEY}`, IMGPROXY_SALT: `bb,${SALT}` }));
    const url = generateImageUrl({ endpoint: 'https://imgproxy.example', url: SOURCE, key: KEY, salt: SALT, options: { height: 7 } });
    expect(rotated.parseImage(pathOf(url), {}).options.height).toBe(7);
  });
});
