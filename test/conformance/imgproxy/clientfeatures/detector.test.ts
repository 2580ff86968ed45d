/**
 * Port of imgproxy's clientfeatures/detector_test.go (TestClientFeaturesDetector): which
 * formats Accept grants under IMGPROXY_AUTO_* / IMGPROXY_ENFORCE_*, the DPR and Width
 * client hints under IMGPROXY_ENABLE_CLIENT_HINTS (Sec-CH-* winning), and the Vary header.
 * imgproxy's Features struct is our ClientFeatures applied to the options (prefer/enforce
 * flags, dpr, width); Vary tokens compare case-insensitively, as HTTP field names do.
 * https://github.com/imgproxy/imgproxy/blob/master/clientfeatures/detector_test.go
 */
import { describe, expect } from 'vitest';
import { loadConfig } from '../../../../src/config/index.js';
import { applyClientFeatures, detectClientFeatures, varyHeader } from '../../../../src/negotiate.js';
import { defaultOptions } from '../../../../src/default-options.js';
import { ported } from '../harness.js';

interface Features {
  PreferWebP?: boolean;
  EnforceWebP?: boolean;
  PreferAvif?: boolean;
  EnforceAvif?: boolean;
  PreferJxl?: boolean;
  EnforceJxl?: boolean;
  ClientHintsDPR?: number;
  ClientHintsWidth?: number;
}

function features(env: Record<string, string>, headers: Record<string, string>): Features {
  const config = loadConfig(env);
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const f = detectClientFeatures(lower, config);
  const o = defaultOptions(config);
  applyClientFeatures(o, f, config);
  const out: Features = {};
  if (o.preferWebp) out.PreferWebP = true;
  if (o.enforceWebp) out.EnforceWebP = true;
  if (o.preferAvif) out.PreferAvif = true;
  if (o.enforceAvif) out.EnforceAvif = true;
  if (o.preferJxl) out.PreferJxl = true;
  if (o.enforceJxl) out.EnforceJxl = true;
  if (f.dpr !== undefined) out.ClientHintsDPR = f.dpr;
  if (f.width !== undefined) out.ClientHintsWidth = f.width;
  return out;
}

const ALL_OFF = { IMGPROXY_AUTO_WEBP: 'false', IMGPROXY_AUTO_AVIF: 'false', IMGPROXY_AUTO_JXL: 'false', IMGPROXY_ENFORCE_WEBP: 'false', IMGPROXY_ENFORCE_AVIF: 'false', IMGPROXY_ENFORCE_JXL: 'false', IMGPROXY_ENABLE_CLIENT_HINTS: 'false' };
const on = (name: string) => ({ ...ALL_OFF, [name]: 'true' });
const CH = on('IMGPROXY_ENABLE_CLIENT_HINTS');

type Case = [string, Record<string, string>, Record<string, string>, Features];

function table(name: string, cases: Case[]): void {
  describe(name, () => {
    for (const [sub, env, headers, expected] of cases) ported(`${name}/${sub}`, () => expect(features(env, headers)).toEqual(expected));
  });
}

const WITH = (t: string) => ({ Accept: `image/${t},image/apng,image/*,*/*;q=0.8` });
const WITHOUT = { Accept: 'image/apng,image/*,*/*;q=0.8' };

