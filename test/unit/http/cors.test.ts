// CORS on PreviewProxy routes: tower-http's CorsLayer as PreviewProxy configures it
// (src/common/middlewares/cors.rs, https://github.com/ViGrise/previewproxy), with origin
// entries matched as PreviewProxy's .env.sample documents them.
import { describe, expect, it } from 'vitest';
import { createCors, matchesOrigin } from '../../../src/http/cors.js';

const VARY = 'origin, access-control-request-method, access-control-request-headers';

describe('origin entries', () => {
  it.each([
    ['https://app.example.com', 'https://app.example.com', true],
    ['https://app.example.com', 'http://app.example.com', false],
    ['https://app.example.com', 'https://app.example.com:8443', false],
    ['*.example.com', 'https://a.example.com', true],
    ['*.example.com', 'http://a.example.com:8080', true],
    ['*.example.com', 'https://a.b.example.com', false],
    ['*.example.com', 'https://example.com', false],
    // PreviewProxy's code compares the suffix without its dot: this one matched there.
    ['*.example.com', 'https://evilexample.com', false],
    ['*.Example.com', 'https://A.example.COM', true],
  ])('%s vs %s → %s', (entry, origin, ok) => {
    expect(matchesOrigin(entry, origin)).toBe(ok);
  });
});

describe('headers', () => {
  it('`*` anywhere: Allow-Origin * on every answer, with or without an Origin', () => {
    const c = createCors({ allowOrigin: ['https://a.example', '*'], maxAgeSecs: 600 });
    expect(c.response({})).toEqual({ 'Access-Control-Allow-Origin': '*', Vary: VARY });
    expect(c.response({ origin: 'https://x.example' })).toEqual({ 'Access-Control-Allow-Origin': '*', Vary: VARY });
  });

  it('a list echoes a matching Origin and says nothing to others', () => {
    const c = createCors({ allowOrigin: ['https://a.example', '*.cdn.example'], maxAgeSecs: 600 });
    expect(c.response({ origin: 'https://a.example' })).toEqual({ 'Access-Control-Allow-Origin': 'https://a.example', Vary: VARY });
    expect(c.response({ origin: 'https://img.cdn.example' })['Access-Control-Allow-Origin']).toBe('https://img.cdn.example');
    expect(c.response({ origin: 'https://b.example' })).toEqual({ Vary: VARY });
    expect(c.response({})).toEqual({ Vary: VARY });
    // Set but empty: no origin at all.
    expect(createCors({ allowOrigin: [], maxAgeSecs: 600 }).response({ origin: 'https://a.example' })).toEqual({ Vary: VARY });
  });

  it('preflight: any method, the requested headers mirrored, the max age', () => {
    const c = createCors({ allowOrigin: ['*'], maxAgeSecs: 42 });
    expect(c.preflight({ origin: 'https://a.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-one, x-two' })).toEqual({
      'Access-Control-Allow-Origin': '*',
      Vary: VARY,
      'Access-Control-Allow-Methods': '*',
      'Access-Control-Allow-Headers': 'x-one, x-two',
      'Access-Control-Max-Age': '42',
    });
    expect(c.preflight({})['Access-Control-Allow-Headers']).toBeUndefined();
  });
});
