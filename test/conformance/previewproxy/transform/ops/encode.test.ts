/**
 * src/modules/transform/ops/encode.rs (https://github.com/ViGrise/previewproxy): every output
 * format PreviewProxy writes, through a real server (`format=<f>` on a black PNG of upstream's
 * size), checked by content type and the format's signature, as upstream checks them.
 */
import { describe, expect } from 'vitest';
import { port } from '../../../harness.js';
import { solidPng } from '../../fixtures.js';
import { enc, expectOk, get, ppServers, useOrigin } from '../../pp.js';

const BLACK = { r: 0, g: 0, b: 0 };
const isoBmff = (brand: string) => (b: Buffer) => b.subarray(4, 8).toString('latin1') === 'ftyp' && b.subarray(8, 12).toString('latin1') === brand;

/** upstream name, format, source size, content type, signature check, gap reason if we fail it. */
const CASES: [string, string, number, string, (b: Buffer) => boolean, string | undefined][] = [
  ['test_encode_png', 'png', 2, 'image/png', (b) => b.subarray(1, 4).toString('latin1') === 'PNG', undefined],
  ['test_encode_jpeg', 'jpeg', 2, 'image/jpeg', (b) => b[0] === 0xff && b[1] === 0xd8, undefined],
  ['test_encode_gif', 'gif', 2, 'image/gif', (b) => b.subarray(0, 3).toString('latin1') === 'GIF', undefined],
  ['test_encode_bmp', 'bmp', 2, 'image/bmp', (b) => b.subarray(0, 2).toString('latin1') === 'BM', undefined],
  ['test_encode_tiff', 'tiff', 2, 'image/tiff', (b) => ['II', 'MM'].includes(b.subarray(0, 2).toString('latin1')), undefined],
  ['test_encode_ico', 'ico', 16, 'image/x-icon', (b) => b.readUInt32BE(0) === 0x00000100, undefined],
  ['test_encode_avif', 'avif', 2, 'image/avif', isoBmff('avif'), undefined],
  ['test_encode_jxl', 'jxl', 4, 'image/jxl', (b) => (b[0] === 0xff && b[1] === 0x0a) || isoBmff('jxl ')(b), undefined],
];

describe('src/modules/transform/ops/encode.rs', () => {
  const o = useOrigin(async () => ({
    '/2.png': { body: await solidPng(2, 2, BLACK), contentType: 'image/png' },
    '/4.png': { body: await solidPng(4, 4, BLACK), contentType: 'image/png' },
    '/16.png': { body: await solidPng(16, 16, BLACK), contentType: 'image/png' },
  }));
  const servers = ppServers();

  for (const [name, format, size, type, signature, why] of CASES) {
    port(name, why, async () => {
      const r = await get(await servers.get(), `/proxy?url=${enc(`${o.url}/${size}.png`)}&format=${format}`);
      expectOk(r);
      expect(r.headers.get('content-type')).toBe(type);
      expect(signature(r.body), `${format} signature`).toBe(true);
    });
  }
});
