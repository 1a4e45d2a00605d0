/**
 * The bitnet-ts model file: a safetensors file holding a model in inference form — BitLinear
 * weights already quantized and packed (our 'i2' / 'b1' layouts, src/quant/pack.ts) with their
 * per-tensor scales, norms and embeddings in f32 — plus its config and tokenizer.json in the
 * metadata, so one file is everything `bitnet generate` needs. Pure (bytes in, bytes out).
 *
 *   metadata  format = bitnet-ts-model, version = 1, config = JSON(ModelConfig), tokenizer = tokenizer.json text
 *   tensors   <name>.i2 | <name>.b1   U8 (N, rowBytes(K))   packed codes (BitLinear weights)
 *             <name>.scale           F32 (1)               β: W ≈ β·q
 *             <name>                 F32                   everything else (and all weights of fp models)
 */
import { FormatError } from '../errors.js';
import type { TensorOut } from '../io/files.js';
import { parseSafetensors, toFloat32, type Parsed } from '../io/safetensors.js';
import { type ModelConfig, validateConfig } from '../model/config.js';
import { paramTable } from '../model/transformer.js';
import { MODE_TRAITS } from '../nn/bitlinear.js';
import { FORMAT_TRAITS } from '../quant/formats.js';
import { quantizeSign, quantizeTernaryAbsmean } from '../kernels/ref/quant.js';

/** Quantizers for the writer (pure: no backend needed). */
const REF_QUANT = { quantizeSign, quantizeTernaryAbsmean };
import { ArgumentError } from '../errors.js';
import { tokenizerFromJSON } from '../tokenizer/hf.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { linearCodes, type WeightSource } from './source.js';

export const MODEL_FILE_FORMAT = 'bitnet-ts-model';
export const MODEL_FILE_VERSION = 1;

const isLinear = (name: string) => /_proj$/.test(name);

/** Tensors and metadata of a model file for `source` (weights quantized here when the source is dense). */
export function modelFileContents(source: WeightSource, tokenizerJson: string | undefined): { tensors: Array<[string, TensorOut]>; metadata: Record<string, string> } {
  const c = source.config;
  const tr = MODE_TRAITS[c.quant];
  if (c.groups > 1) throw new ArgumentError('model file: group-quantized BitNet v1 models are not supported (one scale per tensor)');
  const tensors: Array<[string, TensorOut]> = [];
  for (const p of paramTable(c)) {
    if (!isLinear(p.name) || tr.weight === 'none') {
      tensors.push([p.name, { dtype: 'F32', shape: p.shape, data: source.dense(p.name) }]);
      continue;
    }
    const [N, K] = p.shape as [number, number];
    const qs = linearCodes(source, p.name, N, K, tr.weight, REF_QUANT);
    const ft = FORMAT_TRAITS[tr.weight === 'sign' ? 'b1' : 'i2'];
    const packed = new Uint8Array(ft.bytes(N, K));
    ft.pack(packed, qs.q, N, K);
    tensors.push([`${p.name}.${ft.name}`, { dtype: 'U8', shape: [N, ft.rowBytes(K)], data: packed }], [`${p.name}.scale`, { dtype: 'F32', shape: [1], data: Float32Array.of(qs.scale) }]);
  }
  const metadata: Record<string, string> = { format: MODEL_FILE_FORMAT, version: String(MODEL_FILE_VERSION), config: JSON.stringify(c) };
  if (tokenizerJson !== undefined) metadata.tokenizer = tokenizerJson;
  return { tensors, metadata };
}

/** True when a parsed safetensors file is a bitnet-ts model file. */
export function isModelFile(parsed: Parsed): boolean {
  return parsed.metadata.format === MODEL_FILE_FORMAT;
}

/** A WeightSource over a parsed model file (validated: version, config, every tensor's dtype and shape). */
export function sourceFromModelFile(parsed: Parsed, where: string): { source: WeightSource; tokenizerJson: string | undefined } {
  const md = parsed.metadata;
  if (md.format !== MODEL_FILE_FORMAT) throw new FormatError(`${where}: not a ${MODEL_FILE_FORMAT} file (format=${md.format ?? 'missing'})`);
  if (Number(md.version) !== MODEL_FILE_VERSION) throw new FormatError(`${where}: model file version ${md.version}, this build reads ${MODEL_FILE_VERSION}`);
  let config: ModelConfig;
  try {
    config = validateConfig(JSON.parse(md.config ?? '') as ModelConfig);
  } catch (e) {
    throw new FormatError(`${where}: bad config in metadata (${(e as Error).message})`);
  }
  const tr = MODE_TRAITS[config.quant];
  const ft = FORMAT_TRAITS[tr.weight === 'sign' ? 'b1' : 'i2'];
  const shapes = new Map(paramTable(config).map((p) => [p.name, p.shape]));
  const get = (name: string) => {
    const t = parsed.tensors.get(name);
    if (t === undefined) throw new FormatError(`${where}: missing tensor '${name}'`);
    return t;
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
      if (!isLinear(name) || tr.weight === 'none') return undefined;
      const [N, K] = shapes.get(name) as [number, number];
      const t = get(`${name}.${ft.name}`);
      if (t.dtype !== 'U8' || t.bytes.byteLength !== ft.bytes(N, K)) throw new FormatError(`${where}: '${name}.${ft.name}' must be U8 with ${ft.bytes(N, K)} bytes (${N}×${K} weights), got ${t.dtype} with ${t.bytes.byteLength}`);
      const s = toFloat32(get(`${name}.scale`), `${name}.scale`);
      if (s.length !== 1 || !Number.isFinite(s[0]!)) throw new FormatError(`${where}: '${name}.scale' must be one finite f32`);
      const q = new Int8Array(N * K);
      try {
        ft.unpack(q, t.bytes, N, K);
      } catch (e) {
        throw new FormatError(`${where}: '${name}.${ft.name}': ${(e as Error).message}`);
      }
      return { q, scale: s[0]! };
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
