/**
 * Post-training quantization of a full-precision model (the "train FP, then quantize" baselines of
 * BitNet Table 3, docs/spec.md §1.6). Every method returns a new Transformer that the training model's
 * forward runs: weights are replaced by their dequantized (fake-quant) values, and methods that
 * quantize activations install an input hook (Transformer.inputHook) that fake-quantizes the input
 * of every projection per token. Embeddings and the LM head stay in full precision, as in BitNet.
 *
 *   absmax  W8A8 / W4A4   symmetric round-to-nearest, per output channel absmax for W, per token for A
 *   absmean W1.58A8       post-hoc b1.58 ternary (per-tensor absmean, docs/spec.md §2 Eq. 1–3), A8 per token
 *   sign    W1A8          post-hoc BitNet v1 binarization (centred sign, β = mean|W|, docs/spec.md §1.1), A8
 *   smoothquant W8A8/W4A4 SmoothQuant migration (smoothquant.ts), then absmax as above
 *   gptq    W4/W3/W2 A16  GPTQ (gptq.ts), asymmetric min–max grid per row (or group)
 *   quip    W2A16         QuIP incoherence processing + LDLQ (quip.ts)
 */
import { ArgumentError } from '../errors.js';
import { fakeQuantWeightRef } from '../nn/bitlinear.js';
import { QUANT_VARIANTS, WEIGHT_QUANTS, type WeightQuant } from '../quant/modes.js';
import { Transformer, type InputHook, type InputSite } from '../model/transformer.js';
import type { FloatArray } from '../tensor/dtype.js';
import { roundHalfEven } from '../tensor/round.js';
import type { MatmulFormat } from './energy.js';
import { gptqQuantize, HessianAccumulator, rtnMinMax, type GptqOptions } from './gptq.js';
import { quipQuantize, type RotationKind } from './quip.js';
import { allSites, siteKey, siteLinears } from './sites.js';
import { smoothModel } from './smoothquant.js';

export type PtqKind = 'absmax' | 'absmean' | 'sign' | 'smoothquant' | 'gptq' | 'quip' | 'rtn';

export interface PtqSpec {
  /** Row label, e.g. "GPTQ W4A16". */
  label: string;
  kind: PtqKind;
  /** Weight bits (1.58 for ternary). */
  wBits: number;
  /** Activation bits (16 = not quantized). */
  aBits: number;
  /** absmean / sign: the BitNet weight quantizer applied post hoc (WEIGHT_QUANTS, src/quant/modes.ts). */
  weight?: Exclude<WeightQuant, 'none'>;
}

/** The methods by name (`bitnet experiment ptq-table --ptq a,b,…`). */
export const PTQ_METHODS: Record<string, PtqSpec> = {
  'absmax-w8a8': { label: 'Absmax W8A8', kind: 'absmax', wBits: 8, aBits: 8 },
  'absmax-w4a4': { label: 'Absmax W4A4', kind: 'absmax', wBits: 4, aBits: 4 },
  'absmean-w1.58a8': { label: 'Absmean W1.58A8', kind: 'absmean', wBits: WEIGHT_QUANTS.ternary.bits, aBits: 8, weight: 'ternary' },
  'sign-w1a8': { label: 'Sign W1A8', kind: 'sign', wBits: WEIGHT_QUANTS.sign.bits, aBits: 8, weight: 'sign' },
  'smoothquant-w8a8': { label: 'SmoothQuant W8A8', kind: 'smoothquant', wBits: 8, aBits: 8 },
  'smoothquant-w4a4': { label: 'SmoothQuant W4A4', kind: 'smoothquant', wBits: 4, aBits: 4 },
  'rtn-w4a16': { label: 'RTN W4A16', kind: 'rtn', wBits: 4, aBits: 16 },
  'gptq-w4a16': { label: 'GPTQ W4A16', kind: 'gptq', wBits: 4, aBits: 16 },
  'gptq-w3a16': { label: 'GPTQ W3A16', kind: 'gptq', wBits: 3, aBits: 16 },
  'gptq-w2a16': { label: 'GPTQ W2A16', kind: 'gptq', wBits: 2, aBits: 16 },
  'quip-w2a16': { label: 'QuIP W2A16', kind: 'quip', wBits: 2, aBits: 16 },
};

export interface PtqOptions {
  /** SmoothQuant migration strength α. */
  alpha: number;
  gptq: Omit<GptqOptions, 'bits'>;
  quipRotation: RotationKind;
  seed: number;
}

export const DEFAULT_PTQ: PtqOptions = {
  alpha: 0.5,
  gptq: { groupSize: 0, blockSize: 128, damp: 0.01, actOrder: true },
  quipRotation: 'auto',
  seed: 0,
};

