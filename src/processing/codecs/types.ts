/**
 * The contract of a codec: what one entry of the format registry (`./index.ts`) knows about
 * one format that libvips, as shipped with sharp, cannot read or write by itself (JPEG XL,
 * HEIC with HEVC, BMP, ICO, PSD, PDF, video frames…). libvips' own formats need no codec: the
 * registry marks them as read and written by sharp.
 *
 * A decoder turns the source bytes into something sharp reads (`raw` pixels or an encoded
 * image in a format sharp loads, usually PNG), never larger than the limits it is given; an
 * encoder turns the pipeline's final pixels into the format's bytes. Both run off the main
 * thread (a worker thread for WASM and JavaScript codecs, a child process for tools such as
 * ffmpeg) and stop when `signal` aborts or `deadline` passes: a child process is killed, a
 * worker terminated.
 */
import type { ImageFormat, OutputFormat } from '../../formats.js';

/** What stops work run off the main thread: a worker is terminated, a tool killed. */
export interface StopLimits {
  /** Epoch ms by which the answer is due (IMGPROXY_TIMEOUT). */
  readonly deadline: number;
  /** Fires when nobody waits for the answer any more. */
  readonly signal?: AbortSignal | undefined;
}

/** What bounds one decode: refuse (ProxyError 422) rather than exceed. */
export interface DecodeLimits extends StopLimits {
  /** Pixels of one decoded frame or page (IMGPROXY_MAX_SRC_RESOLUTION). */
  readonly maxPixels: number;
  /** Frames or pages decoded at once (IMGPROXY_MAX_ANIMATION_FRAMES, `pages`). */
  readonly maxFrames: number;
  /** The app's settings of the PDF and video decoders; their defaults when absent. */
  readonly previews?: PreviewSettings | undefined;
}

/** What the PDF and video decoders are configured with (preview-settings.ts builds it from the configuration). */
export interface PreviewSettings {
  /** PIXPROXY_MAX_SRC_PAGES: a PDF with more pages is refused before any is rendered. */
  readonly maxPages: number;
  /** Pixels a PDF may be rendered at (PIXPROXY_MAX_INTERMEDIATE_RESOLUTION): a vector is drawn at the size asked. */
  readonly maxRenderPixels: number;
  /** ffmpeg's path, or null with the reason it is missing (then videos answer VIDEO_DECODE_ERROR). */
  readonly ffmpeg: string | null;
  readonly ffmpegMissing: string;
  /** ffprobe's path, or null (then a video has no known size or duration). */
  readonly ffprobe: string | null;
  /** IMGPROXY_VIDEO_THUMBNAIL_PROBE_SIZE, bytes. */
  readonly probeSize: number;
  /** IMGPROXY_VIDEO_THUMBNAIL_MAX_ANALYZE_DURATION, ms; 0 = ffmpeg's own. */
  readonly analyzeDurationMs: number;
  /** PIXPROXY_MAX_VIDEO_DURATION, seconds; 0 = none. */
  readonly maxDuration: number;
}

/** Which part of a multi-part source is wanted. */
export interface DecodeRequest {
  /** 0-based first page or frame (imgproxy's `page`, PDF/TIFF/animations). */
  readonly page?: number | undefined;
  /** How many pages from `page` (imgproxy's `pages`). */
  readonly pages?: number | undefined;
  /**
   * Video only: where to take the frame. Seconds, or a ratio of the duration (PreviewProxy's
   * `seek:0.25r`), or `auto` (a representative frame); IMGPROXY_VIDEO_THUMBNAIL_SECOND when unset.
   */
  readonly seek?: { readonly seconds: number } | { readonly ratio: number } | 'auto' | undefined;
  /** Video only: the keyframe at or before `seek` rather than the exact frame (imgproxy Pro's `video_thumbnail_keyframes`). */
  readonly keyframes?: boolean | undefined;
  /** Vector formats (PDF): pixels per unit of the probed size (1 = the size `probe` gives). */
  readonly scale?: number | undefined;
  /** 16-bit samples for a source that has more than 8 (preserve_hdr); 8-bit otherwise. */
  readonly highDepth?: boolean | undefined;
  /**
   * The size the result is drawn at, when it is known before the decode: a source that holds
   * several resolutions (ICO) decodes the smallest that still covers it.
   */
  readonly size?: { readonly width: number; readonly height: number } | undefined;
}

