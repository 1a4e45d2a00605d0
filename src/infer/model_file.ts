/**
 * The bitnet-ts model file: a safetensors file holding the engine's memory image — every array of
 * PackedModel (src/infer/layout.ts) in exactly the layout the kernels read, in allocation order — plus
 * config, layout and tokenizer.json in the metadata. Loading is one sequential read per array straight
 * into the arena (WASM memory): no per-weight JavaScript loop, no quantize, no repack, no copy of the
 * file on the JS heap. Any safetensors tool can still list and read it.
 *
 *   metadata  format = bitnet-ts-model, version = 2, config = JSON(ModelConfig),
 *             layout = JSON({format, interleave, head}), tokenizer = tokenizer.json text (optional)
 *   tensors   one per layout array, named as there (layers.0.qkv.w, layers.0.qkv.beta, …, embed.q7, …),
 *             dtype U8 / I8 / F32, shape [elements padded to 64 bytes]; the data section starts at a
 *             64-byte-aligned file offset, so every array is 64-byte aligned in the file as in memory.
 *
 * Version 1 files (written before the image layout: '<name>.i2' / '<name>.b1' codes + '<name>.scale'
 * per source tensor, f32 embeddings) still load, through the WeightSource path (quantized once more
 * at load, like any other format). A version newer than this build reads is refused with FormatError.
 */
import { FormatError } from '../errors.js';
import type { TensorOut } from '../io/files.js';
import { parseSafetensors, serializeHeader, toFloat32, type Parsed, type StDType } from '../io/safetensors.js';
import { type ModelConfig, validateConfig } from '../model/config.js';
import { paramTable } from '../model/transformer.js';
import { quantVariant, WEIGHT_QUANTS } from '../quant/modes.js';
import { FORMAT_TRAITS } from '../quant/formats.js';
import { quantizeSign, quantizeTernaryAbsmean } from '../kernels/ref/quant.js';
import { ALIGN } from '../tensor/arena.js';
import type { Backend } from '../kernels/backend.js';
import { dequantRowI7R4 } from '../kernels/ref/infer.js';

/** Quantizers for the writer (pure: no backend needed). */
const REF_QUANT = { quantizeSign, quantizeTernaryAbsmean };
import { ArgumentError } from '../errors.js';
import { tokenizerFromJSON } from '../tokenizer/hf.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { linearCodes, type QuantizedTensor, type WeightSource } from '../weights/source.js';
import { HEAD_TYPES, modelLayout, paddedBytes, type ArraySpec, type HeadType, type LayoutOptions, type ModelLayout } from './layout.js';
import { dequantRowQ4G } from '../kernels/ref/head4.js';
import { i2RowsToI2R4 } from '../quant/repack.js';
import { PackedModel } from './packed_model.js';

export const MODEL_FILE_FORMAT = 'bitnet-ts-model';
/** The version this build writes (the image layout). */
export const MODEL_FILE_VERSION = 2;
/** Versions this build reads. */
export const MODEL_FILE_VERSIONS_READ: readonly number[] = [1, 2];

const isLinear = (name: string) => /_proj$/.test(name);

/** Tensors and metadata of a version-1 model file (the layout before the image; kept to test that such files still load). */
export function modelFileContentsV1(source: WeightSource, tokenizerJson: string | undefined): { tensors: Array<[string, TensorOut]>; metadata: Record<string, string> } {
  const c = source.config;
  const weight = quantVariant(c).weight;
  if (c.groups > 1) throw new ArgumentError('model file: group-quantized BitNet v1 models are not supported (one scale per tensor)');
  const tensors: Array<[string, TensorOut]> = [];
  for (const p of paramTable(c)) {
    if (!isLinear(p.name) || weight === 'none') {
      tensors.push([p.name, { dtype: 'F32', shape: p.shape, data: source.dense(p.name) }]);
      continue;
    }
    const [N, K] = p.shape as [number, number];
    const qs = linearCodes(source, p.name, N, K, weight, REF_QUANT);
    const ft = FORMAT_TRAITS[WEIGHT_QUANTS[weight].formats[0]]; // 'b1' for sign, 'i2' for ternary
    const packed = new Uint8Array(ft.bytes(N, K));
    ft.pack(packed, qs.q, N, K);
    tensors.push([`${p.name}.${ft.name}`, { dtype: 'U8', shape: [N, ft.rowBytes(K)], data: packed }], [`${p.name}.scale`, { dtype: 'F32', shape: [1], data: Float32Array.of(qs.scale) }]);
  }
  const metadata: Record<string, string> = { format: MODEL_FILE_FORMAT, version: '1', config: JSON.stringify(c) };
  if (tokenizerJson !== undefined) metadata.tokenizer = tokenizerJson;
  return { tensors, metadata };
}

