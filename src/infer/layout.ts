/**
 * The engine's memory layout of a model: every array PackedModel holds, in allocation order, with its
 * name, dtype, length and padding fill. One list serves four users, so they cannot drift apart:
 *   - PackedModel allocates exactly these arrays (src/infer/packed_model.ts);
 *   - estimateBytes sums them (the up-front "does it fit" check);
 *   - the model file writes them, one safetensors tensor each, padded to 64 bytes, and reads them
 *     straight back into the allocated views (src/infer/model_file.ts: the file is the memory image);
 *   - `bitnet inspect` reports resident bytes per kind from them.
 *
 * Names (the model file's tensor names):
 *   layers.L.attn_norm | ffn_norm | attn_sub_norm | ffn_sub_norm   f32 (C) / (F)   RMSNorm weights
 *   layers.L.{qkv,o,gate_up,down}.w      packed codes (u8, FORMAT_TRAITS[format].bytes(N, K)) or f32 (N, K) for fp
 *   layers.L.{qkv,o,gate_up,down}.beta   f32 (N)   per-row weight scale β (W ≈ β·q)
 *   layers.L.down.shift                  f32 (N)   BitNet v1 zero-point input only: β(n)·Σ_k W̃[n,k]
 *   norm                                  f32 (C)   final RMSNorm
 *   embed.f32 | embed.q7 + embed.scale | embed.q4g + embed.q4s
 *                                          the embedding (= the LM head when tied): f32 (V, C); 7-bit 'i7r4'
 *                                          codes (i8, bytesI7R4(V, C)) + f32 row scales (V); or 4-bit 'q4g'
 *                                          codes (u8, bytesQ4G(V, C)) + f32 group scales (scalesQ4G(V, C))
 *   head.*                                 the same for an untied LM head
 * Fused matrices: qkv = q|k|v rows, gate_up = gate|up rows (plain MLPs: up alone), each part keeps its β.
 */
import { ArgumentError } from '../errors.js';
import { isGatedFfn, type ModelConfig } from '../model/config.js';
import { FORMAT_TRAITS, type FormatName, type PackedMatmulKernel } from '../quant/formats.js';
import { ACT_CODES, ACT_QUANTS, packedFormat, quantVariant, siteKernel, type ActCodes, type LinearSite } from '../quant/modes.js';
import { ALIGN } from '../tensor/arena.js';
import { bytesI7R4, I7_OFFSET } from '../kernels/ref/infer.js';
import { bytesQ4G, Q4G_PAD_BYTE, scalesQ4G } from '../kernels/ref/head4.js';

/**
 * LM head storage: f32; 7-bit codes per row (int8 storage, one f32 scale per row; matmulI7); or 4-bit
 * codes with one f32 scale per 64-value group ('q4g', 4.5 bits/weight; matmulQ4G, src/kernels/ref/head4.ts).
 */
export type HeadType = 'f32' | 'q7' | 'q4g';
export const HEAD_TYPES: readonly HeadType[] = ['f32', 'q7', 'q4g'];

export interface LayoutOptions {
  /** Packing of ternary weights (binary v1 weights are always 'b1'). */
  format: 'i2' | 'i1.6';
  /** Store 'i2' matrices with rows interleaved by four ('i2r4'). */
  interleave: boolean;
  /** LM head (and tied embedding) storage. */
  head: HeadType;
}

/** How a linear layer's input is prepared (one per fused group): its site's rule in QUANT_VARIANTS (src/quant/modes.ts). */
export interface InputPrep {
  /** LayerNorm (no affine) inside BitLinear (BitNet v1). */
  lnInside: boolean;
  /** Online Hadamard transform (BitNet v2 H-BitLinear). */
  hadamard: boolean;
  /**
   * Activation codes (ACT_CODES): none (fp), int8 absmax per token, int4 absmean per token, or the
   * BitNet v1 zero-point codes [0, 127] per token (quantizeShiftedU7PerToken, x ≈ q/s + η).
   */
  act: ActCodes;
}

export type ArrayDType = 'u8' | 'i8' | 'f32';

export interface ArraySpec {
  name: string;
  dtype: ArrayDType;
  /** Elements used (the allocation and the file entry are padded to 64 bytes). */
  length: number;
  /** Value of bytes/elements not written by a loader (padding rows, padding columns). */
  fill: number;
  /** What it is, for inspect: linear weights, scales, norms, embedding/head. */
  kind: 'linear' | 'scale' | 'norm' | 'table';
}

/** One (possibly fused) linear layer of the layout. */
export interface LinearSpec {
  /** Array-name prefix: layers.L.qkv etc. */
  id: string;
  /** Source parameter names of the fused parts, in row order. */
  names: string[];
  /** Rows of each part. */
  rows: number[];
  N: number;
  K: number;
  prep: InputPrep;
  format: FormatName | 'f32';
  /** The packed matmul kernel (undefined for 'f32': the f32 GEMM). */
  kernel: PackedMatmulKernel | undefined;
  shift: boolean;
}

export interface LayerSpec {
  attnNorm: string;
  qkv: LinearSpec;
  attnSubNorm: string | undefined;
  o: LinearSpec;
  ffnNorm: string;
  gateUp: LinearSpec;
  ffnSubNorm: string | undefined;
  down: LinearSpec;
}

