/** The processor the processing unit tests run: over a configuration, with options over its defaults. */
import { loadConfig } from '../../src/config/index.js';
import { defaultOptions } from '../../src/default-options.js';
import type { ProcessingOptions } from '../../src/options.js';
import { createProcessor } from '../../src/processing/pipeline.js';
import type { Processor } from '../../src/processing/types.js';

export interface TestProcessor {
  run: Processor;
  /** The configuration's default options with `o` over them. */
  opts: (o?: Partial<ProcessingOptions>) => ProcessingOptions;
}

export function testProcessor(env: Record<string, string> = {}): TestProcessor {
  const config = loadConfig(env);
  const base = defaultOptions(config);
  return { run: createProcessor(config), opts: (o = {}) => ({ ...base, ...o }) };
}
