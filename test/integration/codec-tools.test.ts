/**
 * A decoder's Debian tool missing (libheif's heif-convert, for HEIC coded with HEVC): the server
 * still starts, says once which format it refuses and what to install, refuses those sources
 * with a 422, and reads everything else, AV1 HEIF included. The same server with the tool on its
 * PATH reads the HEIC and says nothing.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heicOf } from '../fixtures/generate.js';
import { spawnTestServer, type TestServer } from '../helpers/process.js';

let root: string;
const servers: TestServer[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pixproxy-codec-tools-'));
  const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#c63' } }).png().toBuffer();
  const heic = heicOf(png);
  if (!heic) throw new Error('heif-enc is needed to make the HEIC source (scripts/ci-packages.txt: libheif-examples)');
  await writeFile(join(root, 'still.heic'), heic);
  await writeFile(join(root, 'still.avif'), await sharp(png).avif().toBuffer());
}, 60_000);

afterAll(async () => {
  for (const s of servers) await s.stop();
  await rm(root, { recursive: true, force: true });
});

async function serve(path?: string): Promise<TestServer> {
  const s = await spawnTestServer({ IMGPROXY_LOCAL_FILESYSTEM_ROOT: root, ...(path !== undefined ? { PATH: path } : {}) });
  servers.push(s);
  return s;
}

const status = async (s: TestServer, file: string): Promise<number> => (await fetch(`${s.url}/insecure/rs:fit:20:20/plain/local:///${file}@png`)).status;
const warned = (s: TestServer): string[] => s.logs.filter((l) => l.includes('heif-convert'));

describe('a decoder tool that is not installed', () => {
  it('is named once at startup, and only its sources are refused', async () => {
    // An empty folder as PATH: no heif-convert (node itself is started by its full path).
    const bin = join(root, 'empty-bin');
    await mkdir(bin);
    const s = await serve(bin);
    const lines = warned(s);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/HEIC images coded with HEVC are refused: heif-convert is not installed .*libheif-examples/);
    expect(await status(s, 'still.heic')).toBe(422);
    expect(await status(s, 'still.avif')).toBe(200);
  }, 60_000);

  it('with the tool installed, HEIC is read and nothing is said', async () => {
    const s = await serve();
    expect(await status(s, 'still.heic')).toBe(200);
    expect(warned(s)).toEqual([]);
  }, 60_000);
});
