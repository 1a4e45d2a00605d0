/**
 * From an opened model to a runnable one, in any JavaScript engine: a backend + PackedModel.load.
 * Shared by the Node loader (`loadModel(path)`, src/infer/load.ts) and `loadModelFromBytes(bytes)`,
 * which takes a model file held in memory (a browser File or fetch response; no file system).
 */
import { FormatError } from '../errors.js';
import { createBackend, type Backend, type BackendOptions } from '../kernels/backend.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { MAX_HEADER_BYTES, parseHeader, type StDType } from '../io/safetensors.js';
import { bufferSource } from '../io/gguf.js';
import { loadModelImage, loadModelImageAsync, modelFileVersion, modelImageFrom, openModelFileBytes, sourceFromImage, tokenizerOfModelFile, MODEL_FILE_FORMAT, type ImageSource, type ModelImage } from '../infer/model_file.js';
import { layoutOptions, PackedModel, type LoadOptions } from '../infer/packed_model.js';
import { InferenceSession, type SessionOptions } from '../infer/session.js';
import type { WeightSource } from '../weights/source.js';

export type ModelKind = 'synthetic' | 'hf' | 'run-dir' | 'gguf' | 'model-file' | 'checkpoint';

export interface LoadedModel {
  model: PackedModel;
  tokenizer: Tokenizer | undefined;
  backend: Backend;
  kind: ModelKind;
  /** A generation session over this model (KV cache for `ctx` positions). */
  session(opts?: SessionOptions): InferenceSession;
  /** Free the backend (WASM memory, worker threads). */
  dispose(): Promise<void>;
}

export interface ModelLoadOptions extends LoadOptions, BackendOptions {
  /** Fail (FormatError) before creating a backend when no tokenizer comes with the model. */
  requireTokenizer?: boolean;
}

/** Pack `source` on a new backend; the backend is disposed again if packing fails. */
export async function loadSource(source: WeightSource, tokenizer: Tokenizer | undefined, kind: ModelKind, where: string, opts: ModelLoadOptions = {}): Promise<LoadedModel> {
  if (opts.requireTokenizer && tokenizer === undefined) {
    throw new FormatError(`${where}: no tokenizer found (a model file carries one; a run directory or checkpoint needs tokenizer.json beside it)`);
  }
  return onNewBackend(opts, tokenizer, kind, (backend) => PackedModel.load(backend, source, opts));
}

/** FormatError when a tokenizer is required and the model file carries none. */
function checkModelFileTokenizer(opts: ModelLoadOptions, tokenizer: Tokenizer | undefined, where: string): void {
  if (opts.requireTokenizer && tokenizer === undefined) throw new FormatError(`${where}: no tokenizer found (pack the model with a tokenizer.json beside its source)`);
}

/** A new backend, `build` a model on it, the LoadedModel; the backend is disposed again if building fails. */
async function onNewBackend(opts: BackendOptions, tokenizer: Tokenizer | undefined, kind: ModelKind, build: (be: Backend) => PackedModel | Promise<PackedModel>): Promise<LoadedModel> {
  const backend = await createBackend(opts);
  try {
    const model = await build(backend);
    return { model, tokenizer, backend, kind, session: (o) => new InferenceSession(model, o), dispose: () => backend.dispose() };
  } catch (e) {
    await backend.dispose();
    throw e;
  }
}

/**
 * A version-2 model file (its header already checked) to a runnable model: when the requested layout
 * is the file's (options left unset or 'auto' take the file's), its arrays are read straight into the
 * backend's memory; otherwise the file is re-packed through its WeightSource.
 */
export async function loadImage(image: ModelImage, src: ImageSource, tokenizer: Tokenizer | undefined, kind: ModelKind, opts: ModelLoadOptions = {}): Promise<LoadedModel> {
  checkModelFileTokenizer(opts, tokenizer, image.where);
  const want = requestedLayout(image, opts);
  if (want !== undefined) return loadSource(sourceFromImage(image, src), tokenizer, kind, image.where, { ...opts, ...want });
  return onNewBackend(opts, tokenizer, kind, (backend) => loadModelImage(backend, image, src, opts.onProgress));
}

