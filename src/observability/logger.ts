/**
 * Logging with pino. `createLogOutput` builds the server's logger: imgproxy's format
 * (IMGPROXY_LOG_FORMAT, ./log-format.ts), an asynchronous buffered stdout, and a copy of
 * each line to syslog when enabled. Modules log through child loggers with a `module` field.
 *
 * Off the hot path: the request line of a cache hit used to cost a `write(2)` of its own
 * (18 % of the main thread in the L1-hit profile). Lines now gather in SonicBoom's buffer
 * (pino.destination with `sync: false`) and go out up to 4 KiB at a time, or at the latest 250 ms
 * after they were logged. Nothing is lost at exit: pino flushes that buffer synchronously on
 * the process's `exit` event (tools.js, buildSafeSonicBoom), which both a clean stop
 * (SIGTERM → close → process.exit) and a fatal error (process.exit(1)) go through. Past
 * 16 MiB waiting (stdout not draining), lines are dropped rather than held.
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { LEVEL_NAMES, renderText, rfc3339, type LogFormat } from './log-format.js';
import { syslogSeverity, type SyslogWriter } from './syslog.js';

export type { Logger } from 'pino';
export type { LogFormat } from './log-format.js';

/** pino's `time` field, RFC 3339 to the second: formatted once a second, not once a line. */
function secondStamp(): () => string {
  let second = Number.NaN;
  let stamp = '';
  return () => {
    const now = Date.now();
    const s = Math.floor(now / 1000);
    if (s !== second) {
      second = s;
      stamp = `,"time":"${rfc3339(new Date(now))}"`;
    }
    return stamp;
  };
}

/** pino's options for imgproxy's format: level names, RFC 3339 time, no pid/hostname. */
function formatOptions(format: LogFormat): LoggerOptions {
  const gcp = format === 'gcp';
  const levelKey = gcp ? 'severity' : 'level';
  const opts: LoggerOptions = {
    base: undefined,
    messageKey: gcp ? 'message' : 'msg',
    timestamp: secondStamp(),
    formatters: { level: (label) => ({ [levelKey]: LEVEL_NAMES[label] ?? label.toUpperCase() }) },
  };
  if (format === 'structured' || format === 'pretty') opts.hooks = { streamWrite: (line) => renderText(line, format) };
  return opts;
}

/**
 * A logger writing to `destination` (stdout when omitted). With `format`, imgproxy's shape;
 * without, pino's own JSON (numeric levels), which tests and embedders that parse lines use.
 */
export function createLogger(level: string, destination?: DestinationStream, format?: LogFormat): Logger {
  const opts: LoggerOptions = format ? { level, ...formatOptions(format) } : { level, base: { service: 'pixproxy' }, timestamp: pino.stdTimeFunctions.isoTime };
  return pino(opts, destination ?? process.stdout);
}

/** A logger that drops everything (tests, embedding without logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export interface LogOutputOptions {
  level: string;
  /** `auto`: pretty on a terminal, json otherwise. */
  format: LogFormat | 'auto';
  /** Lines at or above `level` (pino's numbers) are copied there too. */
  syslog?: { writer: SyslogWriter; level: number };
  /** Writes each line at once (tests that read the output as it comes). */
  sync?: boolean;
}

export interface LogOutput {
  readonly logger: Logger;
  readonly format: LogFormat;
  /** Writes what is buffered now, synchronously. */
  flush(): void;
  close(): Promise<void>;
}

/**
 * Each write(2) carries whole lines and at most PIPE_BUF (4096 bytes on Linux), which a pipe
 * writes atomically: the workers of PIXPROXY_PROCESSES share one stdout, and their batches
 * must not cut into each other's lines (pipe(7)). SonicBoom groups lines into chunks of at
 * most `maxWrite` bytes and writes once `minLength` bytes wait.
 */
const MAX_WRITE = 4096;
export const LOG_BUFFER_BYTES = 3584;

/** The server's logger: see the module comment. */
export function createLogOutput(o: LogOutputOptions): LogOutput {
  const format: LogFormat = o.format === 'auto' ? (process.stdout.isTTY ? 'pretty' : 'json') : o.format;
  const stdout = pino.destination(o.sync
    ? { dest: 1, sync: true }
    : { dest: 1, sync: false, minLength: LOG_BUFFER_BYTES, maxWrite: MAX_WRITE, maxLength: 16 * 1024 * 1024, periodicFlush: 250 });
  let dest: DestinationStream = stdout;
  const syslog = o.syslog;
  if (syslog) {
    // pino sets `lastLevel` on a stream that asks for the record's metadata.
    const tee: DestinationStream & { lastLevel?: number; [k: symbol]: boolean } = {
      [Symbol.for('pino.metadata')]: true,
      write(line: string) {
        stdout.write(line);
        const level = tee.lastLevel ?? 30;
        if (level >= syslog.level) syslog.writer.write(syslogSeverity(level), line);
      },
    };
    dest = tee;
  }
  const logger = pino({ level: o.level, ...formatOptions(format) }, dest);
  const minLevel = syslog ? Math.min(logger.levelVal, syslog.level) : logger.levelVal;
  // Syslog may want lines below the stdout level (IMGPROXY_SYSLOG_LEVEL=debug with
  // IMGPROXY_LOG_LEVEL=warn): pino filters once, so the stdout side filters again.
  if (syslog && minLevel < logger.levelVal) {
    const stdoutLevel = logger.levelVal;
    logger.level = pino.levels.labels[minLevel] ?? 'info';
    const write = stdout.write.bind(stdout);
    const filtered = dest as DestinationStream & { lastLevel?: number };
    stdout.write = ((line: string) => ((filtered.lastLevel ?? 30) >= stdoutLevel ? write(line) : true)) as typeof stdout.write;
  }
  return {
    logger,
    format,
    flush() {
      try {
        stdout.flushSync();
      } catch {
        // EAGAIN on a full pipe: what is left goes out with the next write or at exit
      }
    },
    async close() {
      this.flush();
      await syslog?.writer.close();
    },
  };
}