/** True when a parsed safetensors file is a bitnet-ts model file. */
export function isModelFile(parsed: Parsed): boolean {
  return parsed.metadata.format === MODEL_FILE_FORMAT;
}

/** The model file version of `metadata`, checked against what this build reads (FormatError naming both). */
export function modelFileVersion(metadata: Record<string, string>, where: string): number {
  if (metadata.format !== MODEL_FILE_FORMAT) throw new FormatError(`${where}: not a ${MODEL_FILE_FORMAT} file (format=${metadata.format ?? 'missing'})`);
  const v = Number(metadata.version);
  if (!MODEL_FILE_VERSIONS_READ.includes(v)) {
    throw new FormatError(`${where}: model file version ${JSON.stringify(metadata.version)}${Number.isInteger(v) && v > MODEL_FILE_VERSION ? ' is newer than this build of bitnet-ts' : ' is unknown'}; this build reads versions ${MODEL_FILE_VERSIONS_READ.join(', ')}`);
  }
  return v;
}

/** A WeightSource over a parsed version-1 model file (validated: config, every tensor's dtype and shape). */
export function sourceFromModelFile(parsed: Parsed, where: string): { source: WeightSource; tokenizerJson: string | undefined } {
  const md = parsed.metadata;
  if (modelFileVersion(md, where) !== 1) throw new FormatError(`${where}: sourceFromModelFile reads version-1 files; open version ${md.version} with openModelImage`);
  let config: ModelConfig;
  try {
    config = validateConfig(JSON.parse(md.config ?? '') as ModelConfig);
  } catch (e) {
    throw new FormatError(`${where}: bad config in metadata (${(e as Error).message})`);
  }
  const weight = quantVariant(config).weight;
  const ft = FORMAT_TRAITS[weight === 'none' ? 'i2' : WEIGHT_QUANTS[weight].formats[0]]; // 'b1' for sign, 'i2' for ternary
  const shapes = new Map(paramTable(config).map((p) => [p.name, p.shape]));
  const get = (name: string) => {
    const t = parsed.tensors.get(name);
    if (t === undefined) throw new FormatError(`${where}: missing tensor '${name}'`);
    return t;
  };
  /** A linear weight's stored codes (dtype and size checked) and its one finite scale. */
  const stored = (name: string): { bytes: Uint8Array; scale: number; N: number; K: number } => {
    const [N, K] = shapes.get(name) as [number, number];
    const t = get(`${name}.${ft.name}`);
    if (t.dtype !== 'U8' || t.bytes.byteLength !== ft.bytes(N, K)) throw new FormatError(`${where}: '${name}.${ft.name}' must be U8 with ${ft.bytes(N, K)} bytes (${N}×${K} weights), got ${t.dtype} with ${t.bytes.byteLength}`);
    const s = toFloat32(get(`${name}.scale`), `${name}.scale`);
    if (s.length !== 1 || !Number.isFinite(s[0]!)) throw new FormatError(`${where}: '${name}.scale' must be one finite f32`);
    return { bytes: t.bytes, scale: s[0]!, N, K };
  };
  const source: WeightSource = {
    config,
    where,
    dense(name) {
      const shape = shapes.get(name);
      if (shape === undefined) throw new FormatError(`${where}: unknown tensor '${name}'`);
      const t = get(name);
      const a = toFloat32(t, name);
      const n = shape.reduce((x, y) => x * y, 1);
      if (a.length !== n) throw new FormatError(`${where}: tensor '${name}' has ${a.length} values, expected ${n}`);
      return a;
    },
    quantized(name) {
      if (!isLinear(name) || weight === 'none') return undefined;
      const { bytes, scale, N, K } = stored(name);
      const q = new Int8Array(N * K);
      try {
        ft.unpack(q, bytes, N, K);
      } catch (e) {
        throw new FormatError(`${where}: '${name}.${ft.name}': ${(e as Error).message}`);
      }
      return { q, scale };
    },
    // 'i2' rows go into the engine's 'i2r4' by block copies (src/quant/repack.ts), no int8 round trip
    intoI2R4(name, dst, r0, n, K, beta) {
      if (!isLinear(name) || ft.name !== 'i2') return false;
      const st = stored(name);
      if (st.N !== n || st.K !== K) return false;
      i2RowsToI2R4(dst, st.bytes, r0, n, K, `${where}: '${name}.i2'`);
      beta.fill(st.scale, r0, r0 + n);
      return true;
    },
  };
  return { source, tokenizerJson: md.tokenizer };
}

