/**
 * src/modules/proxy/video.rs (https://github.com/ViGrise/previewproxy): video detection by
 * magic bytes, frame extraction with ffmpeg and duration probing with ffprobe, through a real
 * server. Upstream empties PATH to lose the binaries; here PP_FFMPEG_PATH / PP_FFPROBE_PATH
 * name missing ones. Its two `#[ignore]` cases need a fixture it never committed; ours is
 * generated (red, then green, then blue, two seconds each), so they run, and a seek is checked
 * by the colour of the frame. Sources without a content type are `local:/` files.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { near, pixels, ported } from '../../harness.js';
import { fakeMp4, GREEN, RED, tinyPng, videoMp4 } from '../fixtures.js';
import { enc, expectOk, expectPpError, get, ppServers, useOrigin, useTempDir } from '../pp.js';


describe('src/modules/proxy/video.rs', () => {
  const dir = useTempDir('pp-video-', async (d) => {
    await writeFile(join(d, 'clip.mp4'), fakeMp4());
    await writeFile(join(d, 'clip.mkv'), Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x00, 0x00]));
    await writeFile(join(d, 'still.png'), await tinyPng());
  });
  const o = useOrigin(async () => ({
    '/v.mp4': { body: await videoMp4(), contentType: 'video/mp4' },
    '/junk.mp4': { body: Buffer.from('this is not a video file at all'), contentType: 'video/mp4' },
    '/empty.mp4': { body: Buffer.alloc(0), contentType: 'video/mp4' },
  }));
  const servers = ppServers(() => ({ PP_LOCAL_ENABLED: 'true', PP_LOCAL_BASE_DIR: dir.path }));
  const ask = async (source: string, query = '', env: Record<string, string> = {}) => get(await servers.get(env), `/proxy?url=${enc(source)}${query}`);
  const frame = async (query: string, env: Record<string, string> = {}) => {
    const r = await ask(`${o.url}/v.mp4`, `${query}&format=png`, env);
    expectOk(r);
    return pixels(r.body);
  };

  ported('test_is_video_magic_mp4', async () => {
    expectPpError(await ask('local:/clip.mp4'), 422, 'video_decode_error');
  });
  ported('test_is_video_magic_mkv', async () => {
    expectPpError(await ask('local:/clip.mkv'), 422, 'video_decode_error');
  });
  ported('test_is_video_magic_png_is_false', async () => expectOk(await ask('local:/still.png')));

  ported('test_extract_frame_ffmpeg_not_found', async () => {
    expectPpError(await ask(`${o.url}/v.mp4`, '', { PP_FFMPEG_PATH: '/nonexistent/ffmpeg' }), 422, 'video_decode_error');
  });
  ported('test_extract_frame_invalid_video_returns_error', async () => {
    expectPpError(await ask(`${o.url}/junk.mp4`), 422, 'video_decode_error');
  });
  ported('test_extract_frame_empty_stdout_returns_error', async () => {
    expectPpError(await ask(`${o.url}/empty.mp4`), 422, 'video_decode_error');
  });

  ported('test_extract_frame', async () => {
    const px = await frame('');
    expect([px.width, px.height]).toEqual([64, 48]);
    expect(near(px.at(32, 24), RED, 16)).toBe(true);
  });

  ported('test_probe_duration_ffprobe_not_found', async () => {
    expect(near((await frame('&seek=auto', { PP_FFPROBE_PATH: '/nonexistent/ffprobe' })).at(32, 24), RED, 16)).toBe(true);
  });
  ported('test_probe_duration_invalid_input', async () => {
    expectPpError(await ask(`${o.url}/junk.mp4`, '&seek=0.5r'), 422, 'video_decode_error');
  });
  ported('test_probe_duration_real_video', async () => {
    expect(near((await frame('&seek=auto')).at(32, 24), GREEN, 16)).toBe(true);
  });
});
