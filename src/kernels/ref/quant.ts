/**
 * Reference quantizers (BitNet v1, b1.58 / 2B4T, v2): the definition the WASM
 * twins (wasm/assembly/quant.ts) are checked against, bit for bit.
 *
 * All quantizer math runs in **f32** (`Math.fround` after every operation), so
 * the integer codes and the f32 scales of both twins agree exactly. Inputs may be
 * Float32Array or Float64Array (f64 inputs are rounded to f32 first); scale
 * outputs are stored with their array's precision (the value is always an f32).
 * Rounding is round-half-to-even (torch.round, WASM f32.nearest), never Math.round.
 *
 * Scales are *multipliers* `s` (quantize: q = round(x·s); dequantize: x ≈ q / s),
 * except the weight quantizers, which return the mean-abs β (dequantize: W ≈ q·β).
 *
 *   quantizer                         codes                 scale                                       docs/spec.md
 *   quantizeAbsmaxI8PerToken          int8 [-128,127]       s = 127 / max(max|x_row|, 1e-5)             §0.1, §3.6
 *   quantizeAbsmaxI8PerTensor         int8 [-128,127]       s = 127 / max(max|x|, 1e-5)                 §1.1 (training)
 *   quantizeAbsmeanI4PerToken         int4 [-8,7] in int8   s = √7 / (mean|x_row| + 1e-5)               §4.2 Eq.6
 *   quantizeShiftedU7PerToken         uint [0,127]          s = 127 / max(max x − η, 1e-5), η = min x   §1.1 Eq.6
 *     (fakeQuantShiftedU7PerToken/PerTensor dequantize x ≈ q / s + η)
 *   quantizeTernaryAbsmean(+Grouped)  ternary {-1,0,1}      β = max(mean|W|, 1e-5); q = round(W·(1/β))  §0.1, §2 Eq.1-3
 *   quantizeSign(+Grouped)            binary {-1,+1}        α = mean W, β = mean|W|; q = Sign(W − α)     §1.1 Eq.1-3, 12; §1.2 Eq.13
 *
 * Every quantizer clamps its divisor at EPS = f32(1e-5), so all-zero rows give
 * finite scales and all-zero codes, never NaN.
 *
 * Fixed summation order (means): sums of n values are accumulated in **f64** in
 * eight interleaved lanes — lane j adds x[i] for i ≡ j (mod 8), i < n − n mod 8,
 * in increasing i — then combined as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), then
 * the n mod 8 tail elements are added in order. The WASM twin uses exactly this
 * order (four f64x2 accumulators), so the f32 mean `fround(sum / n)` is identical.
 */
import { ArgumentError } from '../../errors.js';
import type { FloatArray } from '../../tensor/dtype.js';
import { checkDType, checkDims, checkLen, checkSameFloat } from '../../tensor/shape.js';
import { roundHalfEven } from '../../tensor/round.js';
import { bytesI2R4, packI2R4 } from '../../quant/pack.js';

const f32 = Math.fround;

/** Divisor floor of every quantizer: f32(1e-5) (torch `clamp(min=1e-5)` on an f32 tensor). */
export const QUANT_EPS = f32(1e-5);
/** √7 rounded to f32: the int4 absmean multiplier numerator (BitNet v2 Eq.6). */
export const SQRT7_F32 = f32(Math.sqrt(7));

// ---- shared argument checks (used by both twins) ---------------------------------------------

/** Checks of a per-token quantizer: q (M·K), scale (M), x (M·K). `f32only` for the WASM twin. */
export function checkQuantRows(where: string, q: ArrayBufferView & ArrayLike<number>, qType: 'i8' | 'u8', scales: Record<string, FloatArray>, x: FloatArray, M: number, K: number, f32only: boolean): void {
  checkDims(where, { M, K });
  checkDType(where, 'q', q, qType);
  if (f32only) {
    checkDType(where, 'x', x, 'f32');
    for (const [k, a] of Object.entries(scales)) checkDType(where, k, a, 'f32');
  } else {
    checkSameFloat(where, { x });
    for (const [k, a] of Object.entries(scales)) checkDType(where, k, a, 'f32', 'f64');
  }
  checkLen(where, 'q', q, M * K);
  checkLen(where, 'x', x, M * K);
  for (const [k, a] of Object.entries(scales)) checkLen(where, k, a, M);
}