/** The layout asked for when it differs from the file's (options unset or 'auto' take the file's), else undefined. */
function requestedLayout(image: ModelImage, opts: ModelLoadOptions): ReturnType<typeof layoutOptions> | undefined {
  const f = image.layout.options;
  const want = layoutOptions(image.config, { format: opts.format ?? f.format, interleave: opts.interleave ?? f.interleave, head: opts.head === undefined || opts.head === 'auto' ? f.head : opts.head });
  return want.format === f.format && want.interleave === f.interleave && want.head === f.head ? undefined : want;
}

/**
 * A model file from a Blob (a browser File, a fetched response's blob(); Node's fs.openAsBlob): the
 * header first, then each array in pieces straight into the backend's memory — the file is never one
 * ArrayBuffer. Version-1 files (and a layout other than the file's) are read whole and converted.
 */
export async function loadModelFromBlob(blob: Blob, opts: ModelLoadOptions & { where?: string } = {}): Promise<LoadedModel> {
  const where = opts.where ?? ((blob as { name?: unknown }).name as string | undefined) ?? 'model file';
  const read = async (o: number, n: number) => new Uint8Array(await blob.slice(o, o + n).arrayBuffer());
  if (blob.size < 8) throw new FormatError(`${where}: ${blob.size} bytes is too short for a model file`);
  const len = Number(new DataView((await read(0, 8)).buffer).getBigUint64(0, true));
  let h: ReturnType<typeof parseHeader>;
  try {
    h = parseHeader(await read(0, Math.min(blob.size, 8 + Math.min(len, MAX_HEADER_BYTES))), blob.size);
  } catch (e) {
    throw e instanceof FormatError ? new FormatError(`${where}: ${e.message}`) : e;
  }
  const image = h.metadata.format === MODEL_FILE_FORMAT && modelFileVersion(h.metadata, where) === 2
    ? modelImageFrom(new Map(h.entries.map((e) => [e.name, { dtype: e.dtype, start: h.dataStart + e.begin, end: h.dataStart + e.end }])), h.metadata, where)
    : undefined;
  if (image === undefined || requestedLayout(image, opts) !== undefined) return loadModelFromBytes(await read(0, blob.size), { ...opts, where });
  const tokenizer = tokenizerOfModelFile(image.tokenizerJson, where);
  checkModelFileTokenizer(opts, tokenizer, where);
  return onNewBackend(opts, tokenizer, 'model-file', (backend) => loadModelImageAsync(backend, image, blob.size, read, opts.onProgress));
}

/** The version-2 image of a model file held in memory, or undefined for a version-1 file (FormatError for anything else). */
export function modelImageOfBytes(bytes: Uint8Array, where: string): ModelImage | undefined {
  let h: ReturnType<typeof parseHeader>;
  try {
    h = parseHeader(bytes, bytes.length);
  } catch (e) {
    throw e instanceof FormatError ? new FormatError(`${where}: ${e.message}`) : e;
  }
  if (h.metadata.format !== MODEL_FILE_FORMAT) return undefined;
  if (modelFileVersion(h.metadata, where) === 1) return undefined;
  const entries = new Map<string, { dtype: StDType; start: number; end: number }>(h.entries.map((e) => [e.name, { dtype: e.dtype, start: h.dataStart + e.begin, end: h.dataStart + e.end }]));
  return modelImageFrom(entries, h.metadata, where);
}

/**
 * A bitnet-ts model file (`bitnet pack`) from its bytes to a runnable model. Anything else raises
 * FormatError naming `where`.
 *   const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
 *   const m = await loadModelFromBytes(bytes, { where: url }); const s = m.session();
 */
export async function loadModelFromBytes(bytes: Uint8Array, opts: ModelLoadOptions & { where?: string } = {}): Promise<LoadedModel> {
  const where = opts.where ?? 'model file';
  const image = modelImageOfBytes(bytes, where);
  if (image !== undefined) return loadImage(image, bufferSource(bytes, where), tokenizerOfModelFile(image.tokenizerJson, where), 'model-file', opts);
  const { source, tokenizer } = openModelFileBytes(bytes, where);
  return loadSource(source, tokenizer, 'model-file', where, opts);
}
