/**
 * Presets: named option lists from IMGPROXY_PRESETS (`name=opt/opt` joined by
 * IMGPROXY_PRESETS_SEPARATOR) and IMGPROXY_PRESETS_PATH (one per line, `#` comments).
 * Parsed and validated once at startup; a bad preset stops startup with a ConfigError
 * naming the variable and the preset, as imgproxy refuses to start.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../../config/index.js';
import { ConfigError } from '../../config/fields.js';
import { isProxyError } from '../../errors.js';
import { defaultOptions } from '../../default-options.js';
import { createOptionApplier, splitOptions, type PresetMap, type UrlOption } from './apply-options.js';

interface PresetSource {
  readonly variable: string;
  readonly line: string;
}

function presetLines(config: Config, readFile: (path: string) => string): PresetSource[] {
  const out: PresetSource[] = [];
  const { presets, presetsSeparator, presetsPath } = config.urls;
  if (presets.trim() !== '') {
    for (const line of presets.split(presetsSeparator)) out.push({ variable: 'IMGPROXY_PRESETS', line });
  }
  if (presetsPath !== '') {
    let text: string;
    try {
      text = readFile(presetsPath);
    } catch (err) {
      throw new ConfigError(`IMGPROXY_PRESETS_PATH: cannot read ${JSON.stringify(presetsPath)}: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const line of text.split(/\r?\n/)) out.push({ variable: 'IMGPROXY_PRESETS_PATH', line });
  }
  return out;
}

function parsePreset(src: PresetSource, separator: string): [string, UrlOption[]] | undefined {
  const line = src.line.trim();
  if (line === '' || line.startsWith('#')) return undefined;
  const fail = (why: string): never => {
    throw new ConfigError(`${src.variable}: ${why} in ${JSON.stringify(line)}; expected name=option:args/option:args`);
  };
  const parts = line.split('=');
  if (parts.length !== 2) fail('invalid preset');
  const name = (parts[0] ?? '').trim();
  const value = (parts[1] ?? '').trim();
  if (name === '') fail('empty preset name');
  if (value === '') fail(`empty value for preset ${JSON.stringify(name)}`);
  const { options, rest } = splitOptions(value.split('/'), separator);
  if (rest.length > 0) fail(`preset ${JSON.stringify(name)} has a segment without arguments (${JSON.stringify(rest[0])})`);
  return [name, options];
}

/**
 * Reads, parses and validates every preset. Throws ConfigError naming the preset when a
 * definition is malformed or one of its options is invalid (unknown option or preset, bad
 * argument, security option without IMGPROXY_ALLOW_SECURITY_OPTIONS).
 */
export function loadPresets(config: Config, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): PresetMap {
  const presets = new Map<string, UrlOption[]>();
  const origin = new Map<string, string>();
  for (const src of presetLines(config, readFile)) {
    const parsed = parsePreset(src, config.urls.argumentsSeparator);
    if (!parsed) continue;
    presets.set(parsed[0], parsed[1]);
    origin.set(parsed[0], src.variable);
  }

  const applier = createOptionApplier(config, presets);
  for (const [name, body] of presets) {
    try {
      applier.applyOptions(defaultOptions(config), body, { preset: true, chain: [name] });
    } catch (err) {
      if (!isProxyError(err)) throw err;
      throw new ConfigError(`${origin.get(name) ?? 'IMGPROXY_PRESETS'}: invalid preset ${JSON.stringify(name)}: ${err.message}`);
    }
  }
  return presets;
}
