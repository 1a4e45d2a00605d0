/**
 * A model in inference form: BitLinear weights quantized once and packed ('i2' 2 bits, 'i1.6'
 * base-3, 'b1' 1 bit), scales per tensor as trained, norms and embeddings in f32, the LM head
 * in f32 or 8-bit (int8 rows × per-row scale). Everything lives in the backend arena (WASM
 * memory for the wasm backend), allocated once at load.
 *
 * Projections that read the same input are fused into one matrix so a token costs one pass
 * (one kernel call) over them: q|k|v, gate|up. Each fused row keeps its own tensor's β.
 *
 * Weights are quantized exactly as training does (the table QUANT_VARIANTS, src/quant/modes.ts; src/infer/layout.ts
 * reads each site's pre-transform, activation codes, packed format and kernel from it):
 *   b158 / v2-*: absmean ternary, β = mean|W|;  bitnet (v1): Sign(W − α), β = mean|W|;  fp: dense f32.
 * Activations at inference are int8 per token (v1 trains per tensor; per token at inference is the
 * paper's rule, docs/spec.md §1.1), int4 absmean per token on the Hadamard inputs of v2-a4, and the v1
 * zero-point codes q ∈ [0, 127] per token on down_proj's input with config.v1ShiftedActs 'ffn-down'
 * (x ≈ q/s + η, so y = β·(W̃·q)/s + η·β·rowsum(W̃): the int8 × packed kernel on the codes plus a
 * per-row term β·rowsum(W̃) computed here at load).
 */
import { ArgumentError, FormatError } from '../errors.js';
import { OutOfMemoryError } from '../tensor/arena.js';
import type { Backend } from '../kernels/backend.js';
import { type ModelConfig, validateConfig } from '../model/config.js';
import { FORMAT_TRAITS, type FormatName, type PackedMatmulKernel } from '../quant/formats.js';
import { quantVariant } from '../quant/modes.js';
import { packI2R4Rows } from '../quant/pack.js';
import { I7_MAX } from '../kernels/ref/infer.js';
import { groupsQ4G, packQ4G, quantizeQ4G } from '../kernels/ref/head4.js';
import { HEAD_TYPES } from './layout.js';
import { expectedSizes, linearCodes, type WeightSource } from '../weights/source.js';
import { layoutBytes, modelLayout, paddedBytes, type ArraySpec, type HeadType, type InputPrep, type LayoutOptions, type LinearSpec, type ModelLayout } from './layout.js';

export type { HeadType, InputPrep };

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

interface LinearBase {
  readonly names: string[];
  readonly N: number;
  readonly K: number;
  readonly prep: InputPrep;
  /** Bytes streamed per token. */
  readonly bytes: number;
}

/** One (possibly fused) linear layer: y (M, N) = x (M, K) · Wᵀ — dense f32 (fp models) or packed codes with per-row β. */
export type PackedLinear =
  | (LinearBase & { readonly format: 'f32'; readonly dense: Float32Array })
  | (LinearBase & {
      readonly format: FormatName;
      readonly packed: Uint8Array;
      /** The packed matmul of this format × the input's codes (LinearSpec.kernel). */
      readonly kernel: PackedMatmulKernel;
      /** Per-row weight scale β. */
      readonly beta: Float32Array;
      /** act 'u7' only: per-row β(n)·Σ_k W̃[n,k], the zero point's contribution y[m,n] += η[m]·shift[n]. */
      readonly shift: Float32Array | undefined;
    });

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
  /** q4g: 4-bit codes in the layout of matmulQ4G (src/kernels/ref/head4.ts) and their per-group scales. */
  q4: Uint8Array | undefined;
  q4s: Float32Array | undefined;
  bytes: number;
}

type View = Uint8Array | Int8Array | Float32Array;

export { quantizeRowsI7 } from '../kernels/ref/infer.js';

const HEAD_AUTO_F32_BYTES = 64 << 20;
/** Values of an embedding/head table converted per slice (4 MiB of f32). */
const TABLE_SLICE_VALUES = 1 << 20;

/** The layout options a load resolves to ('auto' head decided from the table size). */
export function layoutOptions(c: ModelConfig, opts: Pick<LoadOptions, 'format' | 'interleave' | 'head'> = {}): LayoutOptions {
  const format = opts.format ?? 'i2';
  if (format !== 'i2' && format !== 'i1.6') throw new ArgumentError(`format must be 'i2' or 'i1.6', got '${String(format)}'`);
  const headOpt = opts.head ?? 'auto';
  if (headOpt !== 'auto' && !HEAD_TYPES.includes(headOpt)) throw new ArgumentError(`head must be 'auto' or one of ${HEAD_TYPES.join(', ')}, got '${String(headOpt)}'`);
  const head: HeadType = headOpt === 'auto' ? (c.vocabSize * c.dim * 4 <= HEAD_AUTO_F32_BYTES ? 'f32' : 'q7') : headOpt;
  return { format, interleave: opts.interleave ?? true, head };
}

