/**
 * The processing contract: bytes + options in, bytes + metadata out. Pure with respect to
 * I/O (the watermark image is resolved by the caller and passed in).
 */
import type { ImageFormat, OutputFormat } from '../formats.js';
import type { ProcessingOptions } from '../options.js';

export interface ProcessResult {
  data: Buffer;
  format: OutputFormat;
  contentType: string;
  width: number;
  height: number;
  originFormat: ImageFormat;
  originWidth: number;
  originHeight: number;
}

export interface ProcessContext {
  /** Aborted when nobody waits for the answer any more: no further sharp pass starts. */
  signal?: AbortSignal;
  /**
   * Epoch milliseconds by which the answer is due (the request's IMGPROXY_TIMEOUT): each sharp
   * pass gets the seconds left as its timeout. Default: IMGPROXY_TIMEOUT from the call.
   */
  deadline?: number;
  /** Decoded-ready watermark image bytes, when configured. */
  watermark?: Buffer;
  /** The bytes of the request's own watermark images (`watermark_url`, PreviewProxy `wm`), by URL. */
  marks?: ReadonlyMap<string, Buffer>;
}

export type Processor = (source: Buffer, options: ProcessingOptions, ctx: ProcessContext) => Promise<ProcessResult>;
