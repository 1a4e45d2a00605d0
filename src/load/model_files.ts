/**
 * A model from its files, in any engine: one loader for the formats the Node engine opens, over a FileSet
 * (src/io/blob_source.ts) — a folder on disk in Node, the files picked in the page (Blobs read with
 * FileReaderSync in its worker). What the files are is decided from their contents:
 *   config.json among them          a Hugging Face model (src/interop/hf_source.ts)
 *   one file starting "GGUF"        a GGUF model (src/interop/gguf_source.ts; TQ2_0, TQ1_0, I2_S, float linears)
 *   one safetensors model file      our model file: version 2 read array by array into the engine's memory,
 *                                   version 1 read whole and converted (src/infer/model_file.ts)
 * Anything else is a FormatError that names the files. Node's `openModel(path)` (src/load/open.ts) opens the
 * same formats through the same readers, plus run directories, checkpoints and synthetic models.
 */
import { FormatError } from '../errors.js';
import type { FileSet } from '../io/blob_source.js';
import { GGUF_MAGIC, type ByteSource } from '../io/gguf.js';
import { safetensorsReader } from '../io/safetensors.js';
import { modelFileVersion, modelImageFrom, openModelFileBytes, sourceFromImage, tokenizerOfModelFile, MODEL_FILE_FORMAT, type ImageSource, type ModelImage } from '../infer/model_file.js';
import type { PackedModel } from '../infer/packed_model.js';
import type { KvCacheType } from '../infer/session.js';
import { ggufModelFrom } from '../interop/gguf_source.js';
import { hfModelFrom } from '../interop/hf_source.js';
import type { Tokenizer } from '../tokenizer/types.js';
import type { WeightSource } from '../weights/source.js';
import { loadImage, loadSource, type LoadedModel, type ModelLoadOptions } from './loaded_model.js';

export interface OpenedFiles {
  kind: 'hf' | 'gguf' | 'model-file';
  /** The folder or file, for messages. */
  where: string;
  source: WeightSource;
  tokenizer: Tokenizer | undefined;
  chatTemplate?: string;
  /** A version-2 model file: its checked header and its bytes, for reading straight into memory. */
  image?: { image: ModelImage; src: ImageSource };
  /** Release what stays open while tensors are read. */
  close(): void;
}

const isGguf = (src: ByteSource): boolean => src.size >= 4 && new DataView(src.read(0, 4).slice().buffer).getUint32(0, true) === GGUF_MAGIC;

/** The one model file of a set without config.json (FormatError when there is none or several). */
function theModelFile(files: FileSet): string {
  const names = files.names;
  if (names.length === 1) return names[0]!;
  const models = names.filter((n) => /\.(gguf|safetensors)$/i.test(n));
  if (models.length === 1) return models[0]!;
  const list = names.length > 8 ? `${names.slice(0, 8).join(', ')}, …` : names.join(', ');
  throw new FormatError(`${files.where}: ${names.length} files (${list}) and no config.json: choose one GGUF or model file, or a Hugging Face folder (config.json + *.safetensors)`);
}

/** Open a model's files (see the module comment). Tensors are read when the model is loaded; call close() after. */
export function openModelFiles(files: FileSet): OpenedFiles {
  if (files.names.includes('config.json')) {
    const m = hfModelFrom(files);
    return { kind: 'hf', where: files.where, source: m.source, tokenizer: m.tokenizer, ...(m.chatTemplate !== undefined ? { chatTemplate: m.chatTemplate } : {}), close: () => {} };
  }
  const name = theModelFile(files);
  const src = files.open(name)!;
  const where = src.where;
  const close = () => src.close?.();
  let keep = false;
  try {
    if (isGguf(src)) {
      const m = ggufModelFrom(src, close);
      keep = true;
      return { kind: 'gguf', where, source: m.source, tokenizer: m.tokenizer, ...(m.chatTemplate !== undefined ? { chatTemplate: m.chatTemplate } : {}), close };
    }
    let st: ReturnType<typeof safetensorsReader>;
    try {
      st = safetensorsReader(src);
    } catch (e) {
      throw e instanceof FormatError ? new FormatError(`${where}: neither a GGUF file (no GGUF magic) nor a safetensors model file: ${e.message}`) : e;
    }
    if (st.metadata.format !== MODEL_FILE_FORMAT) {
      throw new FormatError(`${where}: a safetensors file but not a ${MODEL_FILE_FORMAT} file (format=${st.metadata.format ?? 'missing'}); make one with \`bitnet pack\`, or choose a Hugging Face model's whole folder (config.json + *.safetensors)`);
    }
    if (modelFileVersion(st.metadata, where) === 2) {
      const image = modelImageFrom(st.entries, st.metadata, where);
      const tokenizer = tokenizerOfModelFile(image.tokenizerJson, where);
      keep = true;
      return { kind: 'model-file', where, source: sourceFromImage(image, src), tokenizer, image: { image, src }, close };
    }
    const { source, tokenizer } = openModelFileBytes(src.read(0, src.size), where); // version 1: small, read whole
    return { kind: 'model-file', where, source, tokenizer, close: () => {} };
  } finally {
    if (!keep) close();
  }
}

/**
 * A runnable model from its files (openModelFiles + a backend + the load path its format takes). Progress
 * goes to `opts.onProgress` (arrays of a model file, tensors of anything else: done, total).
 *   const m = await loadModelFromFiles(blobFileSet(picked.map((f) => ({ name: f.name, blob: f }))), { requireTokenizer: true });
 */
export async function loadModelFromFiles(files: FileSet, opts: ModelLoadOptions = {}): Promise<LoadedModel & { where: string; chatTemplate?: string }> {
  const o = openModelFiles(files);
  try {
    const m = o.image ? await loadImage(o.image.image, o.image.src, o.tokenizer, o.kind, opts) : await loadSource(o.source, o.tokenizer, o.kind, o.where, opts);
    return Object.assign(m, { where: o.where }, o.chatTemplate !== undefined ? { chatTemplate: o.chatTemplate } : {});
  } finally {
    o.close();
  }
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/**
 * The memory line `bitnet generate` prints and the page shows: resident weights (ternary format, head
 * type), the KV cache (element type, context), anything `extra`, and the load time.
 */
export function memoryLine(model: Pick<PackedModel, 'weightBytes' | 'ternaryFormat' | 'head'>, session: { bytes: { kv: number }; kv: KvCacheType; ctx: number }, loadMs: number, extra?: string): string {
  return `memory: weights ${mib(model.weightBytes)} (${model.ternaryFormat}, head ${model.head.type}), KV cache ${mib(session.bytes.kv)} (${session.kv}, ctx ${session.ctx})${extra !== undefined ? `, ${extra}` : ''} · load ${(loadMs / 1000).toFixed(2)} s`;
}