/** One calibration batch: tokens (B, T). */
export interface CalibBatch { tokens: Int32Array; B: number; T: number }

/** Symmetric absmax fake quantization per token (row) to `bits` bits: Q = 2^(bits−1) − 1, round-half-even. */
export function fakeQuantActPerToken(out: FloatArray, x: FloatArray, M: number, K: number, bits: number): void {
  const Q = 2 ** (bits - 1) - 1;
  for (let m = 0; m < M; m++) {
    const o = m * K;
    let amax = 0;
    for (let j = 0; j < K; j++) amax = Math.max(amax, Math.abs(x[o + j]!));
    const s = Q / Math.max(amax, 1e-5);
    for (let j = 0; j < K; j++) out[o + j] = Math.max(-Q, Math.min(Q, roundHalfEven(x[o + j]! * s))) / s;
  }
}

/** Symmetric absmax round-to-nearest per output row of W (N, K) to `bits` bits. */
export function rtnAbsmaxPerChannel(w: ArrayLike<number>, N: number, K: number, bits: number): Float64Array {
  const Q = 2 ** (bits - 1) - 1;
  const out = new Float64Array(N * K);
  for (let r = 0; r < N; r++) {
    let amax = 0;
    for (let j = 0; j < K; j++) amax = Math.max(amax, Math.abs(w[r * K + j]!));
    const s = Q / Math.max(amax, 1e-8);
    for (let j = 0; j < K; j++) out[r * K + j] = Math.max(-Q, Math.min(Q, roundHalfEven(w[r * K + j]! * s))) / s;
  }
  return out;
}

/** An input hook that fake-quantizes every projection input per token to `bits` bits (buffers reused). */
export function actQuantHook(bits: number): InputHook {
  const bufs = new Map<string, FloatArray>();
  return (site, x, M, K) => {
    const key = siteKey(site);
    let b = bufs.get(key);
    if (b === undefined || b.length < M * K || b.constructor !== x.constructor) bufs.set(key, (b = x instanceof Float64Array ? new Float64Array(M * K) : new Float32Array(M * K)));
    fakeQuantActPerToken(b, x, M, K, bits);
    return b;
  };
}

/** A copy of `model` (same config, dtype, backend) with the same parameters and no hook. */
export function cloneModel(model: Transformer): Transformer {
  const m = new Transformer(model.be, model.config, model.dtype);
  m.params.set(model.params);
  return m;
}

/** Run the calibration batches through `model` with an observing hook (restores the previous hook). */
export function observeInputs(model: Transformer, batches: CalibBatch[], observe: (site: InputSite, x: FloatArray, M: number, K: number) => void): void {
  const prev = model.inputHook;
  model.inputHook = (site, x, M, K) => {
    observe(site, x, M, K);
    return prev?.(site, x, M, K);
  };
  try {
    for (const b of batches) model.forward(b.tokens, null, b.B, b.T);
  } finally {
    model.inputHook = prev;
  }
}

/** Per-channel max |x| of every site's input over the calibration set (SmoothQuant statistics). */
export function channelAbsMax(model: Transformer, batches: CalibBatch[]): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  observeInputs(model, batches, (site, x, M, K) => {
    const key = siteKey(site);
    let a = out.get(key);
    if (a === undefined) out.set(key, (a = new Float64Array(K)));
    for (let m = 0; m < M; m++) for (let j = 0; j < K; j++) a[j] = Math.max(a[j]!, Math.abs(x[m * K + j]!));
  });
  return out;
}

function replaceWeights(model: Transformer, name: string, f: (w: FloatArray, N: number, K: number) => ArrayLike<number>): void {
  const { p, info } = model.param(name);
  const [N, K] = info.shape as [number, number];
  const q = f(p, N, K);
  for (let i = 0; i < p.length; i++) p[i] = q[i]!;
}

function projectionNames(model: Transformer): string[] {
  return allSites(model.config).flatMap((s) => siteLinears(model.config, s));
}

/**
 * GPTQ-style quantization of every projection, layer by layer: the Hessians of layer l come from
 * calibration inputs through the model whose layers < l are already quantized (GPTQ's sequential
 * order; within a layer the four sites are collected in one pass).
 */
function hessianQuantize(model: Transformer, batches: CalibBatch[], quant: (w: FloatArray, N: number, K: number, H: Float64Array, name: string) => ArrayLike<number>): void {
  const c = model.config;
  for (let l = 0; l < c.nLayers; l++) {
    const acc = new Map<string, HessianAccumulator>();
    observeInputs(model, batches, (site, x, M, K) => {
      if (site.layer !== l) return;
      const key = siteKey(site);
      let a = acc.get(key);
      if (a === undefined) acc.set(key, (a = new HessianAccumulator(K)));
      a.add(x, M);
    });
    for (const kind of ['attn', 'o', 'ffn', 'down'] as const) {
      const site = { layer: l, kind };
      const H = acc.get(siteKey(site))!.result();
      for (const name of siteLinears(c, site)) replaceWeights(model, name, (w, N, K) => quant(w, N, K, H, name));
    }
  }
}

