// PreviewProxy's operational variables as its Configuration::new reads them
// (src/common/config/loader.rs, https://github.com/ViGrise/previewproxy): what stops
// startup, what is skipped with a warning, and their defaults.
import { describe, expect, it } from 'vitest';
import { inspectConfig, loadConfig } from '../../../src/config/index.js';
import { ppLocalEnabled, ppS3Bucket } from '../../../src/config/previewproxy-fields.js';
import { configProblems } from '../../helpers/config.js';

describe('PreviewProxy variables', () => {
  it('defaults are PreviewProxy\'s', () => {
    const pp = loadConfig({}).previewproxy;
    expect(pp).toMatchObject({
      appEnv: 'development',
      corsAllowOrigin: ['*'],
      corsMaxAgeSecs: 600,
      maxConcurrentRequests: 256,
      fetchRetryCount: 3,
      fetchRetryDelayMs: 0,
      ttl: 86_400,
      s3Region: 'us-east-1',
      inputDisallow: [],
      outputDisallow: [],
      transformDisallow: [],
    });
  });

  it('PP_TTL is not IMGPROXY_TTL (PreviewProxy uses it for fallback answers only)', () => {
    const c = loadConfig({ PP_TTL: '60' });
    expect(c.previewproxy.ttl).toBe(60);
    expect(c.processing.ttl).toBe(31_536_000);
  });

  it('PP_S3_ENABLED=true turns s3:/ on (off by default, as in PreviewProxy, with a warning when PP_S3_BUCKET is set alone); true without a bucket stops startup', () => {
    expect(ppS3Bucket(loadConfig({ PP_S3_BUCKET: 'b', PP_S3_ENABLED: 'true' }).previewproxy)).toBe('b');
    expect(ppS3Bucket(loadConfig({ PP_S3_BUCKET: 'b' }).previewproxy)).toBeNull();
    expect(inspectConfig({ PP_S3_BUCKET: 'b' }).warnings).toContainEqual(expect.stringMatching(/^PP_S3_BUCKET is set but PP_S3_ENABLED is not true/));
    expect(ppS3Bucket(loadConfig({ PP_S3_BUCKET: 'b', PP_S3_ENABLED: 'false' }).previewproxy)).toBeNull();
    expect(ppS3Bucket(loadConfig({}).previewproxy)).toBeNull();
    expect(configProblems({ PP_S3_ENABLED: 'true' })).toEqual([expect.stringMatching(/^PP_S3_ENABLED: expected PP_S3_BUCKET/)]);
    expect(configProblems({ PP_S3_ENABLED: 'yes' })).toEqual([expect.stringMatching(/^PP_S3_ENABLED: expected `true`, `1`, `false` or `0`/)]);
  });

  it('PP_S3 keys come in pairs', () => {
    expect(configProblems({ PP_S3_BUCKET: 'b', PP_S3_ACCESS_KEY_ID: 'k' })).toEqual([expect.stringMatching(/^PP_S3_SECRET_ACCESS_KEY: expected PP_S3_ACCESS_KEY_ID and PP_S3_SECRET_ACCESS_KEY together/)]);
    expect(configProblems({ PP_S3_BUCKET: 'b', PP_S3_ACCESS_KEY_ID: 'k', PP_S3_SECRET_ACCESS_KEY: 's' })).toEqual([]);
  });

  it('PP_LOCAL_ENABLED=true turns local:/ on (off by default, as in PreviewProxy, with a warning when PP_LOCAL_BASE_DIR is set alone); true without it stops startup', () => {
    const pp = (env: Record<string, string>) => {
      const c = loadConfig(env);
      return ppLocalEnabled(c.previewproxy, c.download.localFilesystemRoot);
    };
    expect(pp({ PP_LOCAL_BASE_DIR: '/srv', PP_LOCAL_ENABLED: 'true' })).toBe(true);
    expect(pp({ PP_LOCAL_BASE_DIR: '/srv' })).toBe(false);
    expect(inspectConfig({ PP_LOCAL_BASE_DIR: '/srv' }).warnings).toContainEqual(expect.stringMatching(/^PP_LOCAL_BASE_DIR is set but PP_LOCAL_ENABLED is not true/));
    expect(pp({ PP_LOCAL_BASE_DIR: '/srv', PP_LOCAL_ENABLED: '0' })).toBe(false);
    expect(pp({})).toBe(false);
    expect(configProblems({ PP_LOCAL_ENABLED: '1' })).toEqual([expect.stringMatching(/^PP_LOCAL_ENABLED: expected PP_LOCAL_BASE_DIR/)]);
  });

  it('PP_APP_ENV=production warns about a missing key and allowlist; anything but the two modes stops startup', () => {
    expect(inspectConfig({ PP_APP_ENV: 'production' }).warnings).toEqual([
      expect.stringMatching(/^PP_APP_ENV=production without PP_HMAC_KEY/),
      expect.stringMatching(/^PP_APP_ENV=production without PP_ALLOWED_HOSTS/),
    ]);
    expect(inspectConfig({ PP_APP_ENV: 'production', PP_HMAC_KEY: 'k', PP_ALLOWED_HOSTS: 'a.example' }).warnings).toEqual([]);
    expect(inspectConfig({ PP_APP_ENV: 'development' }).warnings).toEqual([]);
    expect(configProblems({ PP_APP_ENV: 'staging' })).toEqual([expect.stringMatching(/^PP_APP_ENV: expected one of development, production/)]);
  });

  it('disallow lists keep their known tokens and warn about the rest, as PreviewProxy does', () => {
    const r = inspectConfig({ PP_INPUT_DISALLOW_LIST: 'png, svg', PP_OUTPUT_DISALLOW_LIST: 'webp', PP_TRANSFORM_DISALLOW_LIST: 'resize,crop' });
    expect(r.config?.previewproxy).toMatchObject({ inputDisallow: ['png'], outputDisallow: ['webp'], transformDisallow: ['resize'] });
    expect(r.warnings).toEqual([
      'PP_INPUT_DISALLOW_LIST: unknown token "svg" ignored (known: jpeg, png, gif, webp, avif, jxl, bmp, tiff, pdf, psd, video)',
      expect.stringMatching(/^PP_TRANSFORM_DISALLOW_LIST: unknown token "crop" ignored/),
    ]);
  });

  it('PP_CORS_ALLOW_ORIGIN set but empty allows no origin (PreviewProxy builds an empty list)', () => {
    expect(loadConfig({ PP_CORS_ALLOW_ORIGIN: '' }).previewproxy.corsAllowOrigin).toEqual([]);
    expect(loadConfig({ PP_CORS_ALLOW_ORIGIN: 'https://a.example, *.b.example' }).previewproxy.corsAllowOrigin).toEqual(['https://a.example', '*.b.example']);
  });

  it('PP_MAX_CONCURRENT_REQUESTS must be > 0, as there', () => {
    expect(configProblems({ PP_MAX_CONCURRENT_REQUESTS: '0' })).toHaveLength(1);
  });

  it('the fallback image variables are shared with imgproxy\'s, IMGPROXY_* first', () => {
    const c = loadConfig({ PP_FALLBACK_IMAGE_PATH: '/a.png', PP_FALLBACK_IMAGE_HTTP_CODE: '404', PP_FALLBACK_IMAGE_TTL: '30' });
    expect(c.processing).toMatchObject({ fallbackImagePath: '/a.png', fallbackImageHttpCode: 404, fallbackImageTtl: 30 });
    expect(loadConfig({ IMGPROXY_FALLBACK_IMAGE_HTTP_CODE: '0' }).processing.fallbackImageHttpCode).toBe(0);
    expect(configProblems({ PP_FALLBACK_IMAGE_HTTP_CODE: '42' })).toHaveLength(1);
    expect(configProblems({ IMGPROXY_FALLBACK_IMAGE_HTTP_CODE: '600' })).toHaveLength(1);
  });
});