/**
 * How strictly libvips reads encoded input (sharp's `failOn`). `error` by default; a format
 * whose real files commonly carry recoverable damage can ask for less (TIFF: `none`, as
 * libvips and imgproxy read it).
 */
export type FailOn = 'none' | 'truncated' | 'error' | 'warning';

/** What sharp is given instead of the source bytes. */
export type Decoded =
  | { readonly kind: 'encoded'; readonly data: Buffer; readonly failOn?: FailOn | undefined }
  | {
      readonly kind: 'raw';
      readonly data: Buffer;
      readonly width: number;
      readonly height: number;
      readonly channels: 1 | 2 | 3 | 4;
      /** 16-bit samples (sharp's `ushort`); 8-bit when absent. */
      readonly depth?: 'uchar' | 'ushort';
    };

/** Header facts, read without decoding pixels (for limits and /info). */
export interface Probe {
  readonly width: number;
  readonly height: number;
  /** Pages (PDF, multi-page TIFF), frames (animations) or 1. */
  readonly pages: number;
  /** Video only: seconds. */
  readonly duration?: number | undefined;
  readonly hasAlpha?: boolean | undefined;
  /** Samples of more than 8 bits (16-bit PSD, 10-bit video…). */
  readonly highDepth?: boolean | undefined;
  /** Video only: what ffprobe said of the streams and the container (imgproxy Pro's `video_meta`). */
  readonly video?: VideoFacts | undefined;
  /**
   * What the header says the file is, when the sniffer could not tell: an AV1 image in a
   * generic HEIF container (`mif1`) is AVIF, read by libvips.
   */
  readonly format?: ImageFormat | undefined;
}

/** One stream as ffprobe reports it (imgproxy Pro's `video_streams` entries are these fields). */
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

export interface VideoFacts {
  readonly streams: readonly VideoStream[];
  /** The container's tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** ffprobe could not run: size and duration are unknown (width and height are 0). */
  readonly unprobed: boolean;
  /** Seconds between frames of the first video stream, when known. */
  readonly frameInterval?: number | undefined;
}

export interface Decoder {
  /** The header facts; `select` says which pages a paged vector format (PDF) is measured on. */
  probe(source: Buffer, limits: DecodeLimits, select?: DecodeRequest): Promise<Probe>;
  decode(source: Buffer, request: DecodeRequest, limits: DecodeLimits): Promise<Decoded>;
}

/** The final pixels of the pipeline, as sharp's `raw()` output gives them. */
export interface EncodeInput {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
}

export interface EncodeSettings extends StopLimits {
  /** 1–100, from the option, IMGPROXY_FORMAT_QUALITY or IMGPROXY_QUALITY. */
  readonly quality: number;
  /** Format-specific effort (IMGPROXY_JXL_EFFORT, IMGPROXY_AVIF_SPEED…), when it has one. */
  readonly effort?: number | undefined;
  readonly lossless?: boolean | undefined;
}

export interface Encoder {
  encode(pixels: EncodeInput, settings: EncodeSettings): Promise<Buffer>;
}

/**
 * One row of the registry. `by` says what does the work, for the docs' format table and the
 * startup log: `libvips`, an npm package name, or a Debian tool name. A codec whose tool or
 * package is missing is registered with `available: false` and a reason: the format is then
 * refused with a clear error (and named once at startup), never half-done.
 */
export interface Codec {
  readonly format: ImageFormat | OutputFormat;
  readonly by: string;
  readonly available: boolean;
  readonly unavailableReason?: string | undefined;
  readonly decoder?: Decoder | undefined;
  readonly encoder?: Encoder | undefined;
}
