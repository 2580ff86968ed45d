import { createCipheriv, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, inspectConfig, loadConfig } from '../../../../src/config/index.js';
import { createPreviewProxyDialect, encryptSourceUrl, hostAllowed } from '../../../../src/dialects/previewproxy/index.js';
import { config, expectProxyError } from '../../../helpers/dialects.js';

const KEY = 'secret-key';
// Computed here from the documented form: HMAC-SHA256(utf8 key, canonical), base64url, no padding.
const hmac = (canonical: string): string => createHmac('sha256', KEY).update(canonical).digest('base64url');
const q = (s = ''): URLSearchParams => new URLSearchParams(s);

describe('signatures (PP_HMAC_KEY)', () => {
  const d = createPreviewProxyDialect(config({ PP_HMAC_KEY: KEY }));

  it('query style: sig over the canonical string, in any parameter order or spelling', () => {
    const sig = hmac('format=webp&grayscale=1&w=300:https://e.com/a.jpg');
    expect(d.parseQuery(q(`url=https://e.com/a.jpg&w=300&format=webp&grayscale=true&sig=${sig}`), {}).source).toBe('https://e.com/a.jpg');
    expect(d.parseQuery(q(`sig=${sig}&grayscale=1&format=webp&url=https://e.com/a.jpg&w=300`), {}).options.width).toBe(300);
  });

  it('path style: sig: token or sig query parameter, left out of the string', () => {
    const sig = hmac('h=200&rotate=90&w=300:https://e.com/a.jpg');
    expect(d.parsePath(`/300x200,r90,sig:${sig}/https://e.com/a.jpg`, q(), {}).options.rotate).toBe(90);
    expect(d.parsePath(`/sig=${sig},300x200,r90/https://e.com/a.jpg`, q(), {}).options.rotate).toBe(90);
    expect(d.parsePath('/300x200,r90/https://e.com/a.jpg', q(`sig=${sig}`), {}).options.rotate).toBe(90);
  });

  it('fixed key order: wm_scale after wm_y; floats normalised', () => {
    const wm = 'https://logo.example/w.png';
    const dd = createPreviewProxyDialect(config({ PP_HMAC_KEY: KEY, IMGPROXY_WATERMARK_URL: wm }));
    const canonical = `blur=0.5&wm=${wm}&wm_opacity=0.2500&wm_x=3&wm_scale=0.1000:https://e.com/a.jpg`;
    const r = dd.parseQuery(q(`url=https://e.com/a.jpg&wm_scale=.1&wm_x=3&wm_opacity=0.25&blur=0.50&wm=${wm}&sig=${hmac(canonical)}`), {});
    expect(r.signedPath).toBe(canonical);
  });

  it('relative sources are signed with the default URL prepended', () => {
    const dd = createPreviewProxyDialect(config({ PP_HMAC_KEY: KEY, PP_DEFAULT_SOURCE_URL: 'https://cdn.example' }));
    const sig = hmac('w=10:https://cdn.example/p/a.jpg');
    expect(dd.parsePath('/p/a.jpg', q(`w=10&sig=${sig}`), {}).source).toBe('https://cdn.example/p/a.jpg');
  });

  it('missing, wrong or re-targeted signatures are 403', () => {
    expectProxyError(() => d.parseQuery(q('url=https://e.com/a.jpg&w=300'), {}), 403, 'FORBIDDEN');
    expectProxyError(() => d.parseQuery(q('url=https://e.com/a.jpg&w=300&sig=AAAA'), {}), 403, 'FORBIDDEN');
    const sig = hmac('w=300:https://e.com/a.jpg');
    expectProxyError(() => d.parseQuery(q(`url=https://e.com/a.jpg&w=301&sig=${sig}`), {}), 403, 'FORBIDDEN');
    expectProxyError(() => d.parseQuery(q(`url=https://e.com/b.jpg&w=300&sig=${sig}`), {}), 403, 'FORBIDDEN');
    // Padded spelling of the same bytes is not the signature PreviewProxy would accept either.
    expectProxyError(() => d.parseQuery(q(`url=https://e.com/a.jpg&w=300&sig=${sig}=`), {}), 403, 'FORBIDDEN');
  });

  it('without PP_HMAC_KEY nothing is checked', () => {
    expect(createPreviewProxyDialect(config()).parseQuery(q('url=https://e.com/a.jpg&sig=junk'), {}).source).toBe('https://e.com/a.jpg');
  });
});

