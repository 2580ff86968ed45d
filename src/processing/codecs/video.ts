/**
 * The video codec: a frame of an MP4, QuickTime, WebM, Matroska or AVI source, taken by
 * ffmpeg, measured first by ffprobe (Debian's ffmpeg package), as PreviewProxy does
 * (src/modules/proxy/video.rs, https://github.com/ViGrise/previewproxy) and imgproxy Pro's
 * video thumbnails describe (https://docs.imgproxy.net/features/video_thumbnails).
 *
 * The source is written to a private temporary file (MP4 and QuickTime keep their index at
 * the end, which a pipe cannot seek to) that is removed afterwards, and the tools are pointed
 * at that file only: `-protocol_whitelist file,pipe` keeps any network protocol out, and the
 * container's demuxer is forced from the magic bytes (`-f mov|matroska|avi`), so a playlist
 * or concat script never gets a demuxer that would open other files or URLs. ffprobe's size
 * and duration are checked against the limits before a frame is decoded, ffmpeg's decoder
 * refuses larger frames itself (`-max_pixels`), both run with one thread and are killed on
 * abort or at the deadline (tool.ts). The binaries and bounds are the app's (preview-settings.ts).
 *
 * The seek: seconds, a ratio of the duration, or `auto` (the middle), as PreviewProxy's
 * `seek`; a ratio or `auto` without a known duration (ffprobe missing or silent) is the first
 * frame, as there. Past the end is the last frame, as imgproxy Pro answers. ffmpeg decodes
 * from the keyframe before the seek up to the exact frame, unless `keyframes` asks for that
 * keyframe itself (imgproxy Pro's `video_thumbnail_keyframes`, ffmpeg's `-noaccurate_seek`).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProxyError } from '../../errors.js';
import { isVideoFormat, VIDEO_FORMATS, type VideoFormat } from '../../formats.js';
import { detectImageFormat } from '../../sources/detect.js';
import { defaultPreviewSettings } from './preview-settings.js';
import { runTool, withTempDir } from './tool.js';
import type { Codec, DecodeLimits, DecodeRequest, Decoded, PreviewSettings, Probe, VideoStream } from './types.js';

/** ffmpeg's demuxer for each container we detect. */
const DEMUXER: Readonly<Record<VideoFormat, string>> = { mp4: 'mov', mov: 'mov', webm: 'matroska', mkv: 'matroska', avi: 'avi' };
/** ffprobe's JSON is small; a file that makes it large is not a video we want. */
const MAX_PROBE_OUTPUT = 1024 * 1024;
/** The stream facts asked of ffprobe. */
const PROBE_ENTRIES = 'format=duration,format_name:format_tags:stream=index,codec_type,codec_name,width,height,duration,avg_frame_rate,r_frame_rate,bit_rate,pix_fmt:stream_side_data=rotation';

interface FfprobeJson {
  format?: { duration?: string; tags?: Record<string, string> };
  streams?: {
    index?: number;
    codec_type?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    duration?: string;
    avg_frame_rate?: string;
    r_frame_rate?: string;
    bit_rate?: string;
    side_data_list?: { rotation?: number | string }[];
  }[];
}