/** A parsed model file opened: its WeightSource and the tokenizer it carries (undefined if none). */
export function openModelFile(parsed: Parsed, where: string): { source: WeightSource; tokenizer: Tokenizer | undefined } {
  const { source, tokenizerJson } = sourceFromModelFile(parsed, where);
  if (tokenizerJson === undefined) return { source, tokenizer: undefined };
  try {
    return { source, tokenizer: tokenizerFromJSON(JSON.parse(tokenizerJson)) };
  } catch (e) {
    throw new FormatError(`${where}: bad tokenizer in metadata (${(e as Error).message})`);
  }
}

/** A model file held in memory (a browser File, a fetch response): parsed, checked to be a model file, opened. */
export function openModelFileBytes(bytes: Uint8Array, where = 'model file'): { source: WeightSource; tokenizer: Tokenizer | undefined } {
  let parsed: Parsed;
  try {
    parsed = parseSafetensors(bytes);
  } catch (e) {
    throw e instanceof FormatError ? new FormatError(`${where}: ${e.message}`) : e;
  }
  if (!isModelFile(parsed)) throw new FormatError(`${where}: a safetensors file but not a ${MODEL_FILE_FORMAT} file (format=${parsed.metadata.format ?? 'missing'}); make one with \`bitnet pack\``);
  return openModelFile(parsed, where);
}

// ---- version 2: the memory image ----------------------------------------------------------------

const ST_DTYPE: Record<ArraySpec['dtype'], StDType> = { u8: 'U8', i8: 'I8', f32: 'F32' };

/** Where a model's bytes come from: positioned reads, straight into a destination where the source can. */
export interface ImageSource {
  readonly size: number;
  readonly where: string;
  read(offset: number, length: number): Uint8Array;
  /** Fill dst with bytes [offset, offset + dst.length) (Node: one pread into WASM memory). */
  readInto?(dst: Uint8Array, offset: number): void;
}

function readIntoFrom(src: ImageSource, dst: Uint8Array, offset: number): void {
  if (src.readInto) src.readInto(dst, offset);
  else dst.set(src.read(offset, dst.length));
}

/** Header bytes and the per-array padding of a model file for `model` (the writer streams header, then each view + padding). */
export function modelImageParts(model: PackedModel, tokenizerJson: string | undefined): { header: Uint8Array; arrays: Array<{ name: string; bytes: Uint8Array; pad: number }> } {
  const o = model.layout.options;
  const metadata: Record<string, string> = {
    format: MODEL_FILE_FORMAT, version: String(MODEL_FILE_VERSION), config: JSON.stringify(model.config),
    layout: JSON.stringify({ format: o.format, interleave: o.interleave, head: o.head }),
  };
  if (tokenizerJson !== undefined) metadata.tokenizer = tokenizerJson;
  const arrays = model.arrays().map(({ spec, view }) => {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    return { name: spec.name, bytes, pad: paddedBytes(spec) - view.byteLength, spec };
  });
  const header = serializeHeader(arrays.map((a) => [a.name, { dtype: ST_DTYPE[a.spec.dtype], shape: [paddedBytes(a.spec) / (a.spec.dtype === 'f32' ? 4 : 1)], byteLength: paddedBytes(a.spec) }]), metadata, ALIGN);
  return { header, arrays: arrays.map(({ name, bytes, pad }) => ({ name, bytes, pad })) };
}

