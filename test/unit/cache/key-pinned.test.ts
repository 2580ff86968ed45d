/**
 * Keys are persistent: an L2 written by one release is read by the next, so a change in how a
 * key is computed (however fast) must give the very same keys, or every stored entry is lost
 * on upgrade. These keys were computed by the release that introduced layout 2; the cases
 * cover every kind of option value (numbers, booleans, strings, arrays, nested objects,
 * undefined members), headers and cookies in the key, and a URL whose negotiated options
 * differ from its own (`urlOptions`).
 */
import { describe, expect, it } from 'vitest';
import { infoKey, legacyKey, transformedKey } from '../../../src/cache/key.js';
import { defaultOptions } from '../../../src/default-options.js';
import type { ProcessingOptions } from '../../../src/options.js';
import type { ImageRequest } from '../../../src/request.js';
import { testConfig } from './helpers.js';

const plain = testConfig({});
const keyed = testConfig({ IMGPROXY_CACHE_KEY_HEADERS: 'X-Tenant, accept-language', IMGPROXY_CACHE_KEY_COOKIES: 'session,ab', PIXPROXY_CACHE_KEY_VERSION: '3' });

function req(config: typeof plain, patch: Partial<ProcessingOptions>, source = 'https://example.com/a.jpg', urlPatch?: Partial<ProcessingOptions>): ImageRequest {
  const r: ImageRequest = { kind: 'image', source, options: { ...defaultOptions(config), ...patch }, signedPath: '/x' };
  if (urlPatch) r.urlOptions = { ...defaultOptions(config), ...urlPatch };
  return r;
}

const CASES: Array<[string, () => string]> = [
  ['defaults', () => transformedKey(req(plain, {}), {}, plain.cache)],
  ['resize + format', () => transformedKey(req(plain, { width: 300, height: 200, resizingType: 'fill', format: 'webp' }), {}, plain.cache)],
  ['nested and arrays', () => transformedKey(req(plain, { crop: { width: 10, height: 20, gravity: { type: 'nowe', xOffset: 1, yOffset: 2 } }, padding: { top: 1, right: 2, bottom: 3, left: 4 }, background: { r: 1, g: 2, b: 3 }, skipProcessingFormats: ['svg', 'gif'], formatQuality: { webp: 70, avif: 50 } } as unknown as Partial<ProcessingOptions>), {}, plain.cache)],
  ['undefined member', () => transformedKey(req(plain, { cachebuster: undefined, width: 1 } as unknown as Partial<ProcessingOptions>), {}, plain.cache)],
  ['unicode source', () => transformedKey(req(plain, { width: 5 }, 'local:///日本語 ファイル.jpg'), {}, plain.cache)],
  ['headers and cookies', () => transformedKey(req(keyed, { width: 64 }), { 'x-tenant': 'acme', 'accept-language': ['en', 'fr'] as unknown as string, cookie: 'session=s1; ab="b"; other=1' }, keyed.cache)],
  ['headers absent', () => transformedKey(req(keyed, { width: 64 }), {}, keyed.cache)],
  ['negotiated vs URL options', () => transformedKey(req(plain, { width: 100, format: 'avif' }, undefined, { width: 100 }), {}, plain.cache)],
  ['legacy layout 1', () => legacyKey(req(keyed, { width: 64, quality: 70 }), { 'x-tenant': 'acme' }, keyed.cache)],
  ['info', () => infoKey('https://example.com/a.jpg', { palette: 3, dominantColors: true }, plain.cache)],
];

const PINNED: Record<string, string> = {
  "defaults": "817c0ff4b667aeebeccacf2e532d9e70_r3c4988753941a4e92f822b3e5f1edd691729b1ddbc543b4320d99315dd823570",
  "resize + format": "817c0ff4b667aeebeccacf2e532d9e70_r603099bf60fded2703a04541257c9d9250c1d6a1f6987c2ccd879c01ef563655",
  "nested and arrays": "817c0ff4b667aeebeccacf2e532d9e70_r156537dec237c444285daaf507b05dae36e73b228880960bcdacf59b7418f75e",
  "undefined member": "817c0ff4b667aeebeccacf2e532d9e70_r4b76988f5630aaae2c50a92d45abab884bea90a6de6e79ef23c3f684e9929b9d",
  "unicode source": "b2f6c827c2cc77427580d6d2538d2f45_rcb4373ed4c5c747519ffb218bc01f47e95eba9fbbfbd0bf54584ca7d8a3ed788",
  "headers and cookies": "817c0ff4b667aeebeccacf2e532d9e70_r1f507b70ac8bbfdb7733ac732fa0621e2a5bbd3f8bc107fd2b1c9f16a529dc2a",
  "headers absent": "817c0ff4b667aeebeccacf2e532d9e70_r1f507b70ac8bbfdb7733ac732fa0621ed07ad67562e3a0ad0697a9cb7f75bb2b",
  "negotiated vs URL options": "817c0ff4b667aeebeccacf2e532d9e70_r548feb5b63c5e93d0e8584370c4fe074c340e0efc8023a46f76a7a7b5561b503",
  "legacy layout 1": "76d9641695e3ee88183758860b743d69c6e836523805cc76d7a278980f631634",
  "info": "817c0ff4b667aeebeccacf2e532d9e70_i56e26b0fccebc996350d01e2d55f51dec0337122b3e20d31b9c8456564581ce6",
};

describe('cache keys are stable across releases', () => {
  for (const [name, compute] of CASES) {
    it(name, () => {
      expect(compute()).toBe(PINNED[name]);
    });
  }
});