export interface ModelLayout {
  config: ModelConfig;
  options: LayoutOptions;
  layers: LayerSpec[];
  /** Every array, in allocation (and file) order. */
  arrays: ArraySpec[];
  /** Source parameter name of each norm array (array name → parameter name). */
  normSource: Map<string, string>;
}

/** Bytes an array occupies in memory and in the model file (padded to 64). */
export function paddedBytes(a: ArraySpec): number {
  return Math.ceil((a.length * (a.dtype === 'f32' ? 4 : 1)) / ALIGN) * ALIGN;
}

/** The memory layout of config `c` under `o` (validated config expected). */
export function modelLayout(c: ModelConfig, o: LayoutOptions): ModelLayout {
  if (o.format !== 'i2' && o.format !== 'i1.6') throw new ArgumentError(`format must be 'i2' or 'i1.6', got '${String(o.format)}'`);
  if (!HEAD_TYPES.includes(o.head)) throw new ArgumentError(`head must be one of ${HEAD_TYPES.join(', ')}, got '${String(o.head)}'`);
  const row = quantVariant(c); // src/quant/modes.ts
  const arrays: ArraySpec[] = [];
  const normSource = new Map<string, string>();
  const norm = (name: string, src: string, n: number) => {
    arrays.push({ name, dtype: 'f32', length: n, fill: 0, kind: 'norm' });
    normSource.set(name, src);
    return name;
  };
  const prep = (site: LinearSite): InputPrep => {
    const r = row.sites[site];
    return { lnInside: r.pre === 'layernorm', hadamard: r.pre === 'hadamard', act: ACT_QUANTS[r.act].infer };
  };
  const linear = (id: string, names: string[], rows: number[], K: number, p: InputPrep): LinearSpec => {
    const N = rows.reduce((a, b) => a + b, 0);
    const fmt = packedFormat(row.weight, p.act, o);
    if (fmt === 'f32') {
      arrays.push({ name: `${id}.w`, dtype: 'f32', length: N * K, fill: 0, kind: 'linear' });
      return { id, names, rows, N, K, prep: p, format: 'f32', kernel: undefined, shift: false };
    }
    arrays.push({ name: `${id}.w`, dtype: 'u8', length: FORMAT_TRAITS[fmt].bytes(N, K), fill: fmt === 'i2r4' ? 0x55 : 0, kind: 'linear' });
    arrays.push({ name: `${id}.beta`, dtype: 'f32', length: N, fill: 0, kind: 'scale' });
    const shift = ACT_CODES[p.act].zeroPoint;
    if (shift) arrays.push({ name: `${id}.shift`, dtype: 'f32', length: N, fill: 0, kind: 'scale' });
    return { id, names, rows, N, K, prep: p, format: fmt, kernel: siteKernel(fmt, p.act), shift };
  };
  const C = c.dim, F = c.ffnDim, HS = C / c.nHeads, KV = c.nKvHeads * HS;
  const gated = isGatedFfn(c);
  const layers: LayerSpec[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const p = `layers.${l}.`;
    layers.push({
      attnNorm: norm(`${p}attn_norm`, `${p}input_layernorm`, C),
      qkv: linear(`${p}qkv`, [`${p}q_proj`, `${p}k_proj`, `${p}v_proj`], [C, KV, KV], C, prep('attn')),
      attnSubNorm: c.subln ? norm(`${p}attn_sub_norm`, `${p}attn_sub_norm`, C) : undefined,
      o: linear(`${p}o`, [`${p}o_proj`], [C], C, prep('o')),
      ffnNorm: norm(`${p}ffn_norm`, `${p}post_attention_layernorm`, C),
      gateUp: linear(`${p}gate_up`, gated ? [`${p}gate_proj`, `${p}up_proj`] : [`${p}up_proj`], gated ? [F, F] : [F], C, prep('ffn')),
      ffnSubNorm: c.subln ? norm(`${p}ffn_sub_norm`, `${p}ffn_sub_norm`, F) : undefined,
      down: linear(`${p}down`, [`${p}down_proj`], [C], F, prep('down')),
    });
  }
  norm('norm', 'norm', C);
  const table = (prefix: string) => {
    const V = c.vocabSize;
    if (o.head === 'f32') arrays.push({ name: `${prefix}.f32`, dtype: 'f32', length: V * C, fill: 0, kind: 'table' });
    else if (o.head === 'q4g') arrays.push({ name: `${prefix}.q4g`, dtype: 'u8', length: bytesQ4G(V, C), fill: Q4G_PAD_BYTE, kind: 'table' }, { name: `${prefix}.q4s`, dtype: 'f32', length: scalesQ4G(V, C), fill: 0, kind: 'table' });
    else arrays.push({ name: `${prefix}.q7`, dtype: 'i8', length: bytesI7R4(V, C), fill: I7_OFFSET, kind: 'table' }, { name: `${prefix}.scale`, dtype: 'f32', length: V, fill: 0, kind: 'table' });
  };
  table('embed');
  if (!c.tieEmbeddings) table('head');
  return { config: c, options: o, layers, arrays, normSource };
}

/** Bytes of every array of a layout (what PackedModel allocates; the model file's data section). */
export function layoutBytes(layout: ModelLayout): number {
  return layout.arrays.reduce((s, a) => s + paddedBytes(a), 0);
}
