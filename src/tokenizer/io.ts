/**
 * Tokenizer files (Node): atomic saves, loading any tokenizer.json, and a content hash.
 *
 * `loadTokenizer(path)` returns our fast `BpeTokenizer` when the file is one it reproduces exactly
 * (everything `saveTokenizer` writes, GPT-2 and LLaMA-3 style byte-level BPE files), otherwise an
 * `HfTokenizer` backed by @huggingface/tokenizers. A tokenizer_config.json next to the file is read for
 * bos_token / eos_token. A path to a directory means `<dir>/tokenizer.json`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ArgumentError } from '../errors.js';
import { atomicWriteFile } from '../io/files.js';
import { tokenizerFromJSON, tokenizerFromText } from './hf.js';
import type { Tokenizer } from './types.js';

export { atomicWriteFile, tokenizerFromJSON };

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

/** Load a tokenizer.json file (or a directory holding one); see the module comment. */
export function loadTokenizer(path: string): Tokenizer {
  if (!existsSync(path)) throw new ArgumentError(`loadTokenizer: ${path} does not exist`);
  const file = statSync(path).isDirectory() ? join(path, 'tokenizer.json') : path;
  if (!existsSync(file)) throw new ArgumentError(`loadTokenizer: ${file} does not exist`);
  const cfgPath = join(dirname(file), 'tokenizer_config.json');
  return tokenizerFromText(readFileSync(file, 'utf8'), existsSync(cfgPath) ? readFileSync(cfgPath, 'utf8') : undefined, file, cfgPath);
}
