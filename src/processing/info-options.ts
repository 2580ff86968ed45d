/**
 * `/info` options (imgproxy Pro, docs/usage/getting_info.mdx): names, aliases, argument
 * grammar and defaults. Cheap fields are on by default, the ones that need every pixel off.
 * Anything the grammar does not accept is a 404 `Invalid URL`, as for processing options.
 */
import type { Config } from '../config/index.js';
import { ProxyError } from '../errors.js';
import { parseCacheTagArgs } from '../tags.js';

const HASHSUM_TYPES = ['md5', 'sha1', 'sha256', 'sha512'] as const;
export type HashsumType = (typeof HASHSUM_TYPES)[number];

export interface InfoOptions {
  size: boolean;
  format: boolean;
  dimensions: boolean;
  exif: boolean;
  /** Use EXIF tag names (DateTime) instead of descriptive ones (Date and Time). */
  exifCanonicalNames: boolean;
  iptc: boolean;
  xmp: boolean;
  /** Accepted for compatibility; always empty for still images. */
  videoMeta: boolean;
  colorspace: boolean;
  bands: boolean;
  sampleFormat: boolean;
  pagesNumber: boolean;
  alpha: boolean;
  /** With `alpha`: report true only if some pixel is actually not opaque. */
  alphaCheckTransparency: boolean;
  /** 0 = off, else 2–256 colours. */
  palette: number;
  average: boolean;
  averageIgnoreTransparent: boolean;
  dominantColors: boolean;
  dominantColorsBuildMissed: boolean;
  /** null = off; components 1–9 each. */
  blurhash: { x: number; y: number } | null;
  thumbhash: boolean;
  hashsums: HashsumType[];
  page: number;
  cachebuster: string;
  /** Cache tags of the answer (`cache_tags`, src/tags.ts): sorted, no duplicates. */
  cacheTags: string[];
  /** Recompute and replace the cached answer (`bypass_cache`, behind IMGPROXY_ALLOW_BYPASS_CACHE). */
  bypassCache: boolean;
  /** Unix seconds; 0 = none. */
  expires: number;
  presets: string[];
  /** Security overrides (only with IMGPROXY_ALLOW_SECURITY_OPTIONS). */
  maxSrcResolution: number;
  maxSrcFileSize: number;
}

export function defaultInfoOptions(config: Config): InfoOptions {
  return {
    size: true,
    format: true,
    dimensions: true,
    exif: true,
    exifCanonicalNames: false,
    iptc: true,
    xmp: true,
    videoMeta: true,
    colorspace: false,
    bands: false,
    sampleFormat: false,
    pagesNumber: false,
    alpha: false,
    alphaCheckTransparency: false,
    palette: 0,
    average: false,
    averageIgnoreTransparent: true,
    dominantColors: false,
    dominantColorsBuildMissed: false,
    blurhash: null,
    thumbhash: false,
    hashsums: [],
    page: 0,
    cachebuster: '',
    cacheTags: [],
    bypassCache: false,
    expires: 0,
    presets: [],
    maxSrcResolution: config.security.maxSrcResolution,
    maxSrcFileSize: config.security.maxSrcFileSize,
  };
}

type Handler = (o: InfoOptions, args: string[], name: string, config: Config, now: number) => void;

function invalid(detail: string): ProxyError {
  return new ProxyError('INVALID_URL', detail);
}

function maxArgs(name: string, args: string[], n: number): void {
  if (args.length > n) throw invalid(`Invalid ${name} arguments: expected at most ${n}, got ${args.length}`);
}

/** Go strconv.ParseBool; like imgproxy, an unparsable boolean reads as false. */
function bool(v: string | undefined): boolean {
  return v !== undefined && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v);
}

function int(name: string, v: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined || !/^-?\d+$/.test(v)) throw invalid(`Invalid ${name}: expected an integer, got ${JSON.stringify(v ?? '')}`);
  const n = Number(v);
  if (n < min || n > max) throw invalid(`Invalid ${name}: expected ${min}–${max}, got ${n}`);
  return n;
}

function flag(key: 'size' | 'format' | 'dimensions' | 'iptc' | 'xmp' | 'videoMeta' | 'colorspace' | 'bands' | 'sampleFormat' | 'pagesNumber' | 'thumbhash'): Handler {
  return (o, args, name) => {
    maxArgs(name, args, 1);
    o[key] = bool(args[0]);
  };
}

function security(key: 'maxSrcResolution' | 'maxSrcFileSize', parse: (v: string | undefined, name: string) => number): Handler {
  return (o, args, name, config) => {
    if (!config.security.allowSecurityOptions) throw new ProxyError('SECURITY_OPTION_FORBIDDEN', `${name} is a security option: set IMGPROXY_ALLOW_SECURITY_OPTIONS to use it`);
    maxArgs(name, args, 1);
    o[key] = parse(args[0], name);
  };
}

