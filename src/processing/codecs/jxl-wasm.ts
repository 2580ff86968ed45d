/**
 * libjxl as `@jsquash/jxl` ships it in WASM (https://github.com/jamsinclair/jSquash), its
 * decoder and its encoder, each instantiated once per worker thread (worker-entry.ts) and kept
 * for the jobs the worker runs after: the decoder from the package's own `.wasm` file, never
 * fetched; the encoder from the module the main thread compiled once and sent with the job.
 * Only the worker imports this module. The package's own typings speak of the DOM's ImageData,
 * which a Node build does not have: the modules are typed here by what this file uses of them.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

interface JxlImage {
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

/** The part of an Emscripten module the pool's reuse policy reads: its heap, which only grows. */
interface Emscripten {
  readonly HEAPU8: Uint8Array;
}

interface JxlDecodeModule {
  /** Emscripten's module options: `wasmBinary` instantiates from bytes instead of fetching. */
  init(options: { wasmBinary: Uint8Array }): Promise<Emscripten>;
  default(buffer: ArrayBuffer): Promise<JxlImage>;
}

interface JxlEncodeModule {
  init(module: WebAssembly.Module): Promise<Emscripten>;
  default(data: { data: Uint8ClampedArray; width: number; height: number }, options: Record<string, number | boolean>): Promise<ArrayBuffer>;
}

export interface JxlEncodeOptions {
  readonly quality: number;
  readonly effort: number;
  readonly lossless: boolean;
}

const require = createRequire(import.meta.url);
let decoder: Promise<JxlDecodeModule> | undefined;
let encoder: Promise<JxlEncodeModule> | undefined;
/** The instances, once ready, for their heap sizes. */
const instances: Emscripten[] = [];

async function loadDecoder(): Promise<JxlDecodeModule> {
  const wasmBinary = await readFile(require.resolve('@jsquash/jxl/codec/dec/jxl_dec.wasm'));
  const mod = (await import('@jsquash/jxl/decode.js')) as unknown as JxlDecodeModule;
  instances.push(await mod.init({ wasmBinary }));
  return mod;
}

async function loadEncoder(url: string, wasm: WebAssembly.Module): Promise<JxlEncodeModule> {
  const mod = (await import(url)) as JxlEncodeModule;
  instances.push(await mod.init(wasm));
  return mod;
}

/** The first frame as 8-bit RGBA, orientation applied. */
export async function decodeJxlRgba(source: Uint8Array): Promise<JxlImage> {
  decoder ??= loadDecoder();
  const mod = await decoder;
  const copy = source.buffer.slice(source.byteOffset, source.byteOffset + source.byteLength) as ArrayBuffer;
  return mod.default(copy);
}

/** RGBA (8 bits per sample) → a JPEG XL file; `url` is `@jsquash/jxl/encode.js` as the main thread resolved it. */
export async function encodeJxlRgba(url: string, wasm: WebAssembly.Module, pixels: ArrayBuffer, width: number, height: number, o: JxlEncodeOptions): Promise<ArrayBuffer> {
  encoder ??= loadEncoder(url, wasm);
  const mod = await encoder;
  return mod.default({ data: new Uint8ClampedArray(pixels), width, height }, { quality: o.quality, effort: o.effort, lossless: o.lossless });
}

/** Bytes of the WASM heaps loaded in this thread so far. */
export function jxlHeapBytes(): number {
  return instances.reduce((n, m) => n + m.HEAPU8.length, 0);
}
