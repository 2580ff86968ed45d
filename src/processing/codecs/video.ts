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
 * abort or at the deadline (tool.ts).
 *
 * The seek: seconds, a ratio of the duration, or `auto` (the middle), as PreviewProxy's
 * `seek`; a ratio or `auto` without a known duration (ffprobe missing or silent) is the first
 * frame, as there. Past the end is the last frame, as imgproxy Pro answers. ffmpeg decodes
 * from the keyframe before the seek up to the exact frame, unless `keyframes` asks for that
 * keyframe itself (imgproxy Pro's `video_thumbnail_keyframes`, ffmpeg's `-noaccurate_seek`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyError } from '../../errors.js';
import { isVideoFormat, VIDEO_FORMATS, type VideoFormat } from '../../options.js';
import { detectImageFormat } from '../../sources/detect.js';
import { runTool } from './tool.js';
import type { Codec, DecodeLimits, DecodeRequest, Decoded, Decoder, Probe } from './types.js';

export interface VideoCodecOptions {
  /** Resolved executables; null when missing (then: 422 for ffmpeg, no probe for ffprobe). */
  readonly ffmpeg: string | null;
  readonly ffprobe: string | null;
  /** What to name in errors (PP_FFMPEG_PATH's value). */
  readonly ffmpegName: string;
  /** IMGPROXY_VIDEO_THUMBNAIL_PROBE_SIZE, bytes. */
  readonly probeSize: number;
  /** IMGPROXY_VIDEO_THUMBNAIL_MAX_ANALYZE_DURATION, ms; 0 = ffmpeg's own. */
  readonly analyzeDurationMs: number;
  /** PIXPROXY_MAX_VIDEO_DURATION, seconds; 0 = none. */
  readonly maxDuration: number;
}

/** One stream as ffprobe reports it (imgproxy Pro's `video_meta` entries are these fields). */
export interface VideoStream {
  readonly index: number;
  readonly codecType: string;
  readonly codecName: string;
  readonly width?: number;
  readonly height?: number;
  readonly duration?: number;
  readonly frameRate?: number;
  readonly bitRate?: number;
}

export interface VideoProbe extends Probe {
  readonly streams: readonly VideoStream[];
  /** The container's tags (imgproxy Pro's `video_meta`). */
  readonly tags: Readonly<Record<string, string>>;
  /** ffprobe could not run: size and duration are unknown (width and height are 0). */
  readonly unprobed: boolean;
  /** Seconds between frames of the first video stream, when known. */
  readonly frameInterval?: number | undefined;
}

/** An opened video: its temporary file lives until `close`. */
export interface OpenVideo {
  probe(limits: DecodeLimits): Promise<VideoProbe>;
  frame(request: DecodeRequest, probe: VideoProbe, limits: DecodeLimits): Promise<Decoded>;
  close(): Promise<void>;
}

export interface VideoDecoder extends Decoder {
  open(source: Buffer, format: VideoFormat): Promise<OpenVideo>;
}

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

