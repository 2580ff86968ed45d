// createUrlSigner signs what the dialects verify; imgproxyPath/previewproxyQuery build what they parse.
import { generateImageUrl } from '@imgproxy/imgproxy-node';
import { describe, expect, it } from 'vitest';
import { createImgproxyDialect } from '../../src/dialects/imgproxy/index.js';
import { createPreviewProxyDialect } from '../../src/dialects/previewproxy/index.js';
import { createUrlSigner, imgproxyPath, previewproxyQuery } from '../../src/url-signer.js';
import { config, expectProxyError, hex } from '../helpers/dialects.js';

const KEY = '943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881';
const SALT = '520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5';

function splitQuery(pathAndQuery: string): [string, URLSearchParams] {
  const q = pathAndQuery.indexOf('?');
  return q === -1 ? [pathAndQuery, new URLSearchParams()] : [pathAndQuery.slice(0, q), new URLSearchParams(pathAndQuery.slice(q + 1))];
}

describe('createUrlSigner: imgproxy', () => {
  const cfg = config({ IMGPROXY_KEY: KEY, IMGPROXY_SALT: SALT });
  const signer = createUrlSigner(cfg);

  it('gives the signature @imgproxy/imgproxy-node gives', () => {
    const official = new URL(generateImageUrl({ endpoint: 'https://x', url: 'https://example.com/a.jpg', key: KEY, salt: SALT, options: { width: 300, height: 200, format: 'webp' } })).pathname;
    const unsigned = official.slice(official.indexOf('/', 1));
    expect(signer.imgproxy(unsigned)).toBe(official);
  });

  it('is verified by the dialect, and a changed path is not', () => {
    const dialect = createImgproxyDialect(cfg);
    const signed = signer.imgproxy('/rs:fit:300:200/plain/https://example.com/a.jpg@webp');
    expect(dialect.parseImage(signed, {}).source).toBe('https://example.com/a.jpg');
    expectProxyError(() => dialect.parseImage(signed.replace('300', '301'), {}), 403);
  });

  it('includes IMGPROXY_PATH_PREFIX, honours IMGPROXY_SIGNATURE_SIZE, and writes `insecure` without a key', () => {
    const short = createUrlSigner(config({ IMGPROXY_KEY: KEY, IMGPROXY_SALT: SALT, IMGPROXY_SIGNATURE_SIZE: '8', IMGPROXY_PATH_PREFIX: '/img' }));
    expect(short.imgproxy('w:10/plain/local:///a.jpg')).toMatch(/^\/img\/[A-Za-z0-9_-]{11}\/w:10\/plain\/local:\/\/\/a\.jpg$/);
    const open = createUrlSigner(config());
    expect(open.imgproxy('/w:10/plain/local:///a.jpg')).toBe('/insecure/w:10/plain/local:///a.jpg');
    expect(open.hasKey('imgproxy')).toBe(false);
  });
});

describe('createUrlSigner: PreviewProxy', () => {
  const cfg = config({ PP_HMAC_KEY: 'k3y', PIXPROXY_PATH_DIALECT: 'previewproxy' });
  const signer = createUrlSigner(cfg);
  const dialect = createPreviewProxyDialect(cfg);

  it('signs a path the dialect verifies, whatever the spelling of its options', () => {
    for (const path of ['/300x200,webp/https://example.com/a.jpg', '/w=300,h=200,format=webp/https://example.com/a.jpg']) {
      const [rawPath, query] = splitQuery(signer.previewproxy(path));
      expect(dialect.parsePath(rawPath, query, {}).source).toBe('https://example.com/a.jpg');
      query.set('w', '301');
      expectProxyError(() => dialect.parsePath(rawPath, query, {}), 403);
    }
  });

  it('signs a /proxy query built by previewproxyQuery', () => {
    const [, query] = splitQuery(signer.previewproxy(previewproxyQuery({ source: 'https://example.com/a b.jpg', params: { w: 64, grayscale: true } })));
    expect(dialect.parseQuery(query, {}).options.width).toBe(64);
  });

  it('refuses a URL that already carries a signature', () => {
    expectProxyError(() => signer.previewproxy('/proxy?url=https://example.com/a.jpg&sig=abc'), 400);
    expectProxyError(() => signer.previewproxy('/300x200,sig:abc/https://example.com/a.jpg'), 400);
  });

  it('picks the dialect the server would: /proxy? is PreviewProxy, the rest follows PIXPROXY_PATH_DIALECT', () => {
    expect(signer.dialectOf('/300x200/https://x/a.jpg')).toBe('previewproxy');
    expect(createUrlSigner(config()).dialectOf('/rs:fit:1:1/plain/x')).toBe('imgproxy');
    expect(createUrlSigner(config()).dialectOf('/proxy?url=x')).toBe('previewproxy');
  });
});

describe('imgproxyPath', () => {
  const dialect = createImgproxyDialect(config());
  const tricky = 'https://example.com/a b/c%20d.jpg?v=1&x=@2#frag';

  it('plain: escapes what the grammar needs so the dialect reads the same source back', () => {
    const path = imgproxyPath({ options: ['rs:fit:300:200', 'q:80'], source: tricky, extension: 'png' });
    expect(path.startsWith('/rs:fit:300:200/q:80/plain/')).toBe(true);
    const req = dialect.parseImage(`/insecure${path}`, {});
    expect(req.source).toBe(tricky);
    expect(req.options.format).toBe('png');
  });

  it('base64: the same source and format', () => {
    const path = imgproxyPath({ options: 'w:10', source: tricky, extension: 'webp', encoding: 'base64' });
    expect(path).not.toContain('/plain/');
    const req = dialect.parseImage(`/insecure${path}`, {});
    expect(req.source).toBe(tricky);
    expect(req.options.format).toBe('webp');
  });

  it('signed with the configured key', () => {
    const cfg = config({ IMGPROXY_KEY: hex('key'), IMGPROXY_SALT: hex('salt') });
    const signed = createUrlSigner(cfg).imgproxy(imgproxyPath({ source: 'local:///x.jpg' }));
    expect(createImgproxyDialect(cfg).parseImage(signed, {}).source).toBe('local:///x.jpg');
  });
});
