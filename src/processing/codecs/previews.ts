/**
 * The preview codecs, PDF, PSD/PSB and video, as rows of the format registry (types.ts
 * `Codec`), built once from the configuration: one worker pool shared by PDFium and the PSD
 * reader, the ffmpeg and ffprobe binaries looked up at startup (one warning line when one is
 * missing, then video sources answer VIDEO_DECODE_ERROR, 422, as PreviewProxy answers without
 * ffmpeg). `close` ends the workers.
 */
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../observability/logger.js';
import type { CodecJob, CodecResult } from './codec-worker.js';
import { createPdfDecoder, pdfCodec, type PdfDecoder } from './pdf.js';
import { createPsdDecoder, psdCodec } from './psd.js';
import { findTool } from './tool.js';
import type { Codec, Decoder } from './types.js';
import { createVideoDecoder, videoCodecs, type VideoDecoder } from './video.js';
import { createWorkerPool, workerScript } from './worker-pool.js';

export interface PreviewCodecs {
  /** Registry rows: pdf, psd and the video containers. */
  readonly codecs: readonly Codec[];
  readonly pdf: PdfDecoder;
  readonly psd: Decoder;
  readonly video: VideoDecoder;
  /** Whether ffmpeg was found (videos can be previewed). */
  readonly videoAvailable: boolean;
  close(): Promise<void>;
}

/** PP_FFPROBE_PATH, else `ffprobe` next to a PP_FFMPEG_PATH path (PreviewProxy's default), else from PATH. */
export function ffprobePathFor(previews: Config['previews']): string {
  if (previews.ffprobePath !== '') return previews.ffprobePath;
  return previews.ffmpegPath.includes('/') ? join(dirname(previews.ffmpegPath), 'ffprobe') : 'ffprobe';
}

export function createPreviewCodecs(config: Config, logger?: Logger): PreviewCodecs {
  const p = config.previews;
  const pool = createWorkerPool<CodecJob, CodecResult>({
    script: workerScript(import.meta.url, 'codec-worker'),
    size: Math.max(1, availableParallelism()),
    crashCode: 'UNSUPPORTED_IMAGE',
  });
  const ffmpeg = findTool(p.ffmpegPath);
  const ffprobeName = ffprobePathFor(p);
  const ffprobe = findTool(ffprobeName);
  if (ffmpeg === null) logger?.warn({ ffmpeg: p.ffmpegPath }, `ffmpeg not found (PP_FFMPEG_PATH=${p.ffmpegPath}): video sources answer 422; install ffmpeg or set PP_FFMPEG_PATH`);
  else if (ffprobe === null) logger?.warn({ ffprobe: ffprobeName }, `ffprobe not found (PP_FFPROBE_PATH=${ffprobeName}): videos are not measured before decoding, seek ratios and auto take the first frame`);
  const pdf = createPdfDecoder(pool, { maxPages: p.maxSrcPages });
  const psd = createPsdDecoder(pool);
  const video = createVideoDecoder({
    ffmpeg,
    ffprobe,
    ffmpegName: p.ffmpegPath,
    probeSize: p.videoThumbnailProbeSize,
    analyzeDurationMs: p.videoThumbnailMaxAnalyzeDuration,
    maxDuration: p.maxVideoDuration,
  });
  return {
    codecs: [pdfCodec(pdf), psdCodec(psd), ...videoCodecs(video, ffmpeg !== null, `ffmpeg not found (PP_FFMPEG_PATH=${p.ffmpegPath})`)],
    pdf,
    psd,
    video,
    videoAvailable: ffmpeg !== null,
    close: () => pool.close(),
  };
}
