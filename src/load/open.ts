/**
 * Open any model input (Node), one function for every command:
 *   synthetic:PRESET[:SEED]   a random-ternary model of a preset's shape (src/infer/synthetic.ts)
 *   DIR with config.json      a Hugging Face model directory (src/interop/hf.ts)
 *   DIR with ckpt-*           a training run directory: newest checkpoint + tokenizer.json
 *   FILE.gguf (GGUF magic)    a GGUF file, read tensor by tensor (src/interop/gguf_model.ts)
 *   FILE.safetensors          a bitnet-ts model file (the engine's memory image + config + tokenizer;
 *                             read array by array straight into the backend's memory) or a training
 *                             checkpoint (tokenizer.json beside it)
 * Returns a WeightSource for PackedModel.load / the writers, the tokenizer when one comes with the
 * model, and close() (GGUF files stay open while tensors are read).
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ArgumentError, FormatError } from '../errors.js';
import { loadSafetensors, saveSafetensors } from '../io/files.js';
import { GGUF_MAGIC } from '../io/gguf.js';
import { loadGguf } from '../interop/gguf_model.js';
import { loadHF } from '../interop/hf.js';
import { makeConfig } from '../model/config.js';
import { parseCheckpoint } from '../train/checkpoint.js';
import { listCheckpoints } from '../train/run_dir.js';
import { loadTokenizer } from '../tokenizer/io.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { openFileSource, type FileSource } from '../io/byte_source.js';
import { atomicWriteFile } from '../io/files.js';
import { safetensorsReader } from '../io/safetensors_stream.js';
import { refBackend } from '../kernels/backend.js';
import { isModelFile, modelFileVersion, modelImageFrom, modelImageParts, openModelFile, sourceFromImage, tokenizerOfModelFile, MODEL_FILE_FORMAT, type ImageSource, type ModelImage } from '../infer/model_file.js';
import { PackedModel, type LoadOptions } from '../infer/packed_model.js';
import { sourceFromCheckpoint, type WeightSource } from '../weights/source.js';
import { syntheticSource } from '../weights/synthetic.js';
import { loadImage, loadSource, type LoadedModel, type ModelKind, type ModelLoadOptions } from './loaded_model.js';

export type { LoadedModel, ModelKind, ModelLoadOptions };

export interface OpenedModel {
  kind: ModelKind;
  path: string;
  source: WeightSource;
  /** undefined when none comes with the model. */
  tokenizer: Tokenizer | undefined;
  /** Chat template text shipped with the model (Hugging Face / GGUF), if any. */
  chatTemplate?: string;
  /** A version-2 model file: its checked header and the open file, for loading straight into memory. */
  image?: { image: ModelImage; src: ImageSource };
  /** Release the file (GGUF, model file); a no-op for sources held in memory. */
  close(): void;
}

function tokenizerNear(dir: string): Tokenizer | undefined {
  const p = join(dir, 'tokenizer.json');
  return existsSync(p) ? loadTokenizer(p) : undefined;
}

/** True when the file starts with the GGUF magic (reads 4 bytes). */
function isGgufFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32LE(0) === GGUF_MAGIC;
  } finally {
    closeSync(fd);
  }
}

export function openModel(path: string): OpenedModel {
  const none = () => undefined;
  const syn = /^synthetic:([^:]+)(?::(\d+))?$/.exec(path);
  if (syn) return { kind: 'synthetic', path, source: syntheticSource(makeConfig(syn[1]!), syn[2] ? Number(syn[2]) : 1), tokenizer: undefined, close: none };
  if (!existsSync(path)) throw new ArgumentError(`model not found: ${path}`);
  if (statSync(path).isDirectory()) {
    const ck = listCheckpoints(path);
    if (ck.length === 0 && existsSync(join(path, 'config.json'))) {
      const m = loadHF(path);
      return { kind: 'hf', path, source: m.source, tokenizer: m.tokenizer, ...(m.chatTemplate !== undefined ? { chatTemplate: m.chatTemplate } : {}), close: none };
    }
    if (ck.length === 0) throw new FormatError(`${path}: neither a Hugging Face model (config.json) nor a training run directory (ckpt-*.safetensors)`);
    const file = ck[ck.length - 1]!;
    return { kind: 'run-dir', path, source: sourceFromCheckpoint(parseCheckpoint(loadSafetensors(file), file), file), tokenizer: tokenizerNear(path), close: none };
  }
  if (isGgufFile(path)) {
    const m = loadGguf(path);
    return { kind: 'gguf', path, source: m.source, tokenizer: m.tokenizer, ...(m.chatTemplate !== undefined ? { chatTemplate: m.chatTemplate } : {}), close: () => m.close() };
  }
  // safetensors: read the header only; a version-2 model file stays open for reads into memory.
  const fsrc: FileSource = openFileSource(path);
  let keep = false;
  try {
    const st = safetensorsReader(fsrc);
    if (st.metadata.format === MODEL_FILE_FORMAT && modelFileVersion(st.metadata, path) === 2) {
      const image = modelImageFrom(st.entries, st.metadata, path);
      const tokenizer = tokenizerOfModelFile(image.tokenizerJson, path);
      keep = true;
      return { kind: 'model-file', path, source: sourceFromImage(image, fsrc), tokenizer, image: { image, src: fsrc }, close: () => fsrc.close() };
    }
  } finally {
    if (!keep) fsrc.close();
  }
  const parsed = loadSafetensors(path);
  if (isModelFile(parsed)) {
    const { source, tokenizer } = openModelFile(parsed, path); // version 1
    return { kind: 'model-file', path, source, tokenizer, close: none };
  }
  return { kind: 'checkpoint', path, source: sourceFromCheckpoint(parseCheckpoint(parsed, path), path), tokenizer: tokenizerNear(dirname(path)), close: none };
}

/**
 * Write a bitnet-ts model file (atomically): `source` packed into the engine layout (on the reference
 * backend's heap: memory = the packed model), then every array streamed out as it lies in memory.
 */
export function saveModelFile(path: string, source: WeightSource, tokenizer: Tokenizer | undefined, opts: Pick<LoadOptions, 'format' | 'interleave' | 'head' | 'onProgress'> = {}): void {
  const model = PackedModel.load(refBackend(), source, opts);
  writeModelFile(path, model, tokenizer === undefined ? undefined : JSON.stringify(tokenizer.toJSON()));
}

/** Write a loaded PackedModel as a model file (atomically; its arrays streamed from memory). */
export function writeModelFile(path: string, model: PackedModel, tokenizerJson: string | undefined): void {
  const { header, arrays } = modelImageParts(model, tokenizerJson);
  const zeros = new Uint8Array(64);
  function* chunks(): Generator<Uint8Array> {
    yield header;
    for (const a of arrays) {
      yield a.bytes;
      if (a.pad > 0) yield zeros.subarray(0, a.pad);
    }
  }
  atomicWriteFile(path, chunks());
}

/**
 * One call from a path to a runnable model: openModel + a backend + PackedModel.load.
 *   const m = await loadModel('model.safetensors'); const s = m.session();
 *   for await (const c of generateStream(s, m.tokenizer!, 'Hello')) process.stdout.write(c.text);
 */
export async function loadModel(path: string, opts: ModelLoadOptions = {}): Promise<LoadedModel> {
  const opened = openModel(path);
  try {
    if (opened.image) return await loadImage(opened.image.image, opened.image.src, opened.tokenizer, opened.kind, opts);
    return await loadSource(opened.source, opened.tokenizer, opened.kind, path, opts);
  } finally {
    opened.close();
  }
}
