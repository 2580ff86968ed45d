/**
 * The jobs a codec thread (codec-worker.ts) runs, as messages: plain data plus transferable
 * pixel buffers, so the thread needs nothing from the main thread's modules. One file for both
 * sides keeps the message shapes in one place.
 */

/** JPEG XL through @jsquash/jxl (libjxl compiled to WebAssembly, https://github.com/jamsinclair/jSquash). */
export interface JxlEncodeJob {
  readonly kind: 'jxl-encode';
  /** File URL of `@jsquash/jxl/encode.js`, resolved by the main thread. */
  readonly module: string;
  /** Compiled once by the main thread; a WebAssembly.Module is cloned to threads, not recompiled. */
  readonly wasm: WebAssembly.Module;
  /** RGBA, 8 bits per sample. */
  readonly pixels: ArrayBuffer;
  readonly width: number;
  readonly height: number;
  readonly quality: number;
  /** libjxl effort 1 (fast) – 9 (small). */
  readonly effort: number;
  readonly lossless: boolean;
}

/** pixproxy's own BMP writer (codecs/bmp-write.ts `encodeBmp`). */
export interface BmpEncodeJob {
  readonly kind: 'bmp-encode';
  readonly pixels: ArrayBuffer;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
}

/** Structural dissimilarity of two images of one size and layout (processing/ssim.ts). */
export interface DssimJob {
  readonly kind: 'dssim';
  readonly a: ArrayBuffer;
  readonly b: ArrayBuffer;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

export type CodecJob = JxlEncodeJob | BmpEncodeJob | DssimJob;

/** What a job answers: bytes (encoders), RGBA pixels (decoders) or a number (dssim). */
export type CodecReply =
  | { readonly ok: true; readonly bytes: ArrayBuffer; readonly width?: number; readonly height?: number }
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly error: string };
