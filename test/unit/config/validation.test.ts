import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, inspectConfig, loadConfig, readEnv } from '../../../src/config/index.js';
import { configProblems } from '../../helpers/config.js';

const problems = configProblems;

describe('all errors at once', () => {
  it('reports every bad variable in one ConfigError, each with what it accepts and what it got', () => {
    const p = problems({ IMGPROXY_QUALITY: '0', IMGPROXY_TTL: 'x', IMGPROXY_AUTO_WEBP: 'maybe', IMGPROXY_CACHE_USE: 'redis', IMGPROXY_PROMETHEUS_BIND: 'localhost' });
    expect(p).toHaveLength(5);
    expect(p).toEqual(expect.arrayContaining([
      'IMGPROXY_QUALITY: expected an integer from 1 to 100, got "0"',
      'IMGPROXY_TTL: expected an integer ≥ 0, got "x"',
      expect.stringMatching(/^IMGPROXY_AUTO_WEBP: expected true or false .*got "maybe"$/),
      expect.stringMatching(/^IMGPROXY_CACHE_USE: expected one of fs, s3, gcs, abs, swift, none.*got "redis"$/),
      'IMGPROXY_PROMETHEUS_BIND: expected host:port or :port (the port is required), got "localhost"',
    ]));
  });

  it('names the alias that was set', () => {
    expect(problems({ PP_TTL: '-1' })).toEqual(['PP_TTL: expected an integer ≥ 0, got "-1"']);
  });

  it('a variable that failed to parse does not also fail the rules built on it', () => {
    expect(problems({ IMGPROXY_KEY: 'zz', IMGPROXY_SALT: '00' })).toEqual([expect.stringMatching(/^IMGPROXY_KEY: expected a comma-separated list of hex-encoded strings/)]);
    expect(problems({ IMGPROXY_KEY: 'aa,bb', IMGPROXY_SALT: 'cc' })).toEqual([expect.stringMatching(/same number of keys and salts, got 2 keys and 1 salts/)]);
  });

  it('the message lists them one per line; a good configuration has none', () => {
    expect(() => loadConfig({ IMGPROXY_QUALITY: '0', IMGPROXY_TTL: 'x' })).toThrow(/IMGPROXY_TTL.*\n.*IMGPROXY_QUALITY|IMGPROXY_QUALITY.*\n.*IMGPROXY_TTL/);
    const r = inspectConfig({ IMGPROXY_QUALITY: '70' });
    expect(r.errors).toEqual([]);
    expect(r.config?.processing.quality).toBe(70);
  });
});

