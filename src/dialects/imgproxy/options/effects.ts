/**
 * The imgproxy options that change the pixels without changing the geometry: background,
 * colour adjustments, monochrome and duotone, unsharp masking, blurs (whole, areas,
 * progressive), colorize and gradient overlays, sharpen, pixelate; the object-detection ones
 * that pixproxy refuses (https://docs.imgproxy.net/usage/processing#background and after).
 */
import { UNSHARP_MASKING_MODES } from '../../../config/schema/processing.js';
import { ProxyError } from '../../../errors.js';
import type { ProcessingOptions, Ramp, RelativeRect } from '../../../options.js';
import { num } from '../arg-ranges.js';
import { arg, ensureMaxArgs, hexToRgb, invalidArg, objectDetectionUnavailable, parseBool, parseEnum, parseHexColor } from '../args.js';
import { single, type OptionSpec } from './spec.js';

/** Directions by name, as angles clockwise from top-to-bottom (imgproxy Pro `gradient`). */
const DIRECTIONS: Readonly<Record<string, number>> = { down: 0, left: 90, up: 180, right: 270 };

/** `%direction:%start:%stop` of `gradient` and `progressive_blur`; empty arguments keep `prev`. */
function parseRamp(args: readonly string[], prev: Ramp): Ramp {
  const dir = arg(args, 0);
  const angle = dir === '' ? prev.angle : (DIRECTIONS[dir] ?? num('ramp angle', dir, 'direction'));
  const start = arg(args, 1) === '' ? prev.start : num('ramp position', arg(args, 1), 'start');
  const stop = arg(args, 2) === '' ? prev.stop : num('ramp position', arg(args, 2), 'stop');
  return { angle: ((angle % 360) + 360) % 360, start, stop };
}

const DOWN: Ramp = { angle: 0, start: 0, stop: 1 };

/**
 * Enough areas for any face or plate list; each is a blur pass, so a URL cannot ask for
 * thousands of them.
 */
export const MAX_BLUR_AREAS = 64;

function setAdjust(o: ProcessingOptions, key: 'brightness' | 'contrast' | 'saturation', v: string): void {
  o[key] = num(key, v);
}

