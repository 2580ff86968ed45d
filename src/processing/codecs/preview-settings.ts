/**
 * The settings of the PDF and video decoders, built once per app from its configuration: the
 * ffmpeg and ffprobe binaries are looked for then (one warning line when one is missing, then
 * video sources answer VIDEO_DECODE_ERROR, 422, as PreviewProxy answers without ffmpeg), and
 * the pages, render and duration bounds are read. The pipeline and /info hand them to the
 * registry's decoders in their DecodeLimits: two apps of one process may point at different
 * binaries (PP_FFMPEG_PATH), so these are not the registry's own.
 */
import { dirname, join } from 'node:path';
import { loadConfig, type Config } from '../../config/index.js';
import type { Logger } from '../../observability/logger.js';
import { probeTool, type ToolProbe } from './tool.js';
import type { PreviewSettings } from './types.js';

/** PP_FFPROBE_PATH, else `ffprobe` next to a PP_FFMPEG_PATH path (PreviewProxy's default), else from PATH. */
export function ffprobePathFor(previews: Config['previews']): string {
  if (previews.ffprobePath !== '') return previews.ffprobePath;
  return previews.ffmpegPath.includes('/') ? join(dirname(previews.ffmpegPath), 'ffprobe') : 'ffprobe';
}

/** One `-version` run per binary and process: a tool does not come and go while we run. */
const probed = new Map<string, ToolProbe>();

function ffTool(bin: string): ToolProbe {
  let p = probed.get(bin);
  if (!p) {
    p = bin === '' ? { available: false, reason: 'no path given' } : probeTool(bin, ['-hide_banner', '-version'], (out) => (/\bversion\b/.test(out) ? null : `${bin} -version did not answer`), 'ffmpeg');
    probed.set(bin, p);
  }
  return p;
}

export function previewSettings(config: Config, logger?: Logger): PreviewSettings {
  const p = config.previews;
  const ffmpeg = ffTool(p.ffmpegPath);
  const ffprobeName = ffprobePathFor(p);
  const ffprobe = ffTool(ffprobeName);
  const ffmpegMissing = `ffmpeg not found (PP_FFMPEG_PATH=${p.ffmpegPath}${ffmpeg.reason ? `: ${ffmpeg.reason}` : ''})`;
  if (!ffmpeg.available) logger?.warn({ ffmpeg: p.ffmpegPath }, `${ffmpegMissing}: video sources answer 422; install ffmpeg or set PP_FFMPEG_PATH`);
  else if (!ffprobe.available) logger?.warn({ ffprobe: ffprobeName }, `ffprobe not found (PP_FFPROBE_PATH=${ffprobeName}): videos are not measured before decoding, seek ratios and auto take the first frame`);
  return {
    maxPages: p.maxSrcPages,
    maxRenderPixels: Math.floor(config.security.maxIntermediateResolution * 1e6),
    ffmpeg: ffmpeg.available ? p.ffmpegPath : null,
    ffmpegMissing,
    ffprobe: ffprobe.available ? ffprobeName : null,
    probeSize: p.videoThumbnailProbeSize,
    analyzeDurationMs: p.videoThumbnailMaxAnalyzeDuration,
    maxDuration: p.maxVideoDuration,
  };
}

let defaults: PreviewSettings | undefined;

/** The settings of the default configuration, for a read without an app (watermarks, tests). */
export function defaultPreviewSettings(): PreviewSettings {
  defaults ??= previewSettings(loadConfig({}));
  return defaults;
}
