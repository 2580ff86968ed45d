/**
 * src/modules/proxy/sources/local.rs (https://github.com/ViGrise/previewproxy): `local:/` under
 * PP_LOCAL_BASE_DIR — traversal and symlink escapes refused, directories refused, the size
 * limit from the file's metadata — through a real server. Upstream's file of 16 arbitrary
 * bytes becomes a real PNG: its happy path returns bytes the HTTP layer then has to serve.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect } from 'vitest';
import { ported } from '../../../harness.js';
import { solidPng, tinyPng } from '../../fixtures.js';
import { expectOk, expectPpError, get, ppServers, useTempDir } from '../../pp.js';

describe('src/modules/proxy/sources/local.rs', () => {
  const outside = useTempDir('pp-local-outside-', async (d) => {
    await writeFile(join(d, 'outside.png'), await tinyPng());
    await writeFile(join(d, 'secret.png'), await tinyPng());
  });
  const dir = useTempDir('pp-local-', async (d) => {
    await writeFile(join(d, 'image.png'), await tinyPng());
    await writeFile(join(d, 'big.png'), await solidPng(30, 30, { r: 1, g: 2, b: 3 }));
    await symlink(join(outside.path, 'secret.png'), join(d, 'escape.png'));
    await mkdir(join(d, 'subdir'));
  });
  const servers = ppServers(() => ({ PP_LOCAL_ENABLED: 'true', PP_LOCAL_BASE_DIR: dir.path }));
  const ask = async (source: string, env: Record<string, string> = {}) => get(await servers.get(env), `/proxy?url=${encodeURIComponent(source)}`);

  ported('test_fetch_happy_path', async () => expectOk(await ask('local:/image.png')));

  ported('test_fetch_path_traversal', async () => {
    expectPpError(await ask(`local:/../${basename(outside.path)}/outside.png`), 400, 'invalid_params', 'path not allowed');
  });

  ported('test_fetch_symlink_escape', async () => {
    const r = await ask('local:/escape.png');
    expect(r.status).not.toBe(200);
    expectPpError(r, 400, 'invalid_params', 'path not allowed');
  });

  ported('test_fetch_missing_file', async () => {
    expectPpError(await ask('local:/nonexistent.png'), 404, 'upstream_not_found');
  });

  ported('test_fetch_directory_path', async () => {
    expectPpError(await ask('local:/subdir'), 400, 'invalid_params', 'not a regular file');
  });

  ported('test_fetch_file_too_large', async () => {
    expectPpError(await ask('local:/big.png', { PP_MAX_SOURCE_BYTES: '50' }), 413, 'source_too_large');
  });
});
