/**
 * The imgproxy options that decide the result's geometry: sizes and resizing, zoom and dpr,
 * extend, gravity, crop (and its aspect ratio), objects position, trim, padding, rotation
 * and flips (https://docs.imgproxy.net/usage/processing#resizing-type and after).
 */
import { ProxyError } from '../../../errors.js';
import { OBJECTS_POSITION_TYPES, RESIZING_ALGORITHMS, RESIZING_TYPES, type ExtendOptions, type ProcessingOptions } from '../../../options.js';
import { num } from '../arg-ranges.js';
import { CROP_GRAVITIES, EXTEND_GRAVITIES, arg, ensureMaxArgs, objectDetectionUnavailable, parseBool, parseEnum, parseGravity, parseHexColor } from '../args.js';
import { boolOption, single, type OptionSpec } from './spec.js';

function applySize(o: ProcessingOptions, args: readonly string[]): void {
  ensureMaxArgs('size', args, 7);
  if (arg(args, 0) !== '') o.width = num('width', arg(args, 0));
  if (arg(args, 1) !== '') o.height = num('height', arg(args, 1));
  if (arg(args, 2) !== '') o.enlarge = parseBool(arg(args, 2));
  if (arg(args, 3) !== '') o.extend = parseExtend('extend', args.slice(3), o.extend);
}

function parseExtend(name: string, args: readonly string[], prev: ExtendOptions): ExtendOptions {
  ensureMaxArgs(name, args, 4);
  const enabled = parseBool(arg(args, 0));
  const gravity = args.length > 1 ? parseGravity(`${name} gravity`, args.slice(1), EXTEND_GRAVITIES, prev.gravity) : { ...prev.gravity };
  return { enabled, gravity };
}

