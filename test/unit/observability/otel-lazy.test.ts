/**
 * The @opentelemetry packages are optional: nothing outside src/observability/otel.ts names
 * them, otel.ts imports them only for their types (the modules themselves are imported at
 * run time, when IMGPROXY_OPEN_TELEMETRY_ENABLE is on), and app.ts imports otel.ts lazily.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../../../src/', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('OpenTelemetry stays out of the default install', () => {
  it('only otel.ts names @opentelemetry, with type-only static imports', () => {
    for (const f of files(SRC)) {
      const text = readFileSync(f, 'utf8');
      const statics = [...text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'(@opentelemetry\/[^']+|@grpc\/[^']+)'/gm)];
      if (!f.endsWith('observability/otel.ts')) {
        expect(statics, f).toEqual([]);
        continue;
      }
      expect(statics.length).toBeGreaterThan(0);
      for (const m of statics) expect(m[1], m[0]).toBe('type ');
    }
  });

  it('app.ts imports otel.ts only when tracing is enabled', () => {
    const app = readFileSync(join(SRC, 'app.ts'), 'utf8');
    expect(app).not.toMatch(/^import[^;]*'\.\/observability\/otel\.js'/m);
    expect(app).toMatch(/await import\('\.\/observability\/otel\.js'\)/);
  });
});
