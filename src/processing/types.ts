/**
 * The processing contract: bytes + options in, bytes + metadata out. Pure with respect to
 * I/O (the watermark image is resolved by the caller and passed in).
 */
import type { ImageFormat, OutputFormat, ProcessingOptions } from '../options.js';

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
  /** Aborts when no client waits for the result any more. */
  signal?: AbortSignal;
  /** Epoch ms after which no client waits for the result (a bound for sharp's own timeout). */
  deadline?: number;
  /** Decoded-ready watermark image bytes, when configured. */
  watermark?: Buffer;
}

export type Processor = (source: Buffer, options: ProcessingOptions, ctx: ProcessContext) => Promise<ProcessResult>;