export interface PtqResult {
  model: Transformer;
  /** Notes for the report (e.g. sites SmoothQuant could not smooth). */
  notes: string[];
}

/** Quantize a full-precision model with one method; the input model is not modified. */
export function quantizeModel(fp: Transformer, method: string, calib: CalibBatch[], options: Partial<PtqOptions> = {}): PtqResult {
  const spec = PTQ_METHODS[method];
  if (spec === undefined) throw new ArgumentError(`unknown PTQ method '${method}' (choose from ${Object.keys(PTQ_METHODS).join(', ')})`);
  if (QUANT_VARIANTS[fp.config.quant].weight !== 'none') throw new ArgumentError(`quantizeModel: post-training quantization needs a full-precision model, got quant '${fp.config.quant}'`);
  const o: PtqOptions = { ...DEFAULT_PTQ, ...options, gptq: { ...DEFAULT_PTQ.gptq, ...options.gptq } };
  const needsCalib = spec.kind === 'smoothquant' || spec.kind === 'gptq' || spec.kind === 'quip';
  if (needsCalib && calib.length === 0) throw new ArgumentError(`${spec.label} needs calibration batches`);
  const model = cloneModel(fp);
  const notes: string[] = [];
  switch (spec.kind) {
    case 'absmax':
      for (const n of projectionNames(model)) replaceWeights(model, n, (w, N, K) => rtnAbsmaxPerChannel(w, N, K, spec.wBits));
      break;
    case 'smoothquant': {
      const skipped = smoothModel(model, channelAbsMax(model, calib), o.alpha);
      if (skipped.length > 0) notes.push(`SmoothQuant: no exact place to fold the scales of ${skipped.join(', ')}; left unsmoothed`);
      for (const n of projectionNames(model)) replaceWeights(model, n, (w, N, K) => rtnAbsmaxPerChannel(w, N, K, spec.wBits));
      break;
    }
    case 'absmean':
    case 'sign':
      for (const n of projectionNames(model)) replaceWeights(model, n, (w) => { const out = new Float32Array(w.length); fakeQuantWeightRef(spec.weight!, out, Float32Array.from(w), w.length); return out; });
      break;
    case 'rtn':
      for (const n of projectionNames(model)) replaceWeights(model, n, (w, N, K) => rtnMinMax(w, N, K, spec.wBits, o.gptq.groupSize));
      break;
    case 'gptq':
      hessianQuantize(model, calib, (w, N, K, H) => gptqQuantize(w, N, K, H, { ...o.gptq, bits: spec.wBits }));
      break;
    case 'quip':
      hessianQuantize(model, calib, (w, N, K, H, name) => quipQuantize(w, N, K, H, { ...o.gptq, bits: spec.wBits, rotation: o.quipRotation, seed: hashName(o.seed, name) }));
      break;
  }
  if (spec.aBits < 16) model.inputHook = actQuantHook(spec.aBits);
  return { model, notes };
}

function hashName(seed: number, name: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The arithmetic/storage format of a PTQ method (for energy and weight memory, src/science/energy.ts). */
export function ptqFormat(method: string, c: { dim: number; ffnDim: number }, options: Partial<PtqOptions> = {}): MatmulFormat {
  const spec = PTQ_METHODS[method];
  if (spec === undefined) throw new ArgumentError(`unknown PTQ method '${method}'`);
  const groupSize = options.gptq?.groupSize ?? DEFAULT_PTQ.gptq.groupSize;
  const pow2 = (n: number) => (n & (n - 1)) === 0;
  switch (spec.kind) {
    case 'absmax': case 'smoothquant': return { wBits: spec.wBits, aBits: spec.aBits, arith: 'int', rowOverheadBytes: 2, groupSize: 0 };
    case 'absmean': case 'sign': return { wBits: spec.wBits, aBits: spec.aBits, arith: 'int-add', rowOverheadBytes: 0, groupSize: 0 };
    case 'rtn': case 'gptq': return { wBits: spec.wBits, aBits: 16, arith: 'fp', rowOverheadBytes: 3, groupSize };
    case 'quip': return { wBits: spec.wBits, aBits: 16, arith: 'fp', rowOverheadBytes: 3, groupSize, rotation: pow2(c.dim) && pow2(c.ffnDim) ? 'hadamard' : 'dense' };
  }
}
