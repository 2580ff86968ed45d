/**
 * Turns `name:arg:arg` path segments into ProcessingOptions: splits the options part of
 * the path, then applies options left to right through the option table, expanding
 * presets in place. The gates live here, in one place: IMGPROXY_ALLOWED_PROCESSING_OPTIONS
 * (literal names, URL options only, never options that come from a preset) and
 * IMGPROXY_ALLOW_SECURITY_OPTIONS (also inside presets, as in imgproxy).
 */
import type { Config } from '../../config/index.js';
import { ProxyError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { ProcessingOptions } from '../../options.js';
import { OPTIONS_BY_NAME, type ApplyContext } from './option-table.js';

export interface UrlOption {
  readonly name: string;
  readonly args: readonly string[];
}

export type PresetMap = ReadonlyMap<string, readonly UrlOption[]>;

/**
 * Leading segments that contain the separator are options; the first one that does not
 * starts the source URL (imgproxy url_options.go).
 */
export function splitOptions(parts: readonly string[], separator: string): { options: UrlOption[]; rest: string[] } {
  const options: UrlOption[] = [];
  for (let i = 0; i < parts.length; i++) {
    const [name = '', ...args] = (parts[i] ?? '').split(separator);
    if (args.length === 0) return { options, rest: parts.slice(i) };
    options.push({ name, args });
  }
  return { options, rest: [] };
}

export interface OptionApplier {
  /** Options as they came from a URL (allow-list applies) or from a preset body (it does not). */
  applyOptions(o: ProcessingOptions, opts: readonly UrlOption[], from: { preset: boolean; chain: readonly string[] }): void;
  /** Expands presets by name; `chain` is the presets being expanded, for the recursion guard. */
  applyPresets(o: ProcessingOptions, names: readonly string[], chain?: readonly string[]): void;
}

export interface ApplierDeps {
  logger?: Logger | undefined;
  /** Unix seconds. */
  now?: (() => number) | undefined;
  /** How source URLs are preprocessed (URL replacements, base URL); identity when absent. */
  preprocessUrl?: ((url: string) => string) | undefined;
}

export function createOptionApplier(config: Config, presets: PresetMap, deps: ApplierDeps = {}): OptionApplier {
  const allowed = config.urls.allowedProcessingOptions;
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const preprocessUrl = deps.preprocessUrl ?? ((url: string) => url);

  function applyOptions(o: ProcessingOptions, opts: readonly UrlOption[], from: { preset: boolean; chain: readonly string[] }): void {
    const ctx: ApplyContext = { config, now, preprocessUrl, expandPresets: (target, names) => applyPresets(target, names, from.chain) };
    for (const opt of opts) {
      if (!from.preset && allowed.length > 0 && !allowed.includes(opt.name)) {
        // imgproxy's wording (options/parser/errors.go newForbiddenOptionError); the option is not in IMGPROXY_ALLOWED_PROCESSING_OPTIONS.
        throw new ProxyError('INVALID_URL', `Forbidden processing option ${opt.name}`);
      }
      const spec = OPTIONS_BY_NAME.get(opt.name);
      if (!spec) throw new ProxyError('INVALID_URL', `Unknown processing option: ${opt.name}`);
      if (spec.security && !config.security.allowSecurityOptions) {
        throw new ProxyError('SECURITY_OPTION_FORBIDDEN', `Security processing option ${opt.name} is not allowed (IMGPROXY_ALLOW_SECURITY_OPTIONS is off)`);
      }
      spec.apply(o, opt.args, ctx);
    }
  }

  function applyPresets(o: ProcessingOptions, names: readonly string[], chain: readonly string[] = []): void {
    for (const name of names) {
      const body = presets.get(name);
      if (!body) throw new ProxyError('INVALID_URL', `Unknown preset: ${JSON.stringify(name)}`);
      if (chain.includes(name)) {
        // imgproxy warns and skips rather than failing the request.
        deps.logger?.warn({ preset: name, chain }, 'Recursive preset usage detected; skipped');
        continue;
      }
      o.usedPresets.push(name);
      applyOptions(o, body, { preset: true, chain: [...chain, name] });
    }
  }

  return { applyOptions, applyPresets };
}
