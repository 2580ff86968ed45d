/**
 * src/common/config/loader.rs (https://github.com/ViGrise/previewproxy): the PP_* variables —
 * defaults, parsing, what stops startup — against `loadConfig` (the one place that reads the
 * environment). A variable is looked up in the schema by its name, so these cases do not
 * depend on where our configuration keeps it; one that the schema does not know is not read,
 * and its case fails with that. "Panics" upstream means: `loadConfig` throws naming the variable.
 */
import { describe, expect } from 'vitest';
import { loadConfig, schema } from '../../../../../src/config/index.js';
import { ported } from '../../../harness.js';

type Env = Record<string, string>;
const BASE: Env = { PP_PORT: '8080', PP_APP_ENV: 'development' };

/** The value our configuration holds for PP variable `name`, or a throw saying it is not read. */
function value(name: string, env: Env = {}): unknown {
  for (const [section, fields] of Object.entries(schema)) {
    for (const [key, f] of Object.entries(fields as Record<string, { names: readonly string[] }>)) {
      if (f.names.includes(name)) return (loadConfig({ ...BASE, ...env }) as unknown as Record<string, Record<string, unknown>>)[section]?.[key];
    }
  }
  throw new Error(`${name} is not read by pixproxy`);
}

const refuses = (env: Env, name: string) => expect(() => loadConfig({ ...BASE, ...env })).toThrow(name);