describe('encrypted sources (PP_SOURCE_URL_ENCRYPTION_KEY)', () => {
  const hexKey = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
  const key = Buffer.from(hexKey, 'hex');
  const d = createPreviewProxyDialect(config({ PP_SOURCE_URL_ENCRYPTION_KEY: hexKey }));
  const url = 'https://e.com/private/a.jpg';

  it('blob = base64url(IV ‖ AES-CBC), IV = HMAC(key, url)[0..16] (independent reference)', () => {
    const iv = createHmac('sha256', key).update(url).digest().subarray(0, 16);
    const c = createCipheriv('aes-256-cbc', key, iv);
    const expected = Buffer.concat([iv, c.update(url), c.final()]).toString('base64url');
    expect(encryptSourceUrl(url, key)).toBe(expected);
  });

  it('round trip: path enc/<blob> and query url=<blob>&enc', () => {
    const blob = encryptSourceUrl(url, key);
    const a = d.parsePath(`/w=300/enc/${blob}`, q(), {});
    expect(a.source).toBe(url);
    expect(a.options.width).toBe(300);
    // PreviewProxy signs the decrypted URL.
    expect(a.signedPath).toBe(`w=300:${url}`);
    expect(d.parsePath(`/enc/${blob}`, q(), {}).source).toBe(url);
    expect(d.parseQuery(q(`url=${blob}&enc=1&w=300`), {})).toEqual(a);
  });

  it('AES-128 and AES-192 keys too', () => {
    for (const bytes of [16, 24]) {
      const k = Buffer.alloc(bytes, 7);
      const dd = createPreviewProxyDialect(config({ PP_SOURCE_URL_ENCRYPTION_KEY: k.toString('hex') }));
      expect(dd.parsePath(`/enc/${encryptSourceUrl(url, k)}`, q(), {}).source).toBe(url);
    }
  });

  it('every bad blob is the same 400, with the same detail', () => {
    const blob = Buffer.from(encryptSourceUrl(url, key), 'base64url');
    const flipped = Buffer.from(blob);
    flipped[blob.length - 1] = (flipped[blob.length - 1] ?? 0) ^ 0x01; // breaks the padding
    const bad = [
      'not+base64', // base64
      Buffer.alloc(16).toString('base64url'), // too short
      blob.subarray(0, blob.length - 3).toString('base64url'), // not whole blocks
      flipped.toString('base64url'),
      encryptSourceUrl(url, Buffer.alloc(32, 9)), // wrong key
    ];
    const messages = new Set(bad.map((b) => expectProxyError(() => d.parseQuery(q(`url=${encodeURIComponent(b)}&enc`), {}), 400, 'BAD_REQUEST').message));
    expect([...messages]).toEqual(['Invalid encrypted source URL']);
  });

  it('without a key encrypted sources are 400', () => {
    expectProxyError(() => createPreviewProxyDialect(config()).parseQuery(q('url=abc&enc'), {}), 400, 'BAD_REQUEST');
  });

  it('with signing on, PreviewProxy-made signatures (over the decrypted URL) verify, and a bad blob is the 403 of a bad signature', () => {
    const dd = createPreviewProxyDialect(config({ PP_SOURCE_URL_ENCRYPTION_KEY: hexKey, PP_HMAC_KEY: KEY }));
    const good = encryptSourceUrl(url, key);
    expect(dd.parsePath(`/w=300/enc/${good}`, q(`sig=${hmac(`w=300:${url}`)}`), {}).source).toBe(url);
    expect(dd.parseQuery(q(`url=${good}&enc&w=300&sig=${hmac(`w=300:${url}`)}`), {}).source).toBe(url);
    const blob = Buffer.from(good, 'base64url');
    const flipped = Buffer.from(blob);
    flipped[blob.length - 1] = (flipped[blob.length - 1] ?? 0) ^ 0x01;
    const relative = encryptSourceUrl('photos/a.jpg', key); // decrypts, but does not resolve
    const answers = [Buffer.alloc(48, 1).toString('base64url'), flipped.toString('base64url'), relative, good].map((b) => {
      const err = expectProxyError(() => dd.parsePath(`/enc/${b}`, q('sig=x'), {}), 403, 'FORBIDDEN');
      return [err.status, err.publicMessage, err.message].join('|');
    });
    // Wrong padding, a URL that does not resolve and a wrong signature answer alike: no padding oracle.
    expect(new Set(answers).size).toBe(1);
  });

  it('the decrypted URL is subject to the allowlist', () => {
    const dd = createPreviewProxyDialect(config({ PP_SOURCE_URL_ENCRYPTION_KEY: hexKey, PP_ALLOWED_HOSTS: 'ok.example' }));
    expectProxyError(() => dd.parsePath(`/enc/${encryptSourceUrl(url, key)}`, q(), {}), 403, 'HOST_NOT_ALLOWED');
  });
});

