/**
 * Shared CLI plumbing: the Command shape, typed flag parsing with errors that name the flag, checks that
 * run before any command does work (positionals, thread counts, numeric flags, output paths), and the
 * one-line description of system errors (ENOSPC, EADDRINUSE, …) that main.ts prints instead of a stack.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { ArgumentError } from '../errors.js';

/** A bad command line (flag value, positional): exit code 2. An ArgumentError, so library callers can catch it as one. */
export class UsageError extends ArgumentError {}

export interface Command {
  summary: string;
  usage?: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** The most positional arguments the command takes (default 0); main.ts rejects more before anything runs. */
  maxPositionals?: number;
  /** Check every flag and positional without doing any work; main.ts calls it before run(). */
  validate?(values: Record<string, unknown>, positionals: string[]): void;
  run(values: Record<string, unknown>, positionals: string[]): Promise<void>;
}

/**
 * Flags several commands share, defined once: --threads (kernel threads, checked by main.ts for every
 * command that has it), --backend, --ctx. Commands spread the ones they take into their options.
 */
export const SHARED_OPTIONS = {
  threads: { type: 'string', short: 't' },
  backend: { type: 'string', default: 'auto' },
  ctx: { type: 'string' },
} as const;

/** Worker threads a command may ask for (more is a typo, not a machine). */
export const MAX_THREADS = 256;

export function intFlag(v: Record<string, unknown>, flag: string, min = 1, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const s = v[flag];
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be an integer ≥ ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` and ≤ ${max}`}, got '${String(s)}'`);
  }
  return n;
}

export function numFlag(v: Record<string, unknown>, flag: string, min = -Infinity): number | undefined {
  const s = v[flag];
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${flag} must be a number ≥ ${min}, got '${String(s)}'`);
  return n;
}

export function choiceFlag<T extends string>(v: Record<string, unknown>, flag: string, choices: readonly T[]): T | undefined {
  const s = v[flag];
  if (s === undefined) return undefined;
  if (!choices.includes(s as T)) throw new UsageError(`--${flag} must be one of ${choices.join(', ')}, got '${String(s)}'`);
  return s as T;
}

/** --threads, when given: an integer in 1..MAX_THREADS. */
export function threadsFlag(v: Record<string, unknown>): number | undefined {
  return intFlag(v, 'threads', 1, MAX_THREADS);
}

/** --api-key, else BITNET_API_KEY, else undefined (no auth); an empty key is refused, never read as "no auth". */
export function apiKeyFlag(v: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const flag = v['api-key'] as string | undefined;
  const key = flag ?? env.BITNET_API_KEY;
  if (key !== undefined && key.trim().length === 0) {
    throw new UsageError(`${flag !== undefined ? '--api-key' : 'BITNET_API_KEY'} is empty: give a key, or leave ${flag !== undefined ? 'the flag out' : 'it unset'} to serve without authentication`);
  }
  return key;
}

/**
 * Checks main.ts runs for every command before validate()/run(): at most `maxPositionals` positionals,
 * --threads in range, and every string flag whose default is a number holds a number (so `--steps abc`
 * fails at once, not after minutes of preparation; each command still checks its own ranges).
 */
export function checkCommandLine(cmd: Command, values: Record<string, unknown>, positionals: string[]): void {
  const max = cmd.maxPositionals ?? 0;
  if (positionals.length > max) {
    const extra = positionals.slice(max).map((p) => `'${p}'`).join(' ');
    throw new UsageError(max === 0 ? `takes no positional arguments, got ${extra}` : `takes at most ${max} positional argument${max > 1 ? 's' : ''}; unexpected ${extra}`);
  }
  if ('threads' in cmd.options) threadsFlag(values);
  for (const [k, o] of Object.entries(cmd.options)) {
    const d = 'default' in o ? o.default : undefined;
    const s = values[k];
    if (o.type !== 'string' || typeof d !== 'string' || d.trim() === '' || !Number.isFinite(Number(d)) || typeof s !== 'string') continue;
    const int = Number.isInteger(Number(d));
    if (s.trim() === '' || !(int ? Number.isInteger(Number(s)) : Number.isFinite(Number(s)))) throw new UsageError(`--${k} must be ${int ? 'an integer' : 'a number'}, got '${s}'`);
  }
}

/** OUT for a file to be written: its folder exists and is a folder, and OUT is not a folder. */
export function checkOutputFile(path: string, what = 'output'): void {
  if (path.length === 0) throw new UsageError(`the ${what} path is empty`);
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw new UsageError(`${what} ${path}: the folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`${what} ${path}: ${dir} is not a folder`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`${what} ${path} is a folder, expected a file path`);
}

/** OUT for a folder to be created or reused: not a file, and its nearest existing ancestor is a folder. */
export function checkOutputDir(path: string, what = 'output folder'): void {
  if (path.length === 0) throw new UsageError(`the ${what} path is empty`);
  let p = resolve(path);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  if (!statSync(p).isDirectory()) throw new UsageError(p === resolve(path) ? `${what} ${path} is a file, expected a folder` : `${what} ${path}: ${p} is a file, not a folder`);
}

/** An input path that must exist (a file, or a folder when `dir`). */
export function checkInputPath(path: string, what: string, kind: 'file' | 'dir' | 'any' = 'any'): void {
  if (!existsSync(path)) throw new UsageError(`${what} ${path} does not exist`);
  const st = statSync(path);
  if (kind === 'file' && !st.isFile()) throw new UsageError(`${what} ${path} is not a file`);
  if (kind === 'dir' && !st.isDirectory()) throw new UsageError(`${what} ${path} is not a folder`);
}

const ERRNO_HINTS: Record<string, string> = {
  ENOSPC: 'the disk is full: free space and run again (a training run continues from its last checkpoint with --resume)',
  EDQUOT: 'the disk quota is exhausted',
  EADDRINUSE: 'the port is in use: choose another with --port or stop the other server',
  EADDRNOTAVAIL: '--host is not an address of this machine',
  ENOTFOUND: '--host does not resolve to an address',
  EAI_AGAIN: '--host could not be resolved (DNS unavailable)',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or folder',
  EISDIR: 'a folder where a file was expected',
  ENOTDIR: 'a file where a folder was expected',
  EEXIST: 'the path already exists',
  EMFILE: 'too many open files',
  EROFS: 'read-only file system',
  EBUSY: 'resource busy',
};

/** One line for a Node system error (has an errno `code`), or undefined for any other error. */
export function systemErrorLine(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^E[A-Z0-9_]+$/.test(code)) return undefined;
  const msg = String((e as Error).message ?? code).split('\n')[0]!;
  const hint = ERRNO_HINTS[code];
  return hint !== undefined ? `${msg} (${hint})` : msg;
}
