/**
 * Port of imgproxy's options/parser/config_test.go: where presets come from
 * (IMGPROXY_PRESETS with IMGPROXY_PRESETS_SEPARATOR, IMGPROXY_PRESETS_PATH, both). imgproxy
 * checks the list of raw strings; we check the presets loaded from them, in the same order,
 * so each upstream name becomes a valid definition (`preset1` → `preset1=q:1`).
 * https://github.com/imgproxy/imgproxy/blob/master/options/parser/config_test.go
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { loadConfig } from '../../../../../src/config/index.js';
import { loadPresets } from '../../../../../src/dialects/imgproxy/index.js';
import { ported } from '../../harness.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imgport-presets-'));
  await writeFile(join(dir, 'presets.txt'), 'file_preset1=q:1\nfile_preset2=q:2\n');
  await writeFile(join(dir, 'empty.txt'), '');
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const names = (env: Record<string, string>) => [...loadPresets(loadConfig(env)).keys()];

describe('config_test.go', () => {
  ported('TestPresetsPresent', () => {
    expect(names({ IMGPROXY_PRESETS_SEPARATOR: ',', IMGPROXY_PRESETS: 'preset1=q:1,preset2=q:2,preset3=q:3' })).toEqual(['preset1', 'preset2', 'preset3']);
  });

  ported('TestPresetsEmpty', () => {
    expect(names({ IMGPROXY_PRESETS_SEPARATOR: ',', IMGPROXY_PRESETS: '' })).toEqual([]);
  });

  ported('TestPresetsFromFile', () => {
    expect(names({ IMGPROXY_PRESETS_PATH: join(dir, 'presets.txt'), IMGPROXY_PRESETS: '' })).toEqual(['file_preset1', 'file_preset2']);
  });

  ported('TestPresetsFileEmpty', () => {
    expect(names({ IMGPROXY_PRESETS_PATH: join(dir, 'empty.txt'), IMGPROXY_PRESETS: '' })).toEqual([]);
  });

  ported('TestPresetsFileNotFound', () => {
    expect(() => names({ IMGPROXY_PRESETS_PATH: join(dir, 'non-existent-presets-file.txt'), IMGPROXY_PRESETS: '' })).toThrow(/IMGPROXY_PRESETS_PATH/);
  });

  ported('TestPresetsFromBothSources', () => {
    expect(names({ IMGPROXY_PRESETS_SEPARATOR: ',', IMGPROXY_PRESETS: 'preset1=q:1,preset2=q:2', IMGPROXY_PRESETS_PATH: join(dir, 'presets.txt') })).toEqual(['preset1', 'preset2', 'file_preset1', 'file_preset2']);
  });
});