describe('TestClientFeaturesDetector', () => {
  table('TestFeaturesAutoFormats', [
    ['AutoWebP_ConainsWebP', on('IMGPROXY_AUTO_WEBP'), WITH('webp'), { PreferWebP: true }],
    ['AutoWebP_DoesNotContainWebP', on('IMGPROXY_AUTO_WEBP'), WITHOUT, {}],
    ['EnforceWebP_ContainsWebP', on('IMGPROXY_ENFORCE_WEBP'), WITH('webp'), { PreferWebP: true, EnforceWebP: true }],
    ['EnforceWebP_DoesNotContainWebP', on('IMGPROXY_ENFORCE_WEBP'), WITHOUT, {}],
    ['AutoAvif_ContainsAvif', on('IMGPROXY_AUTO_AVIF'), WITH('avif'), { PreferAvif: true }],
    ['AutoAvif_DoesNotContainAvif', on('IMGPROXY_AUTO_AVIF'), WITHOUT, {}],
    ['EnforceAvif_ContainsAvif', on('IMGPROXY_ENFORCE_AVIF'), WITH('avif'), { PreferAvif: true, EnforceAvif: true }],
    ['EnforceAvif_DoesNotContainAvif', on('IMGPROXY_ENFORCE_AVIF'), WITHOUT, {}],
    ['AutoJXL_ContainsJXL', on('IMGPROXY_AUTO_JXL'), WITH('jxl'), { PreferJxl: true }],
    ['AutoJXL_DoesNotContainJXL', on('IMGPROXY_AUTO_JXL'), WITHOUT, {}],
    ['EnforceJXL_ContainsJXL', on('IMGPROXY_ENFORCE_JXL'), WITH('jxl'), { PreferJxl: true, EnforceJxl: true }],
    ['EnforceJXL_DoesNotContainJXL', on('IMGPROXY_ENFORCE_JXL'), WITHOUT, {}],
    ['NoneEnabled_ContainsAll', ALL_OFF, { Accept: 'image/webp,image/avif,image/jxl,image/apng,image/*,*/*;q=0.8' }, {}],
  ]);
  table('TestFeaturesClientHintsDPR', [
    ['ClientHintsEnabled_ValidDPR', CH, { DPR: '1.5' }, { ClientHintsDPR: 1.5 }],
    ['ClientHintsEnabled_ValidSecChDPR', CH, { 'Sec-CH-DPR': '2.0' }, { ClientHintsDPR: 2 }],
    ['ClientHintsEnabled_ValidDprAndSecChDPR', CH, { DPR: '3.0', 'Sec-CH-DPR': '2.5' }, { ClientHintsDPR: 2.5 }],
    ['ClientHintsEnabled_InvalidDPR_Negative', CH, { DPR: '-1.0' }, {}],
    ['ClientHintsEnabled_InvalidDPR_TooHigh', CH, { DPR: '10.0' }, {}],
    ['ClientHintsEnabled_InvalidDPR_NonNumeric', CH, { DPR: 'abc' }, {}],
    ['ClientHintsDisabled', ALL_OFF, { DPR: '2.0', 'Sec-CH-DPR': '3.0' }, {}],
  ]);
  table('TestFeaturesClientHintsWidth', [
    ['ClientHintsEnabled_ValidWidth', CH, { Width: '800' }, { ClientHintsWidth: 800 }],
    ['ClientHintsEnabled_ValidSecChWidth', CH, { 'Sec-CH-Width': '1024' }, { ClientHintsWidth: 1024 }],
    ['ClientHintsEnabled_ValidWidthAndSecChWidth', CH, { Width: '1280', 'Sec-CH-Width': '1440' }, { ClientHintsWidth: 1440 }],
    ['ClientHintsEnabled_InvalidWidth_Negative', CH, { Width: '-800' }, {}],
    ['ClientHintsEnabled_InvalidWidth_NonNumeric', CH, { Width: 'abc' }, {}],
    ['ClientHintsDisabled', ALL_OFF, { Width: '800', 'Sec-CH-Width': '1024' }, {}],
  ]);
  describe('TestSetVary', () => {
    const cases: [string, Record<string, string>, string][] = [
      ['AutoWebP_Enabled', on('IMGPROXY_AUTO_WEBP'), 'Accept'],
      ['EnforceWebP_Enabled', on('IMGPROXY_ENFORCE_WEBP'), 'Accept'],
      ['AutoAvif_Enabled', on('IMGPROXY_AUTO_AVIF'), 'Accept'],
      ['EnforceAvif_Enabled', on('IMGPROXY_ENFORCE_AVIF'), 'Accept'],
      ['AutoJXL_Enabled', on('IMGPROXY_AUTO_JXL'), 'Accept'],
      ['EnforceJXL_Enabled', on('IMGPROXY_ENFORCE_JXL'), 'Accept'],
      ['EnableClientHints_Enabled', CH, 'Sec-Ch-Dpr, Dpr, Sec-Ch-Width, Width'],
      ['Combined', { ...CH, IMGPROXY_AUTO_WEBP: 'true' }, 'Accept, Sec-Ch-Dpr, Dpr, Sec-Ch-Width, Width'],
    ];
    for (const [name, env, expected] of cases) ported(`TestSetVary/${name}`, () => expect(varyHeader(loadConfig(env))?.toLowerCase()).toBe(expected.toLowerCase()));
  });
});
