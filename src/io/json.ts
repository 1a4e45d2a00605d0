/**
 * JSON from untrusted files (config.json, tokenizer.json, tokenizer_config.json, metadata strings): parse
 * errors, a wrong top-level type and nesting deeper than a bound all become a FormatError naming the file,
 * so no later recursive walk (JSON.stringify, a library's constructor) can overflow the stack. Pure.
 */
import { FormatError } from '../errors.js';

export type JsonObject = Record<string, unknown>;

/** Nesting far beyond any real config or tokenizer file (tokenizer.json nests ~6 deep). */
export const MAX_JSON_DEPTH = 64;

export const isJsonObject = (x: unknown): x is JsonObject => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Describe a JSON value's type for error messages ('null', 'an array', 'a string', …). */
export function jsonType(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return 'an object';
  return `a ${typeof x}`;
}

/** Throw FormatError when `x` nests deeper than `max` (iterative: safe for any depth). */
export function checkJsonDepth(x: unknown, where: string, max = MAX_JSON_DEPTH): void {
  const stack: Array<[unknown, number]> = [[x, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) throw new FormatError(`${where}: JSON nested deeper than ${max} levels`);
    for (const c of Array.isArray(v) ? v : Object.values(v)) if (typeof c === 'object' && c !== null) stack.push([c, d + 1]);
  }
}

/** Parse `text` as a JSON object (FormatError naming `where` for invalid JSON, another type, or deep nesting). */
export function parseJsonObject(text: string, where: string, maxDepth = MAX_JSON_DEPTH): JsonObject {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${where}: not valid JSON (${(e as Error).message})`);
  }
  if (!isJsonObject(v)) throw new FormatError(`${where}: must be a JSON object, got ${jsonType(v)}`);
  checkJsonDepth(v, where, maxDepth);
  return v;
}
