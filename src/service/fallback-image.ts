/**
 * The fallback image, read once at startup as both peers do (src/aux-image.ts):
 * IMGPROXY_/PP_FALLBACK_IMAGE_DATA (base64) wins over _PATH, which wins over _URL (fetched like
 * a source). Anything that is not an image we can detect stops startup, where PreviewProxy
 * would serve it as `application/octet-stream` (src/modules/proxy/fallback.rs,
 * https://github.com/ViGrise/previewproxy).
 */
import { readAuxImage } from '../aux-image.js';
import type { Config } from '../config/index.js';
import { ConfigError } from '../config/fields.js';
import { detectImageFormat } from '../sources/detect.js';

/**
 * null when none is configured. `fetchUrl`: how a URL source is downloaded; `preprocessUrl`:
 * imgproxy's source URL preprocessing (URL replacements, base URL), applied to the URL with
 * IMGPROXY_FALLBACK_IMAGE_PREPROCESS_URL.
 */
export async function loadFallbackImage(config: Pick<Config, 'processing'>, fetchUrl: (url: string) => Promise<Buffer>, preprocessUrl: (url: string) => string = (u) => u): Promise<Buffer | null> {
  const p = config.processing;
  const url = p.fallbackImagePreprocessUrl && p.fallbackImageUrl !== '' ? preprocessUrl(p.fallbackImageUrl) : p.fallbackImageUrl;
  // IMGPROXY_FALLBACK_IMAGE_* and PP_FALLBACK_IMAGE_* are one setting: messages name the first.
  const aux = await readAuxImage({ data: p.fallbackImageData, path: p.fallbackImagePath, url }, 'IMGPROXY_FALLBACK_IMAGE', 'fallback image', fetchUrl);
  if (aux === null) return null;
  if (detectImageFormat(aux.image) === null) throw new ConfigError(`${aux.variable}: expected an image, got ${aux.image.length} bytes of no known image format`);
  return aux.image;
}
