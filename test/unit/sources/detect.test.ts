import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageFormat } from '../../../src/formats.js';
import { SVG_SCAN_LIMIT, detectImageFormat } from '../../../src/sources/detect.js';

function ftyp(major: string, compatible: string[]): Buffer {
  const size = 16 + compatible.length * 4;
  const b = Buffer.alloc(size + 8);
  b.writeUInt32BE(size, 0);
  b.write('ftyp', 4, 'latin1');
  b.write(major, 8, 'latin1');
  compatible.forEach((c, i) => b.write(c, 16 + i * 4, 'latin1'));
  b.writeUInt32BE(8, size);
  b.write('meta', size + 4, 'latin1');
  return b;
}

/** An EBML header (as ffmpeg's Matroska muxer writes it) naming `docType`. */
function ebml(docType: string): Buffer {
  const body = Buffer.concat([Buffer.from('4286810142f7810142f2810442f3810842', 'hex'), Buffer.from([0x82, 0x80 | docType.length]), Buffer.from(docType, 'latin1')]);
  return Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x80 | body.length]), body]);
}

function bmp(): Buffer {
  const b = Buffer.alloc(58);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(58, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14); // BITMAPINFOHEADER
  b.writeInt32LE(1, 18);
  b.writeInt32LE(1, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  return b;
}

function ico(): Buffer {
  const b = Buffer.alloc(22);
  b.writeUInt16LE(0, 0);
  b.writeUInt16LE(1, 2); // type icon
  b.writeUInt16LE(1, 4); // one image
  b[6] = 16;
  b[7] = 16;
  b.writeUInt16LE(1, 10); // planes
  b.writeUInt16LE(32, 12);
  b.writeUInt32LE(1000, 14);
  b.writeUInt32LE(22, 18);
  return b;
}

describe('detectImageFormat: samples made with sharp', () => {
  const samples = new Map<string, Buffer>();
  beforeAll(async () => {
    const base = sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 10, b: 10 } } });
    samples.set('jpeg', await base.clone().jpeg().toBuffer());
    samples.set('png', await base.clone().png().toBuffer());
    samples.set('gif', await base.clone().gif().toBuffer());
    samples.set('webp', await base.clone().webp().toBuffer());
    samples.set('avif', await base.clone().avif({ effort: 0 }).toBuffer());
    samples.set('tiff', await base.clone().tiff().toBuffer());
    samples.set('svg-rendered-png', await sharp(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')).png().toBuffer());
  });

  it.each<[string, ImageFormat]>([
    ['jpeg', 'jpeg'],
    ['png', 'png'],
    ['gif', 'gif'],
    ['webp', 'webp'],
    ['avif', 'avif'],
    ['tiff', 'tiff'],
    ['svg-rendered-png', 'png'],
  ])('%s → %s', (name, format) => {
    const buf = samples.get(name);
    expect(buf).toBeDefined();
    expect(detectImageFormat(buf as Buffer)).toBe(format);
  });
});

