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
import type { ImageFormat, OutputFormat } from '../../options.js';

/** What bounds one decode: refuse (ProxyError 422) rather than exceed. */
export interface DecodeLimits {
  /** Pixels of one decoded frame or page (IMGPROXY_MAX_SRC_RESOLUTION). */
  readonly maxPixels: number;
  /** Frames or pages decoded at once (IMGPROXY_MAX_ANIMATION_FRAMES, `pages`). */
  readonly maxFrames: number;
  /** Epoch ms by which the answer is due (IMGPROXY_TIMEOUT). */
  readonly deadline: number;
  readonly signal?: AbortSignal | undefined;
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
  /**
   * What the header says the file is, when the sniffer could not tell: an AV1 image in a
   * generic HEIF container (`mif1`) is AVIF, read by libvips.
   */
  readonly format?: ImageFormat | undefined;
}

export interface Decoder {
  probe(source: Buffer, limits: DecodeLimits): Promise<Probe>;
  decode(source: Buffer, request: DecodeRequest, limits: DecodeLimits): Promise<Decoded>;
}

/** The final pixels of the pipeline, as sharp's `raw()` output gives them. */
export interface EncodeInput {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
}

export interface EncodeSettings {
  /** 1–100, from the option, IMGPROXY_FORMAT_QUALITY or IMGPROXY_QUALITY. */
  readonly quality: number;
  /** Format-specific effort (IMGPROXY_JXL_EFFORT, IMGPROXY_AVIF_SPEED…), when it has one. */
  readonly effort?: number | undefined;
  readonly lossless?: boolean | undefined;
  readonly deadline: number;
  readonly signal?: AbortSignal | undefined;
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
