import { createHash } from 'node:crypto';
import { decode as blurhashDecode, isBlurhashValid } from 'blurhash';
import sharp from 'sharp';
import { thumbHashToAverageRGBA } from 'thumbhash';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { ProxyError } from '../../../src/errors.js';
import { encodeBmp } from '../../../src/processing/codecs/bmp-write.js';
import { type InfoOptions, imageInfo, parseInfoOptions } from '../../../src/processing/info.js';
import { readIptc } from '../../../src/processing/metadata-readers.js';

const config = loadConfig({});
const seg = (spec: string): { name: string; args: string[] }[] =>
  spec.split('/').filter(Boolean).map((s) => {
    const [name = '', ...args] = s.split(':');
    return { name, args };
  });
const opts = (spec = ''): InfoOptions => parseInfoOptions(seg(spec), config);

function expect404(spec: string, cfg = config): void {
  let err: unknown;
  try {
    parseInfoOptions(seg(spec), cfg);
  } catch (e) {
    err = e;
  }
  expect(err, spec).toBeInstanceOf(ProxyError);
  expect((err as ProxyError).status, spec).toBe(404);
  expect((err as ProxyError).code, spec).toBe('INVALID_URL');
}

describe('parseInfoOptions', () => {
  it('has imgproxy defaults: cheap fields on, slow ones off', () => {
    const o = opts();
    expect([o.size, o.format, o.dimensions, o.exif, o.iptc, o.xmp]).toEqual([true, true, true, true, true, true]);
    expect([o.colorspace, o.bands, o.alpha, o.average, o.dominantColors, o.thumbhash, o.blurhash, o.palette]).toEqual([false, false, false, false, false, false, null, 0]);
    expect(o.averageIgnoreTransparent).toBe(true);
  });

  it('accepts long names and aliases alike', () => {
    const long = opts('size:0/format:f/dimensions:false/colorspace:1/bands:t/sample_format:true/pages_number:1/alpha:1:1/palette:16/average:1:0/dominant_colors:1:1/blurhash:4:3/thumb_hash:1/calc_hashsums:md5:sha256/page:2/cachebuster:x/preset:a:b');
    const short = opts('s:0/f:f/d:false/cs:1/b:t/sf:true/pn:1/a:1:1/p:16/avg:1:0/dc:1:1/bh:4:3/th:1/chs:md5:sha256/pg:2/cb:x/pr:a:b');
    expect(short).toEqual(long);
    expect(long).toMatchObject({ size: false, format: false, dimensions: false, colorspace: true, alpha: true, alphaCheckTransparency: true, palette: 16, average: true, averageIgnoreTransparent: false, dominantColorsBuildMissed: true, blurhash: { x: 4, y: 3 }, thumbhash: true, hashsums: ['md5', 'sha256'], page: 2, presets: ['a', 'b'] });
    expect(opts('vm:0/video_meta:1').videoMeta).toBe(true);
    expect(opts('exif:1:1').exifCanonicalNames).toBe(true);
  });

  it('rejects bad options with 404', () => {
    for (const bad of ['nope:1', 'bh:10:1', 'bh:x:1', 'p:1', 'p:300', 'chs:crc32', 'pg:-1', 's:1:2', `exp:${Math.floor(Date.now() / 1000) - 60}`, 'constructor', '__proto__']) expect404(bad);
    expect(opts(`exp:${Math.floor(Date.now() / 1000) + 3600}`).expires).toBeGreaterThan(0);
  });

  it('guards security options behind IMGPROXY_ALLOW_SECURITY_OPTIONS', () => {
    expect(() => opts('msr:10')).toThrow(expect.objectContaining({ code: 'SECURITY_OPTION_FORBIDDEN' }));
    expect(parseInfoOptions(seg('msr:10/msfs:1000'), loadConfig({ IMGPROXY_ALLOW_SECURITY_OPTIONS: 'true' }))).toMatchObject({ maxSrcResolution: 10, maxSrcFileSize: 1000 });
  });
});

