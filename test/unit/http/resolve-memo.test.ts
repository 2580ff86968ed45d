/**
 * The resolve memo's storage (src/http/resolve-memo.ts): a remembered request comes back as the
 * very one parsed while it is recent, else equal to it (members, order, nested values); the
 * defaults it shares are frozen, an
 * expired URL is forgotten, and the budget's accounting matches what an entry really holds on
 * the heap, so RESOLVE_MEMO_BYTES remembers the number of URLs it claims.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { transformedKey } from '../../../src/cache/key.js';
import { loadConfig } from '../../../src/config/index.js';
import { defaultOptions } from '../../../src/default-options.js';
import { createImgproxyDialect } from '../../../src/dialects/imgproxy/index.js';
import { createResolveMemo, ENTRY_BYTES } from '../../../src/http/resolve-memo.js';
import type { ProcessingOptions } from '../../../src/options.js';

const config = loadConfig({});
const dialect = createImgproxyDialect(config);
const parse = (path: string) => dialect.parseImage(path, { accept: 'image/webp,*/*' });

describe('resolve memo storage', () => {
  it('gives back the request parsed: the same members in the same order, nested values equal', () => {
    const memo = createResolveMemo(defaultOptions(config), 1 << 20, 0);
    for (const path of ['/insecure/rs:fill:300:200/g:nowe:10:5/bg:ff0000/pd:1:2:3:4/q:70/plain/http://example.com/a.jpg@webp', '/insecure/w:10/plain/local:///日本語.png']) {
      const request = parse(path);
      const key = transformedKey(request, {}, config.cache);
      memo.set(path, { request, key });
      const back = memo.get(path);
      expect(back?.key).toBe(key);
      expect(back?.request).toEqual(request);
      expect(Object.keys(back?.request.options ?? {})).toEqual(Object.keys(request.options));
      expect(transformedKey(back!.request, {}, config.cache)).toBe(key);
    }
  });

  it('answers the most recent URLs with the very request parsed (HOT_ENTRIES), the others rebuilt', () => {
    const memo = createResolveMemo(defaultOptions(config), 1 << 20, 2);
    const requests = ['a', 'b', 'c'].map((name) => parse(`/insecure/w:10/plain/http://example.com/${name}.jpg`));
    requests.forEach((request, i) => memo.set(String(i), { request, key: `k${i}` }));
    expect(memo.get('0')?.request).toBe(requests[0]);
    expect(memo.get('1')?.request).toBe(requests[1]);
    // The tier was full when '2' was parsed: rebuilt at its first lookup, whole from its second.
    const rebuilt = memo.get('2')?.request;
    expect(rebuilt).not.toBe(requests[2]);
    expect(rebuilt).toEqual(requests[2]);
    expect(memo.get('2')?.request).toBe(rebuilt);
  });

  it('keeps rebuilding, not keeping, URLs that come back only after many others (traffic spread over a large store)', () => {
    const memo = createResolveMemo(defaultOptions(config), 1 << 24, 4);
    const paths = Array.from({ length: 40 }, (_, i) => `/insecure/w:10/plain/http://example.com/${i}.jpg`);
    const parsed = paths.map((path) => parse(path));
    paths.forEach((path, i) => {
      // As the resolver does: a lookup that misses, then the parse remembered.
      expect(memo.get(path)).toBeUndefined();
      memo.set(path, { request: parsed[i]!, key: path });
    });
    const first = paths.map((path) => memo.get(path)?.request);
    const second = paths.map((path) => memo.get(path)?.request);
    // Each URL came back 40 lookups later, beyond 2 × 4: rebuilt both times, never kept.
    expect(second.slice(4).every((request, i) => request !== undefined && request !== first[i + 4])).toBe(true);
    // So the four taken in while there was room are still there, as parsed (a plain LRU would have dropped them).
    expect(paths.slice(0, 4).map((path) => memo.get(path)?.request)).toEqual(parsed.slice(0, 4));
    paths.slice(0, 4).forEach((path, i) => expect(memo.get(path)?.request).toBe(parsed[i]));
    expect(second[20]).toEqual(parse(paths[20]!));
    // One looked up twice in a row joins the tier at the second (seen one lookup before).
    const path = paths[20]!;
    const again = memo.get(path)?.request;
    const joined = memo.get(path)?.request;
    expect(joined).not.toBe(again);
    expect(memo.get(path)?.request).toBe(joined);
  });

  it('keeps urlOptions the same object as options when they were', () => {
    const memo = createResolveMemo(defaultOptions(config), 1 << 20, 0);
    const request = parse('/insecure/w:10/plain/http://example.com/a.jpg');
    request.urlOptions = request.options;
    memo.set('a', { request, key: 'k' });
    const back = memo.get('a')!.request;
    expect(back.urlOptions).toBe(back.options);
  });

  it('shares only frozen defaults: writing into a nested default throws instead of changing other requests', () => {
    const memo = createResolveMemo(defaultOptions(config), 1 << 20, 0);
    memo.set('a', { request: parse('/insecure/w:10/plain/http://example.com/a.jpg'), key: 'k' });
    const a = memo.get('a')!.request.options;
    const b = memo.get('a')!.request.options;
    expect(a).not.toBe(b);
    expect(a.gravity).toBe(b.gravity);
    expect(() => {
      (a.gravity as { type: string }).type = 'no';
    }).toThrow(TypeError);
  });

  it('forgets a URL past its `expires`', () => {
    const memo = createResolveMemo(defaultOptions(config), 1 << 20, 0);
    const request = parse(`/insecure/exp:${Math.floor(Date.now() / 1000) + 1}/w:10/plain/http://example.com/a.jpg`);
    memo.set('a', { request, key: 'k' });
    expect(memo.get('a')).toBeDefined();
    const past = { ...request, options: { ...request.options, expires: Math.floor(Date.now() / 1000) - 1 } };
    memo.set('b', { request: past, key: 'k' });
    expect(memo.get('b')).toBeUndefined();
    expect(memo.size).toBe(1);
  });

  it('keeps options whole when they lack a member of the defaults (and gives them back as they were)', () => {
    const memo = createResolveMemo(defaultOptions(config), 1 << 20, 0);
    const request = parse('/insecure/w:10/plain/http://example.com/a.jpg');
    const { width: _dropped, ...partial } = request.options;
    const odd = { ...request, options: partial as unknown as ProcessingOptions };
    memo.set('a', { request: odd, key: 'k' });
    expect(memo.get('a')!.request.options).toBe(odd.options);
  });

  it('accounts for what an entry really holds on the heap (within 35 %)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const n = 5000;
    const budget = 1 << 30;
    const memo = createResolveMemo(defaultOptions(config), budget, 0);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < n; i++) {
      const path = `/insecure/rs:fit:300:300/plain/http://127.0.0.1:8080/e/${i}/photo.jpg@jpg`;
      const request = parse(path);
      const id = `i\0${path}\0=image/webp,*/*`;
      const key = transformedKey(request, {}, config.cache);
      memo.set(id, { request, key });
    }
    gc();
    const measured = (process.memoryUsage().heapUsed - before) / n;
    expect(memo.size).toBe(n);
    const accounted = memo.bytes / n;
    expect(accounted).toBeGreaterThan(ENTRY_BYTES);
    expect(measured / accounted).toBeGreaterThan(0.65);
    expect(measured / accounted).toBeLessThan(1.35);
  });
});
