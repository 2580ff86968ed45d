/**
 * The schema's `previews` section: PDF pages, PSD composites and video frames (docs/formats.md):
 * whether videos are read, which frame, ffmpeg's lookup and probing, and their own bounds.
 */
import { bool, float, int, str, type SchemaSection } from '../fields.js';

export const previews = {
  enableVideoThumbnails: bool(['IMGPROXY_ENABLE_VIDEO_THUMBNAILS'], false)
    .describe('imgproxy routes take a frame of video sources (mp4, mov, webm, mkv, avi) with ffmpeg; off, a video is an unsupported source (422), as in imgproxy Pro. PreviewProxy routes always do, as PreviewProxy does.'),
  videoThumbnailSecond: float(['IMGPROXY_VIDEO_THUMBNAIL_SECOND'], 1, { min: 0 })
    .describe('Second of the frame taken from a video on imgproxy routes (default of `video_thumbnail_second`); past the end, the last frame. PreviewProxy routes take the first frame unless `seek` says otherwise.'),
  videoThumbnailKeyframes: bool(['IMGPROXY_VIDEO_THUMBNAIL_KEYFRAMES'], false)
    .describe('Takes the keyframe at or before the second instead of decoding up to the exact frame: faster, less exact. Default of `video_thumbnail_keyframes`.'),
  videoThumbnailProbeSize: int(['IMGPROXY_VIDEO_THUMBNAIL_PROBE_SIZE'], 5_000_000, { min: 32 })
    .describe('Bytes ffmpeg and ffprobe read to find the streams of a video (their `-probesize`).'),
  videoThumbnailMaxAnalyzeDuration: int(['IMGPROXY_VIDEO_THUMBNAIL_MAX_ANALYZE_DURATION'], 0, { min: 0 })
    .describe('Milliseconds of a video ffmpeg and ffprobe analyse to find its streams (their `-analyzeduration`); 0 = their own heuristic.'),
  ffmpegPath: str(['PP_FFMPEG_PATH'], 'ffmpeg')
    .describe('The ffmpeg binary (a name looked up in PATH, or a path); checked at startup, one warning line when it is missing, then videos answer 422.'),
  ffprobePath: str(['PP_FFPROBE_PATH'])
    .describe('The ffprobe binary; empty = `ffprobe` next to PP_FFMPEG_PATH when that is a path, else looked up in PATH. Without it a video has no known duration: `seek` ratios and `auto` take the first frame, as in PreviewProxy.'),
  maxVideoSrcFileSize: int(['PIXPROXY_MAX_VIDEO_SRC_FILE_SIZE'], 0, { min: 0 })
    .describe('Largest video source in bytes (422 beyond), in place of IMGPROXY_MAX_SRC_FILE_SIZE for videos; 0 = the same limit as images. Never over PIXPROXY_MAX_SRC_BYTES_CEILING.'),
  maxVideoDuration: float(['PIXPROXY_MAX_VIDEO_DURATION'], 14_400, { min: 0 })
    .describe('Longest video in seconds (422 beyond, from ffprobe, before any frame is decoded); 0 = no limit.'),
  maxSrcPages: int(['PIXPROXY_MAX_SRC_PAGES'], 10_000, { min: 1 })
    .describe('Most pages a PDF source may have (422 beyond, before any page is rendered).'),
} as const satisfies SchemaSection;