describe('imageInfo', () => {
  it('reports a JPEG with EXIF orientation 6 with swapped dimensions and its EXIF', async () => {
    const jpeg = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#808080' } })
      .withExif({ IFD0: { Make: 'Acme', Model: 'X1', Software: 'pixproxy-test' } })
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const info = await imageInfo(jpeg, jpeg.length, opts());
    expect(info).toMatchObject({ size: jpeg.length, format: 'jpeg', width: 20, height: 40, orientation: 6 });
    expect(info.exif).toMatchObject({ Manufacturer: 'Acme', Model: 'X1', Software: 'pixproxy-test', Orientation: '6' });
    const canonical = await imageInfo(jpeg, jpeg.length, opts('exif:1:1'));
    expect(canonical.exif).toMatchObject({ Make: 'Acme' });
    const upright = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    expect(await imageInfo(upright, upright.length, opts())).toMatchObject({ width: 40, height: 20, orientation: 1 });
  });

  it('reports alpha for a PNG with transparency, and checks real transparency on request', async () => {
    const transparent = await sharp({ create: { width: 8, height: 8, channels: 4, background: '#ff000080' } }).png().toBuffer();
    const opaqueAlpha = await sharp({ create: { width: 8, height: 8, channels: 4, background: '#ff0000ff' } }).png().toBuffer();
    const noAlpha = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ff0000' } }).png().toBuffer();
    expect((await imageInfo(transparent, 1, opts('a:1'))).alpha).toBe(true);
    expect((await imageInfo(noAlpha, 1, opts('a:1'))).alpha).toBe(false);
    expect((await imageInfo(opaqueAlpha, 1, opts('a:1'))).alpha).toBe(true);
    expect((await imageInfo(opaqueAlpha, 1, opts('a:1:1'))).alpha).toBe(false);
    expect((await imageInfo(transparent, 1, opts('a:1:1'))).alpha).toBe(true);
    const info = await imageInfo(transparent, 1, opts('cs:1/b:1/sf:1/pn:1'));
    expect(info).toMatchObject({ format: 'png', colorspace: 'srgb', bands: 4, sample_format: 'uchar', pages_number: 1 });
  });

  it('computes average and dominant colours of a solid image', async () => {
    const red = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#e01010' } }).png().toBuffer();
    const info = await imageInfo(red, red.length, opts('avg:1/dc:1'));
    expect(info.average).toEqual({ R: 224, G: 16, B: 16, A: 255 });
    expect(info.dominant_colors).toEqual({ vibrant: { R: 224, G: 16, B: 16 } });
    const built = await imageInfo(red, red.length, opts('dc:1:1'));
    expect(Object.keys(built.dominant_colors as object).sort()).toEqual(['dark_vibrant', 'light_vibrant', 'vibrant']);

    const grey = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#777777' } }).png().toBuffer();
    expect((await imageInfo(grey, 1, opts('dc:1'))).dominant_colors).toEqual({ muted: { R: 119, G: 119, B: 119 } });
  });

  it('ignores transparent pixels in the average unless told not to', async () => {
    const half = await sharp({ create: { width: 2, height: 1, channels: 4, background: '#00000000' } })
      .composite([{ input: { create: { width: 1, height: 1, channels: 4, background: '#0000ffff' } }, left: 0, top: 0 }])
      .png()
      .toBuffer();
    expect((await imageInfo(half, 1, opts('avg:1'))).average).toEqual({ R: 0, G: 0, B: 255, A: 255 });
    expect((await imageInfo(half, 1, opts('avg:1:0'))).average).toMatchObject({ B: 128, A: 128 });
  });

  it('returns a palette, blurhash, thumbhash and hashsums of the right shape', async () => {
    const img = await sharp({ create: { width: 60, height: 30, channels: 3, background: '#2040c0' } })
      .composite([{ input: { create: { width: 30, height: 30, channels: 3, background: '#ffff00' } }, left: 30, top: 0 }])
      .png()
      .toBuffer();
    const info = await imageInfo(img, img.length, opts('p:4/bh:4:3/th:1/chs:md5:sha512'));
    const palette = info.palette as { R: number; G: number; B: number; A: number }[];
    expect(palette.length).toBeGreaterThanOrEqual(2);
    expect(palette.length).toBeLessThanOrEqual(4);
    expect(palette.some((c) => c.R > 200 && c.G > 200 && c.B < 60)).toBe(true);

    const bh = info.blurhash as string;
    expect(isBlurhashValid(bh).result).toBe(true);
    expect(bh).toHaveLength(4 + 2 * 4 * 3); // size flag, max AC, DC (4) + 2 chars per AC component
    const px = blurhashDecode(bh, 2, 1);
    expect(px[2]).toBeGreaterThan(px[0] ?? 255); // left half blue-ish
    expect(px[4]).toBeGreaterThan(px[6] ?? 255); // right half yellow-ish

    const th = Buffer.from(info.thumbhash as string, 'base64');
    expect(th.length).toBeGreaterThanOrEqual(5);
    const avg = thumbHashToAverageRGBA(th);
    expect(avg.r).toBeGreaterThan(0.4);
    expect(avg.a).toBe(1);

    expect(info.hashsums).toEqual({ md5: createHash('md5').update(img).digest('hex'), sha512: createHash('sha512').update(img).digest('hex') });
  });

  it('reads BMP sources through the extra decoders', async () => {
    const bmp = encodeBmp(Buffer.from([10, 20, 30, 10, 20, 30]), 2, 1, 3);
    expect(await imageInfo(bmp, bmp.length, opts('avg:1'))).toMatchObject({ format: 'bmp', width: 2, height: 1, average: { R: 10, G: 20, B: 30, A: 255 } });
  });

  it('answers a huge BMP\'s header fields without decoding it, and refuses its pixel work from the header', async () => {
    // A 1-bit BMP header claiming 16384 × 16384 (268 MP, 1 GB decoded); the pixel data is there.
    const w = 16384;
    const bmp = Buffer.alloc(62 + (w / 8) * w);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(bmp.length, 2);
    bmp.writeUInt32LE(62, 10);
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(w, 18);
    bmp.writeInt32LE(w, 22);
    bmp.writeUInt16LE(1, 26);
    bmp.writeUInt16LE(1, 28);
    // Header fields come from the header, as for libvips' formats: no 1 GB decode.
    expect(await imageInfo(bmp, bmp.length, opts())).toMatchObject({ format: 'bmp', width: w, height: w });
    await expect(imageInfo(bmp, bmp.length, opts('avg:1'))).rejects.toMatchObject({ code: 'SOURCE_RESOLUTION_TOO_BIG', status: 422 });
    await expect(imageInfo(bmp, bmp.length, opts('b:1'))).rejects.toMatchObject({ code: 'SOURCE_RESOLUTION_TOO_BIG', status: 422 });
  });

  it('reads XMP and Photoshop IPTC blocks', async () => {
    const xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="pixproxy"><dc:subject><rdf:Bag><rdf:li>spider-man</rdf:li><rdf:li>menace</rdf:li></rdf:Bag></dc:subject><dc:format>image/png</dc:format></rdf:Description></rdf:RDF></x:xmpmeta>';
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } }).withXmp(xmp).png().toBuffer();
    const info = await imageInfo(png, png.length, opts());
    expect(info.xmp).toEqual({ xmp: { CreatorTool: 'pixproxy' }, dc: { subject: ['spider-man', 'menace'], format: 'image/png' } });

    const iim = (ds: number, v: string): Buffer => Buffer.concat([Buffer.from([0x1c, 2, ds, 0, v.length]), Buffer.from(v)]);
    const iptcData = Buffer.concat([iim(5, 'Spider-Man'), iim(25, 'spider-man'), iim(25, 'menace'), iim(116, 'Daily Bugle')]);
    const res = Buffer.alloc(16);
    res.writeUInt32BE(240 * 65536, 0);
    res.writeUInt16BE(1, 4);
    res.writeUInt16BE(1, 6);
    res.writeUInt32BE(240 * 65536, 8);
    res.writeUInt16BE(1, 12);
    res.writeUInt16BE(1, 14);
    const irb = (id: number, data: Buffer): Buffer => {
      const h = Buffer.alloc(12);
      h.write('8BIM', 0, 'latin1');
      h.writeUInt16BE(id, 4);
      h.writeUInt32BE(data.length, 8);
      return Buffer.concat([h, data, Buffer.alloc(data.length % 2)]);
    };
    const block = Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), irb(0x0404, iptcData), irb(0x03ed, res)]);
    expect(readIptc(block)).toEqual({
      iptc: { Name: 'Spider-Man', Keywords: ['spider-man', 'menace'], 'Copyright Notice': 'Daily Bugle' },
      photoshop: { resolution: { XResolution: 240, XResolutionUnit: 'inches', WidthUnit: 'inches', YResolution: 240, YResolutionUnit: 'inches', HeightUnit: 'inches' } },
    });
    expect(readIptc(block.subarray(0, 30))).toEqual({ iptc: {}, photoshop: null });
  });

  it('answers 422 for undecodable input', async () => {
    // imgproxy's "Invalid source image" for what no signature matches.
    await expect(imageInfo(Buffer.from('definitely not an image'), 10, opts())).rejects.toMatchObject({ code: 'INVALID_IMAGE', status: 422 });
    // A signature, then garbage: the decoder's 422.
    const broken = encodeBmp(Buffer.alloc(12), 2, 2, 3);
    broken.writeUInt16LE(40, 28); // 40 bits per pixel
    await expect(imageInfo(broken, broken.length, opts())).rejects.toMatchObject({ code: 'UNSUPPORTED_IMAGE', status: 422 });
  });
});
