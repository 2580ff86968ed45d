/**
 * Whether a result stays grey: frames run through the pipeline as sRGB, and a grey source
 * (or one made grey) is written back as one channel unless an option, a mark or the output
 * format adds colour, as imgproxy keeps the colourspace.
 */
import type { OutputFormat } from '../formats.js';
import type { ProcessingOptions, Rgb } from '../options.js';
import type { SourceInfo } from './codecs/source.js';
import { stagesOf, type Job } from './job.js';
import type { MarkSource } from './watermark-mark.js';

function isGreyRgb(c: Rgb | null): boolean {
  return c === null || (c.r === c.g && c.g === c.b);
}

const isGreyHex = (hex: string): boolean => /^([0-9a-f]{2})\1\1$/i.test(hex);

/** Whether a pipeline's options can add colour to a grey image (`mark`: the one it draws). */
function addsColour(o: ProcessingOptions, mark: MarkSource | null): boolean {
  return (
    !isGreyRgb(o.background) ||
    (o.monochrome !== null && !isGreyHex(o.monochrome.color)) ||
    (o.duotone !== null && !(isGreyHex(o.duotone.dark) && isGreyHex(o.duotone.light))) ||
    (o.colorize !== null && !isGreyHex(o.colorize.color)) ||
    (o.gradient !== null && !isGreyHex(o.gradient.color)) ||
    // Text marks are coloured by their markup (rawMark is never grey); no mark adds nothing.
    (o.watermark !== null && mark !== null && !mark.grey)
  );
}

/**
 * Frames run through the pipeline as sRGB (sharp's raw output), so a grey source (or one made
 * grey by a grey monochrome) would come out with three equal channels. imgproxy keeps the
 * colourspace: we convert back to b-w at encode time unless an operation can add colour (a
 * coloured background or tint, a watermark that is not grey itself, a colour output like
 * WebP/AVIF whose encoders store RGB anyway).
 */
export function keepsGrey(info: SourceInfo, o: ProcessingOptions, format: OutputFormat, marks: readonly (MarkSource | null)[]): boolean {
  const stages = stagesOf(o);
  // A full-intensity grey monochrome makes any source grey (PreviewProxy's `grayscale`
  // answers one-channel luma, https://docs.rs/image DynamicImage::grayscale).
  const greyed = stages.some((s) => s.monochrome !== null && s.monochrome.intensity >= 1);
  if (!info.grey && !greyed) return false;
  // A grey watermark on a grey image keeps it grey, as imgproxy keeps the result's colourspace
  // (processing/colorspace_test.go TestWatermarkColorspace): the mark's greyness is what the
  // source reader found in it (codecs/source.ts), so a BMP, ICO or HEIC mark is judged too.
  if (stages.some((s, i) => addsColour(s, marks[i] ?? null))) return false;
  // An embedded colour profile is an RGB (or CMYK) one.
  if (o.colorProfile !== null) return false;
  return format === 'jpeg' || format === 'png' || format === 'tiff' || format === 'gif';
}

/** keepsGrey for a result written as `format` (a `best` candidate or the chosen format). */
export function greyFor(job: Omit<Job, 'grey'>, format: OutputFormat): boolean {
  return keepsGrey(job.info, job.o, format, job.marks) && !job.frameColours;
}