/** The first non-finite value of a, or -1. */
function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

export class PackedModel {
  readonly layers: PackedLayer[] = [];
  readonly norm: Float32Array;
  readonly head: PackedHead;
  /** Embedding for lookup: the head itself when tied, else its own table of the same type. */
  readonly embed: PackedHead;
  readonly config: ModelConfig;
  readonly ternaryFormat: 'i2' | 'i1.6';

  /** Allocate every array of `layout` in the backend arena (`zero`: fill them; false when a loader overwrites all bytes). */
  private constructor(readonly be: Backend, readonly layout: ModelLayout, private readonly views: Map<string, View>) {
    this.config = layout.config;
    this.ternaryFormat = layout.options.format;
    const f = (name: string) => views.get(name) as Float32Array;
    const lin = (s: LinearSpec): PackedLinear => {
      const w = views.get(`${s.id}.w`)!;
      const base = { names: s.names, N: s.N, K: s.K, prep: s.prep };
      if (s.format === 'f32') return { ...base, format: 'f32', dense: w as Float32Array, bytes: w.byteLength };
      const beta = f(`${s.id}.beta`);
      const shift = s.shift ? f(`${s.id}.shift`) : undefined;
      return { ...base, format: s.format, packed: w as Uint8Array, kernel: s.kernel!, beta, shift, bytes: w.byteLength + beta.byteLength + (shift?.byteLength ?? 0) };
    };
    for (const L of layout.layers) {
      this.layers.push({
        attnNorm: f(L.attnNorm), qkv: lin(L.qkv), attnSubNorm: L.attnSubNorm ? f(L.attnSubNorm) : undefined, o: lin(L.o),
        ffnNorm: f(L.ffnNorm), gateUp: lin(L.gateUp), ffnSubNorm: L.ffnSubNorm ? f(L.ffnSubNorm) : undefined, down: lin(L.down),
      });
    }
    this.norm = f('norm');
    const table = (p: string): PackedHead => {
      const f32 = views.get(`${p}.f32`) as Float32Array | undefined;
      const q7 = views.get(`${p}.q7`) as Int8Array | undefined;
      const scale = views.get(`${p}.scale`) as Float32Array | undefined;
      const q4 = views.get(`${p}.q4g`) as Uint8Array | undefined;
      const q4s = views.get(`${p}.q4s`) as Float32Array | undefined;
      const type = layout.options.head;
      const bytes = f32 ? f32.byteLength : q7 ? q7.byteLength + scale!.byteLength : q4!.byteLength + q4s!.byteLength;
      return { type, f32, q7, scale, q4, q4s, bytes };
    };
    this.embed = table('embed');
    this.head = this.config.tieEmbeddings ? this.embed : table('head');
  }

  /**
   * Allocate the arrays of `layout` in be's arena: one up-front reservation (fails before any work
   * when the model cannot fit, e.g. the 4 GiB wasm32 memory), then one view per array, padded to
   * 64 bytes. `zero` false skips filling (for loaders that write every byte, e.g. a model file).
   */
  static allocate(be: Backend, layout: ModelLayout, where: string, zero = true): PackedModel {
    const est = layoutBytes(layout);
    try {
      be.arena.reserve(est);
    } catch (e) {
      if (e instanceof OutOfMemoryError) throw new OutOfMemoryError(`${where}: the packed model needs about ${(est / 2 ** 20).toFixed(0)} MiB, which does not fit: ${e.message}`);
      throw e;
    }
    const views = new Map<string, View>();
    for (const a of layout.arrays) {
      const el = a.dtype === 'f32' ? 4 : 1;
      const full = be.arena.alloc(a.dtype, paddedBytes(a) / el, zero && a.fill === 0);
      const v = full.subarray(0, a.length) as View;
      if (zero && a.fill !== 0) v.fill(a.fill);
      views.set(a.name, v);
    }
    return new PackedModel(be, layout, views);
  }

  /** Every array with its spec, in layout order (the model file writer's input). */
  arrays(): Array<{ spec: ArraySpec; view: View }> {
    return this.layout.arrays.map((spec) => ({ spec, view: this.views.get(spec.name)! }));
  }