describe('storage backends are checked with the configuration', () => {
  it.each([
    [{ IMGPROXY_CACHE_USE: 's3' }, 'IMGPROXY_CACHE_BUCKET: required when IMGPROXY_CACHE_USE=s3, got nothing'],
    [{ IMGPROXY_CACHE_USE: 'abs', IMGPROXY_CACHE_BUCKET: 'b' }, 'IMGPROXY_CACHE_ABS_NAME: required when IMGPROXY_CACHE_USE=abs, got nothing'],
    [{ IMGPROXY_USE_ABS: '1' }, 'IMGPROXY_ABS_NAME: required when IMGPROXY_USE_ABS is set, got nothing'],
    [{ IMGPROXY_USE_GCS: '1', IMGPROXY_GCS_KEY: '{nope' }, 'IMGPROXY_GCS_KEY: expected a service-account key JSON, got "{nope"'],
    [{ IMGPROXY_CACHE_USE: 'gcs', IMGPROXY_CACHE_BUCKET: 'b', IMGPROXY_CACHE_GCS_KEY: 'x' }, 'IMGPROXY_CACHE_GCS_KEY: expected a service-account key JSON, got "x"'],
    [{ IMGPROXY_CACHE_BUCKET: '../elsewhere' }, 'IMGPROXY_CACHE_BUCKET: expected a path inside PP_CACHE_DIR (no ".." segment), got "../elsewhere"'],
    [{ IMGPROXY_CACHE_PATH_PREFIX: 'a/../../b' }, 'IMGPROXY_CACHE_PATH_PREFIX: expected a path inside PP_CACHE_DIR (no ".." segment), got "a/../../b"'],
    [{ IMGPROXY_USE_S3: '1', AWS_ACCESS_KEY_ID: 'id' }, 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: expected both or neither, got only AWS_ACCESS_KEY_ID'],
    [{ IMGPROXY_CACHE_USE: 's3', IMGPROXY_CACHE_BUCKET: 'b', AWS_SECRET_ACCESS_KEY: 's' }, 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: expected both or neither, got only AWS_SECRET_ACCESS_KEY'],
    [{ IMGPROXY_USE_S3: '1', AWS_SESSION_TOKEN: 't' }, 'AWS_SESSION_TOKEN: expected with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, got it alone'],
  ])('%j → %s', (env, message) => {
    expect(problems(env)).toEqual([message]);
  });

  it('reports every missing Swift setting of both roles at once', () => {
    expect(problems({ IMGPROXY_USE_SWIFT: '1', IMGPROXY_CACHE_USE: 'swift', IMGPROXY_CACHE_BUCKET: 'b' })).toEqual([
      'IMGPROXY_SWIFT_USERNAME: required when IMGPROXY_USE_SWIFT is set, got nothing',
      'IMGPROXY_SWIFT_API_KEY: required when IMGPROXY_USE_SWIFT is set, got nothing',
      'IMGPROXY_SWIFT_AUTH_URL: required when IMGPROXY_USE_SWIFT is set, got nothing',
      'IMGPROXY_CACHE_SWIFT_USERNAME: required when IMGPROXY_CACHE_USE=swift, got nothing',
      'IMGPROXY_CACHE_SWIFT_API_KEY: required when IMGPROXY_CACHE_USE=swift, got nothing',
      'IMGPROXY_CACHE_SWIFT_AUTH_URL: required when IMGPROXY_CACHE_USE=swift, got nothing',
    ]);
  });

  it('settings of a backend not in use are not required, and complete ones pass', () => {
    expect(problems({ IMGPROXY_ABS_KEY: 'k', IMGPROXY_CACHE_SWIFT_USERNAME: 'u', AWS_ACCESS_KEY_ID: 'only-for-something-else' })).toEqual([]);
    expect(problems({ IMGPROXY_USE_S3: '1', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_SESSION_TOKEN: 'c', IMGPROXY_USE_GCS: '1', IMGPROXY_GCS_KEY: '{"type":"service_account"}' })).toEqual([]);
    expect(problems({ IMGPROXY_CACHE_BUCKET: 'sub/dir', IMGPROXY_CACHE_PATH_PREFIX: 'a..b' })).toEqual([]);
  });
});

describe('warnings', () => {
  it('unknown IMGPROXY_*, PP_* and PIXPROXY_* names, with the closest known name', () => {
    const r = inspectConfig({ IMGPROXY_QUALTY: '3', PIXPROXY_CACHE_DIR: '/x', PP_ZZZZZZZZZZZZ: '1', HOME: '/root', AWS_WHATEVER: '1', IMGPROXY_TTL: '5' });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([
      'IMGPROXY_QUALTY is not a variable pixproxy knows and is ignored; did you mean IMGPROXY_QUALITY?',
      'PIXPROXY_CACHE_DIR is not a variable pixproxy knows and is ignored; did you mean PP_CACHE_DIR?',
      'PP_ZZZZZZZZZZZZ is not a variable pixproxy knows and is ignored',
    ]);
  });

  it('known but refused peer names are not "unknown" (they are refused instead)', () => {
    const r = inspectConfig({ IMGPROXY_SENTRY_DSN: 'https://x' });
    expect(r.warnings).toEqual([]);
    expect(r.errors).toEqual([expect.stringMatching(/^IMGPROXY_SENTRY_DSN: not supported/)]);
  });

  it('deprecated names warn, or stop startup with IMGPROXY_FAIL_ON_DEPRECATION', () => {
    const r = inspectConfig({ IMGPROXY_CONCURRENCY: '3' });
    expect(r.config?.server.workers).toBe(3);
    expect(r.warnings).toEqual(['IMGPROXY_CONCURRENCY is deprecated (imgproxy no longer reads it): use IMGPROXY_WORKERS']);
    expect(problems({ IMGPROXY_ENABLE_WEBP_DETECTION: 'true', IMGPROXY_FAIL_ON_DEPRECATION: 'true' })).toEqual([
      'IMGPROXY_ENABLE_WEBP_DETECTION: IMGPROXY_ENABLE_WEBP_DETECTION is deprecated (imgproxy no longer reads it): use IMGPROXY_AUTO_WEBP; IMGPROXY_FAIL_ON_DEPRECATION is set',
    ]);
  });

  it('PORT set next to IMGPROXY_BIND is said to be inert', () => {
    expect(inspectConfig({ IMGPROXY_BIND: ':81', PORT: '82' }).warnings).toEqual(['PORT is ignored: IMGPROXY_BIND is set and wins (imgproxy\'s precedence)']);
  });
});

describe('IMGPROXY_ENV_LOCAL_FILE_PATH', () => {
  it('loads the file after .env, its values winning over the environment (as imgproxy does)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-env-'));
    await writeFile(join(dir, '.env'), 'IMGPROXY_QUALITY=55\nIMGPROXY_TTL=60\n');
    await writeFile(join(dir, 'local.env'), 'IMGPROXY_TTL=90\nIMGPROXY_WORKERS=3\n');
    const env = readEnv({ IMGPROXY_TTL: '120', IMGPROXY_ENV_LOCAL_FILE_PATH: join(dir, 'local.env') }, join(dir, '.env'));
    const c = loadConfig(env);
    expect(c.processing.quality).toBe(55);
    expect(c.processing.ttl).toBe(90);
    expect(c.server.workers).toBe(3);
  });

  it('a missing file stops startup naming the variable', () => {
    expect(() => readEnv({ IMGPROXY_ENV_LOCAL_FILE_PATH: '/nonexistent/pixproxy.env' }, '/nonexistent/.env')).toThrow(ConfigError);
    expect(() => readEnv({ IMGPROXY_ENV_LOCAL_FILE_PATH: '/nonexistent/pixproxy.env' }, '/nonexistent/.env')).toThrow(/^IMGPROXY_ENV_LOCAL_FILE_PATH: cannot read "\/nonexistent\/pixproxy.env" \(ENOENT\)$/);
  });
});