/** Checks of an elementwise float→float fake quantizer: out (M·K), x (M·K). */
export function checkFakeRows(where: string, out: FloatArray, x: FloatArray, M: number, K: number, f32only: boolean): void {
  checkDims(where, { M, K });
  if (f32only) {
    checkDType(where, 'out', out, 'f32');
    checkDType(where, 'x', x, 'f32');
  } else checkSameFloat(where, { out, x });
  checkLen(where, 'out', out, M * K);
  checkLen(where, 'x', x, M * K);
}

/** Checks of a grouped weight quantizer: (N,K) weights split into G groups of N/G output rows. */
export function checkGroups(where: string, N: number, K: number, G: number): void {
  checkDims(where, { N, K, G });
  if (G < 1) throw new ArgumentError(`${where}: G=${G} must be >= 1`);
  if (N % G !== 0) throw new ArgumentError(`${where}: N=${N} is not a multiple of the group count G=${G}`);
}

// ---- fixed-order reductions ------------------------------------------------------------------

/** Σ|x[off + i]| (abs=true) or Σ x[off + i], i < n, in the fixed 8-lane f64 order (module doc). */
export function sumFixedOrder(x: ArrayLike<number>, off: number, n: number, abs: boolean): number {
  const n8 = n - (n % 8);
  let l0 = 0, l1 = 0, l2 = 0, l3 = 0, l4 = 0, l5 = 0, l6 = 0, l7 = 0;
  const v = abs ? (i: number): number => Math.abs(f32(x[off + i]!)) : (i: number): number => f32(x[off + i]!);
  for (let i = 0; i < n8; i += 8) {
    l0 += v(i); l1 += v(i + 1); l2 += v(i + 2); l3 += v(i + 3);
    l4 += v(i + 4); l5 += v(i + 5); l6 += v(i + 6); l7 += v(i + 7);
  }
  let s = ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7));
  for (let i = n8; i < n; i++) s += v(i);
  return s;
}

/** f32 mean of |x| (or x) over [off, off+n): fround(sum / n); 0 for n = 0. */
function meanF32(x: ArrayLike<number>, off: number, n: number, abs: boolean): number {
  return n === 0 ? 0 : f32(sumFixedOrder(x, off, n, abs) / n);
}

function absmaxF32(x: ArrayLike<number>, off: number, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    m = Math.max(m, Math.abs(f32(x[off + i]!))); // NaN propagates, as in the WASM twin (absmax_f32)
  }
  return m;
}

/** q = clamp(roundHalfEven(f32(x·s)), lo, hi) */
function qround(x: number, s: number, lo: number, hi: number): number {
  const r = roundHalfEven(f32(f32(x) * s));
  return r < lo ? lo : r > hi ? hi : r;
}

// ---- activations ------------------------------------------------------------------------------

/**
 * Per-token absmax int8 (b1.58 / 2B4T inference, docs/spec.md §0.1, §3.6, §3.8):
 *   s[m] = f32(127 / max(max_k |x[m,k]|, 1e-5));  q[m,k] = clamp(round(x[m,k]·s[m]), -128, 127).
 * Dequantize: x ≈ q / s.
 *
 * q: Int8Array // (M, K)    scale: FloatArray // (M)    x: FloatArray // (M, K)
 */
export function quantizeAbsmaxI8PerToken(q: Int8Array, scale: FloatArray, x: FloatArray, M: number, K: number): void {
  checkQuantRows('quantizeAbsmaxI8PerToken', q, 'i8', { scale }, x, M, K, false);
  absmaxRows(q, scale, null, x, M, K);
}

function absmaxRows(q: Int8Array | null, scale: FloatArray | null, out: FloatArray | null, x: FloatArray, M: number, K: number): number {
  let s = 0;
  for (let m = 0; m < M; m++) {
    const off = m * K;
    s = f32(127 / Math.max(absmaxF32(x, off, K), QUANT_EPS));
    if (scale) scale[m] = s;
    for (let k = 0; k < K; k++) {
      const v = qround(x[off + k]!, s, -128, 127);
      if (q) q[off + k] = v;
      if (out) out[off + k] = f32(v / s);
    }
  }
  return s;
}

/**
 * Per-tensor absmax int8 (BitNet v1 training, docs/spec.md §1.1): as the per-token quantizer with
 * one row of n values. Returns s = f32(127 / max(max|x|, 1e-5)); dequantize x ≈ q / s.
 *
 * q: Int8Array // (n)    x: FloatArray // (n)
 */