  /** Quantize, pack and place every tensor of `source` (one source tensor at a time). */
  static load(be: Backend, source: WeightSource, opts: LoadOptions = {}): PackedModel {
    const c = validateConfig({ ...source.config });
    if (c.groups > 1) throw new ArgumentError(`${source.where}: group-quantized BitNet v1 models (groups=${c.groups}) run only in the training model; the packed engine uses one scale per tensor`);
    const layout = modelLayout(c, layoutOptions(c, opts));
    const pm = PackedModel.allocate(be, layout, source.where);
    fillFromSource(pm, source, opts.onProgress);
    return pm;
  }

  /** The view of one layout array (by its name in src/infer/layout.ts). */
  array(name: string): View {
    const v = this.views.get(name);
    if (v === undefined) throw new ArgumentError(`PackedModel: no array '${name}'`);
    return v;
  }

  /** Bytes of packed weights + scales (all BitLinear layers). */
  get linearBytes(): number {
    return this.layers.reduce((s, L) => s + L.qkv.bytes + L.o.bytes + L.gateUp.bytes + L.down.bytes, 0);
  }

  /** Bytes read per decoded token: every linear, the head, the norms (the embedding row is negligible). */
  get bytesPerToken(): number {
    return this.linearBytes + this.head.bytes + this.layout.arrays.reduce((b, a) => b + (a.kind === 'norm' ? 4 * a.length : 0), 0);
  }

  /** Resident bytes of the weights (head counted once when tied). */
  get weightBytes(): number {
    return this.bytesPerToken + (this.config.tieEmbeddings ? 0 : this.embed.bytes);
  }
}

