/**
 * Auxiliary images read once at startup, the watermark and the fallback image: from base64
 * data, a file or a URL, in that order of precedence, as imgproxy's static provider reads both
 * (auximageprovider/static_provider.go, https://github.com/imgproxy/imgproxy). A configured
 * image that cannot be read stops startup, naming its variable.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from './config/fields.js';

export interface AuxImageSource {
  /** Base64 (standard or URL alphabet, whitespace ignored). */
  readonly data: string;
  readonly path: string;
  readonly url: string;
}

export interface AuxImage {
  readonly image: Buffer;
  /** The variable it came from, for later messages. */
  readonly variable: string;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * `prefix`: the variables' common part (`IMGPROXY_WATERMARK` → `…_DATA`, `…_PATH`, `…_URL`);
 * `what`: the image, for messages. null when none is configured.
 */
export async function readAuxImage(src: AuxImageSource, prefix: string, what: string, fetchUrl: (url: string) => Promise<Buffer>): Promise<AuxImage | null> {
  const which = src.data !== '' ? 'DATA' : src.path !== '' ? 'PATH' : src.url !== '' ? 'URL' : null;
  if (which === null) return null;
  const variable = `${prefix}_${which}`;
  let image: Buffer;
  try {
    if (which === 'DATA') {
      const b64 = src.data.replace(/\s+/g, '');
      if (!BASE64.test(b64)) throw new Error('expected base64-encoded image data');
      image = Buffer.from(b64, 'base64');
    } else {
      image = which === 'PATH' ? await readFile(src.path) : await fetchUrl(src.url);
    }
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read the ${what}: ${(err as Error).message}`);
  }
  if (image.length === 0) throw new ConfigError(`${variable}: the ${what} is empty`);
  return { image, variable };
}