export function quantizeAbsmaxI8PerTensor(q: Int8Array, x: FloatArray, n: number): number {
  checkQuantRows('quantizeAbsmaxI8PerTensor', q, 'i8', {}, x, 1, n, false);
  return absmaxRows(q, null, null, x, 1, n);
}

/**
 * Fake-quant (quantize → dequantize) with per-token absmax int8, for training forwards
 * (HF AutoBitLinear ActQuant): out[m,k] = f32(q[m,k] / s[m]).
 *
 * out: FloatArray // (M, K)    x: FloatArray // (M, K)
 */
export function fakeQuantAbsmaxI8PerToken(out: FloatArray, x: FloatArray, M: number, K: number): void {
  checkFakeRows('fakeQuantAbsmaxI8PerToken', out, x, M, K, false);
  absmaxRows(null, null, out, x, M, K);
}

/**
 * Fake-quant with per-tensor absmax int8 (BitNet v1 training): out = f32(q / s). Returns s.
 *
 * out: FloatArray // (n)    x: FloatArray // (n)
 */
export function fakeQuantAbsmaxI8PerTensor(out: FloatArray, x: FloatArray, n: number): number {
  checkFakeRows('fakeQuantAbsmaxI8PerTensor', out, x, 1, n, false);
  return absmaxRows(null, null, out, x, 1, n);
}

/**
 * Per-token absmean int4 (BitNet v2 Eq.6, docs/spec.md §4.2):
 *   β[m] = f32 mean_k |x[m,k]| (fixed order, module doc);
 *   s[m] = f32(√7 / f32(β[m] + 1e-5));  q[m,k] = clamp(round(x[m,k]·s[m]), -8, 7), stored in int8 lanes.
 * eps = 1e-5 is added (not a max), as written in Eq.6. Dequantize: x ≈ q / s.
 *
 * q: Int8Array // (M, K)    scale: FloatArray // (M)    x: FloatArray // (M, K)
 */
export function quantizeAbsmeanI4PerToken(q: Int8Array, scale: FloatArray, x: FloatArray, M: number, K: number): void {
  checkQuantRows('quantizeAbsmeanI4PerToken', q, 'i8', { scale }, x, M, K, false);
  absmeanI4Rows(q, scale, null, x, M, K);
}

function absmeanI4Rows(q: Int8Array | null, scale: FloatArray | null, out: FloatArray | null, x: FloatArray, M: number, K: number): void {
  for (let m = 0; m < M; m++) {
    const off = m * K;
    const s = f32(SQRT7_F32 / f32(meanF32(x, off, K, true) + QUANT_EPS));
    if (scale) scale[m] = s;
    for (let k = 0; k < K; k++) {
      const v = qround(x[off + k]!, s, -8, 7);
      if (q) q[off + k] = v;
      if (out) out[off + k] = f32(v / s);
    }
  }
}

/**
 * Fake-quant with per-token absmean int4 (BitNet v2 training): out = f32(q / s).
 *
 * out: FloatArray // (M, K)    x: FloatArray // (M, K)
 */
export function fakeQuantAbsmeanI4PerToken(out: FloatArray, x: FloatArray, M: number, K: number): void {
  checkFakeRows('fakeQuantAbsmeanI4PerToken', out, x, M, K, false);
  absmeanI4Rows(null, null, out, x, M, K);
}

/**
 * BitNet v1 activation quantizer for inputs of non-linear functions (docs/spec.md §1.1 Eq.6), per token
 * (call with M = 1 for per-tensor): shift by the row minimum, scale the range into [0, 127].
 *   η[m] = min_k x[m,k];  γ[m] = f32(max_k x[m,k] − η[m]);  s[m] = f32(127 / max(γ[m], 1e-5));
 *   q[m,k] = clamp(round(f32(x[m,k] − η[m])·s[m]), 0, 127).
 * Dequantize: x ≈ f32(f32(q / s) + η) (fakeQuantShiftedU7PerToken). We use Q = 127 (not Q_b = 128)
 * so the codes are valid 7-bit unsigned operands (relaxed dot i7) and fit int8, and the same
 * 127 as the absmax int8 path. The paper's γ = ‖x‖∞ would saturate (x − η can reach 2‖x‖∞);
 * we use the range γ' = max − min, which is what the shift needs.
 *
 * q: Uint8Array // (M, K)    eta: FloatArray // (M)    scale: FloatArray // (M)    x: FloatArray // (M, K)
 */
