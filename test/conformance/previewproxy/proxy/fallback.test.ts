/**
 * src/modules/proxy/fallback.rs (https://github.com/ViGrise/previewproxy): the fallback image
 * from PP_FALLBACK_IMAGE_DATA, _PATH or _URL (that priority), observed where PreviewProxy
 * serves it: an upstream 404 answered with the image and X-Fallback: true. Images are
 * compared by pixels: the data, the file and the URL each hold a different colour.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { near, pixels, ported } from '../../harness.js';
import { BLUE, GREEN, solidPng, type Rgb } from '../fixtures.js';
import { enc, get, ppServers, useOrigin, useTempDir } from '../pp.js';

/** Upstream's 1×1 red PNG. */
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwADhQGAWjR9awAAAABJRU5ErkJggg==';

describe('src/modules/proxy/fallback.rs', () => {
  const dir = useTempDir('pp-fallback-', async (d) => writeFile(join(d, 'fallback.png'), await solidPng(1, 1, GREEN)));
  const o = useOrigin(async () => ({ '/fb.png': { body: await solidPng(1, 1, BLUE), contentType: 'image/png' } }));
  const servers = ppServers();

  /** The answer to a source that 404s, expected to be the fallback in colour `c`. */
  async function expectFallback(env: Record<string, string>, c: Rgb) {
    const r = await get(await servers.get(env), `/proxy?url=${enc(`${o.url}/missing.png`)}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-fallback')).toBe('true');
    expect(r.headers.get('content-type')).toBe('image/png');
    expect(near((await pixels(r.body)).at(0, 0), c, 2)).toBe(true);
  }

  /**
   * The configured bytes themselves: upstream's "1x1 red PNG" has a broken IDAT checksum that
   * libpng refuses, so, like upstream's assertion, the bytes are compared, not the pixels.
   */
  async function expectFallbackBytes(env: Record<string, string>) {
    const r = await get(await servers.get(env), `/proxy?url=${enc(`${o.url}/missing.png`)}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-fallback')).toBe('true');
    expect(r.headers.get('content-type')).toBe('image/png');
    expect(r.body.equals(Buffer.from(PNG_B64, 'base64'))).toBe(true);
  }

  ported('test_load_none_when_no_source', async () => {
    const r = await get(await servers.get(), `/proxy?url=${enc(`${o.url}/missing.png`)}`);
    expect(r.status).toBe(404);
    expect(r.headers.get('x-fallback')).toBeNull();
  });

  ported('test_load_from_base64_data', () => expectFallbackBytes({ PP_FALLBACK_IMAGE_DATA: PNG_B64 }));
  ported('test_load_from_path', () => expectFallback({ PP_FALLBACK_IMAGE_PATH: join(dir.path, 'fallback.png') }, GREEN));
  ported('test_load_from_url', () => expectFallback({ PP_FALLBACK_IMAGE_URL: `${o.url}/fb.png` }, BLUE));
  ported('test_data_takes_priority_over_path_and_url', () =>
    expectFallbackBytes({ PP_FALLBACK_IMAGE_DATA: PNG_B64, PP_FALLBACK_IMAGE_PATH: '/nonexistent/path.png', PP_FALLBACK_IMAGE_URL: 'https://example.com/fallback.png' }),
  );
  ported('test_path_takes_priority_over_url', () =>
    expectFallback({ PP_FALLBACK_IMAGE_PATH: join(dir.path, 'fallback.png'), PP_FALLBACK_IMAGE_URL: 'https://example.com/fallback.png' }, GREEN),
  );
});