/** Fill an allocated model from a WeightSource: norms, linears (fast stored-code paths where the source has them), tables. */
function fillFromSource(pm: PackedModel, source: WeightSource, onProgress: ((done: number, total: number) => void) | undefined): void {
  const layout = pm.layout;
  const c = layout.config;
  const sizes = expectedSizes(c);
  const total = sizes.size;
  let done = 0;
  const tick = () => onProgress?.(++done, total);
  const dense = (name: string): Float32Array => {
    const a = source.dense(name);
    const want = sizes.get(name);
    if (a.length !== want) throw new FormatError(`${source.where}: tensor '${name}' has ${a.length} elements, the config needs ${want}`);
    tick();
    return a;
  };
  const finite = (name: string, a: Float32Array) => {
    const i = firstNonFinite(a);
    if (i >= 0) throw new FormatError(`${source.where}: tensor '${name}' has a non-finite value ${a[i]} at element ${i}`);
  };
  const weight = quantVariant(c).weight;
  const fillLinear = (s: LinearSpec) => {
    const w = pm.array(`${s.id}.w`);
    if (s.format === 'f32') {
      let r = 0;
      s.names.forEach((n, i) => {
        const d = dense(n);
        finite(n, d);
        (w as Float32Array).set(d, r * s.K);
        r += s.rows[i]!;
      });
      return;
    }
    const packed = w as Uint8Array;
    const beta = pm.array(`${s.id}.beta`) as Float32Array;
    const shift = s.shift ? (pm.array(`${s.id}.shift`) as Float32Array) : undefined;
    const ft = FORMAT_TRAITS[s.format];
    const rb = ft.rowBytes(s.K);
    let r0 = 0;
    s.names.forEach((name, i) => {
      const n = s.rows[i]!;
      const K = s.K;
      if (s.format === 'i2r4' && shift === undefined && source.intoI2R4?.(name, packed, r0, n, K, beta)) {
        const bad = firstNonFinite(beta.subarray(r0, r0 + n));
        if (bad >= 0) throw new FormatError(`${source.where}: tensor '${name}' has a non-finite scale ${beta[r0 + bad]} (row ${bad})`);
        tick();
      } else {
        const { q, scale, stored } = linearCodes(source, name, n, K, weight as 'ternary' | 'sign', pm.be, dense);
        if (stored) tick();
        if (!Number.isFinite(scale)) throw new FormatError(`${source.where}: tensor '${name}' has a non-finite scale ${scale}`);
        if (s.format === 'i2r4') packI2R4Rows(packed, q, r0, n, K);
        else ft.pack(packed.subarray(r0 * rb, (r0 + n) * rb), q, n, K);
        beta.fill(scale, r0, r0 + n);
        if (shift !== undefined) {
          for (let r = 0; r < n; r++) {
            let sum = 0; // exact: |sum| ≤ K
            for (let k = 0; k < K; k++) sum += q[r * K + k]!;
            shift[r0 + r] = beta[r0 + r]! * sum;
          }
        }
      }
      r0 += n;
    });
  };
  const normOf = (arr: string) => {
    const src = layout.normSource.get(arr)!;
    const d = dense(src);
    finite(src, d);
    (pm.array(arr) as Float32Array).set(d);
  };
  for (const L of layout.layers) {
    normOf(L.attnNorm);
    fillLinear(L.qkv);
    if (L.attnSubNorm) normOf(L.attnSubNorm);
    fillLinear(L.o);
    normOf(L.ffnNorm);
    fillLinear(L.gateUp);
    if (L.ffnSubNorm) normOf(L.ffnSubNorm);
    fillLinear(L.down);
  }
  normOf('norm');
  const V = c.vocabSize, C = c.dim;
  const rowsAt = source.denseRows?.bind(source);
  const table = (prefix: string, name: string) => {
    const sliceRows = Math.max(1, Math.floor(TABLE_SLICE_VALUES / C));
    const all = rowsAt === undefined ? dense(name) : undefined;
    const rows = (r: number, r1: number): Float32Array => {
      if (all) return all.subarray(r * C, r1 * C);
      const a = rowsAt!(name, r, r1);
      if (a.length !== (r1 - r) * C) throw new FormatError(`${source.where}: rows [${r}, ${r1}) of '${name}' have ${a.length} values, expected ${(r1 - r) * C}`);
      return a;
    };
    if (layout.options.head === 'q4g') {
      const w = pm.array(`${prefix}.q4g`) as Uint8Array, ws = pm.array(`${prefix}.q4s`) as Float32Array;
      const rowsPer = Math.max(4, sliceRows - (sliceRows % 4));
      const codes = new Int8Array(rowsPer * C), scales = new Float32Array(rowsPer * groupsQ4G(C));
      for (let r = 0; r < V; r += rowsPer) {
        const r1 = Math.min(V, r + rowsPer);
        const a = rows(r, r1);
        const bad = firstNonFinite(a);
        if (bad >= 0) throw new FormatError(`${source.where}: tensor '${name}' has a non-finite value at row ${r + Math.floor(bad / C)}`);
        const n = r1 - r;
        quantizeQ4G(codes.subarray(0, n * C), scales.subarray(0, n * groupsQ4G(C)), a, n, C);
        packQ4G(w, ws, codes.subarray(0, n * C), scales.subarray(0, n * groupsQ4G(C)), r, n, C);
      }
    } else if (layout.options.head === 'f32') {
      const f = pm.array(`${prefix}.f32`) as Float32Array;
      for (let r = 0; r < V; r += sliceRows) {
        const r1 = Math.min(V, r + sliceRows);
        const a = rows(r, r1);
        const bad = firstNonFinite(a);
        if (bad >= 0) throw new FormatError(`${source.where}: tensor '${name}' has a non-finite value at row ${r + Math.floor(bad / C)}`);
        f.set(a, r * C);
      }
    } else {
      // 7-bit codes, quantized a slice of rows at a time straight into the 'i7r4' layout.
      const q7 = pm.array(`${prefix}.q7`) as Int8Array, scale = pm.array(`${prefix}.scale`) as Float32Array;
      const halves = all === undefined ? source.halfRows?.bind(source) : undefined;
      for (let r = 0; r < V; r += sliceRows) {
        const r1 = Math.min(V, r + sliceRows);
        const h = halves?.(name, r, r1);
        if (h !== undefined) {
          if (h.length !== (r1 - r) * C) throw new FormatError(`${source.where}: rows [${r}, ${r1}) of '${name}' have ${h.length} values, expected ${(r1 - r) * C}`);
          if (!pm.be.quantizeRowsI7R4F16(q7, scale, h, r, r1 - r, C)) throw new FormatError(`${source.where}: tensor '${name}' has a non-finite value in rows [${r}, ${r1})`);
          continue;
        }
        if (!pm.be.quantizeRowsI7R4(q7, scale, rows(r, r1), r, r1 - r, C)) throw new FormatError(`${source.where}: tensor '${name}' has a non-finite value in rows [${r}, ${r1})`);
      }
    }
    if (all === undefined) tick();
  };
  table('embed', 'embed_tokens');
  if (!c.tieEmbeddings) table('head', 'lm_head');
}


/** Bytes PackedModel.load will allocate for config c (every array of its layout, padded). */
export function estimateBytes(c: ModelConfig, format: 'i2' | 'i1.6' = 'i2', head: HeadType | 'auto' = 'auto', interleave = true): number {
  return layoutBytes(modelLayout(c, layoutOptions(c, { format, head, interleave })));
}
