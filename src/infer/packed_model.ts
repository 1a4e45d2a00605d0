/**
 * A model in inference form: BitLinear weights quantized once and packed ('i2' 2 bits, 'i1.6'
 * base-3, 'b1' 1 bit), scales per tensor as trained, norms and embeddings in f32, the LM head
 * in f32 or 8-bit (int8 rows × per-row scale). Everything lives in the backend arena (WASM
 * memory for the wasm backend), allocated once at load.
 *
 * Projections that read the same input are fused into one matrix so a token costs one pass
 * (one kernel call) over them: q|k|v, gate|up. Each fused row keeps its own tensor's β.
 *
 * Weights are quantized exactly as training does (src/nn/bitlinear.ts MODE_TRAITS):
 *   b158 / v2-*: absmean ternary, β = mean|W|;  bitnet (v1): Sign(W − α), β = mean|W|;  fp: dense f32.
 * Activations at inference are int8 per token (v1 trains per tensor; per token at inference is the
 * paper's rule, SPEC §1.1), int4 absmean per token on the Hadamard inputs of v2-a4, and the v1
 * zero-point codes q ∈ [0, 127] per token on down_proj's input with config.v1ShiftedActs 'ffn-down'
 * (x ≈ q/s + η, so y = β·(W̃·q)/s + η·β·rowsum(W̃): the int8 × packed kernel on the codes plus a
 * per-row term β·rowsum(W̃) computed here at load).
 */
import { ArgumentError, FormatError } from '../errors.js';
import { OutOfMemoryError } from '../tensor/arena.js';
import type { Backend } from '../kernels/backend.js';
import { isGatedFfn, shiftedDownActs, type ModelConfig, validateConfig } from '../model/config.js';
import { MODE_TRAITS, actQuantFor } from '../nn/bitlinear.js';
import { FORMAT_TRAITS, type FormatName } from '../quant/formats.js';
import { packI2R4Rows } from '../quant/pack.js';
import { roundHalfEven } from '../tensor/round.js';
import { bytesI7R4, I7_MAX, I7_OFFSET, packI7R4 } from '../kernels/ref/infer.js';
import { expectedSizes, linearCodes, type WeightSource } from './source.js';

/** LM head storage: f32, or 7-bit codes per row (int8 storage, one f32 scale per row; see matmulI7). */
export type HeadType = 'f32' | 'q7';

export interface LoadOptions {
  /** Packing of ternary weights (binary v1 weights are always 'b1'). Default 'i2'. */
  format?: 'i2' | 'i1.6';
  /**
   * Store 'i2' matrices with rows interleaved by four ('i2r4', pack.ts): the decode layout, each
   * 4-row group one sequential stream (about 2× the GEMV speed when weights come from DRAM).
   * Same results bit for bit. Default true; false keeps row-by-row 'i2' (for comparisons).
   */
  interleave?: boolean;
  /** LM head (and tied embedding) storage; 'auto' = f32 up to 64 MiB, else 'q7'. Default 'auto'. */
  head?: HeadType | 'auto';
  /** Progress callback: (tensors done, tensors total). */
  onProgress?: (done: number, total: number) => void;
}

/** How a linear layer's input is prepared (one per fused group). */
export interface InputPrep {
  /** LayerNorm (no affine) inside BitLinear (BitNet v1). */
  lnInside: boolean;
  /** Online Hadamard transform (BitNet v2 H-BitLinear). */
  hadamard: boolean;
  /**
   * Activation quantization: none (fp), int8 absmax per token, int4 absmean per token, or the
   * BitNet v1 zero-point codes [0, 127] per token (quantizeShiftedU7PerToken, x ≈ q/s + η).
   */
  act: 'none' | 'i8' | 'i4' | 'u7';
}

/** One (possibly fused) linear layer: y (M, N) = x (M, K) · Wᵀ. */
export interface PackedLinear {
  readonly names: string[];
  readonly N: number;
  readonly K: number;
  readonly prep: InputPrep;
  /** Packed weights (format) or dense f32 (fp). */
  readonly format: FormatName | 'f32';
  readonly packed: Uint8Array | undefined;
  readonly dense: Float32Array | undefined;
  /** Per-row weight scale β (packed formats). */
  readonly beta: Float32Array | undefined;
  /** act 'u7' only: per-row β(n)·Σ_k W̃[n,k] (f32), the zero point's contribution y[m,n] += η[m]·shift[n]. */
  readonly shift: Float32Array | undefined;
  /** Bytes streamed per token. */
  readonly bytes: number;
}

