/**
 * libjxl's decoder as `@jsquash/jxl` ships it in WASM, loaded once per worker thread
 * (decode-worker.ts): the module is instantiated from the package's own `.wasm` file, never
 * fetched. Only the worker imports this module.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

interface JxlImage {
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

interface JxlDecodeModule {
  /** Emscripten's module options: `wasmBinary` instantiates from bytes instead of fetching. */
  init(options: { wasmBinary: Uint8Array }): Promise<unknown>;
  default(buffer: ArrayBuffer): Promise<JxlImage>;
}

const require = createRequire(import.meta.url);
let ready: Promise<JxlDecodeModule> | undefined;

async function load(): Promise<JxlDecodeModule> {
  const wasmBinary = await readFile(require.resolve('@jsquash/jxl/codec/dec/jxl_dec.wasm'));
  const mod = (await import('@jsquash/jxl/decode.js')) as unknown as JxlDecodeModule;
  await mod.init({ wasmBinary });
  return mod;
}

/** The first frame as 8-bit RGBA, orientation applied. */
export async function decodeJxlRgba(source: Uint8Array): Promise<JxlImage> {
  ready ??= load();
  const mod = await ready;
  const copy = source.buffer.slice(source.byteOffset, source.byteOffset + source.byteLength) as ArrayBuffer;
  return mod.default(copy);
}
