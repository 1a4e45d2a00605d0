/**
 * Hugging Face model directories (Node): open one (`loadHF(dir)`, `sourceFromHF(dir)`) and write one
 * (`exportHF(dir, source)`: model.safetensors streamed tensor by tensor, temp file + rename). The format —
 * config mapping, tensor names, packed layout, what an export contains — is src/interop/hf_source.ts, which
 * runs in any engine (the page reads a picked folder through it).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError } from '../errors.js';
import type { WeightSource } from '../weights/source.js';
import { dirFileSet } from '../io/byte_source.js';
import { atomicWriteFile } from '../io/files.js';
import { writeSafetensorsStream } from '../io/safetensors_stream.js';
import { hfExportContents, hfModelFrom, type ExportHFOptions, type HfModel } from './hf_source.js';

export * from './hf_source.js';

/** Open a Hugging Face model directory (validates every tensor's presence, dtype and shape up front). */
export function loadHF(dir: string): HfModel {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ArgumentError(`${dir} is not a directory`);
  return hfModelFrom(dirFileSet(dir));
}

export function sourceFromHF(dir: string): WeightSource {
  return loadHF(dir).source;
}

/**
 * Write `source` as a Hugging Face model directory: config.json, generation_config.json, model.safetensors
 * (streamed, one tensor at a time), and tokenizer.json + tokenizer_config.json when a tokenizer is given.
 */
export function exportHF(dir: string, source: WeightSource, opts: ExportHFOptions = {}): void {
  const x = hfExportContents(source, opts);
  mkdirSync(dir, { recursive: true });
  writeSafetensorsStream(join(dir, 'model.safetensors'), x.specs, x.tensor, x.metadata);
  for (const [name, text] of x.jsonFiles) atomicWriteFile(join(dir, name), text);
}