export interface PackedLayer {
  attnNorm: Float32Array;
  qkv: PackedLinear;
  attnSubNorm: Float32Array | undefined;
  o: PackedLinear;
  ffnNorm: Float32Array;
  /** gate|up fused (gated FFNs) or up alone (plain MLPs). */
  gateUp: PackedLinear;
  ffnSubNorm: Float32Array | undefined;
  down: PackedLinear;
}

export interface PackedHead {
  type: HeadType;
  /** f32 (V, C) */
  f32: Float32Array | undefined;
  /** q7: 7-bit codes in the 'i7r4' layout of matmulI7 (offset by 64, rows interleaved by four), per-row scales. */
  q7: Int8Array | undefined;
  scale: Float32Array | undefined;
  bytes: number;
}

/** Row-wise absmax 7-bit codes: w[n,k] = round_half_even(W·63/max|W[n,:]|) ∈ [-63, 63], ws[n] = max|W[n,:]|/63. */
export function quantizeRowsI7(w: Int8Array, ws: Float32Array, W: ArrayLike<number>, N: number, K: number): void {
  for (let n = 0; n < N; n++) {
    let amax = 0;
    for (let k = 0; k < K; k++) amax = Math.max(amax, Math.abs(W[n * K + k]!));
    ws[n] = amax / I7_MAX;
    const s = amax > 0 ? I7_MAX / amax : 0;
    for (let k = 0; k < K; k++) w[n * K + k] = roundHalfEven(W[n * K + k]! * s);
  }
}

const HEAD_AUTO_F32_BYTES = 64 << 20;
/** Values of an embedding/head table converted per slice when the source can hand out rows (4 MiB of f32). */
const TABLE_SLICE_VALUES = 1 << 20;

function sliceOf(rowsAt: (n: string, r0: number, r1: number) => Float32Array, name: string, r0: number, r1: number, C: number, where: string): Float32Array {
  const a = rowsAt(name, r0, r1);
  if (a.length !== (r1 - r0) * C) throw new FormatError(`${where}: rows [${r0}, ${r1}) of '${name}' have ${a.length} values, expected ${(r1 - r0) * C}`);
  return a;
}

export class PackedModel {
  readonly layers: PackedLayer[] = [];
  readonly norm: Float32Array;
  readonly head: PackedHead;
  /** Embedding for lookup: the head itself when tied, else its own table of the same type. */
  readonly embed: PackedHead;

  private constructor(readonly be: Backend, readonly config: ModelConfig, readonly ternaryFormat: 'i2' | 'i1.6', load: (pm: PackedModel) => { norm: Float32Array; head: PackedHead; embed: PackedHead }) {
    const r = load(this);
    this.norm = r.norm;
    this.head = r.head;
    this.embed = r.embed;
  }

