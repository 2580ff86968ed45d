// `pixproxy config check`'s report: effective values, masking, unknown names.
import { describe, expect, it } from 'vitest';
import { describeConfig, formatValue, isSecret } from '../../../src/cli/config-check.js';
import { knownVariables, loadConfig } from '../../../src/config/index.js';

describe('config check report', () => {
  it('masks every key, salt, secret, password and token the schema has, and nothing else', () => {
    const secret = knownVariables().filter((n) => isSecret([n])).sort();
    expect(secret).toEqual(expect.arrayContaining(['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'IMGPROXY_ABS_KEY', 'IMGPROXY_GCS_KEY', 'IMGPROXY_KEY', 'IMGPROXY_SALT', 'IMGPROXY_SECRET', 'IMGPROXY_SOURCE_URL_ENCRYPTION_KEY', 'IMGPROXY_SWIFT_API_KEY', 'PP_HMAC_KEY', 'PP_SOURCE_URL_ENCRYPTION_KEY']));
    for (const n of ['IMGPROXY_CACHE_KEY_HEADERS', 'PIXPROXY_CACHE_KEY_VERSION', 'AWS_ACCESS_KEY_ID', 'IMGPROXY_BIND']) expect(isSecret([n]), n).toBe(false);
  });

  it('prints effective values, marks defaults and aliases, masks set secrets', () => {
    const env = { PP_PORT: '9000', PP_CACHE_DISK_TTL_SECS: '60', IMGPROXY_KEY: 'aabb', IMGPROXY_SALT: 'ccdd', IMGPROXY_CACHE_FS_ROOT: '/var/cache/px' };
    const lines = describeConfig(loadConfig(env), env, false);
    expect(lines).toContain('PP_PORT=9000');
    expect(lines).toContain('IMGPROXY_KEY=********');
    expect(lines).toContain('IMGPROXY_WORKERS=0  # default');
    expect(lines).toContain('PP_CACHE_DIR=/var/cache/px  # set as IMGPROXY_CACHE_FS_ROOT');
    expect(lines).toContain('IMGPROXY_SECRET=  # default');
    expect(lines.join('\n')).not.toMatch(/aabb|ccdd/);
  });

  it('--only-set keeps the variables the environment sets', () => {
    const env = { IMGPROXY_QUALITY: '70' };
    expect(describeConfig(loadConfig(env), env, true)).toEqual(['# processing', 'IMGPROXY_QUALITY=70', '']);
  });

  it('formats lists, maps and byte strings', () => {
    expect(formatValue(['a', 'b'])).toBe('a,b');
    expect(formatValue({ webp: 79, avif: 63 })).toBe('webp=79,avif=63');
    expect(formatValue(Buffer.from([0xab]))).toBe('ab');
    expect(formatValue(undefined)).toBe('');
  });
});