export function quantizeShiftedU7PerToken(q: Uint8Array, eta: FloatArray, scale: FloatArray, x: FloatArray, M: number, K: number): void {
  checkQuantRows('quantizeShiftedU7PerToken', q, 'u8', { eta, scale }, x, M, K, false);
  shiftedRows(q, eta, scale, null, x, M, K);
}

function shiftedRows(q: Uint8Array | null, eta: FloatArray | null, scale: FloatArray | null, out: FloatArray | null, x: FloatArray, M: number, K: number): ShiftedScales {
  let lo = 0, s = 0;
  for (let m = 0; m < M; m++) {
    const off = m * K;
    let hi = -Infinity;
    lo = Infinity;
    for (let k = 0; k < K; k++) {
      const v = f32(x[off + k]!);
      lo = Math.min(lo, v); // Math.min/max: NaN-propagating, −0 < +0, like WASM f32.min/max
      hi = Math.max(hi, v);
    }
    if (K === 0) lo = hi = 0;
    s = f32(127 / Math.max(f32(hi - lo), QUANT_EPS));
    if (eta) eta[m] = lo;
    if (scale) scale[m] = s;
    for (let k = 0; k < K; k++) {
      const v = qround(f32(f32(x[off + k]!) - lo), s, 0, 127);
      if (q) q[off + k] = v;
      if (out) out[off + k] = f32(f32(v / s) + lo);
    }
  }
  return { eta: lo, scale: s };
}

/** η and s of a per-tensor shifted quantizer (x ≈ q / s + η). */
export interface ShiftedScales {
  /** Zero point η = min x (f32). */
  eta: number;
  /** Multiplier s = 127 / max(max x − min x, 1e-5) (f32). */
  scale: number;
}

/**
 * Fake-quant with the shifted [0, 127] quantizer per token (BitNet v1 Eq.6, inference rule):
 * out[m,k] = f32(f32(q[m,k] / s[m]) + η[m]) with q, s, η of quantizeShiftedU7PerToken.
 * The row minimum maps to exactly η (q = 0).
 *
 * out: FloatArray // (M, K)    x: FloatArray // (M, K)
 */
export function fakeQuantShiftedU7PerToken(out: FloatArray, x: FloatArray, M: number, K: number): void {
  checkFakeRows('fakeQuantShiftedU7PerToken', out, x, M, K, false);
  shiftedRows(null, null, null, out, x, M, K);
}

/**
 * Fake-quant with the shifted [0, 127] quantizer per tensor (BitNet v1 training, docs/spec.md §1.1):
 * as the per-token form with one row of n values. Returns {eta, scale}.
 *
 * out: FloatArray // (n)    x: FloatArray // (n)
 */
export function fakeQuantShiftedU7PerTensor(out: FloatArray, x: FloatArray, n: number): ShiftedScales {
  checkFakeRows('fakeQuantShiftedU7PerTensor', out, x, 1, n, false);
  return shiftedRows(null, null, null, out, x, 1, n);
}

// ---- weights ----------------------------------------------------------------------------------

function ternaryGroups(q: Int8Array | null, out: FloatArray | null, beta: FloatArray | null, w: FloatArray, G: number, gsize: number): number {
  let b = 0;
  for (let g = 0; g < G; g++) {
    const off = g * gsize;
    b = Math.max(meanF32(w, off, gsize, true), QUANT_EPS);
    const s = f32(1 / b);
    if (beta) beta[g] = b;
    for (let i = 0; i < gsize; i++) {
      const v = qround(w[off + i]!, s, -1, 1);
      if (q) q[off + i] = v;
      if (out) out[off + i] = f32(v / s);
    }
  }
  return b;
}

/**
 * Absmean ternary weights (b1.58, docs/spec.md §0.1, §2 Eq.1-3), per tensor:
 *   β = max(f32 mean|W|, 1e-5) (fixed order, module doc);  s = f32(1/β) (torch's `scale`);
 *   q = clamp(round(f32(W·s)), -1, 1).  Returns β (dequantize W ≈ q·β; the BitLinear weight scale).
 *
 * q: Int8Array // (n)    w: FloatArray // (n)
 */
