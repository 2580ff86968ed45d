import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ConfigError, knownVariables, loadConfig, readEnv } from '../../../src/config/index.js';

describe('config', () => {
  it('has embedded defaults that need no external service', () => {
    const c = loadConfig({});
    expect(c.listen).toEqual({ network: 'tcp', host: '', port: 8080 });
    expect(c.metricsListen).toBeNull();
    expect(c.cache.use).toBe('fs');
    expect(c.cache.memoryMaxMb).toBe(256);
    expect(c.cache.memoryTtlSecs).toBe(3600);
    expect(c.cache.diskTtlSecs).toBe(86400);
    expect(c.cache.diskMaxMb).toBeUndefined();
    expect(c.cache.cleanupIntervalSecs).toBe(600);
    expect(c.cache.dir).toBe('/tmp/previewproxy');
    expect(c.processing.ttl).toBe(31_536_000);
    expect(c.security.signatureSize).toBe(32);
  });

  it('is deeply frozen', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.cache)).toBe(true);
    expect(() => {
      (c.cache as { memoryMaxMb: number }).memoryMaxMb = 1;
    }).toThrow();
  });

  it('PP_PORT and PORT give the port on every interface when IMGPROXY_BIND is unset', () => {
    expect(loadConfig({ PP_PORT: '9090' }).listen).toEqual({ network: 'tcp', host: '', port: 9090 });
    expect(loadConfig({ PORT: '9091' }).listen).toEqual({ network: 'tcp', host: '', port: 9091 });
    expect(loadConfig({ IMGPROXY_BIND: '127.0.0.1:7000' }).listen).toEqual({ network: 'tcp', host: '127.0.0.1', port: 7000 });
  });

  it('an invalid value names the variable and what it accepts', () => {
    expect(() => loadConfig({ IMGPROXY_SIGNATURE_SIZE: '40' })).toThrow(ConfigError);
    expect(() => loadConfig({ IMGPROXY_SIGNATURE_SIZE: '40' })).toThrow(/IMGPROXY_SIGNATURE_SIZE: expected an integer from 1 to 32, got "40"/);
    expect(() => loadConfig({ IMGPROXY_KEY: 'zz', IMGPROXY_SALT: '00' })).toThrow(/IMGPROXY_KEY: expected a comma-separated list of hex-encoded strings/);
    expect(() => loadConfig({ IMGPROXY_AUTO_WEBP: 'maybe' })).toThrow(/IMGPROXY_AUTO_WEBP: expected true or false/);
    expect(() => loadConfig({ IMGPROXY_PREFERRED_FORMATS: 'jpeg,bogus' })).toThrow(/IMGPROXY_PREFERRED_FORMATS/);
    expect(() => loadConfig({ IMGPROXY_CACHE_USE: 'redis' })).toThrow(/IMGPROXY_CACHE_USE: expected one of fs, s3, gcs, abs, swift, none/);
  });

  it('key and salt counts must match', () => {
    expect(() => loadConfig({ IMGPROXY_KEY: 'aa,bb', IMGPROXY_SALT: 'cc' })).toThrow(/same number/);
  });

  it('IMGPROXY_CACHE_USE: unset → fs, empty → none, none → none', () => {
    expect(loadConfig({}).cache.use).toBe('fs');
    expect(loadConfig({ IMGPROXY_CACHE_USE: '' }).cache.use).toBe('none');
    expect(loadConfig({ IMGPROXY_CACHE_USE: 'none' }).cache.use).toBe('none');
    expect(loadConfig({ IMGPROXY_CACHE_USE: 'S3', IMGPROXY_CACHE_BUCKET: 'b' }).cache.use).toBe('s3');
  });

  it('IMGPROXY_CACHE_FS_ROOT is an alias of PP_CACHE_DIR', () => {
    expect(loadConfig({ IMGPROXY_CACHE_FS_ROOT: '/var/cache/px' }).cache.dir).toBe('/var/cache/px');
    expect(loadConfig({ PP_CACHE_DIR: '/a', IMGPROXY_CACHE_FS_ROOT: '/b' }).cache.dir).toBe('/a');
  });

  it('reads an optional .env file, real environment winning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-env-'));
    const file = join(dir, '.env');
    await writeFile(file, 'IMGPROXY_QUALITY=55\nIMGPROXY_TTL=60\n');
    const env = readEnv({ IMGPROXY_TTL: '120' }, file);
    const c = loadConfig(env);
    expect(c.processing.quality).toBe(55);
    expect(c.processing.ttl).toBe(120);
    expect(readEnv({}, join(dir, 'missing.env'))).toEqual({});
  });

  it('parses format quality maps', () => {
    expect(loadConfig({ IMGPROXY_FORMAT_QUALITY: 'jpeg=70,avif=40' }).processing.formatQuality).toEqual({ jpeg: 70, avif: 40 });
    expect(() => loadConfig({ IMGPROXY_FORMAT_QUALITY: 'jpeg=170' })).toThrow(/IMGPROXY_FORMAT_QUALITY/);
  });

  it('lists every variable of imgproxy\'s internal cache docs and PreviewProxy\'s caching overview', () => {
    const vars = new Set(knownVariables());
    for (const v of ['IMGPROXY_CACHE_USE', 'IMGPROXY_CACHE_PATH_PREFIX', 'IMGPROXY_CACHE_BUCKET', 'IMGPROXY_CACHE_KEY_HEADERS', 'IMGPROXY_CACHE_KEY_COOKIES', 'IMGPROXY_CACHE_REPORT_ERRORS',
      'PP_CACHE_MEMORY_MAX_MB', 'PP_CACHE_MEMORY_TTL_SECS', 'PP_CACHE_DIR', 'PP_CACHE_DISK_TTL_SECS', 'PP_CACHE_DISK_MAX_MB', 'PP_CACHE_CLEANUP_INTERVAL_SECS']) {
      expect(vars.has(v), v).toBe(true);
    }
  });
});
