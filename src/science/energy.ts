/**
 * Arithmetic energy of the matmuls per token (BitNet 2310.11453 §2.3, Table 2, Eqs. 16–18;
 * docs/spec.md §1.4). Counts only matmul arithmetic, as the papers do — not memory traffic.
 *
 * For one token through a linear layer (N, K):
 *   full precision   E = N·K·Ê_mul(fp) + N·(K−1)·Ê_add(fp)                 (Eqs. 16–17)
 *   BitNet           E = N·(K−1)·Ê_add(int8) + (N + K)·Ê_mul(rescale)      (Eq. 18: only the β and γ/Q_b rescales multiply)
 * The precision of the rescale multiplies is not stated in the paper: it is a parameter here.
 */
import { ArgumentError } from '../errors.js';
import { isGatedFfn, type ModelConfig } from '../model/config.js';
import { FORMAT_TRAITS } from '../quant/formats.js';
import { actBits, QUANT_VARIANTS, WEIGHT_QUANTS } from '../quant/modes.js';

/** pJ per operation (Table 2). */
export const OP_ENERGY_PJ = {
  '45nm': { fp32: { add: 0.9, mul: 3.7 }, fp16: { add: 0.4, mul: 1.1 }, int8: { add: 0.03, mul: 0.2 } },
  '7nm': { fp32: { add: 0.38, mul: 1.31 }, fp16: { add: 0.16, mul: 0.34 }, int8: { add: 0.007, mul: 0.07 } },
} as const;

export type Node = keyof typeof OP_ENERGY_PJ;
export type Precision = 'fp32' | 'fp16' | 'int8';

export interface EnergyOptions {
  node: Node;
  /** Precision of a full-precision model's matmuls. */
  fpPrecision: 'fp32' | 'fp16';
  /** Precision of BitNet's rescale multiplies. */
  rescalePrecision: Precision;
}

export const DEFAULT_ENERGY: EnergyOptions = { node: '7nm', fpPrecision: 'fp16', rescalePrecision: 'fp16' };

/** The (N, K) shapes of every projection that BitLinear replaces (embedding and LM head excluded). */
export function linearShapes(c: ModelConfig): Array<[number, number]> {
  const kv = (c.dim / c.nHeads) * c.nKvHeads;
  const gated = isGatedFfn(c);
  const one: Array<[number, number]> = [[c.dim, c.dim], [kv, c.dim], [kv, c.dim], [c.dim, c.dim], [c.ffnDim, c.dim], [c.dim, c.ffnDim]];
  if (gated) one.push([c.ffnDim, c.dim]);
  return Array.from({ length: c.nLayers }, () => one).flat();
}

/** Joules per token for the projections of `c` (fp when c.quant is 'fp', BitNet otherwise). */
export function matmulEnergyPerToken(c: ModelConfig, o: EnergyOptions = DEFAULT_ENERGY): { joules: number; addJ: number; mulJ: number } {
  const tbl = OP_ENERGY_PJ[o.node];
  if (tbl === undefined) throw new ArgumentError(`unknown process node '${String(o.node)}'`);
  let add = 0, mul = 0;
  const fp = QUANT_VARIANTS[c.quant].weight === 'none';
  for (const [N, K] of linearShapes(c)) {
    if (fp) {
      add += N * (K - 1) * tbl[o.fpPrecision].add;
      mul += N * K * tbl[o.fpPrecision].mul;
    } else {
      add += N * (K - 1) * tbl.int8.add;
      mul += (N + K) * tbl[o.rescalePrecision].mul;
    }
  }
  return { joules: (add + mul) * 1e-12, addJ: add * 1e-12, mulJ: mul * 1e-12 };
}

/** Bytes of the projection weights: fp16 for full precision, else the bits of the mode's stored format (2: 'i2', 1: 'b1'). */
export function weightBytes(c: ModelConfig, fpBytes = 2): number {
  let n = 0;
  for (const [N, K] of linearShapes(c)) n += N * K;
  const weight = QUANT_VARIANTS[c.quant].weight;
  if (weight === 'none') return n * fpBytes;
  return (n * FORMAT_TRAITS[WEIGHT_QUANTS[weight].formats[0]].bitsPerWeight) / 8;
}

