/**
 * From an opened model to a runnable one, in any JavaScript engine: a backend + PackedModel.load.
 * Shared by the Node loader (`loadModel(path)`, src/infer/load.ts) and `loadModelFromBytes(bytes)`,
 * which takes a model file held in memory (a browser File or fetch response; no file system).
 */
import { FormatError } from '../errors.js';
import { createBackend, type Backend, type BackendOptions } from '../kernels/backend.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { openModelFileBytes } from './model_file.js';
import { PackedModel, type LoadOptions } from './packed_model.js';
import { InferenceSession, type SessionOptions } from './session.js';
import type { WeightSource } from './source.js';

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
  const backend = await createBackend(opts);
  try {
    const model = PackedModel.load(backend, source, opts);
    return { model, tokenizer, backend, kind, session: (o) => new InferenceSession(model, o), dispose: () => backend.dispose() };
  } catch (e) {
    await backend.dispose();
    throw e;
  }
}

/**
 * A bitnet-ts model file (`bitnet pack`) from its bytes to a runnable model. Anything else raises
 * FormatError naming `where`.
 *   const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
 *   const m = await loadModelFromBytes(bytes, { where: url }); const s = m.session();
 */
export async function loadModelFromBytes(bytes: Uint8Array, opts: ModelLoadOptions & { where?: string } = {}): Promise<LoadedModel> {
  const where = opts.where ?? 'model file';
  const { source, tokenizer } = openModelFileBytes(bytes, where);
  return loadSource(source, tokenizer, 'model-file', where, opts);
}
