/**
 * Turns `name:arg:arg` path segments into ProcessingOptions: splits the options part of
 * the path, then applies options left to right through the option table, expanding
 * presets in place. The gates live here, in one place: IMGPROXY_ALLOWED_PROCESSING_OPTIONS
 * (literal names, URL options only, never options that come from a preset),
 * IMGPROXY_ALLOW_SECURITY_OPTIONS (also inside presets, as in imgproxy) and
 * IMGPROXY_MAX_CHAINED_PIPELINES (URL pipelines only).
 *
 * Chained pipelines (imgproxy Pro, https://docs.imgproxy.net/features/chained_pipelines): a `-`
 * segment starts the next pipeline. Request-wide options (`main` in the table) always write the
 * main options; the others write the pipeline being parsed. A preset applies to the pipeline it
 * is used in, its own `-` continue into the pipelines after that one, and the URL's next `-`
 * returns to the pipeline after the preset's: the two chains merge.
 */
import type { Config } from '../../config/index.js';
import { ProxyError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { defaultOptions } from '../../default-options.js';
import { pipelineOptions, settleWatermark, type PipelineOptions, type ProcessingOptions } from '../../options.js';
import { OPTIONS_BY_NAME } from './option-table.js';
import type { ApplyContext } from './options/spec.js';

export interface UrlOption {
  readonly name: string;
  readonly args: readonly string[];
}

export type PresetMap = ReadonlyMap<string, readonly UrlOption[]>;

/** The segment that starts the next chained pipeline, kept in the option list under this name. */
export const PIPELINE_SEPARATOR = '-';

/**
 * Leading segments that contain the separator are options, and `-` separates pipelines; the
 * first other segment starts the source URL (imgproxy url_options.go).
 */
export function splitOptions(parts: readonly string[], separator: string): { options: UrlOption[]; rest: string[] } {
  const options: UrlOption[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === PIPELINE_SEPARATOR) {
      options.push({ name: PIPELINE_SEPARATOR, args: [] });
      continue;
    }
    const [name = '', ...args] = (parts[i] ?? '').split(separator);
    if (args.length === 0) return { options, rest: parts.slice(i) };
    options.push({ name, args });
  }
  return { options, rest: [] };
}

export interface OptionApplier {
  /**
   * Options as they came from a URL (allow-list applies) or from a preset body (it does not),
   * starting in the first pipeline of `o`.
   */
  applyOptions(o: ProcessingOptions, opts: readonly UrlOption[], from: { preset: boolean; chain: readonly string[] }): void;
  /** Expands presets by name; `chain` is the presets being expanded, for the recursion guard. */
  applyPresets(o: ProcessingOptions, names: readonly string[], chain?: readonly string[]): void;
  /**
   * Writes the chained pipelines parsed into `o` so far to `o.chain`, pipelines that change
   * nothing left out (so `…/-/` and `…` share a cache key). Call once, after the last apply.
   */
  finish(o: ProcessingOptions): ProcessingOptions;
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
  const maxPipelines = config.urls.maxChainedPipelines;
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const preprocessUrl = deps.preprocessUrl ?? ((url: string) => url);
  /** Pipelines after the first of each options object being parsed, as full options. */
  const stagesOf = new WeakMap<ProcessingOptions, ProcessingOptions[]>();
  const identity = JSON.stringify(pipelineOptions(defaultOptions(config)));

  /** The options that pipeline `at` of `o` writes (0 = `o` itself). */
  function pipeline(o: ProcessingOptions, at: number): ProcessingOptions {
    if (at === 0) return o;
    let stages = stagesOf.get(o);
    if (!stages) stagesOf.set(o, (stages = []));
    while (stages.length < at) stages.push(defaultOptions(config));
    return stages[at - 1] as ProcessingOptions;
  }

  function applyOptions(o: ProcessingOptions, opts: readonly UrlOption[], from: { preset: boolean; chain: readonly string[] }): void {
    applyAt(o, 0, opts, from);
  }

  function applyAt(o: ProcessingOptions, first: number, opts: readonly UrlOption[], from: { preset: boolean; chain: readonly string[] }): void {
    if (!from.preset && maxPipelines > 0) {
      const pipelines = 1 + opts.filter((opt) => opt.name === PIPELINE_SEPARATOR).length;
      if (pipelines > maxPipelines) throw new ProxyError('INVALID_URL', `Too many chained pipelines: ${pipelines} (IMGPROXY_MAX_CHAINED_PIPELINES is ${maxPipelines})`);
    }
    let at = first;
    const ctx: ApplyContext = { config, now, preprocessUrl, expandPresets: (_target, names) => applyPresetsAt(o, at, names, from.chain) };
    for (const opt of opts) {
      if (opt.name === PIPELINE_SEPARATOR) {
        at++;
        continue;
      }
      if (!from.preset && allowed.length > 0 && !allowed.includes(opt.name)) {
        // imgproxy's wording (options/parser/errors.go newForbiddenOptionError); the option is not in IMGPROXY_ALLOWED_PROCESSING_OPTIONS.
        throw new ProxyError('INVALID_URL', `Forbidden processing option ${opt.name}`);
      }
      const spec = OPTIONS_BY_NAME.get(opt.name);
      if (!spec) throw new ProxyError('INVALID_URL', `Unknown processing option: ${opt.name}`);
      if (spec.security && !config.security.allowSecurityOptions) {
        throw new ProxyError('SECURITY_OPTION_FORBIDDEN', `Security processing option ${opt.name} is not allowed (IMGPROXY_ALLOW_SECURITY_OPTIONS is off)`);
      }
      spec.apply(spec.main ? o : pipeline(o, at), opt.args, ctx);
    }
  }

  function applyPresets(o: ProcessingOptions, names: readonly string[], chain: readonly string[] = []): void {
    applyPresetsAt(o, 0, names, chain);
  }

  function applyPresetsAt(o: ProcessingOptions, at: number, names: readonly string[], chain: readonly string[]): void {
    for (const name of names) {
      const body = presets.get(name);
      if (!body) throw new ProxyError('INVALID_URL', `Unknown preset: ${JSON.stringify(name)}`);
      if (chain.includes(name)) {
        // imgproxy warns and skips rather than failing the request.
        deps.logger?.warn({ preset: name, chain }, 'Recursive preset usage detected; skipped');
        continue;
      }
      o.usedPresets.push(name);
      applyAt(o, at, body, { preset: true, chain: [...chain, name] });
    }
  }

  function finish(o: ProcessingOptions): ProcessingOptions {
    const stages = stagesOf.get(o) ?? [];
    stagesOf.delete(o);
    const chain: PipelineOptions[] = [];
    for (const stage of stages) {
      settleWatermark(stage);
      const p = pipelineOptions(stage);
      if (JSON.stringify(p) !== identity) chain.push(p);
    }
    o.chain = chain;
    return o;
  }

  return { applyOptions, applyPresets, finish };
}
