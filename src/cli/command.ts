/**
 * What every `pixproxy` subcommand shares: its shape (name, usage, run → exit code), the
 * error a bad command line raises, argument parsing with node:util's parseArgs, and the
 * configuration read exactly as the server reads it (environment over `.env`).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
/** What `parse` resolves for a given option table. */
export type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;
import { ConfigError, loadConfig, readEnv, type Config, type Env } from '../config/index.js';
import type { Dialect } from '../url-signer.js';

/** What a subcommand module exports as `command`; main.ts imports it only when it runs. */
export interface Command {
  /** `pixproxy <name> --help`: synopsis and options. */
  readonly usage: string;
  /** Resolves the process exit code. */
  run(args: string[]): Promise<number>;
}

/** A command line the command cannot run: printed with its usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** parseArgs in strict mode, its errors turned into UsageError (`--help` is handled by main.ts). */
export function parse<const O extends Options>(args: string[], options: O, positionals: { min: number; max: number }): Parsed<O> {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const n = parsed.positionals.length;
  if (n < positionals.min || n > positionals.max) {
    throw new UsageError(n < positionals.min ? 'missing argument' : `unexpected argument: ${parsed.positionals[positionals.max] ?? ''}`);
  }
  return parsed;
}

/** `--dialect`, for the commands that serve both. */
export function dialectOption(value: string | undefined): Dialect | undefined {
  if (value === undefined || value === 'imgproxy' || value === 'previewproxy') return value;
  throw new UsageError(`--dialect: expected imgproxy or previewproxy, got ${JSON.stringify(value)}`);
}

/** The configuration the server would start with, or a ConfigError. */
export function configFromEnvironment(env: Env = readEnv()): Config {
  return loadConfig(env);
}

/** The same wording as the server's startup failure (src/main.ts). */
export function configFailure(err: ConfigError): string {
  return `pixproxy: invalid configuration: ${err.message}\n`;
}

export { ConfigError };
