/**
 * src/modules/transform/ops/decode.rs (https://github.com/ViGrise/previewproxy): the side
 * decoders (SVG, HEIC, PDF) and the fallback to the generic image decoder, through a real
 * server: a source of that type with `format=png` must come back decoded. Upstream's two
 * `#[ignore]` cases need fixtures it never committed; ours are generated (`heif-enc`, a PDF
 * written by hand), so they run.
 */
import { describe, expect } from 'vitest';
import { near, pixels, ported } from '../../../harness.js';
import { heic, pdf, tinyPng } from '../../fixtures.js';
import { enc, expectOk, get, ppServers, useOrigin } from '../../pp.js';

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="red"/></svg>';
const SVG_NO_SIZE = '<svg xmlns="http://www.w3.org/2000/svg"><rect width="10" height="10"/></svg>';

describe('src/modules/transform/ops/decode.rs', () => {
  const o = useOrigin(async () => ({
    '/a.svg': { body: Buffer.from(SVG), contentType: 'image/svg+xml' },
    '/b.svg': { body: Buffer.from(SVG_NO_SIZE), contentType: 'image/svg+xml' },
    '/tiny.png': { body: await tinyPng(), contentType: 'image/png' },
    '/png-as-avif': { body: await tinyPng(), contentType: 'image/avif' },
    '/still.heic': { body: await heic(), contentType: 'image/heic' },
    '/doc.pdf': { body: pdf(), contentType: 'application/pdf' },
  }));
  const servers = ppServers();

  const decoded = async (path: string) => {
    const r = await get(await servers.get(), `/proxy?url=${enc(`${o.url}${path}`)}&format=png`);
    expectOk(r);
    return pixels(r.body);
  };

  ported('test_decode_svg', async () => {
    const px = await decoded('/a.svg');
    expect([px.width, px.height]).toEqual([10, 10]);
    expect(near(px.at(5, 5), { r: 255, g: 0, b: 0 })).toBe(true);
  });

  ported('test_decode_svg_no_dimensions_uses_default', async () => {
    const px = await decoded('/b.svg');
    expect(px.width).toBeGreaterThan(0);
    expect(px.height).toBeGreaterThan(0);
  });

  ported('test_dispatch_fallback_to_image_crate', async () => {
    expect((await decoded('/tiny.png')).width).toBeGreaterThan(0);
  });

  // Upstream asserts nothing but that decoding PNG bytes labelled image/avif does not panic.
  ported('test_dispatch_unknown_mime_falls_back', async () => {
    const r = await get(await servers.get(), `/proxy?url=${enc(`${o.url}/png-as-avif`)}&format=png`);
    expect(r.status).toBeLessThan(500);
  });

  ported('test_decode_heic', async () => {
    const px = await decoded('/still.heic');
    expect([px.width, px.height]).toEqual([48, 32]);
  });

  ported('test_decode_pdf', async () => {
    const px = await decoded('/doc.pdf');
    expect(px.width).toBeGreaterThan(0);
    expect(px.height).toBeGreaterThan(0);
  });
});