export const GEOMETRY_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'resize', aliases: ['rs'],
    apply(o, args) {
      ensureMaxArgs('resize', args, 8);
      if (arg(args, 0) !== '') o.resizingType = parseEnum('resizing type', arg(args, 0), RESIZING_TYPES);
      if (args.length > 1) applySize(o, args.slice(1));
    },
  },
  { name: 'size', aliases: ['s'], apply: (o, args) => applySize(o, args) },
  { name: 'resizing_type', aliases: ['rt'], apply: single('resizing_type', (o, v) => { o.resizingType = parseEnum('resizing type', v, RESIZING_TYPES); }) },
  { name: 'resizing_algorithm', aliases: ['ra'], apply: single('resizing_algorithm', (o, v) => { o.resizingAlgorithm = parseEnum('resizing algorithm', v, RESIZING_ALGORITHMS); }) },
  { name: 'width', aliases: ['w'], apply: single('width', (o, v) => { o.width = num('width', v); }) },
  { name: 'height', aliases: ['h'], apply: single('height', (o, v) => { o.height = num('height', v); }) },
  { name: 'min-width', aliases: ['mw'], apply: single('min-width', (o, v) => { o.minWidth = num('min-width', v); }) },
  { name: 'min-height', aliases: ['mh'], apply: single('min-height', (o, v) => { o.minHeight = num('min-height', v); }) },
  {
    name: 'zoom', aliases: ['z'],
    apply(o, args) {
      ensureMaxArgs('zoom', args, 2);
      o.zoomX = num('zoom', arg(args, 0), 'zoom x');
      o.zoomY = args.length > 1 ? num('zoom', arg(args, 1), 'zoom y') : o.zoomX;
    },
  },
  { name: 'dpr', aliases: [], apply: single('dpr', (o, v) => { o.dpr = num('dpr', v); }) },
  boolOption('enlarge', ['el'], 'enlarge'),
  { name: 'extend', aliases: ['ex'], apply: (o, args) => { o.extend = parseExtend('extend', args, o.extend); } },
  { name: 'extend_aspect_ratio', aliases: ['extend_ar', 'exar'], apply: (o, args) => { o.extendAspectRatio = parseExtend('extend_aspect_ratio', args, o.extendAspectRatio); } },
  { name: 'gravity', aliases: ['g'], apply: (o, args) => { o.gravity = parseGravity('gravity', args, CROP_GRAVITIES, o.gravity); } },
  {
    name: 'crop', aliases: ['c'],
    apply(o, args) {
      const width = num('crop size', arg(args, 0), 'crop width');
      const height = args.length > 1 ? num('crop size', arg(args, 1), 'crop height') : (o.crop?.height ?? 0);
      const gravity = args.length > 2
        ? parseGravity('crop gravity', args.slice(2), CROP_GRAVITIES, o.crop?.gravity ?? { type: 'ce', x: 0, y: 0 })
        : (o.crop?.gravity ?? null);
      // 0:0 crops nothing whatever the gravity: one normal form for the cache key.
      o.crop = width === 0 && height === 0 ? null : { width, height, gravity };
    },
  },
  {
    name: 'crop_aspect_ratio', aliases: ['crop_ar', 'car'],
    apply(o, args) {
      ensureMaxArgs('crop_aspect_ratio', args, 2);
      const ratio = arg(args, 0) === '' ? (o.cropAspectRatio?.ratio ?? 0) : num('crop aspect ratio', arg(args, 0));
      const enlarge = arg(args, 1) === '' ? (o.cropAspectRatio?.enlarge ?? false) : parseBool(arg(args, 1));
      o.cropAspectRatio = ratio === 0 ? null : { ratio, enlarge };
    },
  },
  {
    name: 'objects_position', aliases: ['obj_pos', 'op'],
    apply(o, args) {
      const type = parseEnum('objects position type', arg(args, 0), OBJECTS_POSITION_TYPES);
      if (type === 'prop') {
        ensureMaxArgs('objects_position', args, 1);
        o.objectsPosition = { type, x: 0, y: 0 };
        return;
      }
      const g = parseGravity('objects_position', args, EXTEND_GRAVITIES, { type: 'ce', x: o.objectsPosition.x, y: o.objectsPosition.y });
      o.objectsPosition = { type, x: g.x, y: g.y };
    },
  },
  {
    // `co` is contrast's alias too in Pro's docs; contrast keeps it here (it came first).
    name: 'crop_objects', aliases: [],
    apply() {
      throw objectDetectionUnavailable('crop_objects');
    },
  },
  {
    name: 'trim', aliases: ['t'],
    apply(o, args) {
      ensureMaxArgs('trim', args, 4);
      const threshold = arg(args, 0) === '' ? null : num('trim threshold', arg(args, 0));
      const color = arg(args, 1) === '' ? null : parseHexColor('trim color', arg(args, 1));
      const equalHor = arg(args, 2) === '' ? (o.trim?.equalHor ?? false) : parseBool(arg(args, 2));
      const equalVer = arg(args, 3) === '' ? (o.trim?.equalVer ?? false) : parseBool(arg(args, 3));
      // An empty threshold switches trimming off (imgproxy deletes the threshold key).
      o.trim = threshold === null ? null : { threshold, color, equalHor, equalVer };
    },
  },
  {
    name: 'padding', aliases: ['pd'],
    apply(o, args) {
      ensureMaxArgs('padding', args, 4);
      // CSS shorthand: right defaults to top, bottom to top, left to right.
      const top = arg(args, 0) !== '' ? num('padding', arg(args, 0), 'padding top') : (o.padding?.top ?? 0);
      const right = arg(args, 1) !== '' ? num('padding', arg(args, 1), 'padding right') : top;
      const bottom = arg(args, 2) !== '' ? num('padding', arg(args, 2), 'padding bottom') : top;
      const left = arg(args, 3) !== '' ? num('padding', arg(args, 3), 'padding left') : right;
      o.padding = top + right + bottom + left === 0 ? null : { top, right, bottom, left };
    },
  },
  boolOption('auto_rotate', ['ar'], 'autoRotate'),
  {
    name: 'rotate', aliases: ['rot'],
    apply: single('rotate', (o, v) => {
      const n = num('rotate', v);
      if (n % 90 !== 0) throw new ProxyError('INVALID_URL', `Rotation angle must be a multiple of 90, got ${JSON.stringify(v)}`);
      o.rotate = ((n % 360) + 360) % 360;
    }),
  },
  {
    name: 'flip', aliases: ['fl'],
    apply(o, args) {
      ensureMaxArgs('flip', args, 2);
      if (arg(args, 0) !== '') o.flipHorizontal = parseBool(arg(args, 0));
      if (arg(args, 1) !== '') o.flipVertical = parseBool(arg(args, 1));
    },
  },
];