function num(v: string | number | undefined): number | undefined {
  const n = typeof v === 'number' ? v : v === undefined ? NaN : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** `30000/1001` → 29.97; `0/0` → undefined. */
function rate(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const [a, b] = v.split('/').map(Number);
  const r = b === undefined ? a : (a ?? NaN) / b;
  return r !== undefined && Number.isFinite(r) && r > 0 ? r : undefined;
}

/** The second a frame is taken at, within the video when its duration is known. */
export function seekSeconds(seek: DecodeRequest['seek'], duration: number | undefined, frameInterval: number | undefined): number {
  let t: number;
  if (seek === undefined) t = 0;
  else if (seek === 'auto') t = duration === undefined ? 0 : duration / 2;
  else if ('ratio' in seek) t = duration === undefined ? 0 : duration * Math.min(Math.max(seek.ratio, 0), 1);
  else t = Math.max(0, seek.seconds);
  if (duration !== undefined) {
    // Past the end is the last frame: the seek lands on the start of that frame.
    const last = Math.max(0, duration - (frameInterval ?? 0.04));
    t = Math.min(t, last);
  }
  return Number.isFinite(t) ? t : 0;
}

function common(s: PreviewSettings): string[] {
  return ['-protocol_whitelist', 'file,pipe', '-probesize', String(s.probeSize), ...(s.analyzeDurationMs > 0 ? ['-analyzeduration', String(s.analyzeDurationMs * 1000)] : [])];
}

async function probeFile(path: string, format: VideoFormat, s: PreviewSettings, limits: DecodeLimits): Promise<Probe> {
  if (s.ffprobe === null) return { width: 0, height: 0, pages: 1, video: { streams: [], tags: {}, unprobed: true } };
  const args = ['-v', 'error', '-hide_banner', ...common(s), '-f', DEMUXER[format], '-show_entries', PROBE_ENTRIES, '-of', 'json', path];
  const out = await runTool(s.ffprobe, args, limits, 'ffprobe', { maxOutput: MAX_PROBE_OUTPUT, failure: 'VIDEO_DECODE_ERROR' });
  let json: FfprobeJson;
  try {
    json = JSON.parse(out.toString('utf8')) as FfprobeJson;
  } catch {
    json = {};
  }
  const streams: VideoStream[] = (json.streams ?? []).map((st) => ({
    index: st.index ?? 0,
    codecType: st.codec_type ?? 'unknown',
    codecName: st.codec_name ?? 'unknown',
    ...(st.width !== undefined ? { width: st.width } : {}),
    ...(st.height !== undefined ? { height: st.height } : {}),
    ...(num(st.duration) !== undefined ? { duration: num(st.duration) } : {}),
    ...(rate(st.avg_frame_rate) ?? rate(st.r_frame_rate) ? { frameRate: rate(st.avg_frame_rate) ?? rate(st.r_frame_rate) } : {}),
    ...(num(st.bit_rate) !== undefined ? { bitRate: num(st.bit_rate) } : {}),
  }));
  const video = (json.streams ?? []).find((st) => st.codec_type === 'video' && (st.width ?? 0) > 0);
  if (!video) throw new ProxyError('VIDEO_DECODE_ERROR', 'ffprobe found no video stream');
  const rotation = Math.abs(num(video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation) ?? 0) % 180;
  const w = video.width ?? 0;
  const h = video.height ?? 0;
  const fps = rate(video.avg_frame_rate) ?? rate(video.r_frame_rate);
  return {
    // ffmpeg turns the frame as the display matrix says.
    width: rotation === 90 ? h : w,
    height: rotation === 90 ? w : h,
    pages: 1,
    duration: num(json.format?.duration) ?? num(video.duration),
    video: { streams, tags: { ...(json.format?.tags ?? {}) }, unprobed: false, frameInterval: fps ? 1 / fps : undefined },
  };
}

async function frameOf(path: string, format: VideoFormat, request: DecodeRequest, probe: Probe, s: PreviewSettings, limits: DecodeLimits): Promise<Decoded> {
  if (s.ffmpeg === null) throw new ProxyError('VIDEO_DECODE_ERROR', `video: ${s.ffmpegMissing}`);
  if (s.maxDuration > 0 && probe.duration !== undefined && probe.duration > s.maxDuration) {
    throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `video: ${Math.round(probe.duration)} s is over PIXPROXY_MAX_VIDEO_DURATION (${s.maxDuration} s)`);
  }
  const t = seekSeconds(request.seek, probe.duration, probe.video?.frameInterval);
  const args = [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    ...common(s),
    '-threads', '1',
    '-max_pixels', String(Math.max(1, Math.min(2 ** 31 - 1, Math.floor(limits.maxPixels)))),
    '-f', DEMUXER[format],
    ...(request.keyframes ? ['-noaccurate_seek'] : []),
    '-ss', t.toFixed(6),
    '-i', path,
    '-map', '0:v:0', '-an', '-sn', '-dn',
    '-frames:v', '1',
    '-filter_threads', '1',
    '-c:v', 'png', '-compression_level', '1',
    '-f', 'image2pipe', 'pipe:1',
  ];
  // 16-bit RGBA at the largest frame allowed, and the PNG overhead.
  const maxOutput = Math.ceil(limits.maxPixels) * 8 + 1024 * 1024;
  const png = await runTool(s.ffmpeg, args, limits, `ffmpeg at ${t} s`, { maxOutput, failure: 'VIDEO_DECODE_ERROR' });
  if (png.length === 0) throw new ProxyError('VIDEO_DECODE_ERROR', `ffmpeg took no frame at ${t} s`);
  return { kind: 'encoded', data: png };
}

/** The probe of a source seen last: readSource probes, then decodes the same bytes. */
const probes = new WeakMap<Buffer, Probe>();

/** `use` with the source in a private temporary file, removed afterwards. */
function withFile<T>(source: Buffer, use: (path: string, format: VideoFormat) => Promise<T>): Promise<T> {
  const format = detectImageFormat(source);
  if (format === null || !isVideoFormat(format)) return Promise.reject(new ProxyError('VIDEO_DECODE_ERROR', 'not a video container'));
  return withTempDir(async (dir) => {
    const path = join(dir, 'source');
    await writeFile(path, source, { mode: 0o600 });
    return use(path, format);
  });
}

const videoDecoder: Codec['decoder'] = {
  probe: (source, limits) =>
    withFile(source, async (path, format) => {
      const p = await probeFile(path, format, limits.previews ?? defaultPreviewSettings(), limits);
      probes.set(source, p);
      return p;
    }),
  decode: (source, request, limits) =>
    withFile(source, async (path, format) => {
      const s = limits.previews ?? defaultPreviewSettings();
      const probe = probes.get(source) ?? (await probeFile(path, format, s, limits));
      return frameOf(path, format, request, probe, s, limits);
    }),
};

/** One row per container: ffmpeg's own availability is the app's (PP_FFMPEG_PATH), said per request. */
export const videoReaders: readonly Codec[] = VIDEO_FORMATS.map((format) => ({ format, by: 'ffmpeg and ffprobe (Debian package ffmpeg, child process)', available: true, decoder: videoDecoder }));