const HANDLERS: Readonly<Record<string, Handler>> = {
  size: flag('size'),
  format: flag('format'),
  dimensions: flag('dimensions'),
  exif: (o, args, name) => {
    maxArgs(name, args, 2);
    o.exif = bool(args[0]);
    o.exifCanonicalNames = bool(args[1]);
  },
  iptc: flag('iptc'),
  xmp: flag('xmp'),
  video_meta: flag('videoMeta'),
  colorspace: flag('colorspace'),
  bands: flag('bands'),
  sample_format: flag('sampleFormat'),
  pages_number: flag('pagesNumber'),
  alpha: (o, args, name) => {
    maxArgs(name, args, 2);
    o.alpha = bool(args[0]);
    o.alphaCheckTransparency = bool(args[1]);
  },
  palette: (o, args, name) => {
    maxArgs(name, args, 1);
    const n = int(name, args[0], 0, 256);
    if (n === 1) throw invalid(`Invalid ${name}: colours must be 0 or 2–256, got 1`);
    o.palette = n;
  },
  average: (o, args, name) => {
    maxArgs(name, args, 2);
    o.average = bool(args[0]);
    if (args[1] !== undefined && args[1] !== '') o.averageIgnoreTransparent = bool(args[1]);
  },
  dominant_colors: (o, args, name) => {
    maxArgs(name, args, 2);
    o.dominantColors = bool(args[0]);
    o.dominantColorsBuildMissed = bool(args[1]);
  },
  blurhash: (o, args, name) => {
    maxArgs(name, args, 2);
    const x = int(`${name} x components`, args[0], 0, 9);
    const y = int(`${name} y components`, args[1] ?? args[0], 0, 9);
    o.blurhash = x > 0 && y > 0 ? { x, y } : null;
  },
  thumb_hash: flag('thumbhash'),
  calc_hashsums: (o, args) => {
    const out: HashsumType[] = [];
    for (const a of args) {
      if (a === '' || a === 'none') continue;
      if (!(HASHSUM_TYPES as readonly string[]).includes(a)) throw invalid(`Invalid hashsum type ${JSON.stringify(a)}: expected ${HASHSUM_TYPES.join(', ')}`);
      if (!out.includes(a as HashsumType)) out.push(a as HashsumType);
    }
    o.hashsums = out;
  },
  page: (o, args, name) => {
    maxArgs(name, args, 1);
    o.page = int(name, args[0], 0);
  },
  cachebuster: (o, args, name) => {
    maxArgs(name, args, 1);
    o.cachebuster = args[0] ?? '';
  },
  cache_tags: (o, args, name) => {
    o.cacheTags = parseCacheTagArgs(name, args);
  },
  bypass_cache: (o, args, name, config) => {
    maxArgs(name, args, 1);
    const on = bool(args[0]);
    if (on && !config.cache.allowBypassCache) throw new ProxyError('SECURITY_OPTION_FORBIDDEN', 'bypass_cache needs IMGPROXY_ALLOW_BYPASS_CACHE=true');
    o.bypassCache = on;
  },
  expires: (o, args, name, _config, now) => {
    maxArgs(name, args, 1);
    const t = int(name, args[0], Number.MIN_SAFE_INTEGER);
    if (t > 0 && t < now) throw invalid('Expired URL');
    o.expires = Math.max(0, t);
  },
  // Presets are expanded by the dialect before we get here; the names are kept for logs.
  preset: (o, args) => {
    o.presets.push(...args.filter((a) => a !== ''));
  },
  max_src_resolution: security('maxSrcResolution', (v, name) => {
    const n = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(n) || n <= 0) throw invalid(`Invalid ${name}: expected a positive number of megapixels`);
    return n;
  }),
  max_src_file_size: security('maxSrcFileSize', (v, name) => int(name, v, 0)),
};

const ALIASES: Readonly<Record<string, string>> = {
  s: 'size',
  f: 'format',
  d: 'dimensions',
  vm: 'video_meta',
  cs: 'colorspace',
  b: 'bands',
  sf: 'sample_format',
  pn: 'pages_number',
  a: 'alpha',
  p: 'palette',
  avg: 'average',
  dc: 'dominant_colors',
  bh: 'blurhash',
  th: 'thumb_hash',
  chs: 'calc_hashsums',
  pg: 'page',
  cb: 'cachebuster',
  ct: 'cache_tags',
  bc: 'bypass_cache',
  exp: 'expires',
  pr: 'preset',
  msr: 'max_src_resolution',
  msfs: 'max_src_file_size',
};

/** Applies `segments` (already split on `/` and the argument separator) over the defaults. */
export function parseInfoOptions(segments: { name: string; args: string[] }[], config: Config): InfoOptions {
  const o = defaultInfoOptions(config);
  const now = Math.floor(Date.now() / 1000);
  for (const { name, args } of segments) {
    const canonical = ALIASES[name] ?? name;
    const handler = Object.hasOwn(HANDLERS, canonical) ? HANDLERS[canonical] : undefined;
    if (!handler) throw invalid(`Unknown info option ${JSON.stringify(name)}`);
    handler(o, args, name, config, now);
  }
  return o;
}

/** Every /info option with its aliases, in table order (for the README generator). */
export const INFO_OPTIONS: readonly { name: string; aliases: readonly string[] }[] = Object.keys(HANDLERS).map((name) => ({
  name,
  aliases: Object.entries(ALIASES)
    .filter(([, canonical]) => canonical === name)
    .map(([alias]) => alias),
}));