describe('allowlist (PP_ALLOWED_HOSTS)', () => {
  it('exact hosts and one-label wildcards, ports ignored, case-insensitive', () => {
    const allowed = ['example.com', '*.cdn.net'];
    expect(hostAllowed('example.com', allowed)).toBe(true);
    expect(hostAllowed('a.cdn.net', allowed)).toBe(true);
    expect(hostAllowed('cdn.net', allowed)).toBe(false);
    expect(hostAllowed('a.b.cdn.net', allowed)).toBe(false);
    expect(hostAllowed('evilcdn.net', allowed)).toBe(false);
    expect(hostAllowed('sub.example.com', allowed)).toBe(false);
    expect(hostAllowed('anything', [])).toBe(true);
  });

  it('applied to http(s) sources, 403; not to s3, local or alias sources', () => {
    const d = createPreviewProxyDialect(config({
      PP_ALLOWED_HOSTS: 'Example.com, *.cdn.net',
      PP_S3_ENABLED: 'true',
      PP_S3_BUCKET: 'b',
      PP_LOCAL_ENABLED: 'true',
      PP_LOCAL_BASE_DIR: '/srv',
      PP_URL_ALIASES: 'media=https://internal.example/m',
    }));
    expect(d.parseQuery(q('url=https://example.com:8443/a.jpg'), {}).source).toBe('https://example.com:8443/a.jpg');
    expect(d.parseQuery(q('url=https://x.cdn.net/a.jpg'), {}).source).toBe('https://x.cdn.net/a.jpg');
    expectProxyError(() => d.parseQuery(q('url=https://other.org/a.jpg'), {}), 403, 'HOST_NOT_ALLOWED');
    expectProxyError(() => d.parsePath('/w=1/http://x.y.cdn.net/a.jpg', q(), {}), 403, 'HOST_NOT_ALLOWED');
    expect(d.parseQuery(q('url=s3:/k.jpg'), {}).source).toBe('s3://b/k.jpg');
    expect(d.parseQuery(q('url=local:/k.jpg'), {}).source).toBe('local:///k.jpg');
    expect(d.parseQuery(q('url=media:/k.jpg'), {}).source).toBe('https://internal.example/m/k.jpg');
  });
});