  /** Quantize, pack and place every tensor of `source` (one source tensor at a time). */
  static load(be: Backend, source: WeightSource, opts: LoadOptions = {}): PackedModel {
    const c = validateConfig({ ...source.config });
    if (c.groups > 1) throw new ArgumentError(`${source.where}: group-quantized BitNet v1 models (groups=${c.groups}) run only in the training model; the packed engine uses one scale per tensor`);
    const format = opts.format ?? 'i2';
    const interleave = opts.interleave ?? true;
    if (format !== 'i2' && format !== 'i1.6') throw new ArgumentError(`format must be 'i2' or 'i1.6', got '${String(format)}'`);
    const headOpt = opts.head ?? 'auto';
    if (!['auto', 'f32', 'q7'].includes(headOpt)) throw new ArgumentError(`head must be 'auto', 'f32' or 'q7', got '${String(headOpt)}'`);
    const sizes = expectedSizes(c);
    const est = estimateBytes(c, format, headOpt, interleave);
    try {
      be.arena.reserve(est); // fail before any work when the model cannot fit (e.g. 4 GiB wasm32 memory)
    } catch (e) {
      if (e instanceof OutOfMemoryError) throw new OutOfMemoryError(`${source.where}: the packed model needs about ${(est / 2 ** 20).toFixed(0)} MiB, which does not fit: ${e.message}`);
      throw e;
    }
    const total = sizes.size;
    let done = 0;
    const tick = () => opts.onProgress?.(++done, total);
    const dense = (name: string): Float32Array => {
      const a = source.dense(name);
      const want = sizes.get(name);
      if (a.length !== want) throw new FormatError(`${source.where}: tensor '${name}' has ${a.length} elements, the config needs ${want}`);
      tick();
      return a;
    };
    return new PackedModel(be, c, format, (pm) => {
      const ar = be.arena;
      const place = (a: Float32Array) => {
        const d = ar.alloc('f32', a.length);
        d.set(a);
        return d;
      };
      const tr = MODE_TRAITS[c.quant];
      const prep = (hadamard: boolean, shifted = false): InputPrep => {
        const act = actQuantFor(c.quant, hadamard, shifted);
        return { lnInside: tr.lnInside, hadamard, act: act === 'none' ? 'none' : act === 'i4-token' ? 'i4' : act === 'u7-shifted-tensor' ? 'u7' : 'i8' };
      };
      const v2 = tr.hadamardAct !== undefined;
      const linear = (names: string[], K: number, p: InputPrep): PackedLinear => {
        const rows = names.map((n) => (sizes.get(n) ?? 0) / K);
        const N = rows.reduce((a, b) => a + b, 0);
        if (tr.weight === 'none') {
          const w = ar.alloc('f32', N * K);
          let r = 0;
          names.forEach((n, i) => {
            w.set(dense(n), r * K);
            r += rows[i]!;
          });
          return { names, N, K, prep: p, format: 'f32', packed: undefined, dense: w, beta: undefined, shift: undefined, bytes: N * K * 4 };
        }
        const fmt = linearFormat(tr.weight === 'sign', p.act === 'i4' ? 'i2' : format, interleave);
        const ft = FORMAT_TRAITS[fmt];
        const rb = ft.rowBytes(K);
        const packed = ar.alloc('u8', ft.bytes(N, K));
        const beta = ar.alloc('f32', N);
        // Each fused part is packed in place (an interleaved group may straddle two parts).
        if (fmt === 'i2r4') packed.fill(0x55); // padding rows: weight 0
        const shift = p.act === 'u7' ? ar.alloc('f32', N) : undefined;
        let r0 = 0;
        names.forEach((name, i) => {
          const n = rows[i]!;
          const { q, scale, stored } = linearCodes(source, name, n, K, tr.weight as 'ternary' | 'sign', be, dense);
          if (stored) tick();
          if (fmt === 'i2r4') packI2R4Rows(packed, q, r0, n, K);
          else ft.pack(packed.subarray(r0 * rb, (r0 + n) * rb), q, n, K);
          beta.fill(scale, r0, r0 + n);
          if (shift !== undefined) {
            for (let r = 0; r < n; r++) {
              let sum = 0; // exact: |sum| ≤ K
              for (let k = 0; k < K; k++) sum += q[r * K + k]!;
              shift[r0 + r] = beta[r0 + r]! * sum;
            }
          }
          r0 += n;
        });
        return { names, N, K, prep: p, format: fmt, packed, dense: undefined, beta, shift, bytes: packed.byteLength + beta.byteLength + (shift?.byteLength ?? 0) };
      };
      const gated = isGatedFfn(c);
      for (let l = 0; l < c.nLayers; l++) {
        const p = `layers.${l}.`;
        pm.layers.push({
          attnNorm: place(dense(`${p}input_layernorm`)),
          qkv: linear([`${p}q_proj`, `${p}k_proj`, `${p}v_proj`], c.dim, prep(false)),
          attnSubNorm: c.subln ? place(dense(`${p}attn_sub_norm`)) : undefined,
          o: linear([`${p}o_proj`], c.dim, prep(v2)),
          ffnNorm: place(dense(`${p}post_attention_layernorm`)),
          gateUp: linear(gated ? [`${p}gate_proj`, `${p}up_proj`] : [`${p}up_proj`], c.dim, prep(false)),
          ffnSubNorm: c.subln ? place(dense(`${p}ffn_sub_norm`)) : undefined,
          down: linear([`${p}down_proj`], c.ffnDim, prep(v2, shiftedDownActs(c))),
        });
      }
      const norm = place(dense('norm'));
      const headBytesF32 = c.vocabSize * c.dim * 4;
      const type: HeadType = headOpt === 'auto' ? (headBytesF32 <= HEAD_AUTO_F32_BYTES ? 'f32' : 'q7') : headOpt;
      const table = (name: string): PackedHead => {
        const V = c.vocabSize, C = c.dim;
        const TABLE_SLICE_ROWS = Math.max(1, Math.floor(TABLE_SLICE_VALUES / C));
        const rowsAt = source.denseRows?.bind(source);
        if (type === 'f32') {
          if (rowsAt === undefined) return { type, f32: place(dense(name)), q7: undefined, scale: undefined, bytes: V * C * 4 };
          const f = ar.alloc('f32', V * C);
          for (let r = 0; r < V; r += TABLE_SLICE_ROWS) f.set(sliceOf(rowsAt, name, r, Math.min(V, r + TABLE_SLICE_ROWS), C, source.where), r * C);
          tick();
          return { type, f32: f, q7: undefined, scale: undefined, bytes: V * C * 4 };
        }
        // 7-bit codes, quantized a slice of rows at a time, then placed in the 'i7r4' layout.
        const q7 = ar.alloc('i8', bytesI7R4(V, C)).fill(I7_OFFSET);
        const scale = ar.alloc('f32', V);
        const codes = new Int8Array(Math.min(V, TABLE_SLICE_ROWS) * C);
        const all = rowsAt === undefined ? dense(name) : undefined;
        for (let r = 0; r < V; r += TABLE_SLICE_ROWS) {
          const r1 = Math.min(V, r + TABLE_SLICE_ROWS);
          const rowsW = all ? all.subarray(r * C, r1 * C) : sliceOf(rowsAt!, name, r, r1, C, source.where);
          const cs = codes.subarray(0, (r1 - r) * C);
          quantizeRowsI7(cs, scale.subarray(r, r1), rowsW, r1 - r, C);
          packI7R4(q7, cs, r, r1 - r, C);
        }
        if (all === undefined) tick();
        return { type, f32: undefined, q7, scale, bytes: q7.length + scale.byteLength };
      };
      const embed = table('embed_tokens');
      const head = c.tieEmbeddings ? embed : table('lm_head');
      return { norm, head, embed };
    });
  }

