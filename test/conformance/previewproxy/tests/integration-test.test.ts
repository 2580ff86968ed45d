/**
 * tests/integration_test.rs (https://github.com/ViGrise/previewproxy): PreviewProxy's own
 * end-to-end cases — health, a query-style miss, the allowlist, a bad signature, local
 * sources with and without a resize — through a real server and a loopback origin. The two
 * http.cat URLs upstream uses are refused before any network access, as there.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { ported } from '../../harness.js';
import { tinyPng } from '../fixtures.js';
import { enc, expectOk, get, ppServers, useOrigin, useTempDir } from '../pp.js';

describe('tests/integration_test.rs', () => {
  const o = useOrigin(async () => ({ '/': { body: await tinyPng(), contentType: 'image/png' } }));
  const dir = useTempDir('pp-integration-', async (d) => writeFile(join(d, 'test.png'), await tinyPng()));
  const servers = ppServers(() => ({ PP_CACHE_MEMORY_MAX_MB: '10' }));
  const local = () => ({ PP_LOCAL_ENABLED: 'true', PP_LOCAL_BASE_DIR: dir.path });

  ported('test_health_returns_ok', async () => {
    const r = await get(await servers.get(), '/health');
    expect(r.status).toBe(200);
    const j = JSON.parse(r.body.toString()) as { status?: string; cache_memory_items?: unknown };
    expect(j.status).toBe('ok');
    expect(typeof j.cache_memory_items).toBe('number');
  });

  ported('test_proxy_query_style_cache_miss', async () => {
    const r = await get(await servers.get(), `/proxy?url=${enc(o.url)}`);
    expectOk(r);
    expect(r.headers.get('x-cache')).toBe('MISS');
    expect(r.headers.get('content-type')).toMatch(/^image\/png/);
  });

  ported('test_blocked_host_returns_403', async () => {
    expect((await get(await servers.get({ PP_ALLOWED_HOSTS: 'trusted.com' }), `/proxy?url=${enc('https://http.cat/200')}`)).status).toBe(403);
  });

  ported('test_bad_hmac_returns_403', async () => {
    expect((await get(await servers.get({ PP_HMAC_KEY: 'secret' }), `/proxy?url=${enc('https://http.cat/200')}&sig=badsig`)).status).toBe(403);
  });

  ported('test_local_source_passthrough', async () => expectOk(await get(await servers.get(local()), '/local:/test.png')));

  ported('test_local_source_with_resize', async () => {
    const r = await get(await servers.get(local()), '/1x1,webp/local:/test.png');
    expectOk(r);
    expect(r.headers.get('content-type')).toMatch(/^image\/webp/);
  });
});
