/**
 * Client features shared by both URL dialects: which modern formats the client accepts
 * (from `Accept`, with q-values) and, when IMGPROXY_ENABLE_CLIENT_HINTS is on, its DPR
 * and width hints; how they become option defaults; the matching `Vary` value.
 *
 * Only an explicit entry counts as support. `*\/*` and `image/*` do not: browsers send
 * them with formats they cannot decode, so a wildcard client must never be handed a
 * variant it may fail to show (imgproxy and Next.js decide the same way). Unlike
 * imgproxy we honour `q=0`, which there still reads as support: its detector is a substring
 * test, `strings.Contains(headerAccept, "image/webp")`
 * (https://github.com/imgproxy/imgproxy/blob/master/clientfeatures/detector.go).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from './config/index.js';
import type { ProcessingOptions } from './options.js';

export interface ClientFeatures {
  webp: boolean;
  avif: boolean;
  jxl: boolean;
  /** From Sec-CH-DPR / DPR, in (0, 8]. */
  dpr?: number;
  /** From Sec-CH-Width / Width, already divided by the DPR (CSS pixels). */
  width?: number;
}

/** imgproxy's ceiling for a hinted DPR. */
const MAX_HINT_DPR = 8;

function header(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return (Array.isArray(v) ? v.join(',') : (v ?? '')).trim();
}

/** q of an Accept entry's parameters; malformed q counts as 0 so it never grants support. */
function qValue(params: readonly string[]): number {
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq === -1 || p.slice(0, eq).trim().toLowerCase() !== 'q') continue;
    const raw = p.slice(eq + 1).trim();
    return /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(raw) ? Number(raw) : 0;
  }
  return 1;
}

/**
 * For each media type asked about: true when Accept names it explicitly and every such
 * entry has q > 0 (a client that both lists and refuses a type is taken at its refusal).
 */
function acceptedTypes(accept: string, types: readonly string[]): Set<string> {
  const seen = new Map<string, boolean>();
  for (const entry of accept.split(',')) {
    const [range = '', ...params] = entry.split(';');
    const type = range.trim().toLowerCase();
    if (!types.includes(type)) continue;
    seen.set(type, (seen.get(type) ?? true) && qValue(params) > 0);
  }
  return new Set([...seen].filter(([, ok]) => ok).map(([t]) => t));
}

function parseDpr(v: string): number | undefined {
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(v)) return undefined;
  const n = Number(v);
  return n > 0 && n <= MAX_HINT_DPR ? n : undefined;
}

function parseWidth(v: string): number | undefined {
  if (!/^[+-]?\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** The first header of `names` that holds a valid value (an invalid one falls through). */
function firstValid(headers: IncomingHttpHeaders, names: readonly string[], parse: (v: string) => number | undefined): number | undefined {
  for (const name of names) {
    const raw = header(headers, name);
    if (raw === '') continue;
    const v = parse(raw);
    if (v !== undefined) return v;
  }
  return undefined;
}

export function detectClientFeatures(headers: IncomingHttpHeaders, config: Config): ClientFeatures {
  const accepted = acceptedTypes(header(headers, 'accept'), ['image/webp', 'image/avif', 'image/jxl']);
  const features: ClientFeatures = { webp: accepted.has('image/webp'), avif: accepted.has('image/avif'), jxl: accepted.has('image/jxl') };
  if (!config.processing.enableClientHints) return features;

  const dpr = firstValid(headers, ['sec-ch-dpr', 'dpr'], parseDpr);
  const width = firstValid(headers, ['sec-ch-width', 'width'], parseWidth);
  if (dpr !== undefined) features.dpr = dpr;
  // Width hints are physical pixels; the width option is CSS pixels (imath.Shrink).
  if (width !== undefined) features.width = Math.round(width / (dpr ?? 1));
  return features;
}

/**
 * Applies features as defaults, before presets and URL options (which therefore win).
 * ENFORCE_* implies the preference too, as in imgproxy. True when it set any option (the
 * request's headers then make its options differ from its URL's alone).
 */
export function applyClientFeatures(options: ProcessingOptions, features: ClientFeatures, config: Config): boolean {
  const p = config.processing;
  let changed = false;
  const set = <K extends keyof ProcessingOptions>(key: K, value: ProcessingOptions[K]): void => {
    options[key] = value;
    changed = true;
  };
  if (features.webp && (p.autoWebp || p.enforceWebp)) set('preferWebp', true);
  if (features.webp && p.enforceWebp) set('enforceWebp', true);
  if (features.avif && (p.autoAvif || p.enforceAvif)) set('preferAvif', true);
  if (features.avif && p.enforceAvif) set('enforceAvif', true);
  if (features.jxl && (p.autoJxl || p.enforceJxl)) set('preferJxl', true);
  if (features.jxl && p.enforceJxl) set('enforceJxl', true);
  if (features.dpr !== undefined) set('dpr', features.dpr);
  if (features.width !== undefined && features.width > 0) set('width', features.width);
  return changed;
}

/** `Vary` for every image response (and 304), or null when nothing varies. */
export function varyHeader(config: Config): string | null {
  const p = config.processing;
  const parts: string[] = [];
  if (p.autoWebp || p.autoAvif || p.autoJxl || p.enforceWebp || p.enforceAvif || p.enforceJxl) parts.push('Accept');
  if (p.enableClientHints) parts.push('Sec-CH-DPR', 'DPR', 'Sec-CH-Width', 'Width');
  return parts.length > 0 ? parts.join(', ') : null;
}