describe('src/common/config/loader.rs', () => {
  ported('test_config_new', () => {
    expect(value('PP_PORT')).toBe(8080);
    expect(value('PP_CACHE_MEMORY_MAX_MB')).toBe(256);
    expect(value('PP_HMAC_KEY')).toBe('');
    expect(value('PP_ALLOWED_HOSTS')).toEqual([]);
    expect(value('PP_S3_BUCKET')).toBe('');
    expect(value('PP_LOCAL_BASE_DIR')).toBe('');
    expect(value('PP_FETCH_TIMEOUT_SECS')).toBe(10);
    expect(value('PP_S3_ENABLED')).toBe(false);
    expect(value('PP_S3_REGION')).toBe('us-east-1');
    for (const n of ['PP_S3_ACCESS_KEY_ID', 'PP_S3_SECRET_ACCESS_KEY', 'PP_S3_ENDPOINT']) expect(value(n), n).toBe('');
    expect(value('PP_LOCAL_ENABLED')).toBe(false);
    expect(value('PP_MAX_CONCURRENT_REQUESTS')).toBe(256);
  });

  ported('test_max_concurrent_requests_default', () => expect(value('PP_MAX_CONCURRENT_REQUESTS')).toBe(256));
  ported('test_max_concurrent_requests_from_env', () => expect(value('PP_MAX_CONCURRENT_REQUESTS', { PP_MAX_CONCURRENT_REQUESTS: '64' })).toBe(64));
  ported('test_max_concurrent_requests_zero_panics', () => refuses({ PP_MAX_CONCURRENT_REQUESTS: '0' }, 'PP_MAX_CONCURRENT_REQUESTS'));

  const LISTS = ['PP_INPUT_DISALLOW_LIST', 'PP_OUTPUT_DISALLOW_LIST', 'PP_TRANSFORM_DISALLOW_LIST'];
  ported('test_disallow_defaults_when_unset', () => {
    for (const n of LISTS) expect(value(n), n).toHaveLength(0);
  });
  ported('test_disallow_empty_string_means_all_allowed', () => {
    for (const n of LISTS) expect(value(n, { [n]: '' }), n).toHaveLength(0);
  });
  ported('test_disallow_unknown_token_does_not_panic', () => {
    const v = value('PP_TRANSFORM_DISALLOW_LIST', { PP_TRANSFORM_DISALLOW_LIST: 'blur,not_a_real_op' });
    expect(Array.isArray(v) ? v : [...(v as Set<string>)]).toEqual(['blur']);
  });

  ported('test_url_aliases_unset_is_none', () => expect(value('PP_URL_ALIASES')).toEqual({}));
  ported('test_url_aliases_empty_is_none', () => expect(value('PP_URL_ALIASES', { PP_URL_ALIASES: '' })).toEqual({}));
  ported('test_url_aliases_valid_parses', () => {
    expect(value('PP_URL_ALIASES', { PP_URL_ALIASES: 'mycdn=https://img.example.com,cdn2=https://other.com' })).toEqual({ mycdn: 'https://img.example.com', cdn2: 'https://other.com' });
  });

  ported('test_url_aliases_skips_empty_name', () => {
    expect(value('PP_URL_ALIASES', { PP_URL_ALIASES: '=https://img.example.com,valid=https://ok.com' })).toEqual({ valid: 'https://ok.com' });
  });
  ported('test_url_aliases_skips_non_http_base', () => {
    expect(value('PP_URL_ALIASES', { PP_URL_ALIASES: 'bad=file:///etc/passwd,ok=https://img.example.com' })).toEqual({ ok: 'https://img.example.com' });
  });
  ported('test_url_aliases_accepts_s3_base', () => expect(value('PP_URL_ALIASES', { PP_URL_ALIASES: 'thumbs=s3:/my-bucket/thumbnails' })).toEqual({ thumbs: 's3:/my-bucket/thumbnails' }));
  ported('test_url_aliases_accepts_local_base', () => expect(value('PP_URL_ALIASES', { PP_URL_ALIASES: 'assets=local:/var/www/static' })).toEqual({ assets: 'local:/var/www/static' }));
  ported('test_url_aliases_all_invalid_is_none', () => {
    expect(value('PP_URL_ALIASES', { PP_URL_ALIASES: 'bad=file:///etc/passwd' })).toEqual({});
  });

  ported('test_best_format_defaults', () => {
    expect(value('PP_BEST_FORMAT_COMPLEXITY_THRESHOLD')).toBe(5.5);
    expect(value('PP_BEST_FORMAT_MAX_RESOLUTION') ?? null).toBeNull();
    expect(value('PP_BEST_FORMAT_BY_DEFAULT')).toBe(false);
    expect(value('PP_BEST_FORMAT_ALLOW_SKIPS')).toBe(false);
  });
  ported('test_best_format_from_env', () => {
    const env = { PP_BEST_FORMAT_COMPLEXITY_THRESHOLD: '8.0', PP_BEST_FORMAT_MAX_RESOLUTION: '4.0', PP_BEST_FORMAT_BY_DEFAULT: 'true', PP_BEST_FORMAT_ALLOW_SKIPS: '1' };
    expect(value('PP_BEST_FORMAT_COMPLEXITY_THRESHOLD', env)).toBe(8);
    expect(value('PP_BEST_FORMAT_MAX_RESOLUTION', env)).toBe(4);
    expect(value('PP_BEST_FORMAT_BY_DEFAULT', env)).toBe(true);
    expect(value('PP_BEST_FORMAT_ALLOW_SKIPS', env)).toBe(true);
  });

  ported('test_input_disallow_parses_all_tokens', () => {
    const v = value('PP_INPUT_DISALLOW_LIST', { PP_INPUT_DISALLOW_LIST: 'jpeg,png,gif,webp,avif,jxl,bmp,tiff,pdf,psd,video' });
    expect(Array.isArray(v) ? v.length : (v as Set<string>).size).toBe(11);
  });

  ported('test_source_url_encryption_key_unset_is_none', () => expect(value('PP_SOURCE_URL_ENCRYPTION_KEY')).toBeNull());
  ported('test_source_url_encryption_key_32_byte', () => {
    const key = value('PP_SOURCE_URL_ENCRYPTION_KEY', { PP_SOURCE_URL_ENCRYPTION_KEY: '1eb5b0e971ad7f45324c1bb15c947cb207c43152fa5c6c7f35c4f36e0c18e0f1' });
    expect((key as Uint8Array).length).toBe(32);
  });
  ported('test_source_url_encryption_key_wrong_length_panics', () => {
    refuses({ PP_SOURCE_URL_ENCRYPTION_KEY: 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef1234567890ab' }, 'PP_SOURCE_URL_ENCRYPTION_KEY');
  });

  // PreviewProxy's `None` is pixproxy's empty value: '' for the sources, 0 for the TTL (the
  // fallback answers then live PP_TTL, as PreviewProxy's None does).
  ported('test_fallback_image_defaults', () => {
    for (const n of ['PP_FALLBACK_IMAGE_DATA', 'PP_FALLBACK_IMAGE_PATH', 'PP_FALLBACK_IMAGE_URL']) expect(value(n) || null, n).toBeNull();
    expect(value('PP_FALLBACK_IMAGE_HTTP_CODE')).toBe(200);
    expect(value('PP_FALLBACK_IMAGE_TTL') || null).toBeNull();
    expect(value('PP_TTL')).toBe(86400);
  });

  ported('test_default_source_url_unset_is_none', () => expect(value('PP_DEFAULT_SOURCE_URL')).toBe(''));
  ported('test_default_source_url_set_is_some', () => expect(value('PP_DEFAULT_SOURCE_URL', { PP_DEFAULT_SOURCE_URL: 'https://cdn.example.com' })).toBe('https://cdn.example.com'));

  ported('test_fallback_image_from_env', () => {
    const env = { PP_FALLBACK_IMAGE_DATA: 'aGVsbG8=', PP_FALLBACK_IMAGE_PATH: '/tmp/fallback.png', PP_FALLBACK_IMAGE_URL: 'https://example.com/fallback.png', PP_FALLBACK_IMAGE_HTTP_CODE: '0', PP_FALLBACK_IMAGE_TTL: '300', PP_TTL: '7200' };
    expect(value('PP_FALLBACK_IMAGE_DATA', env)).toBe('aGVsbG8=');
    expect(value('PP_FALLBACK_IMAGE_PATH', env)).toBe('/tmp/fallback.png');
    expect(value('PP_FALLBACK_IMAGE_URL', env)).toBe('https://example.com/fallback.png');
    expect(value('PP_FALLBACK_IMAGE_HTTP_CODE', env)).toBe(0);
    expect(value('PP_FALLBACK_IMAGE_TTL', env)).toBe(300);
    expect(value('PP_TTL', env)).toBe(7200);
  });
});
