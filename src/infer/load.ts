/**
 * Open a model from disk (Node): a training run directory (newest checkpoint + tokenizer.json),
 * a training checkpoint (tokenizer.json beside it), or a bitnet-ts model file (packed weights,
 * config and tokenizer in one file). Returns a WeightSource for PackedModel.load and the tokenizer.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ArgumentError, FormatError } from '../errors.js';
import { loadSafetensors, saveSafetensors } from '../io/files.js';
import { parseCheckpoint } from '../train/checkpoint.js';
import { listCheckpoints } from '../train/run_dir.js';
import { loadTokenizer, tokenizerFromJSON } from '../tokenizer/io.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { isModelFile, modelFileContents, sourceFromModelFile } from './model_file.js';
import { sourceFromCheckpoint, type WeightSource } from './source.js';

export type ModelKind = 'run-dir' | 'checkpoint' | 'model-file';

export interface OpenedModel {
  kind: ModelKind;
  path: string;
  source: WeightSource;
  /** undefined when none was found next to the weights. */
  tokenizer: Tokenizer | undefined;
}

function tokenizerNear(dir: string): Tokenizer | undefined {
  const p = join(dir, 'tokenizer.json');
  return existsSync(p) ? loadTokenizer(p) : undefined;
}

export function openModel(path: string): OpenedModel {
  if (!existsSync(path)) throw new ArgumentError(`model not found: ${path}`);
  if (statSync(path).isDirectory()) {
    const ck = listCheckpoints(path);
    if (ck.length === 0) throw new FormatError(`${path}: a directory without checkpoints (ckpt-*.safetensors); expected a training run directory`);
    const file = ck[ck.length - 1]!;
    return { kind: 'run-dir', path, source: sourceFromCheckpoint(parseCheckpoint(loadSafetensors(file), file), file), tokenizer: tokenizerNear(path) };
  }
  const parsed = loadSafetensors(path);
  if (isModelFile(parsed)) {
    const { source, tokenizerJson } = sourceFromModelFile(parsed, path);
    let tokenizer: Tokenizer | undefined;
    if (tokenizerJson !== undefined) {
      try {
        tokenizer = tokenizerFromJSON(JSON.parse(tokenizerJson));
      } catch (e) {
        throw new FormatError(`${path}: bad tokenizer in metadata (${(e as Error).message})`);
      }
    }
    return { kind: 'model-file', path, source, tokenizer };
  }
  return { kind: 'checkpoint', path, source: sourceFromCheckpoint(parseCheckpoint(parsed, path), path), tokenizer: tokenizerNear(dirname(path)) };
}

/** Write a bitnet-ts model file (atomically). */
export function saveModelFile(path: string, source: WeightSource, tokenizer: Tokenizer | undefined): void {
  const { tensors, metadata } = modelFileContents(source, tokenizer === undefined ? undefined : JSON.stringify(tokenizer.toJSON()));
  saveSafetensors(path, tensors, metadata);
}