describe('imgproxy HTTP variables', () => {
  it('IMGPROXY_LAST_MODIFIED_BUSTER takes an RFC 3339 date-time (Go time.RFC3339), refuses anything else', () => {
    expect(loadConfig({ IMGPROXY_LAST_MODIFIED_BUSTER: '2024-05-01T02:03:04Z' }).download.lastModifiedBuster).toBe(Date.UTC(2024, 4, 1, 2, 3, 4));
    expect(loadConfig({ IMGPROXY_LAST_MODIFIED_BUSTER: '2024-05-01T02:03:04.5+02:00' }).download.lastModifiedBuster).toBe(Date.UTC(2024, 4, 1, 0, 3, 4, 500));
    for (const bad of ['2024-05-01', 'Wed, 01 May 2024 00:00:00 GMT', '2024-02-30T00:00:00Z', 'yesterday']) {
      expect(problems({ IMGPROXY_LAST_MODIFIED_BUSTER: bad })).toEqual([expect.stringMatching(/^IMGPROXY_LAST_MODIFIED_BUSTER: expected an RFC 3339 date-time/)]);
    }
  });

  it('IMGPROXY_COOKIE_BASE_URL must be an absolute http(s) URL; IMGPROXY_WRITE_RESPONSE_TIMEOUT at least 1', () => {
    expect(loadConfig({ IMGPROXY_COOKIE_BASE_URL: 'https://example.com/images/' }).download.cookieBaseUrl).toBe('https://example.com/images/');
    expect(problems({ IMGPROXY_COOKIE_BASE_URL: 'example.com' })).toEqual([expect.stringMatching(/^IMGPROXY_COOKIE_BASE_URL: expected an absolute http\(s\) URL/)]);
    expect(problems({ IMGPROXY_WRITE_RESPONSE_TIMEOUT: '0' })).toEqual([expect.stringMatching(/^IMGPROXY_WRITE_RESPONSE_TIMEOUT: /)]);
    expect(loadConfig({}).server.writeResponseTimeout).toBe(10);
  });
});
