/** Shared CLI plumbing: the Command shape, typed flag parsing with errors that name the flag. */
import type { ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

export interface Command {
  summary: string;
  usage?: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>, positionals: string[]): Promise<void>;
}

export function intFlag(v: Record<string, unknown>, flag: string, min = 1): number | undefined {
  const s = v[flag];
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag} must be an integer ≥ ${min}, got '${String(s)}'`);
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