export const EFFECT_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'background', aliases: ['bg'],
    apply(o, args) {
      if (args.length === 1) {
        o.background = arg(args, 0) === '' ? null : hexToRgb(parseHexColor('background', arg(args, 0)));
        return;
      }
      if (args.length !== 3) throw new ProxyError('INVALID_URL', `Invalid background arguments: expected r:g:b or a hex colour, got ${JSON.stringify(args.join(':'))}`);
      // strconv.ParseUint: digits only, no sign.
      const channel = (name: string, v: string): number => {
        if (!/^\d+$/.test(v)) throw invalidArg(`background ${name}`, 'an integer from 0 to 255', v);
        return num('background channel', v, `background ${name}`);
      };
      o.background = { r: channel('red', arg(args, 0)), g: channel('green', arg(args, 1)), b: channel('blue', arg(args, 2)) };
    },
  },
  { name: 'background_alpha', aliases: ['bga'], apply: single('background_alpha', (o, v) => { o.backgroundAlpha = num('background alpha', v); }) },
  {
    name: 'adjust', aliases: ['a'],
    apply(o, args) {
      ensureMaxArgs('adjust', args, 3);
      if (arg(args, 0) !== '') setAdjust(o, 'brightness', arg(args, 0));
      if (arg(args, 1) !== '') setAdjust(o, 'contrast', arg(args, 1));
      if (arg(args, 2) !== '') setAdjust(o, 'saturation', arg(args, 2));
    },
  },
  { name: 'brightness', aliases: ['br'], apply: single('brightness', (o, v) => setAdjust(o, 'brightness', v)) },
  { name: 'contrast', aliases: ['co'], apply: single('contrast', (o, v) => setAdjust(o, 'contrast', v)) },
  { name: 'saturation', aliases: ['sa'], apply: single('saturation', (o, v) => setAdjust(o, 'saturation', v)) },
  {
    name: 'monochrome', aliases: ['mc'],
    apply(o, args) {
      ensureMaxArgs('monochrome', args, 2);
      const intensity = num('monochrome intensity', arg(args, 0));
      const color = arg(args, 1) !== '' ? parseHexColor('monochrome color', arg(args, 1)) : (o.monochrome?.color ?? 'b3b3b3');
      o.monochrome = intensity === 0 ? null : { intensity, color };
    },
  },
  {
    name: 'duotone', aliases: ['dt'],
    apply(o, args) {
      ensureMaxArgs('duotone', args, 3);
      const intensity = num('duotone intensity', arg(args, 0));
      const dark = arg(args, 1) !== '' ? parseHexColor('duotone color1', arg(args, 1)) : (o.duotone?.dark ?? '000000');
      const light = arg(args, 2) !== '' ? parseHexColor('duotone color2', arg(args, 2)) : (o.duotone?.light ?? 'ffffff');
      o.duotone = intensity === 0 ? null : { intensity, dark, light };
    },
  },
  {
    name: 'unsharp_masking', aliases: ['ush'],
    apply(o, args) {
      ensureMaxArgs('unsharp_masking', args, 3);
      const prev = o.unsharpMasking;
      o.unsharpMasking = {
        mode: arg(args, 0) === '' ? prev.mode : parseEnum('unsharp masking mode', arg(args, 0), UNSHARP_MASKING_MODES),
        weight: arg(args, 1) === '' ? prev.weight : num('unsharp masking weight', arg(args, 1)),
        divider: arg(args, 2) === '' ? prev.divider : num('unsharp masking divider', arg(args, 2)),
      };
    },
  },
  {
    name: 'blur_areas', aliases: ['ba'],
    apply(o, args) {
      const sigma = num('area blur sigma', arg(args, 0), 'blur_areas sigma');
      const coords = args.slice(1);
      if (coords.length % 4 !== 0) {
        throw new ProxyError('INVALID_URL', `Invalid blur_areas arguments: expected %sigma then %left:%top:%width:%height per area, got ${JSON.stringify(args.join(':'))}`);
      }
      if (coords.length / 4 > MAX_BLUR_AREAS) throw new ProxyError('INVALID_URL', `Invalid blur_areas arguments: at most ${MAX_BLUR_AREAS} areas, got ${coords.length / 4}`);
      const areas: RelativeRect[] = [];
      for (let i = 0; i < coords.length; i += 4) {
        const at = (k: number, what: string): number => num('blur area', arg(coords, i + k), `blur area ${what}`);
        areas.push({ left: at(0, 'left'), top: at(1, 'top'), width: at(2, 'width'), height: at(3, 'height') });
      }
      const kept = areas.filter((a) => a.width > 0 && a.height > 0);
      o.blurAreas = sigma === 0 || kept.length === 0 ? null : { sigma, areas: kept };
    },
  },
  {
    name: 'progressive_blur', aliases: ['pbl'],
    apply(o, args) {
      ensureMaxArgs('progressive_blur', args, 4);
      const sigma = num('progressive blur sigma', arg(args, 0), 'progressive_blur sigma');
      const ramp = parseRamp(args.slice(1), o.progressiveBlur ?? DOWN);
      o.progressiveBlur = sigma === 0 ? null : { sigma, ...ramp };
    },
  },
  {
    name: 'blur_detections', aliases: ['bd'],
    apply(o, args) {
      // sigma 0 blurs nothing: nothing to detect.
      if (num('blur', arg(args, 0), 'blur_detections sigma') > 0) throw objectDetectionUnavailable('blur_detections');
    },
  },
  {
    name: 'draw_detections', aliases: ['dd'],
    apply(o, args) {
      if (parseBool(arg(args, 0))) throw objectDetectionUnavailable('draw_detections');
    },
  },
  {
    name: 'colorize', aliases: ['col'],
    apply(o, args) {
      ensureMaxArgs('colorize', args, 3);
      const opacity = num('colorize opacity', arg(args, 0));
      const color = arg(args, 1) !== '' ? parseHexColor('colorize color', arg(args, 1)) : (o.colorize?.color ?? '000000');
      const keepAlpha = arg(args, 2) !== '' ? parseBool(arg(args, 2)) : (o.colorize?.keepAlpha ?? false);
      o.colorize = opacity === 0 ? null : { opacity, color, keepAlpha };
    },
  },
  {
    name: 'gradient', aliases: ['gr'],
    apply(o, args) {
      ensureMaxArgs('gradient', args, 5);
      const opacity = num('gradient opacity', arg(args, 0));
      const color = arg(args, 1) !== '' ? parseHexColor('gradient color', arg(args, 1)) : (o.gradient?.color ?? '000000');
      const ramp = parseRamp(args.slice(2), o.gradient ?? DOWN);
      o.gradient = opacity === 0 ? null : { opacity, color, ...ramp };
    },
  },
  // 0 = off (imgproxy applies them only when > 0).
  { name: 'blur', aliases: ['bl'], apply: single('blur', (o, v) => { o.blur = num('blur', v); }) },
  { name: 'sharpen', aliases: ['sh'], apply: single('sharpen', (o, v) => { o.sharpen = num('sharpen', v); }) },
  { name: 'pixelate', aliases: ['pix'], apply: single('pixelate', (o, v) => { o.pixelate = num('pixelate', v); }) },
];