export function createVideoDecoder(o: VideoCodecOptions): VideoDecoder {
  const common = (): string[] => [
    '-protocol_whitelist', 'file,pipe',
    '-probesize', String(o.probeSize),
    ...(o.analyzeDurationMs > 0 ? ['-analyzeduration', String(o.analyzeDurationMs * 1000)] : []),
  ];

  async function probeFile(path: string, format: VideoFormat, limits: DecodeLimits): Promise<VideoProbe> {
    if (o.ffprobe === null) return { width: 0, height: 0, pages: 1, streams: [], tags: {}, unprobed: true };
    const args = ['-v', 'error', '-hide_banner', ...common(), '-f', DEMUXER[format], '-show_entries', PROBE_ENTRIES, '-of', 'json', path];
    const r = await runTool(o.ffprobe, args, { deadline: limits.deadline, signal: limits.signal, maxStdout: MAX_PROBE_OUTPUT, failure: 'VIDEO_DECODE_ERROR' });
    let json: FfprobeJson;
    try {
      json = JSON.parse(r.stdout.toString('utf8')) as FfprobeJson;
    } catch {
      json = {};
    }
    const streams: VideoStream[] = (json.streams ?? []).map((s) => ({
      index: s.index ?? 0,
      codecType: s.codec_type ?? 'unknown',
      codecName: s.codec_name ?? 'unknown',
      ...(s.width !== undefined ? { width: s.width } : {}),
      ...(s.height !== undefined ? { height: s.height } : {}),
      ...(num(s.duration) !== undefined ? { duration: num(s.duration) } : {}),
      ...(rate(s.avg_frame_rate) ?? rate(s.r_frame_rate) ? { frameRate: rate(s.avg_frame_rate) ?? rate(s.r_frame_rate) } : {}),
      ...(num(s.bit_rate) !== undefined ? { bitRate: num(s.bit_rate) } : {}),
    }));
    const video = (json.streams ?? []).find((s) => s.codec_type === 'video' && (s.width ?? 0) > 0);
    if (r.code !== 0 || !video) throw new ProxyError('VIDEO_DECODE_ERROR', `ffprobe found no video stream${r.stderr ? `: ${r.stderr}` : ''}`);
    const rotation = Math.abs(num(video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation) ?? 0) % 180;
    const w = video.width ?? 0;
    const h = video.height ?? 0;
    const duration = num(json.format?.duration) ?? num(video.duration);
    const fps = rate(video.avg_frame_rate) ?? rate(video.r_frame_rate);
    return {
      // ffmpeg turns the frame as the display matrix says.
      width: rotation === 90 ? h : w,
      height: rotation === 90 ? w : h,
      pages: 1,
      duration,
      streams,
      tags: { ...(json.format?.tags ?? {}) },
      unprobed: false,
      frameInterval: fps ? 1 / fps : undefined,
    };
  }

  async function frameOf(path: string, format: VideoFormat, request: DecodeRequest, probe: VideoProbe, limits: DecodeLimits): Promise<Decoded> {
    if (o.ffmpeg === null) throw new ProxyError('VIDEO_DECODE_ERROR', `video: ffmpeg not found (PP_FFMPEG_PATH=${o.ffmpegName})`);
    if (o.maxDuration > 0 && probe.duration !== undefined && probe.duration > o.maxDuration) {
      throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `video: ${Math.round(probe.duration)} s is over PIXPROXY_MAX_VIDEO_DURATION (${o.maxDuration} s)`);
    }
    const t = seekSeconds(request.seek, probe.duration, probe.frameInterval);
    const args = [
      '-nostdin', '-hide_banner', '-loglevel', 'error',
      ...common(),
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
    const maxStdout = Math.ceil(limits.maxPixels) * 8 + 1024 * 1024;
    const r = await runTool(o.ffmpeg, args, { deadline: limits.deadline, signal: limits.signal, maxStdout, failure: 'VIDEO_DECODE_ERROR' });
    if (r.code !== 0 || r.stdout.length === 0) throw new ProxyError('VIDEO_DECODE_ERROR', `ffmpeg took no frame at ${t} s${r.stderr ? `: ${r.stderr}` : ''}`);
    return { kind: 'encoded', data: r.stdout };
  }

  async function open(source: Buffer, format: VideoFormat): Promise<OpenVideo> {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-video-'));
    const path = join(dir, 'source');
    try {
      await writeFile(path, source, { mode: 0o600 });
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return {
      probe: (limits) => probeFile(path, format, limits),
      frame: (request, probe, limits) => frameOf(path, format, request, probe, limits),
      close: () => rm(dir, { recursive: true, force: true }),
    };
  }

  async function using<T>(source: Buffer, use: (v: OpenVideo) => Promise<T>): Promise<T> {
    const format = detectImageFormat(source);
    if (format === null || !isVideoFormat(format)) throw new ProxyError('VIDEO_DECODE_ERROR', 'not a video container');
    const v = await open(source, format);
    try {
      return await use(v);
    } finally {
      await v.close();
    }
  }

  return {
    open,
    probe: (source, limits) => using(source, (v) => v.probe(limits)),
    decode: (source, request, limits) => using(source, async (v) => v.frame(request, await v.probe(limits), limits)),
  };
}

export function videoCodecs(decoder: VideoDecoder, available: boolean, reason: string): Codec[] {
  return VIDEO_FORMATS.map((format) => ({
    format,
    by: 'ffmpeg (Debian package)',
    available,
    ...(available ? {} : { unavailableReason: reason }),
    decoder,
  }));
}
