// The codecs' worker pool and tool runner stop what they started: a worker stuck in a job is
// terminated at the deadline or on abort (and the pool carries on with a fresh one), a tool
// is killed, and the errors are the ProxyErrors the client gets.
import { describe, expect, it } from 'vitest';
import { ProxyError } from '../../../src/errors.js';
import { findTool, runTool } from '../../../src/processing/codecs/tool.js';
import { createWorkerPool } from '../../../src/processing/codecs/worker-pool.js';

type Job = { op: 'spin' | 'echo' | 'fail' | 'die'; value?: number };
const pool = () => createWorkerPool<Job, { value: number }>({ script: new URL('../../fixtures/workers/spin.mjs', import.meta.url), size: 1, crashCode: 'UNSUPPORTED_IMAGE', idleMs: 1000 });
const soon = (ms: number) => Date.now() + ms;

async function rejection(p: Promise<unknown>): Promise<ProxyError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProxyError);
  return err as ProxyError;
}

describe('worker pool', () => {
  it('answers, and maps a worker\'s error code', async () => {
    const p = pool();
    expect((await p.run({ op: 'echo', value: 7 }, { deadline: soon(10_000) })).value).toBe(7);
    expect((await rejection(p.run({ op: 'fail' }, { deadline: soon(10_000) }))).code).toBe('PDF_RENDER_ERROR');
    await p.close();
  });

  it('terminates a stuck worker at the deadline, then serves the next job', async () => {
    const p = pool();
    const started = Date.now();
    expect((await rejection(p.run({ op: 'spin' }, { deadline: soon(300) }))).code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await p.run({ op: 'echo', value: 1 }, { deadline: soon(10_000) })).value).toBe(1);
    await p.close();
  });

  it('terminates on abort, with the abort reason; a queued job leaves the queue', async () => {
    const p = pool();
    const ac = new AbortController();
    const stuck = rejection(p.run({ op: 'spin' }, { deadline: soon(60_000), signal: ac.signal }));
    const queued = rejection(p.run({ op: 'echo', value: 2 }, { deadline: soon(60_000), signal: ac.signal }));
    setTimeout(() => ac.abort(new ProxyError('CANCELLED', 'client gone')), 200);
    expect((await stuck).code).toBe('CANCELLED');
    expect((await queued).code).toBe('CANCELLED');
    expect((await p.run({ op: 'echo', value: 3 }, { deadline: soon(10_000) })).value).toBe(3);
    await p.close();
  });

  it('a worker that dies mid-job is the codec\'s decode error', async () => {
    const p = pool();
    expect((await rejection(p.run({ op: 'die' }, { deadline: soon(10_000) }))).code).toBe('UNSUPPORTED_IMAGE');
    expect((await p.run({ op: 'echo', value: 4 }, { deadline: soon(10_000) })).value).toBe(4);
    await p.close();
  });
});

describe('tool runner', () => {
  const sleep = findTool('sleep');

  it('finds tools in PATH and by path, and not missing ones', () => {
    expect(sleep).not.toBeNull();
    expect(findTool(sleep ?? '')).toBe(sleep);
    expect(findTool('/nonexistent/ffmpeg')).toBeNull();
    expect(findTool('no-such-tool-here')).toBeNull();
  });

  it('kills the tool at the deadline', async () => {
    const started = Date.now();
    expect((await rejection(runTool(sleep ?? 'sleep', ['30'], { deadline: soon(300), maxStdout: 100, failure: 'VIDEO_DECODE_ERROR' }))).code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('kills the tool on abort and when its output passes the bound', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    expect((await rejection(runTool(sleep ?? 'sleep', ['30'], { deadline: soon(30_000), signal: ac.signal, maxStdout: 100, failure: 'VIDEO_DECODE_ERROR' }))).code).toBe('CANCELLED');
    const yes = findTool('yes') ?? 'yes';
    expect((await rejection(runTool(yes, [], { deadline: soon(30_000), maxStdout: 10_000, failure: 'VIDEO_DECODE_ERROR' }))).code).toBe('VIDEO_DECODE_ERROR');
  });

  it('a missing binary is the codec\'s error, not a crash', async () => {
    expect((await rejection(runTool('/nonexistent/ffmpeg', [], { deadline: soon(5_000), maxStdout: 10, failure: 'VIDEO_DECODE_ERROR' }))).message).toMatch(/not found/);
  });
});
