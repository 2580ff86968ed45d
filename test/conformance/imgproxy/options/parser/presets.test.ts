/**
 * Port of imgproxy's options/parser/presets_test.go (TestPresets): how a preset definition
 * is parsed and validated at startup. imgproxy builds a parser from a preset list; our
 * counterpart is loadPresets over the configuration, which refuses startup the same way.
 * https://github.com/imgproxy/imgproxy/blob/master/options/parser/presets_test.go
 */
import { describe, expect } from 'vitest';
import { loadConfig } from '../../../../../src/config/index.js';
import { ConfigError } from '../../../../../src/config/fields.js';
import { loadPresets } from '../../../../../src/dialects/imgproxy/index.js';
import { ported } from '../../harness.js';

const presets = (definition: string) => loadPresets(loadConfig({ IMGPROXY_PRESETS: definition }));

describe('TestPresets', () => {
  ported('TestParsePreset', () => {
    expect(presets('test=resize:fit:100:200/sharpen:2').get('test')).toEqual([
      { name: 'resize', args: ['fit', '100', '200'] },
      { name: 'sharpen', args: ['2'] },
    ]);
  });

  ported('TestParsePresetInvalidString', () => {
    expect(() => presets('resize:fit:100:200/sharpen:2')).toThrow(ConfigError);
  });

  ported('TestParsePresetEmptyName', () => {
    expect(() => presets('=resize:fit:100:200/sharpen:2')).toThrow(/empty preset name/);
  });

  ported('TestParsePresetEmptyValue', () => {
    expect(() => presets('test=')).toThrow(/empty value/);
  });

  ported('TestParsePresetInvalidValue', () => {
    expect(() => presets('test=resize:fit:100:200/sharpen:2/blur')).toThrow(ConfigError);
  });

  ported('TestParsePresetEmptyString', () => {
    expect(presets('   ').size).toBe(0);
  });

  ported('TestParsePresetComment', () => {
    expect(presets('#  test=resize:fit:100:200/sharpen:2').size).toBe(0);
  });

  ported('TestValidatePresets', () => {
    expect(presets('test=resize:fit:100:200/sharpen:2').size).toBeGreaterThan(0);
  });

  ported('TestValidatePresetsInvalid', () => {
    expect(() => presets('test=resize:fit:-1:-2/sharpen:2')).toThrow(ConfigError);
  });
});