export function quantizeTernaryAbsmean(q: Int8Array, w: FloatArray, n: number): number {
  checkQuantRows('quantizeTernaryAbsmean', q, 'i8', {}, w, 1, n, false);
  return ternaryGroups(q, null, null, w, 1, n);
}

/**
 * Group-wise absmean ternary (docs/spec.md §1.2 Eq.13 applied to b1.58): W (N,K) is split into G groups
 * of N/G consecutive output rows; group g uses β[g] = max(mean|W^(g)|, 1e-5) as in
 * quantizeTernaryAbsmean. N % G must be 0 (ArgumentError).
 *
 * q: Int8Array // (N, K)    beta: FloatArray // (G)    w: FloatArray // (N, K)
 */
export function quantizeTernaryAbsmeanGrouped(q: Int8Array, beta: FloatArray, w: FloatArray, N: number, K: number, G: number): void {
  checkGroups('quantizeTernaryAbsmeanGrouped', N, K, G);
  checkQuantRows('quantizeTernaryAbsmeanGrouped', q, 'i8', {}, w, N, K, false);
  checkDType('quantizeTernaryAbsmeanGrouped', 'beta', beta, 'f32', 'f64');
  checkLen('quantizeTernaryAbsmeanGrouped', 'beta', beta, G);
  ternaryGroups(q, null, beta, w, G, (N / G) * K);
}

/**
 * Fake-quant ternary weights (HF WeightQuant, online training): out = f32(q / s) with
 * s = f32(1/β) exactly as torch computes `round(W·s).clamp(-1,1) / s`. Returns β.
 *
 * out: FloatArray // (n)    w: FloatArray // (n)
 */
export function fakeQuantTernary(out: FloatArray, w: FloatArray, n: number): number {
  checkFakeRows('fakeQuantTernary', out, w, 1, n, false);
  return ternaryGroups(null, out, null, w, 1, n);
}

/** α and β of BitNet v1 binarization (per tensor). */
export interface SignScales {
  /** Centre α = mean W (f32). Only decides the signs; the dequantized weight is β·q. */
  alpha: number;
  /** Scale β = mean|W| (f32, clamped at 1e-5). */
  beta: number;
}

function signGroups(q: Int8Array | null, out: FloatArray | null, alpha: FloatArray | null, beta: FloatArray | null, w: FloatArray, G: number, gsize: number): SignScales {
  let a = 0, b = 0;
  for (let g = 0; g < G; g++) {
    const off = g * gsize;
    a = meanF32(w, off, gsize, false);
    b = Math.max(meanF32(w, off, gsize, true), QUANT_EPS);
    if (alpha) alpha[g] = a;
    if (beta) beta[g] = b;
    for (let i = 0; i < gsize; i++) {
      const v = f32(f32(w[off + i]!) - a) > 0 ? 1 : -1;
      if (q) q[off + i] = v;
      if (out) out[off + i] = v * b;
    }
  }
  return { alpha: a, beta: b };
}

/**
 * BitNet v1 centred binarization (docs/spec.md §1.1 Eq.1-3, 12), per tensor:
 *   α = f32 mean W;  q = Sign(f32(W − α)) with Sign(v) = +1 if v > 0 else −1 (so Sign(0) = −1);
 *   β = max(f32 mean|W|, 1e-5) = (1/nm)‖W‖₁.  Dequantize W ≈ β·q (α is not added back:
 *   BitLinear computes y = β·(q · x), docs/spec.md §1.1 Eq.11). Returns {alpha, beta}.
 *
 * q: Int8Array // (n)    w: FloatArray // (n)
 */
export function quantizeSign(q: Int8Array, w: FloatArray, n: number): SignScales {
  checkQuantRows('quantizeSign', q, 'i8', {}, w, 1, n, false);
  return signGroups(q, null, null, null, w, 1, n);
}

/**
 * Group-wise BitNet v1 binarization (docs/spec.md §1.2 Eq.13): W (N,K) in G groups of N/G consecutive
 * output rows; α[g] = mean W^(g), β[g] = max(mean|W^(g)|, 1e-5) = (G/nm)‖W^(g)‖₁, q as quantizeSign.
 * N % G must be 0 (ArgumentError).
 *
 * q: Int8Array // (N, K)    alpha: FloatArray // (G)    beta: FloatArray // (G)    w: FloatArray // (N, K)
 */
