import { describe, expect, it } from 'vitest';
import { sign, verifySignature } from '../../../../src/dialects/imgproxy/signature.js';
import { createImgproxyDialect } from '../../../../src/dialects/imgproxy/index.js';
import { config, expectProxyError, hex } from '../../../helpers/dialects.js';

const DOCS_PATH = '/rs:fill:300:400:0/g:sm/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png';

// The vectors: imgproxy's docs example (https://docs.imgproxy.net/usage/signing_url) and its own
// tests (https://github.com/imgproxy/imgproxy/blob/master/security/signature_test.go).
describe('sign (imgproxy docs and signature_test.go vectors)', () => {
  it('docs vector', () => {
    expect(sign(DOCS_PATH, Buffer.from('secret'), Buffer.from('hello'), 32)).toBe('oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8');
  });
  it('signature_test.go vector', () => {
    expect(sign('/asd', Buffer.from('test-key'), Buffer.from('test-salt'), 32)).toBe('oWaL7QoW5TsgbuiS9-5-DI8S3Ibbo1gdB2SteJh3a20');
  });
  it('truncated to 8 bytes', () => {
    expect(sign('/asd', Buffer.from('test-key'), Buffer.from('test-salt'), 8)).toBe('oWaL7QoW5Ts');
  });
  it('second pair', () => {
    expect(sign('/asd', Buffer.from('test-key2'), Buffer.from('test-salt2'), 32)).toBe('jYz1UZ7j1BCdSzH3pZhaYf0iuz0vusoOTdqJsUT6WXI');
  });
  it('re-adds a missing leading slash like imgproxy', () => {
    expect(sign('asd', Buffer.from('test-key'), Buffer.from('test-salt'))).toBe('oWaL7QoW5TsgbuiS9-5-DI8S3Ibbo1gdB2SteJh3a20');
  });
});

describe('verifySignature', () => {
  const two = config({ IMGPROXY_KEY: `${hex('test-key')},${hex('test-key2')}`, IMGPROXY_SALT: `${hex('test-salt')},${hex('test-salt2')}` });

  it('accepts the first and the second pair', () => {
    expect(() => verifySignature('oWaL7QoW5TsgbuiS9-5-DI8S3Ibbo1gdB2SteJh3a20', '/asd', two.security)).not.toThrow();
    expect(() => verifySignature('jYz1UZ7j1BCdSzH3pZhaYf0iuz0vusoOTdqJsUT6WXI', '/asd', two.security)).not.toThrow();
  });

  it('rejects a wrong signature and a right signature for another path', () => {
    expect(expectProxyError(() => verifySignature('jYz1UZ7j1BCdSzH3pZhaYf0iuz0vusoOTdqJsUT6WXA', '/asd', two.security), 403, 'FORBIDDEN').message).toBe('Invalid signature');
    expectProxyError(() => verifySignature('oWaL7QoW5TsgbuiS9-5-DI8S3Ibbo1gdB2SteJh3a20', '/asde', two.security), 403);
  });

  it('honours IMGPROXY_SIGNATURE_SIZE: truncated accepted, full length rejected', () => {
    const c = config({ IMGPROXY_KEY: hex('test-key'), IMGPROXY_SALT: hex('test-salt'), IMGPROXY_SIGNATURE_SIZE: '8' });
    expect(() => verifySignature('oWaL7QoW5Ts', '/asd', c.security)).not.toThrow();
    expectProxyError(() => verifySignature('oWaL7QoW5TsgbuiS9-5-DI8S3Ibbo1gdB2SteJh3a20', '/asd', c.security), 403);
  });

  it('rejects a truncated signature when the server expects full size', () => {
    expectProxyError(() => verifySignature('oWaL7QoW5Ts', '/asd', two.security), 403, 'FORBIDDEN');
  });

  it('accepts trusted signatures literally', () => {
    const c = config({ IMGPROXY_KEY: hex('k'), IMGPROXY_SALT: hex('s'), IMGPROXY_TRUSTED_SIGNATURES: 'trusted1,trusted2' });
    expect(() => verifySignature('trusted2', '/anything', c.security)).not.toThrow();
    expectProxyError(() => verifySignature('trusted3', '/anything', c.security), 403);
  });

  it('accepts anything without keys, except a processing option', () => {
    const c = config();
    expect(() => verifySignature('unsafe', '/x', c.security)).not.toThrow();
    expect(() => verifySignature('whatever_!', '/x', c.security)).not.toThrow();
    const err = expectProxyError(() => verifySignature('rs:fill:300', '/x', c.security), 403, 'FORBIDDEN');
    expect(err.message).toMatch(/appears to be a processing option/);
    expectProxyError(() => verifySignature('w:100', '/x', two.security), 403, 'FORBIDDEN');
  });

  it('rejects padded or undecodable signatures as 403', () => {
    for (const bad of ['oWaL7QoW5TsgbuiS9-5-DI8S3Ibbo1gdB2SteJh3a20=', 'oWaL7QoW5Tsg+uiS9/5-DI8S3Ibbo1gdB2SteJh3a20', 'abcde', '%%%%']) {
      expect(expectProxyError(() => verifySignature(bad, '/asd', two.security), 403, 'FORBIDDEN').message).toMatch(/signature/);
    }
  });
});

describe('signature inside parseImage', () => {
  const c = config({ IMGPROXY_KEY: hex('secret'), IMGPROXY_SALT: hex('hello') });
  const dialect = createImgproxyDialect(c);

  it('accepts the docs URL and decodes its source', () => {
    const req = dialect.parseImage(`/oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8${DOCS_PATH}`, {});
    expect(req.source).toBe('http://example.com/images/curiosity.jpg');
    expect(req.signedPath).toBe(DOCS_PATH);
    expect(req.options.format).toBe('png');
  });

  it('verifies before parsing: a bad signature on an invalid URL is 403, not 404', () => {
    expectProxyError(() => dialect.parseImage('/bad/nope:1/plain/x', {}), 403);
  });

  it('signature covers the %3A-normalised path', () => {
    const path = '/rs:fit:10:10/plain/http://e.com/a.jpg';
    const sig = sign(path, Buffer.from('secret'), Buffer.from('hello'));
    const req = dialect.parseImage(`/${sig}/rs%3Afit%3A10%3A10/plain/http://e.com/a.jpg`, {});
    expect(req.options.width).toBe(10);
    expect(req.signedPath).toBe(path);
  });
});
