/**
 * The output stage: the result's final format and quality, then its bytes (metadata, grey or
 * 16-bit colourspace, the encoder of encode.ts), with imgproxy Pro's `best` format, autoquality
 * and the max_bytes search, which encode the held result several times.
 */
import type { Sharp } from 'sharp';
import type { OutputFormat } from '../formats.js';
import type { BestFormatOptions } from '../options.js';
import { byDssim, bySize, qualityRange } from './autoquality.js';
import { imageDensity, planBest, smallest } from './best-format.js';
import { dssimOf, toRgba } from './compare.js';
import { writeImage } from './encode.js';
import { fitBytes } from './fit-bytes.js';
import { chooseOutputFormat, finalFormat, FORMAT_TRAITS, resolveQuality, writableFormats, type EncodeSettings } from './format.js';
import { framePixels, toFrame, type Pixels } from './frame.js';
import { WHITE, type Job } from './job.js';
import { greyFor } from './keeps-grey.js';
import { exifText } from './metadata-readers.js';
import { outputDensity, profileFits, withDensity } from './output-profile.js';

/** EXIF text, XMP and ICC handling that sharp allows once the pixels went through raw buffers. */
function withMetadata(p: Sharp, job: Job, format: OutputFormat): Sharp {
  const { o, info } = job;
  let out = p;
  const exif = o.stripMetadata ? (o.keepCopyright ? exifText(info.exif, false) : {}) : exifText(info.exif, true);
  if (Object.keys(exif).length > 0 && format !== 'gif') out = out.withExif({ IFD0: exif });
  if (!o.stripMetadata && info.xmp) out = out.withXmp(info.xmp);
  // Pixels are already sRGB; keeping "a" profile means tagging them as sRGB. Not for grey
  // output: an RGB profile on one channel is wrong, and tagging would convert it back to RGB.
  // A `color_profile` converts to its profile and embeds it whatever strip_color_profile says.
  const keep = !o.stripColorProfile && !job.grey && FORMAT_TRAITS[format].colourProfile ? 'srgb' : null;
  const profile = job.profile !== null && profileFits(job.profile, format) ? job.profile : keep;
  if (profile) out = out.withIccProfile(profile);
  return withDensity(out, outputDensity(o, info.density, job.config.processing.stripMetadataDpi));
}

export interface Animation {
  delay: number[];
  frameHeight: number;
  loop: number;
}

export interface Encoded {
  data: Buffer;
  format: OutputFormat;
  width: number;
  height: number;
}

/**
 * The encode exit: `source` written as `format` at a quality (grey or 16-bit colourspace,
 * metadata, then the encoder of encode.ts). A `best` candidate without alpha gets the pixels
 * flattened as the pipeline would have flattened them for it.
 */
function writer(job: Job, source: Pixels, format: OutputFormat, animation: EncodeSettings['animation']): (quality: number, lossless?: boolean) => Promise<Buffer> {
  const sixteen = source.depth === 'ushort' && (format === 'png' || format === 'tiff');
  const grey = greyFor(job, format);
  return (quality, lossless) => {
    let p = source.open();
    if (source.hasAlpha && !FORMAT_TRAITS[format].alpha) p = p.flatten({ background: job.o.background ?? WHITE });
    if (sixteen) p = p.toColourspace(grey ? 'grey16' : 'rgb16');
    else if (grey) p = p.toColourspace('b-w');
    p = withMetadata(p, { ...job, grey }, format);
    return writeImage(p, { format, quality, animation, alpha: source.hasAlpha && FORMAT_TRAITS[format].alpha, sixteen, lossless }, job.o, job.config, job.run);
  };
}

/** Held pixels, for the steps that encode the same result several times. */
async function held(px: Pixels): Promise<Pixels> {
  return framePixels(await toFrame(px.open(), px, px));
}

/** `best`: the candidates of best-format.ts tried on the result (a still image). */
async function encodeBest(job: Job, px: Pixels, best: BestFormatOptions): Promise<Encoded> {
  const source = await held(px);
  const plan = await planBest(best, {
    sourceFormat: job.info.format,
    width: source.width,
    height: source.height,
    hasAlpha: source.hasAlpha,
    smallAvif: job.o.smallAvif,
    density: () => imageDensity(source.open, source.width, source.height, job.run),
  });
  const encodeAs = (f: OutputFormat): Promise<Buffer> => writer(job, source, f, null)(resolveQuality(f, job.o, job.config), plan.simple && f === 'webp');
  const first = plan.formats[0] as OutputFormat;
  const won = plan.trial ? await smallest(plan.formats, encodeAs) : { format: first, data: await encodeAs(first) };
  return { ...won, width: source.width, height: source.height };
}

/** Whether autoquality searches the quality of this result (imgproxy Pro's conditions). */
function autoqualityApplies(job: Job, format: OutputFormat, lossy: boolean, px: Pixels, anim: Animation | null): boolean {
  const max = job.config.processing.autoqualityMaxResolution;
  return job.o.autoquality.method !== 'none' && lossy && anim === null && !(max > 0 && (px.width * px.height) / 1e6 > max);
}

export async function encode(job: Job, px: Pixels, anim: Animation | null): Promise<Encoded> {
  const { o } = job;
  if (o.bestFormat !== null && o.format === null && anim === null) return encodeBest(job, px, o.bestFormat);
  const frameHeight = anim ? anim.frameHeight : px.height;
  const input = { sourceFormat: job.info.format, hasAlpha: job.info.hasAlpha, animated: anim !== null };
  const format = finalFormat(job.format, { width: px.width, height: frameHeight, hasAlpha: px.hasAlpha }, o, (without) =>
    chooseOutputFormat(input, o, job.config, new Set([...writableFormats()].filter((f) => f !== without))),
  );
  const quality = resolveQuality(format, o, job.config);
  const animation = anim ? { loop: anim.loop, delay: anim.delay } : null;
  // A TIFF with alpha or 16-bit samples is written losslessly: no quality to search.
  const lossy = FORMAT_TRAITS[format].quality && !(format === 'tiff' && (px.hasAlpha || px.depth === 'ushort'));
  const fit = o.maxBytes > 0 && lossy;
  const auto = autoqualityApplies(job, format, lossy, px, anim);
  // max_bytes and autoquality encode several times: decode and resize once, not once per quality.
  const source = (fit || auto) && !anim ? await held(px) : px;
  const write = writer(job, source, format, animation);
  let q = quality;
  let data: Buffer | null = null;
  if (auto) {
    const range = qualityRange(format, o.autoquality, job.config);
    const aq = o.autoquality;
    const found =
      aq.method === 'size'
        ? await bySize(write, range, aq.target, job.run.signal)
        : await (async () => {
            const reference = await toRgba(source.open(), job.run);
            return byDssim(write, (d) => dssimOf(reference, d, format, job.run), range, aq.target, aq.allowedError, job.run.signal);
          })();
    q = found.quality;
    data = found.data;
  }
  if (fit && (data === null || data.length > o.maxBytes)) data = await fitBytes(write, q, o.maxBytes, job.run.signal);
  data ??= await write(q);
  // The size the pixels were built to (sharp's info can misreport it, see toFrame).
  return { data, format, width: px.width, height: frameHeight };
}
