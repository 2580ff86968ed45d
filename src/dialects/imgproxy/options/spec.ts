/**
 * The shape of an entry of the imgproxy option table (../option-table.ts) and the helpers
 * every option family uses to write one: what `apply` gets (the options, the URL's
 * arguments, the request's context) and the single-argument and boolean forms.
 */
import type { Config } from '../../../config/index.js';
import type { ProcessingOptions } from '../../../options.js';
import { arg, ensureMaxArgs, parseBool } from '../args.js';

export interface ApplyContext {
  readonly config: Config;
  /** IMGPROXY_URL_REPLACEMENTS and IMGPROXY_BASE_URL, as applied to source URLs. */
  preprocessUrl(url: string): string;
  /** Expands presets in place (the `preset` option); knows the recursion chain. */
  expandPresets(o: ProcessingOptions, names: readonly string[]): void;
  /** Unix seconds; injectable for tests of `expires`. */
  now(): number;
}

export interface OptionSpec {
  readonly name: string;
  readonly aliases: readonly string[];
  /** Only usable with IMGPROXY_ALLOW_SECURITY_OPTIONS. */
  readonly security?: boolean;
  /**
   * Sets request-wide options (MAIN_KEYS in options.ts): in a chained pipeline it still writes
   * the main options, as imgproxy's parser passes them `o.Main()`.
   */
  readonly main?: boolean;
  apply(o: ProcessingOptions, args: readonly string[], ctx: ApplyContext): void;
}

/** Single-argument option: checks the count, hands the value to `set`. */
export function single(name: string, set: (o: ProcessingOptions, value: string) => void): OptionSpec['apply'] {
  return (o, args) => {
    ensureMaxArgs(name, args, 1);
    set(o, arg(args, 0));
  };
}

export function boolOption(name: string, aliases: readonly string[], key: BoolKey): OptionSpec {
  return { name, aliases, apply: single(name, (o, v) => { o[key] = parseBool(v); }) };
}

export type BoolKey = { [K in keyof ProcessingOptions]: ProcessingOptions[K] extends boolean ? K : never }[keyof ProcessingOptions];