/** A version-2 model file whose header has been read and checked against the layout its config implies. */
export interface ModelImage {
  readonly where: string;
  readonly config: ModelConfig;
  readonly layout: ModelLayout;
  readonly tokenizerJson: string | undefined;
  /** Absolute file offset of every array. */
  readonly offsets: Map<string, number>;
  /** Bytes of all arrays (the data section). */
  readonly bytes: number;
}

function parseLayoutOptions(text: string | undefined, where: string): LayoutOptions {
  let o: unknown;
  try {
    o = JSON.parse(text ?? '');
  } catch {
    throw new FormatError(`${where}: metadata 'layout' is missing or not JSON`);
  }
  const r = o as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || (r.format !== 'i2' && r.format !== 'i1.6') || typeof r.interleave !== 'boolean' || !HEAD_TYPES.includes(r.head as HeadType)) {
    throw new FormatError(`${where}: metadata 'layout' must be {"format": "i2"|"i1.6", "interleave": boolean, "head": ${HEAD_TYPES.map((h) => `"${h}"`).join('|')}}, got ${String(text).slice(0, 200)}`);
  }
  return { format: r.format, interleave: r.interleave, head: r.head as HeadType };
}

/**
 * Check a version-2 header: config valid, layout known, and every array of the layout present with its
 * dtype and padded size (and nothing else), so that reading can go straight into allocated views.
 */
export function modelImageFrom(entries: Map<string, { dtype: StDType; start: number; end: number }>, metadata: Record<string, string>, where: string): ModelImage {
  if (modelFileVersion(metadata, where) !== 2) throw new FormatError(`${where}: not a version-2 model file`);
  let config: ModelConfig;
  try {
    config = validateConfig(JSON.parse(metadata.config ?? '') as ModelConfig);
  } catch (e) {
    throw new FormatError(`${where}: bad config in metadata (${(e as Error).message})`);
  }
  if (config.groups > 1) throw new FormatError(`${where}: group-quantized models (groups=${config.groups}) have no packed form`);
  const layout = modelLayout(config, parseLayoutOptions(metadata.layout, where));
  const offsets = new Map<string, number>();
  let bytes = 0;
  for (const a of layout.arrays) {
    const e = entries.get(a.name);
    if (e === undefined) throw new FormatError(`${where}: missing array '${a.name}' (the config and layout need it)`);
    const want = paddedBytes(a);
    if (e.dtype !== ST_DTYPE[a.dtype] || e.end - e.start !== want) throw new FormatError(`${where}: array '${a.name}' at file byte ${e.start} is ${e.dtype} with ${e.end - e.start} bytes; the layout needs ${ST_DTYPE[a.dtype]} with ${want}`);
    offsets.set(a.name, e.start);
    bytes += want;
  }
  if (entries.size !== layout.arrays.length) {
    const extra = [...entries.keys()].find((n) => !offsets.has(n));
    throw new FormatError(`${where}: unexpected tensor '${extra}' in a version-2 model file`);
  }
  return { where, config, layout, tokenizerJson: metadata.tokenizer, offsets, bytes };
}

/**
 * Allocate the image's arrays on `be` and read each straight into its view (one positioned read per
 * array). Scales, norms and f32 tables are checked finite; packed codes are taken as stored (every byte
 * value gives finite outputs).
 */
