/**
 * JSON logging with pino. One line per request is written by the HTTP layer; modules log
 * through child loggers with a `module` field.
 */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { service: 'pixproxy' }, timestamp: pino.stdTimeFunctions.isoTime }, destination ?? process.stdout);
}

/** A logger that drops everything (tests, embedding without logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