  /** Bytes of packed weights + scales (all BitLinear layers). */
  get linearBytes(): number {
    return this.layers.reduce((s, L) => s + L.qkv.bytes + L.o.bytes + L.gateUp.bytes + L.down.bytes, 0);
  }

  /** Bytes read per decoded token: every linear, the head, the norms (the embedding row is negligible). */
  get bytesPerToken(): number {
    return this.linearBytes + this.head.bytes + normBytes(this.config);
  }

  /** Resident bytes of the weights (head counted once when tied). */
  get weightBytes(): number {
    return this.bytesPerToken + (this.config.tieEmbeddings ? 0 : this.embed.bytes);
  }
}

/** Packed format of a BitLinear: 'b1' for sign weights, else the ternary format ('i2' interleaved by four unless asked not to). */
function linearFormat(sign: boolean, ternary: 'i2' | 'i1.6', interleave: boolean): FormatName {
  if (sign) return 'b1';
  return ternary === 'i2' && interleave ? 'i2r4' : ternary;
}

/** f32 norm weights: two per layer (+ the two SubLN norms) and the final norm. */
function normBytes(c: ModelConfig): number {
  return (c.nLayers * (2 * c.dim + (c.subln ? c.dim + c.ffnDim : 0)) + c.dim) * 4;
}

/** Bytes PackedModel.load will allocate for config c (packed linears + scales, head/embedding, norms). */
export function estimateBytes(c: ModelConfig, format: 'i2' | 'i1.6' = 'i2', head: HeadType | 'auto' = 'auto', interleave = true): number {
  const tr = MODE_TRAITS[c.quant];
  const ft = FORMAT_TRAITS[linearFormat(tr.weight === 'sign', format, interleave)];
  const HS = c.dim / c.nHeads, KV = c.nKvHeads * HS;
  const gated = isGatedFfn(c);
  const mat = (N: number, K: number) => (tr.weight === 'none' ? N * K * 4 : ft.bytes(N, K) + N * 4);
  const shift = shiftedDownActs(c) ? c.dim * 4 : 0; // down_proj's per-row β·rowsum
  const layer = mat(c.dim + 2 * KV, c.dim) + mat(c.dim, c.dim) + mat((gated ? 2 : 1) * c.ffnDim, c.dim) + mat(c.dim, c.ffnDim) + shift;
  const f32Table = c.vocabSize * c.dim * 4;
  const type = head === 'auto' ? (f32Table <= HEAD_AUTO_F32_BYTES ? 'f32' : 'q7') : head;
  const table = type === 'f32' ? f32Table : bytesI7R4(c.vocabSize, c.dim) + c.vocabSize * 4;
  return c.nLayers * layer + table * (c.tieEmbeddings ? 1 : 2) + normBytes(c);
}
