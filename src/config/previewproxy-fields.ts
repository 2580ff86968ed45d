/**
 * PreviewProxy's own variable grammars (Configuration::new in src/common/config/loader.rs,
 * https://github.com/ViGrise/previewproxy), for the fields of the `previewproxy` section:
 * its booleans, its alias list and its disallow lists. Where PreviewProxy skips a bad item
 * with a warning (an alias entry, an unknown disallow token) the field keeps the good ones and
 * `previewProxyWarnings` says what was skipped, once at startup, as PreviewProxy logs it.
 */
import { custom, type Field } from './fields.js';

/** Alias bases and PP_DEFAULT_SOURCE_URL: the schemes PreviewProxy accepts there. */
export const PP_BASE_RE = /^(?:https?:\/\/|s3:\/|local:\/)/;

/**
 * Names an alias cannot have here: `s3` and `local` are the built-in sources (PreviewProxy
 * keeps them with a warning, unreachable), `http`, `https` and `enc` would read as other
 * sources. A name is what the path grammar can split off: letters, digits, `_ . + -`.
 */
const RESERVED_ALIASES = new Set(['s3', 'local', 'http', 'https', 'enc']);
const ALIAS_NAME_RE = /^[A-Za-z0-9_.+-]+$/;

export interface AliasList {
  readonly aliases: Readonly<Record<string, string>>;
  /** Entries skipped, each with why (for the startup warning). */
  readonly skipped: readonly string[];
}

/** `name=base,…` as PreviewProxy's parse_url_aliases: a bad entry is skipped, not fatal. */
export function parseAliasList(raw: string): AliasList {
  const aliases: Record<string, string> = {};
  const skipped: string[] = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? '' : item.slice(0, eq).trim();
    const base = eq < 0 ? '' : item.slice(eq + 1).trim();
    let why: string | undefined;
    if (eq < 0) why = 'no `=`';
    else if (name === '') why = 'empty name';
    else if (!ALIAS_NAME_RE.test(name)) why = 'a name holds only letters, digits, `_`, `.`, `+` and `-`';
    else if (RESERVED_ALIASES.has(name.toLowerCase())) why = `\`${name}\` is a built-in source and would never be reached`;
    else if (!PP_BASE_RE.test(base)) why = 'the base must start with http://, https://, s3:/ or local:/';
    if (why === undefined) aliases[name] = base;
    else skipped.push(`${JSON.stringify(item)} (${why})`);
  }
  return { aliases, skipped };
}

/**
 * PreviewProxy's `env_var_bool` reads `true` and `1` as true and anything else as false; a
 * typo there silently turns a source off, so here only `true`/`1`/`false`/`0` are accepted.
 */
export function ppBool(names: readonly string[], def: boolean): Field<boolean> {
  return custom<boolean>(names, def, '`true`, `1`, `false` or `0`', (raw) => {
    const v = raw.trim().toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    return undefined;
  });
}

export const INPUT_TOKENS = ['jpeg', 'png', 'gif', 'webp', 'avif', 'jxl', 'bmp', 'tiff', 'pdf', 'psd', 'video'] as const;
export const OUTPUT_TOKENS = ['jpeg', 'png', 'gif', 'webp', 'avif', 'jxl', 'bmp', 'tiff', 'ico'] as const;
export const TRANSFORM_TOKENS = ['resize', 'rotate', 'flip', 'grayscale', 'brightness', 'contrast', 'blur', 'watermark', 'gif_anim'] as const;
export type InputToken = (typeof INPUT_TOKENS)[number];
export type OutputToken = (typeof OUTPUT_TOKENS)[number];
export type TransformToken = (typeof TRANSFORM_TOKENS)[number];

function splitTokens(raw: string): string[] {
  return raw.split(',').map((t) => t.trim()).filter((t) => t !== '');
}

/** A disallow list: the known tokens (exact, lower-case as PreviewProxy matches them). */
export function tokenList<T extends string>(name: string, tokens: readonly T[]): Field<readonly T[]> {
  return custom<readonly T[]>([name], [], `a comma-separated list of ${tokens.join(', ')}`, (raw) =>
    splitTokens(raw).filter((t): t is T => (tokens as readonly string[]).includes(t)),
  );
}

const TOKEN_LISTS: readonly [string, readonly string[]][] = [
  ['PP_INPUT_DISALLOW_LIST', INPUT_TOKENS],
  ['PP_OUTPUT_DISALLOW_LIST', OUTPUT_TOKENS],
  ['PP_TRANSFORM_DISALLOW_LIST', TRANSFORM_TOKENS],
];

/** What PreviewProxy warns about and skips: bad alias entries, unknown disallow tokens. */
export function previewProxyWarnings(env: Readonly<Record<string, string | undefined>>, f: { warn(message: string): void }): void {
  const aliases = env.PP_URL_ALIASES;
  if (aliases !== undefined) for (const s of parseAliasList(aliases).skipped) f.warn(`PP_URL_ALIASES: skipping entry ${s}`);
  for (const [name, tokens] of TOKEN_LISTS) {
    const raw = env[name];
    if (raw === undefined) continue;
    for (const t of splitTokens(raw)) if (!tokens.includes(t)) f.warn(`${name}: unknown token ${JSON.stringify(t)} ignored (known: ${tokens.join(', ')})`);
  }
}

/** The PreviewProxy fields these read (typed here: this module is below the schema). */
interface PpSourceSettings {
  readonly s3Enabled: boolean;
  readonly s3Bucket: string;
  readonly localEnabled: boolean;
}

/** The bucket of PreviewProxy `s3:/key` sources, or null when they are off (PP_S3_ENABLED, PP_S3_BUCKET). */
export function ppS3Bucket(pp: PpSourceSettings): string | null {
  return pp.s3Enabled && pp.s3Bucket !== '' ? pp.s3Bucket : null;
}

/** Whether PreviewProxy `local:/` sources are on (PP_LOCAL_ENABLED, PP_LOCAL_BASE_DIR). */
export function ppLocalEnabled(pp: PpSourceSettings, localRoot: string): boolean {
  return pp.localEnabled && localRoot !== '';
}