/** onProgress: (arrays read, arrays in the layout). */
export function loadModelImage(be: Backend, image: ModelImage, src: ImageSource, onProgress?: (done: number, total: number) => void): PackedModel {
  const pm = PackedModel.allocate(be, image.layout, image.where, false);
  const arrays = pm.arrays();
  arrays.forEach(({ spec, view }, i) => {
    onProgress?.(i, arrays.length);
    const { at, bytes } = arrayTarget(image, spec.name, view, src.size);
    readIntoFrom(src, bytes, at);
    checkPlaced(image, spec.name, view, at);
  });
  onProgress?.(arrays.length, arrays.length);
  return pm;
}

/**
 * loadModelImage with asynchronous reads (a browser File or Blob): each array is read in pieces of at
 * most `pieceBytes` (16 MiB), so the page never holds the file, or even one large array, as one buffer.
 */
export async function loadModelImageAsync(be: Backend, image: ModelImage, size: number, read: (offset: number, length: number) => Promise<Uint8Array>,
                                          onProgress?: (done: number, total: number) => void, pieceBytes = 16 << 20): Promise<PackedModel> {
  const pm = PackedModel.allocate(be, image.layout, image.where, false);
  const arrays = pm.arrays();
  for (let i = 0; i < arrays.length; i++) {
    const { spec, view } = arrays[i]!;
    onProgress?.(i, arrays.length);
    const { at, bytes } = arrayTarget(image, spec.name, view, size);
    for (let o = 0; o < bytes.length; o += pieceBytes) {
      const n = Math.min(pieceBytes, bytes.length - o);
      const piece = await read(at + o, n);
      if (piece.length !== n) throw new FormatError(`${image.where}: short read of array '${spec.name}' at file byte ${at + o} (${piece.length} of ${n} bytes)`);
      bytes.set(piece, o);
    }
    checkPlaced(image, spec.name, view, at);
  }
  onProgress?.(arrays.length, arrays.length);
  return pm;
}

/** Where an array lies in the file and the bytes of its view (FormatError when the file is too short). */
function arrayTarget(image: ModelImage, name: string, view: ArrayBufferView, size: number): { at: number; bytes: Uint8Array } {
  const at = image.offsets.get(name)!;
  if (at + view.byteLength > size) throw new FormatError(`${image.where}: array '${name}' (file bytes ${at}..${at + view.byteLength}) runs past the end of the ${size}-byte file: truncated?`);
  return { at, bytes: new Uint8Array(view.buffer, view.byteOffset, view.byteLength) };
}

/** f32 arrays (norms, scales, f32 tables) must be finite; packed codes are taken as stored. */
function checkPlaced(image: ModelImage, name: string, view: ArrayBufferView, at: number): void {
  if (!(view instanceof Float32Array)) return;
  for (let i = 0; i < view.length; i++) {
    if (!Number.isFinite(view[i]!)) throw new FormatError(`${image.where}: array '${name}' has a non-finite value ${view[i]} at element ${i} (file byte ${at + 4 * i})`);
  }
}

/**
 * A WeightSource over a version-2 file (for `convert`, `inspect`, or loading into another layout):
 * linear weights come back as their stored ternary/binary codes (one scale per tensor when its rows
 * share β), norms as stored, embeddings/heads as stored (f32) or dequantized from the 7-bit codes.
 */