describe('detectImageFormat: hand-made signatures', () => {
  it.each<[string, Buffer, ImageFormat | null]>([
    ['heic major brand', ftyp('heic', ['mif1', 'heic']), 'heic'],
    ['heix major brand', ftyp('heix', ['mif1']), 'heic'],
    ['mif1 with heic compatible', ftyp('mif1', ['mif1', 'heic']), 'heic'],
    ['mif1 with avif compatible', ftyp('mif1', ['mif1', 'miaf', 'avif']), 'avif'],
    ['avis (AVIF sequence)', ftyp('avis', ['avis', 'msf1']), 'avif'],
    ['bare mif1 (generic HEIF)', ftyp('mif1', ['mif1']), 'heic'],
    ['mp4 video', ftyp('isom', ['isom', 'iso2', 'mp41']), 'mp4'],
    ['QuickTime video', ftyp('qt  ', ['qt  ']), 'mov'],
    ['ftyp without a brand (PreviewProxy: a video)', Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftyp', 'latin1'), Buffer.alloc(24)]), 'mp4'],
    ['WebM (EBML DocType webm)', ebml('webm'), 'webm'],
    ['Matroska (EBML DocType matroska)', ebml('matroska'), 'mkv'],
    ['AVI', Buffer.from('RIFF\x00\x10\x00\x00AVI LIST', 'latin1'), 'avi'],
    ['PSD', Buffer.concat([Buffer.from('8BPS', 'latin1'), Buffer.from([0, 1]), Buffer.alloc(20)]), 'psd'],
    ['PSB (large document)', Buffer.concat([Buffer.from('8BPS', 'latin1'), Buffer.from([0, 2]), Buffer.alloc(20)]), 'psd'],
    ['8BPS of an unknown version', Buffer.concat([Buffer.from('8BPS', 'latin1'), Buffer.from([0, 3]), Buffer.alloc(20)]), null],
    ['tiff big-endian', Buffer.from('4d4d002a00000008', 'hex'), 'tiff'],
    ['BigTIFF little-endian', Buffer.from('49492b0008000000', 'hex'), 'tiff'],
    ['jxl codestream', Buffer.from('ff0afa', 'hex'), 'jxl'],
    ['jxl container', Buffer.from('0000000c4a584c200d0a870a0000001466747970', 'hex'), 'jxl'],
    ['pdf', Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'), 'pdf'],
    ['bmp', bmp(), 'bmp'],
    ['ico', ico(), 'ico'],
    ['"BM" text is not a BMP', Buffer.from('BMW owners manual, chapter one'), null],
    ['cursor is not an icon', Buffer.from('0000020001001010000000000000000000000000000000', 'hex'), null],
    ['truncated png signature', Buffer.from('89504e47', 'hex'), null],
    ['empty', Buffer.alloc(0), null],
    ['html', Buffer.from('<!doctype html><html><body><svg></svg></body></html>'), null],
    ['json', Buffer.from('{"svg": true}'), null],
  ])('%s', (_name, buf, format) => {
    expect(detectImageFormat(buf)).toBe(format);
  });

  it('ignores the declared type: a PNG is a PNG whatever the origin says', () => {
    expect(detectImageFormat(Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from('rest')]))).toBe('png');
  });
});

describe('detectImageFormat: svg', () => {
  it.each([
    ['bare root', '<svg xmlns="http://www.w3.org/2000/svg"/>'],
    ['with BOM', '\ufeff<svg xmlns="http://www.w3.org/2000/svg"></svg>'],
    ['declaration, comment, doctype', '<?xml version="1.0" encoding="UTF-8"?>\n<!-- made by hand -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg width="1" height="1"></svg>'],
    ['doctype with internal subset containing >', '<!DOCTYPE svg [ <!ENTITY e "a>b"> <!ELEMENT x ANY> ]>\n<svg>&e;</svg>'],
    ['namespaced root', '<?xml version="1.0"?><svg:svg xmlns:svg="http://www.w3.org/2000/svg"></svg:svg>'],
    ['leading whitespace and newline after name', '  \n\t<svg\n  viewBox="0 0 1 1"></svg>'],
  ])('%s', (_name, text) => {
    expect(detectImageFormat(Buffer.from(text, 'utf8'))).toBe('svg');
  });

  it('UTF-16, little- and big-endian, told by its byte-order mark', () => {
    const text = '\ufeff<?xml version="1.0" encoding="UTF-16"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>';
    const le = Buffer.from(text, 'utf16le');
    expect(detectImageFormat(le)).toBe('svg');
    expect(detectImageFormat(Buffer.from(le).swap16())).toBe('svg');
    expect(detectImageFormat(Buffer.from('\ufeff<html/>', 'utf16le'))).toBeNull();
  });

  it.each([
    ['another root', '<?xml version="1.0"?><html><svg/></html>'],
    ['svgfoo is not svg', '<svgfoo/>'],
    ['unterminated comment', '<!-- <svg>'],
    ['text before root', 'hello <svg/>'],
  ])('refuses %s', (_name, text) => {
    expect(detectImageFormat(Buffer.from(text, 'utf8'))).toBeNull();
  });

  it(`stops scanning after ${SVG_SCAN_LIMIT} bytes`, () => {
    const within = `<!--${' '.repeat(SVG_SCAN_LIMIT - 100)}--><svg/>`;
    const beyond = `<!--${' '.repeat(SVG_SCAN_LIMIT + 100)}--><svg/>`;
    expect(detectImageFormat(Buffer.from(within))).toBe('svg');
    expect(detectImageFormat(Buffer.from(beyond))).toBeNull();
  });
});
