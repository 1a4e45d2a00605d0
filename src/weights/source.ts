/**
 * WeightSource: what the inference engine loads a model from, independent of the file format.
 * Names are this project's parameter names (src/model/transformer.ts paramTable:
 * `embed_tokens`, `lm_head`, `layers.N.q_proj`, …, `layers.N.input_layernorm`, `norm`).
 *
 * A source hands out one tensor at a time so that a multi-GB model is never held twice:
 *  - dense(name)      full-precision values (norm weights, embeddings, or latent linear weights
 *                     that the engine quantizes at load exactly as training does)
 *  - quantized(name)  a linear weight the file already stores quantized: q ∈ {-1,0,+1} (ternary)
 *                     or {-1,+1} (binary), W ≈ scale·q (one scale per tensor), row-major (N, K)
 * Readers of checkpoints, Hugging Face directories and GGUF files implement this interface.
 */
import { FormatError } from '../errors.js';
import type { Kernels } from '../kernels/backend.js';
import type { ModelConfig } from '../model/config.js';
import { paramTable, type Transformer } from '../model/transformer.js';
import type { LoadedCheckpoint } from '../train/checkpoint.js';
import { toFloat32 } from '../io/safetensors.js';

export interface QuantizedTensor {
  /** Row-major (N, K) values in {-1, 0, +1}. */
  q: Int8Array;
  /** W ≈ scale · q. */
  scale: number;
}

export interface WeightSource {
  readonly config: ModelConfig;
  /** Human-readable origin for error messages. */
  readonly where: string;
  /** Full-precision tensor; throws FormatError when missing or of the wrong size. */
  dense(name: string): Float32Array;
  /**
   * Rows [r0, r1) of a dense 2-D tensor (N, K) as a (r1 − r0)·K array. Optional: lets the loader
   * convert large tables (embeddings, LM head) in slices instead of holding them whole in f32.
   */
  denseRows?(name: string, r0: number, r1: number): Float32Array;
  /**
   * Rows [r0, r1) of a 2-D table stored as IEEE half (GGUF F16 embeddings), as the raw bits, or undefined
   * when it is stored otherwise: lets the loader quantize the LM head straight from the half bits.
   * The returned array may be reused by the next call.
   */
  halfRows?(name: string, r0: number, r1: number): Uint16Array | undefined;
  /**
   * The stored quantized form of a linear weight, or undefined when the source keeps it dense.
   * The returned arrays may be reused by the next call.
   */
  quantized?(name: string): QuantizedTensor | undefined;
  /**
   * Fast path for stored ternary codes: write linear weight `name` (n rows × K) straight into the
   * 'i2r4' matrix dst at rows [r0, r0 + n) and its per-row β into beta[r0, r0 + n), without a
   * per-weight round trip through int8 codes (src/quant/repack.ts). Returns false when the stored
   * form does not allow it (the loader then uses quantized() / dense()); codes are validated.
   */
  intoI2R4?(name: string, dst: Uint8Array, r0: number, n: number, K: number, beta: Float32Array): boolean;
}

/**
 * The ternary / binary codes and per-tensor scale of one linear weight (N, K): the source's stored codes
 * (validated: length, finite scale, every value in the alphabet), or the latent weight quantized now
 * exactly as training does (absmean ternary β; Sign(W − α) with β = mean|W|). `stored` says which.
 */
export function linearCodes(source: WeightSource, name: string, N: number, K: number, kind: 'ternary' | 'sign',
                            quant: Pick<Kernels, 'quantizeSign' | 'quantizeTernaryAbsmean'>,
                            dense: (name: string) => Float32Array = (n) => source.dense(n)): QuantizedTensor & { stored: boolean } {
  const s = source.quantized?.(name);
  if (s !== undefined) {
    if (s.q.length !== N * K) throw new FormatError(`${source.where}: quantized tensor '${name}' has ${s.q.length} values, the config needs ${N * K}`);
    if (!Number.isFinite(s.scale)) throw new FormatError(`${source.where}: tensor '${name}' has a non-finite scale ${s.scale}`);
    for (let i = 0; i < s.q.length; i++) {
      const v = s.q[i]!;
      if (v < -1 || v > 1 || (kind === 'sign' && v === 0)) throw new FormatError(`${source.where}: tensor '${name}' value ${v} at ${i} is not ${kind === 'sign' ? 'binary ±1' : 'ternary'}`);
    }
    return { q: s.q, scale: s.scale, stored: true };
  }
  const w = dense(name);
  const q = new Int8Array(N * K);
  const scale = kind === 'sign' ? quant.quantizeSign(q, w, N * K).beta : quant.quantizeTernaryAbsmean(q, w, N * K);
  return { q, scale, stored: false };
}

/** Expected element count of every parameter of a config. */
export function expectedSizes(c: ModelConfig): Map<string, number> {
  return new Map(paramTable(c).map((p) => [p.name, p.size]));
}

function checkSize(where: string, name: string, got: number, c: ModelConfig): void {
  const want = expectedSizes(c).get(name);
  if (want === undefined) throw new FormatError(`${where}: unknown tensor '${name}' for this config`);
  if (got !== want) throw new FormatError(`${where}: tensor '${name}' has ${got} elements, the config needs ${want}`);
}

/** A live training model (weights copied to f32 on request). */
export function sourceFromTransformer(model: Transformer): WeightSource {
  return {
    config: model.config,
    where: 'model',
    dense(name) {
      const p = model.param(name).p;
      return p instanceof Float32Array ? p.slice() : Float32Array.from(p);
    },
  };
}

/** A training checkpoint (src/train/checkpoint.ts): `model.<name>` tensors. */
export function sourceFromCheckpoint(ck: LoadedCheckpoint, where = 'checkpoint'): WeightSource {
  return {
    config: ck.config,
    where,
    dense(name) {
      const t = ck.tensors.get(`model.${name}`);
      if (t === undefined) throw new FormatError(`${where}: missing tensor 'model.${name}'`);
      const a = toFloat32(t, `model.${name}`);
      checkSize(where, name, a.length, ck.config);
      return a;
    },
  };
}