describe('source schemes and aliases', () => {
  const d = createPreviewProxyDialect(config({
    PP_S3_ENABLED: 'true',
    PP_S3_BUCKET: 'bucket',
    PP_LOCAL_ENABLED: 'true',
    PP_LOCAL_BASE_DIR: '/srv',
    PP_URL_ALIASES: 'cdn=https://cdn.example.com/assets/,bk=s3:/backups,disk=local:/srv',
  }));

  it('aliases resolve to http, s3 (a key prefix) or local bases, path and query style', () => {
    expect(d.parsePath('/300x0/cdn:/img/a.jpg', q(), {}).source).toBe('https://cdn.example.com/assets/img/a.jpg');
    expect(d.parsePath('/cdn:/img/a.jpg', q(), {}).source).toBe('https://cdn.example.com/assets/img/a.jpg');
    expect(d.parseQuery(q('url=bk:/2024/a.png'), {}).source).toBe('s3://bucket/backups/2024/a.png');
    expect(d.parseQuery(q('url=disk:/x.png'), {}).source).toBe('local:///srv/x.png');
    // The signature covers the alias form, not its expansion.
    expect(d.parsePath('/w=5/cdn:/img/a.jpg', q(), {}).signedPath).toBe('w=5:cdn:/img/a.jpg');
  });

  it('unknown aliases and other schemes are 400', () => {
    expect(expectProxyError(() => d.parseQuery(q('url=nope:/a.jpg'), {}), 400, 'BAD_REQUEST').message).toMatch(/unknown alias/);
    expectProxyError(() => d.parseQuery(q('url=ftp://e.com/a.jpg'), {}), 400, 'BAD_REQUEST');
    expectProxyError(() => d.parseQuery(q('url=file:///etc/passwd'), {}), 400, 'BAD_REQUEST');
    expectProxyError(() => d.parsePath('/w=1/gs://b/a.jpg', q(), {}), 400, 'BAD_REQUEST');
    expectProxyError(() => d.parseQuery(q('url=constructor:/a.jpg'), {}), 400, 'BAD_REQUEST');
  });

  it('s3 without PP_S3_BUCKET (or with PP_S3_ENABLED=false) is 400, so is local without PP_LOCAL_BASE_DIR (or with PP_LOCAL_ENABLED=false); empty keys and paths are 400', () => {
    expect(expectProxyError(() => createPreviewProxyDialect(config()).parseQuery(q('url=s3:/a.jpg'), {}), 400, 'BAD_REQUEST').message).toBe('S3 source is not enabled');
    expectProxyError(() => createPreviewProxyDialect(config({ PP_S3_BUCKET: 'b', PP_S3_ENABLED: 'false' })).parseQuery(q('url=s3:/a.jpg'), {}), 400, 'BAD_REQUEST');
    expect(expectProxyError(() => createPreviewProxyDialect(config()).parseQuery(q('url=local:/a.jpg'), {}), 400, 'BAD_REQUEST').message).toBe('local source is not enabled');
    expectProxyError(() => createPreviewProxyDialect(config({ PP_LOCAL_BASE_DIR: '/srv', PP_LOCAL_ENABLED: '0' })).parseQuery(q('url=local:/a.jpg'), {}), 400, 'BAD_REQUEST');
    expectProxyError(() => d.parseQuery(q('url=s3:/'), {}), 400, 'BAD_REQUEST');
    expectProxyError(() => d.parseQuery(q('url=local:/'), {}), 400, 'BAD_REQUEST');
    expectProxyError(() => d.parseQuery(q('url=https://'), {}), 400, 'BAD_REQUEST');
  });
});

describe('configuration', () => {
  it('defaults', () => {
    const c = loadConfig({});
    expect(c.previewproxy).toMatchObject({ hmacKey: '', allowedHosts: [], sourceUrlEncryptionKey: null, s3Bucket: '', defaultSourceUrl: '', urlAliases: {} });
    expect(c.server.pathDialect).toBe('imgproxy');
    expect(loadConfig({ PIXPROXY_PATH_DIALECT: 'previewproxy' }).server.pathDialect).toBe('previewproxy');
  });

  it.each([
    ['PIXPROXY_PATH_DIALECT', 'thumbor'],
    ['PP_SOURCE_URL_ENCRYPTION_KEY', 'abcd'],
    ['PP_SOURCE_URL_ENCRYPTION_KEY', 'zz'.repeat(16)],
    ['PP_DEFAULT_SOURCE_URL', 'ftp://x'],
  ])('%s=%s stops startup', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it.each(['cdn=ftp://x', 's3=https://x', 'bad name=https://x', '=https://x', 'noequals'])('PP_URL_ALIASES entry %j is skipped with a warning, as PreviewProxy does', (entry) => {
    const r = inspectConfig({ PP_URL_ALIASES: `${entry},ok=https://ok.example` });
    expect(r.errors).toEqual([]);
    expect(r.config?.previewproxy.urlAliases).toEqual({ ok: 'https://ok.example' });
    expect(r.warnings).toEqual([expect.stringMatching(/^PP_URL_ALIASES: skipping entry/)]);
  });
});
