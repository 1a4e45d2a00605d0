/**
 * Tokenizer files (Node): atomic saves, loading any tokenizer.json, and a content hash.
 *
 * `loadTokenizer(path)` returns our fast `BpeTokenizer` when the file is one it reproduces exactly
 * (everything `saveTokenizer` writes, GPT-2 and LLaMA-3 style byte-level BPE files), otherwise an
 * `HfTokenizer` backed by @huggingface/tokenizers. A tokenizer_config.json next to the file is read for
 * bos_token / eos_token. A path to a directory means `<dir>/tokenizer.json`.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FormatError } from '../data/errors.js';
import { ArgumentError } from '../errors.js';
import { HfTokenizer, bpeFromJSON } from './hf.js';
import type { Tokenizer } from './types.js';

let tmpCounter = 0;
/**
 * Write `data` to `path` atomically: write a temp file in the same directory, fsync, then rename over
 * `path` (rename is atomic on one filesystem), so readers never see a partial file.
 */
export function atomicWriteFile(path: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${tmpCounter++}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    const parts = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
    for (const p of parts) {
      for (let off = 0; off < p.length;) off += writeSync(fd, p, off, p.length - off);
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** The canonical tokenizer.json text of a tokenizer (2-space JSON, fixed key order, trailing newline). */
export function tokenizerJsonText(tok: Tokenizer): string {
  return JSON.stringify(tok.toJSON(), null, 2) + '\n';
}

/** Hex SHA-256 of the canonical tokenizer.json text: identifies a tokenizer in cache keys. */
export function tokenizerHash(tok: Tokenizer): string {
  return createHash('sha256').update(tokenizerJsonText(tok)).digest('hex');
}

/** Save a tokenizer as Hugging Face tokenizer.json, atomically. */
export function saveTokenizer(tok: Tokenizer, path: string): void {
  atomicWriteFile(path, tokenizerJsonText(tok));
}

/** Build the best tokenizer for a parsed tokenizer.json object (our encoder if exact, else the HF library). */
export function tokenizerFromJSON(json: unknown, config: Record<string, unknown> = {}): Tokenizer {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new FormatError('tokenizer.json: not a JSON object');
  return bpeFromJSON(json, config) ?? new HfTokenizer(json as Record<string, unknown>, config);
}

/** Load a tokenizer.json file (or a directory holding one); see the module comment. */
export function loadTokenizer(path: string): Tokenizer {
  if (!existsSync(path)) throw new ArgumentError(`loadTokenizer: ${path} does not exist`);
  const file = statSync(path).isDirectory() ? join(path, 'tokenizer.json') : path;
  if (!existsSync(file)) throw new ArgumentError(`loadTokenizer: ${file} does not exist`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new FormatError(`loadTokenizer: ${file} is not valid JSON (${(e as Error).message})`);
  }
  const cfgPath = join(dirname(file), 'tokenizer_config.json');
  let config: Record<string, unknown> = {};
  if (existsSync(cfgPath)) {
    try { config = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>; } catch { config = {}; }
  }
  return tokenizerFromJSON(json, config);
}