export function sourceFromImage(image: ModelImage, src: ImageSource): WeightSource {
  const c = image.config, layout = image.layout;
  const arr = (name: string): Uint8Array => {
    const spec = layout.arrays.find((a) => a.name === name)!;
    const n = spec.length * (spec.dtype === 'f32' ? 4 : 1);
    const out = new Uint8Array(n);
    readIntoFrom(src, out, image.offsets.get(name)!);
    return out;
  };
  const f32 = (name: string) => new Float32Array(arr(name).buffer);
  const normArray = new Map([...layout.normSource].map(([a, s]) => [s, a]));
  const linearOf = new Map<string, { id: string; r0: number; n: number; N: number; K: number; format: string }>();
  for (const L of layout.layers) {
    for (const s of [L.qkv, L.o, L.gateUp, L.down]) {
      let r0 = 0;
      s.names.forEach((name, i) => {
        linearOf.set(name, { id: s.id, r0, n: s.rows[i]!, N: s.N, K: s.K, format: s.format });
        r0 += s.rows[i]!;
      });
    }
  }
  const table = (prefix: string): Float32Array => {
    const V = c.vocabSize, C = c.dim;
    if (layout.options.head === 'f32') return f32(`${prefix}.f32`);
    const out = new Float32Array(V * C);
    if (layout.options.head === 'q4g') {
      const w = arr(`${prefix}.q4g`), s = f32(`${prefix}.q4s`);
      for (let v = 0; v < V; v++) dequantRowQ4G(out.subarray(v * C, (v + 1) * C), w, s, v, C);
    } else {
      const w = new Int8Array(arr(`${prefix}.q7`).buffer), s = f32(`${prefix}.scale`);
      for (let v = 0; v < V; v++) dequantRowI7R4(out.subarray(v * C, (v + 1) * C), w, s, v, C);
    }
    return out;
  };
  /** A packed linear part's ternary/binary codes (its rows of the fused matrix) and their per-row β. */
  const codes = (L: { id: string; r0: number; n: number; N: number; K: number; format: string }): { q: Int8Array; beta: Float32Array } => {
    const ft = FORMAT_TRAITS[L.format as keyof typeof FORMAT_TRAITS];
    const all = new Int8Array(L.N * L.K);
    ft.unpack(all, arr(`${L.id}.w`), L.N, L.K);
    return { q: all.subarray(L.r0 * L.K, (L.r0 + L.n) * L.K), beta: f32(`${L.id}.beta`).subarray(L.r0, L.r0 + L.n) };
  };
  const quantized = (name: string): QuantizedTensor | undefined => {
    const L = linearOf.get(name);
    if (L === undefined || L.format === 'f32') return undefined;
    const { q, beta } = codes(L);
    if (beta.some((b) => b !== beta[0])) return undefined; // per-row scales: dense() below
    return { q, scale: beta[0]! };
  };
  return {
    config: c,
    where: image.where,
    dense(name) {
      if (name === 'embed_tokens') return table('embed');
      if (name === 'lm_head') return table(c.tieEmbeddings ? 'embed' : 'head');
      const norm = normArray.get(name);
      if (norm !== undefined) return f32(norm);
      const L = linearOf.get(name);
      if (L === undefined) throw new FormatError(`${image.where}: unknown tensor '${name}'`);
      if (L.format === 'f32') return f32(`${L.id}.w`).slice(L.r0 * L.K, (L.r0 + L.n) * L.K);
      const { q, beta } = codes(L);
      const out = new Float32Array(L.n * L.K);
      for (let r = 0; r < L.n; r++) for (let k = 0; k < L.K; k++) out[r * L.K + k] = q[r * L.K + k]! * beta[r]!;
      return out;
    },
    quantized,
  };
}

/** The tokenizer a model file carries (undefined if none); FormatError naming `where` when it does not parse. */
export function tokenizerOfModelFile(tokenizerJson: string | undefined, where: string): Tokenizer | undefined {
  if (tokenizerJson === undefined) return undefined;
  try {
    return tokenizerFromJSON(JSON.parse(tokenizerJson));
  } catch (e) {
    throw new FormatError(`${where}: bad tokenizer in metadata (${(e as Error).message})`);
  }
}

/** A whole model file in memory (for a browser download, or tests); Node writes it streamed with writeModelFile. */
export function modelFileBytes(model: PackedModel, tokenizerJson: string | undefined): Uint8Array {
  const { header, arrays } = modelImageParts(model, tokenizerJson);
  const out = new Uint8Array(header.length + arrays.reduce((s, a) => s + a.bytes.length + a.pad, 0));
  out.set(header);
  let o = header.length;
  for (const a of arrays) {
    out.set(a.bytes, o);
    o += a.bytes.length + a.pad;
  }
  return out;
}
