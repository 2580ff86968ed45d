import { describe, expect, it } from 'vitest';
import { inspectConfig, knownVariables, schema } from '../../../src/config/index.js';
import type { Field } from '../../../src/config/fields.js';
import { unsupported } from '../../../src/config/unsupported.js';
import { refusedValue } from '../../helpers/config.js';

const schemaNames = new Set(Object.values(schema).flatMap((s) => Object.values(s as Record<string, Field<unknown>>).flatMap((f) => [...f.names])));

describe('unsupported peer variables', () => {
  it('are not also applied, and appear once each', () => {
    const names = unsupported.map((u) => u.name);
    expect(names.filter((n) => schemaNames.has(n))).toEqual([]);
    expect(new Set(names).size).toBe(names.length);
    for (const u of unsupported) {
      expect(u.reason.length, u.name).toBeGreaterThan(10);
      expect(u.reason, u.name).not.toMatch(/\n/);
    }
  });

  it.each(unsupported.map((u) => [u.name, u] as const))('%s set to a refused value stops startup naming it and why', (name, u) => {
    const value = refusedValue(u);
    const r = inspectConfig({ [name]: value });
    expect(r.config).toBeNull();
    expect(r.errors).toEqual([`${name}: not supported: ${u.reason}; expected ${u.accepted}, got ${JSON.stringify(value)}`]);
  });

  it.each([
    ['IMGPROXY_SO_REUSEPORT', 'false'],
    ['IMGPROXY_SO_REUSEPORT', 'no'],
    ['IMGPROXY_REPORT_DOWNLOADING_ERRORS', 'true'],
    ['IMGPROXY_SENTRY_ENVIRONMENT', 'production'],
    ['IMGPROXY_NEW_RELIC_APP_NAME', 'imgproxy'],
    ['IMGPROXY_FALLBACK_IMAGE_HTTP_CODE', '200'],
    ['IMGPROXY_SENTRY_DSN', ''],
    ['IMGPROXY_TIFF_UNLIMITED', 'false'],
  ])('%s=%j means what pixproxy does and is accepted', (name, value) => {
    expect(inspectConfig({ [name]: value }).errors).toEqual([]);
  });

  it.each([
    ['IMGPROXY_OPEN_TELEMETRY_ENABLE_LOGS', 'true'],
    ['IMGPROXY_TIFF_UNLIMITED', 'true'],
    ['IMGPROXY_PNG_UNLIMITED', 'true'],
    ['IMGPROXY_S3_USE_DECRYPTION_CLIENT', 'true'],
    ['IMGPROXY_SO_REUSEPORT', 'maybe'],
  ])('%s=%j is refused: the peer\'s default is not what pixproxy does, or it does not parse', (name, value) => {
    expect(inspectConfig({ [name]: value }).errors).toEqual([expect.stringMatching(new RegExp(`^${name}: not supported: `))]);
  });

  it('are known names: setting one is refused, not warned about as unknown', () => {
    const known = new Set(knownVariables());
    for (const u of unsupported) expect(known.has(u.name), u.name).toBe(true);
  });
});
