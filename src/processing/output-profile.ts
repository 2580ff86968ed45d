/**
 * What the encoder is told about colour and resolution: imgproxy Pro's `color_profile`
 * (convert to a profile and embed it, https://docs.imgproxy.net/usage/processing#color-profile)
 * and `dpi` (#dpi, with IMGPROXY_STRIP_METADATA_DPI when metadata is stripped).
 *
 * A profile is one of libvips' built-ins (`srgb`, `p3`, `cmyk`) or a file in
 * IMGPROXY_COLOR_PROFILES_DIR named with or without `.icc`/`.icm`; the name was checked at
 * parse time to hold no path, and the file found here must still be a regular file inside the
 * directory once links are resolved. A format that holds no profile ignores the option (as
 * imgproxy does), and CMYK is only written where the format holds CMYK pixels.
 */
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Sharp } from 'sharp';
import { ProxyError } from '../errors.js';
import type { OutputFormat } from '../formats.js';
import { FORMAT_TRAITS } from './format.js';

const BUILTIN = new Set(['srgb', 'p3', 'cmyk']);
const CMYK_FORMATS: ReadonlySet<OutputFormat> = new Set(['jpeg', 'tiff']);

async function inside(dir: string, name: string): Promise<string | null> {
  let root: string;
  try {
    root = await realpath(dir);
  } catch {
    return null;
  }
  for (const candidate of [name, `${name}.icc`, `${name}.icm`]) {
    try {
      const real = await realpath(join(root, candidate));
      if (!real.startsWith(root + sep)) continue;
      if ((await stat(real)).isFile()) return real;
    } catch {
      // not this one
    }
  }
  return null;
}

/** The built-in name or the file's path; an unknown profile is the URL's fault. */
export async function resolveColourProfile(name: string, dir: string): Promise<string> {
  if (BUILTIN.has(name)) return name;
  const path = await inside(dir, name);
  if (!path) throw new ProxyError('INVALID_URL', `Unknown color profile: ${JSON.stringify(name)} (not built in, not in IMGPROXY_COLOR_PROFILES_DIR)`);
  return path;
}

/** Whether `format` can carry `profile` (CMYK needs CMYK pixels: JPEG and TIFF only). */
export function profileFits(profile: string, format: OutputFormat): boolean {
  if (!FORMAT_TRAITS[format].colourProfile) return false;
  return profile !== 'cmyk' || CMYK_FORMATS.has(format);
}

/** The DPI to write, or null to leave sharp's (72). */
export function outputDensity(o: { dpi: number; stripMetadata: boolean }, sourceDensity: number | undefined, stripDpi: number): number | null {
  if (o.dpi > 0) return o.dpi;
  if (o.stripMetadata) return stripDpi;
  return sourceDensity !== undefined && sourceDensity > 0 ? sourceDensity : null;
}

export function withDensity(p: Sharp, dpi: number | null): Sharp {
  // sharp writes 72 unless told otherwise; asking for it again would add an EXIF block.
  return dpi === null || dpi === 72 ? p : p.withDensity(dpi);
}