/**
 * How a (possibly quantized) model's projection matmuls are computed, for the energy and memory
 * of every row of the PTQ table:
 *   'fp'       dense fp MACs (FP models and weight-only W·A16 formats, whose weights are dequantized to fp16)
 *   'int'      integer MACs (W8A8, W4A4): Table 2 has no int4 entry, so int4 is charged as int8 (an upper bound),
 *              plus (N + K) rescale multiplies as in Eq. 18
 *   'int-add'  1-/1.58-bit weights: int8 additions only, plus (N + K) rescales (Eq. 18)
 */
export interface MatmulFormat {
  /** Weight bits per element as stored (1.58 is stored as 2-bit i2; see formatWeightBytes). */
  wBits: number;
  aBits: number;
  arith: 'fp' | 'int' | 'int-add';
  /** Bytes of scale/zero-point overhead per output row of each matrix (e.g. 2 for an fp16 scale, 3 with an 8-bit zero point). */
  rowOverheadBytes: number;
  /** Columns per quantization group (0 = one group per row): overhead is per group. */
  groupSize: number;
  /** Online rotation of each linear's input and output (QuIP): 'dense' = N² + K² fp MACs per token, 'hadamard' = (N log₂N + K log₂K) fp adds. */
  rotation?: 'dense' | 'hadamard';
}

export const FP16_FORMAT: MatmulFormat = { wBits: 16, aBits: 16, arith: 'fp', rowOverheadBytes: 0, groupSize: 0 };

/**
 * The format of a model trained in `quant` mode, from its row of QUANT_VARIANTS (src/quant/modes.ts): the weight
 * quantizer's bits (BitNet v1: 1, b1.58/v2: 1.58) and the fewest activation bits of its sites (v2-a4: 4 — charged as
 * int8 adds too).
 */
export function trainedFormat(quant: ModelConfig['quant']): MatmulFormat {
  const row = QUANT_VARIANTS[quant];
  if (row.weight === 'none') return FP16_FORMAT;
  return { wBits: WEIGHT_QUANTS[row.weight].bits, aBits: actBits(row), arith: 'int-add', rowOverheadBytes: 0, groupSize: 0 };
}

/** Joules per token of the projections of `c` computed in format `f` (Eqs. 16–18 with the rules above). */
export function formatEnergyPerToken(c: ModelConfig, f: MatmulFormat, o: EnergyOptions = DEFAULT_ENERGY): { joules: number; addJ: number; mulJ: number } {
  const tbl = OP_ENERGY_PJ[o.node];
  if (tbl === undefined) throw new ArgumentError(`unknown process node '${String(o.node)}'`);
  let add = 0, mul = 0;
  for (const [N, K] of linearShapes(c)) {
    if (f.arith === 'fp') {
      add += N * (K - 1) * tbl[o.fpPrecision].add;
      mul += N * K * tbl[o.fpPrecision].mul;
    } else {
      add += N * (K - 1) * tbl.int8.add;
      if (f.arith === 'int') mul += N * K * tbl.int8.mul;
      mul += (N + K) * tbl[o.rescalePrecision].mul;
    }
    if (f.rotation === 'dense') {
      add += (N * (N - 1) + K * (K - 1)) * tbl[o.fpPrecision].add;
      mul += (N * N + K * K) * tbl[o.fpPrecision].mul;
    } else if (f.rotation === 'hadamard') {
      add += (N * Math.log2(N) + K * Math.log2(K)) * tbl[o.fpPrecision].add;
    }
  }
  return { joules: (add + mul) * 1e-12, addJ: add * 1e-12, mulJ: mul * 1e-12 };
}

/** Bytes of the projection weights in format `f`: ⌈bits⌉ per weight (1.58 → 2, the i2 packing) plus per-row/group overhead. */
export function formatWeightBytes(c: ModelConfig, f: MatmulFormat): number {
  const bits = f.wBits === 1.58 ? 2 : f.wBits;
  let b = 0;
  for (const [N, K] of linearShapes(c)) {
    const groups = f.groupSize > 0 ? Math.ceil(K / f.groupSize) : 1;
    b += (N * K * bits) / 8 + N * groups * f.rowOverheadBytes;
  }
  return b;
}