export function quantizeSignGrouped(q: Int8Array, alpha: FloatArray, beta: FloatArray, w: FloatArray, N: number, K: number, G: number): void {
  const where = 'quantizeSignGrouped';
  checkGroups(where, N, K, G);
  checkQuantRows(where, q, 'i8', {}, w, N, K, false);
  for (const [k, a] of [['alpha', alpha], ['beta', beta]] as const) {
    checkDType(where, k, a, 'f32', 'f64');
    checkLen(where, k, a, G);
  }
  signGroups(q, null, alpha, beta, w, G, (N / G) * K);
}

/**
 * Fake-quant BitNet v1 binarization: out = f32(β·q). Returns {alpha, beta}.
 *
 * out: FloatArray // (n)    w: FloatArray // (n)
 */
export function fakeQuantSign(out: FloatArray, w: FloatArray, n: number): SignScales {
  checkFakeRows('fakeQuantSign', out, w, 1, n, false);
  return signGroups(null, out, null, null, w, 1, n);
}

/** Checks of packSignsI2R4 (both twins). */
export function checkPackSigns(where: string, dst: Uint8Array, w: FloatArray, N: number, K: number, f32only: boolean): void {
  checkDims(where, { N, K });
  checkDType(where, 'dst', dst, 'u8');
  if (f32only) checkDType(where, 'w', w, 'f32');
  else checkDType(where, 'w', w, 'f32', 'f64');
  checkLen(where, 'dst', dst, bytesI2R4(N, K));
  checkLen(where, 'w', w, N * K);
}

/**
 * Pack the signs of w (N, K) as ternary codes (code 1 + sign(w); NaN and ±0 as 0) in the 'i2r4' layout
 * (src/quant/pack.ts). A fake-quantized ternary weight w̃ = q·β̃ ∈ {−β̃, 0, +β̃} packs to its codes q this way,
 * without quantizing the latent W a second time (the integer training forward, src/nn/bitlinear.ts).
 *
 * dst: Uint8Array // (bytesI2R4(N, K))    w: FloatArray // (N, K)
 */
export function packSignsI2R4(dst: Uint8Array, w: FloatArray, N: number, K: number): void {
  checkPackSigns('packSignsI2R4', dst, w, N, K, false);
  const q = new Int8Array(N * K);
  for (let i = 0; i < N * K; i++) q[i] = w[i]! > 0 ? 1 : w[i]! < 0 ? -1 : 0;
  packI2R4(dst, q, N, K);
}

/** Checks of quantizeFakeAbsmaxI8PerToken (both twins): q rows of qK ≥ K codes, out and x (M, K), scale (M). */
export function checkQuantFakeRows(where: string, q: Int8Array, qK: number, scale: FloatArray, out: FloatArray, x: FloatArray, M: number, K: number, f32only: boolean): void {
  checkFakeRows(where, out, x, M, K, f32only);
  checkDims(where, { qK });
  if (qK < K) throw new ArgumentError(`${where}: qK=${qK} must be >= K=${K}`);
  checkDType(where, 'q', q, 'i8');
  checkLen(where, 'q', q, M * qK);
  if (f32only) checkDType(where, 'scale', scale, 'f32');
  else checkDType(where, 'scale', scale, 'f32', 'f64');
  checkLen(where, 'scale', scale, M);
}

/**
 * quantizeAbsmaxI8PerToken and fakeQuantAbsmaxI8PerToken of x in one pass (the integer training forward,
 * src/nn/bitlinear.ts, needs both): q[m·qK + k] the code, out[m, k] = f32(q / s[m]), scale[m] = s, with the
 * same values as the two kernels. q's rows are qK ≥ K long (whole 64-weight blocks); columns K … qK are not
 * written.
 *
 * q: Int8Array // (M, qK)    scale: FloatArray // (M)    out, x: FloatArray // (M, K)
 */
export function quantizeFakeAbsmaxI8PerToken(q: Int8Array, qK: number, scale: FloatArray, out: FloatArray, x: FloatArray, M: number, K: number): void {
  checkQuantFakeRows('quantizeFakeAbsmaxI8PerToken', q, qK, scale, out, x, M, K, false);
  for (let m = 0; m < M; m++) {
    const off = m * K;
    const s = f32(127 / Math.max(absmaxF32(x, off, K), QUANT_EPS));
    scale[m] = s;
    for (let k = 0; k < K; k++) {
      const v = qround(x[off + k]!, s, -128, 127);
      q[m * qK + k] = v;
      out[off + k] = f32(v / s);
    }
  }
}
