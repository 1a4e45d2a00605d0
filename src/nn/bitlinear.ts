/**
 * BitLinear for training: fake quantization in the forward pass, the straight-through
 * estimator in the backward pass, full-precision latent weights that receive the updates.
 * A drop-in for Linear: with mode 'fp' both quantizers are the identity.
 *
 * Split in two because several projections share one input (q/k/v read the same
 * normalised x, gate/up too): the input is prepared once and its gradient summed.
 *
 *   QuantInput   a = Quant_act(Hadamard?(LN?(x)))          (M, K)
 *   QuantWeight  w̃ = Quant_w(W)                             (N, K)
 *   linear       y = a · w̃ᵀ                                  (M, N)
 *
 * Backward (STE, as the reference code's x + (q(x) − x).detach()):
 *   da  += dy · w̃          dW += dyᵀ · a   (straight into the latent weight's gradient)
 *   dx  += LN_bwd(Hadamard(da))  — the quantizers are the identity; H is orthonormal and symmetric.
 *
 * λ-warmup (fine-tuning an FP model into BitNet): a = x + λ(q(x) − x), w̃ = W + λ(q(W) − W).
 *
 * Integer forward (f32 models, on by default: `integer`): where the weights are per-tensor ternary and the
 * input's quantizer is per token (b1.58, v2), the forward product does not multiply floats at all. The
 * input is also quantized to its integer codes q, s (a = f32(q/s) exactly: the same kernel formula), the
 * weight to its codes packed in the engine's 'i2r4' layout once per step, and
 *   y[m,n] = f32(f32(Σ_k q_w[n,k]·q[m,k]) / s[m]) · β̃)        β̃ = f32(1/f32(1/β)), the value w̃ holds
 * runs on the inference engine's int8 × ternary kernels (src/kernels/ref/ternary.ts): the integer sum is
 * exact, so it equals a·w̃ᵀ up to the f32 rounding of the float sum it replaces (test/nn/integer_forward.test.ts).
 * The backward pass is unchanged (it reads a and w̃).
 *
 * BitNet v1 has two activation quantizers: absmax int8 (Eq.4) and, for inputs that come out of a
 * non-linearity, the zero-point one (Eq.6, 'u7-shifted-tensor'): a = f32(q/s) + η with
 * q = clamp(round((LN(x) − η)·s), 0, 127), η = min, s = 127/(max − min). Its backward is the
 * identity too (the gradient does not flow into η or s). Where it is used: ModelConfig.v1ShiftedActs.
 * Which quantizers a mode uses at which input: the table QUANT_VARIANTS, src/quant/modes.ts.
 * docs/spec.md §1.1–1.3 (v1), §2 (b1.58), §4.2 (v2 H-BitLinear), §8 (warmup quantization).
 */
import type { Backend } from '../kernels/backend.js';
import type { FloatArray } from '../tensor/dtype.js';
import type { Arena } from '../tensor/arena.js';
import { ACT_CODES, ACT_QUANTS, bitLinearRule, QUANT_VARIANTS, type ActQuant, type QuantMode, type WeightQuant } from '../quant/modes.js';
import { FORMAT_TRAITS, type PackedMatmulKernel } from '../quant/formats.js';
import { ArgumentError } from '../errors.js';
import { fakeQuantSign, fakeQuantTernary } from '../kernels/ref/quant.js';
import { Rng } from '../tensor/rng.js';
import { roundHalfEven } from '../tensor/round.js';

export type { ActQuant, WeightQuant };

/** The packed layout of the integer forward: the engine's prefill layout (src/quant/pack.ts). */
const INT_FORMAT = FORMAT_TRAITS.i2r4;

/**
 * Integer codes of a prepared input: a = f32(q / s) row by row, and the packed kernel that multiplies them.
 * Rows are K = K_in rounded up to whole 64-weight blocks, the padding zero: the weights' packed rows are
 * padded with weight 0 to the same blocks, so the product is unchanged and the kernels take their
 * whole-block path (a partial last block runs a scalar tail per output: ~4× slower at K = 688).
 */
export interface InputCodes {
  q: Int8Array;
  s: Float32Array;
  K: number;
  kernel: PackedMatmulKernel;
}

export interface InputSpec {
  act: ActQuant;
  lnInside: boolean;
  hadamard: boolean;
  /** Activation groups (BitNet v1 group quantization): absmax per group of K/G columns. */
  groups: number;
  eps: number;
}

/** Prepared (quantized) input of one or more BitLinear layers. */
export class QuantInput {
  /** a: (M, K): what the matmul consumes (and dW needs). */
  readonly a: FloatArray;
  /**
   * da: (M, K): gradient w.r.t. a, written by the first consumer's linearBackward after a forward and added to
   * by the others (no zeroing pass: that was ~1 % of a training step), then pushed to dx.
   */
  readonly da: FloatArray;
  /** Rows of da that hold gradient since the last forward (0: none yet, da holds stale values). */
  private daRows = 0;
  private readonly ln: FloatArray | undefined; // (M, K)
  private readonly mean: FloatArray | undefined; // (M)
  private readonly rstd: FloatArray | undefined; // (M)
  private x: FloatArray | undefined;
  /** λ-warmup only: the unquantized input, kept for the mix (allocated on first use). */
  private keep: FloatArray | undefined;
  /** λ of warmup quantization (1 = fully quantized). */
  lambda = 1;
  /** Shifted quantizer with groups: one group's (M, K/G) block, gathered (allocated on first use). */
  private block: FloatArray | undefined;
  /** Integer forward: the codes' buffers (f32, per-token quantizers only; module doc). */
  private readonly codes: InputCodes | undefined;
  /** Unpadded codes (M, K) when K is not a whole number of blocks (InputCodes), for quantizers without a fused kernel. */
  private codesTmp: Int8Array | undefined;
  /** The codes and the fake-quantized input come from one kernel (quantizeFakeAbsmaxI8PerToken: absmax int8 per token). */
  private readonly fusedCodes: boolean = false;
  /** Rows the codes hold for the last forward (0: none, e.g. λ < 1 or `integer` off). */
  private codesRows = 0;
  /** Compute integer codes in forward (module doc), where this input has them (f32, a per-token quantizer). */
  integer = true;

  constructor(private readonly be: Backend, arena: Arena, readonly spec: InputSpec, readonly maxM: number, readonly K: number, dtype: 'f32' | 'f64') {
    const passthrough = spec.act === 'none' && !spec.lnInside && !spec.hadamard;
    this.a = passthrough ? new Float32Array(0) : arena.alloc(dtype, maxM * K);
    this.da = arena.alloc(dtype, maxM * K);
    const act = ACT_QUANTS[spec.act];
    const codes = ACT_CODES[act.infer];
    if (dtype === 'f32' && spec.groups === 1 && act.per === 'token' && codes.quantizer !== undefined && codes.matmul !== undefined) {
      const kernel = INT_FORMAT[codes.matmul];
      const Kp = Math.ceil(K / INT_FORMAT.blockWeights) * INT_FORMAT.blockWeights;
      if (kernel !== undefined) {
        this.codes = { q: arena.alloc('i8', maxM * Kp), s: arena.alloc('f32', maxM), K: Kp, kernel };
        this.fusedCodes = codes.quantizer === 'quantizeAbsmaxI8PerToken' && act.fakeQuant === 'fakeQuantAbsmaxI8PerToken';
        if (Kp !== K && !this.fusedCodes) this.codesTmp = arena.alloc('i8', maxM * K);
      }
    }
    if (spec.lnInside) {
      this.ln = arena.alloc(dtype, maxM * K);
      this.mean = arena.alloc(dtype, maxM);
      this.rstd = arena.alloc(dtype, maxM);
    }
  }

  /** Prepare from x (M, K); returns the array the matmul should read. Starts a new da for the backward pass. */
  forward(x: FloatArray, M: number): FloatArray {
    const { be, spec, K } = this;
    this.x = x;
    this.daRows = 0;
    if (spec.act === 'none' && !spec.lnInside && !spec.hadamard) return x;
    let src = x;
    if (spec.lnInside) {
      be.layernormForward(this.ln!, this.mean!, this.rstd!, x, null, null, M, K, spec.eps);
      src = this.ln!;
    }
    const a = this.a;
    if (spec.hadamard) {
      be.hadamardForward(a, src, M, K);
      src = a;
    }
    if (spec.act === 'none') {
      if (src !== a) a.set(src.subarray(0, M * K));
      return a;
    }
    let keep: FloatArray | undefined;
    if (this.lambda < 1) {
      keep = this.keep ??= src instanceof Float64Array ? new Float64Array(this.maxM * K) : new Float32Array(this.maxM * K);
      keep.set(src.subarray(0, M * K));
    }
    // The quantizer's kernel and granularity: ACT_QUANTS (src/quant/modes.ts); groups (BitNet v1, per tensor) apart.
    const q = ACT_QUANTS[spec.act];
    // Integer codes first: src may be `a` itself (after the Hadamard transform), which the fake quant overwrites.
    this.codesRows = 0;
    if (this.codes !== undefined && this.integer && keep === undefined) {
      const c = this.codes, tmp = this.codesTmp, quantizer = ACT_CODES[q.infer].quantizer;
      this.codesRows = M;
      if (this.fusedCodes) {
        // codes (into the padded rows, whose padding stays 0) and a in one pass over the input
        be.quantizeFakeAbsmaxI8PerToken(c.q, c.K, c.s, a, src, M, K);
        return a;
      }
      be[quantizer as 'quantizeAbsmaxI8PerToken' | 'quantizeAbsmeanI4PerToken'](tmp ?? c.q, c.s, src, M, K);
      if (tmp !== undefined) for (let m = 0; m < M; m++) c.q.set(tmp.subarray(m * K, (m + 1) * K), m * c.K); // padding stays 0
    }
    if (spec.groups > 1) {
      if (q.scale === 'zero-point') this.shiftedGroups(a, src, M);
      else fakeQuantGroupsPerTensor(a, src, M, K, spec.groups);
    } else if (q.per === 'token') be[q.fakeQuant as 'fakeQuantAbsmaxI8PerToken' | 'fakeQuantAbsmeanI4PerToken'](a, src, M, K);
    else be[q.fakeQuant as 'fakeQuantAbsmaxI8PerTensor' | 'fakeQuantShiftedU7PerTensor'](a, src, M * K);
    if (keep !== undefined) lerp(a, keep, this.lambda, M * K);
    return a;
  }

  /**
   * Group quantization with the shifted quantizer (docs/spec.md §1.2 Eq.14: η_g, γ_g per group of K/G
   * columns over all M rows): each group's block is gathered and quantized per tensor by the
   * kernel (min, max and the elementwise map do not depend on the order), then scattered back.
   */
  private shiftedGroups(out: FloatArray, x: FloatArray, M: number): void {
    const { K } = this;
    const G = this.spec.groups, gs = K / G, n = M * gs;
    const blk = (this.block ??= x instanceof Float64Array ? new Float64Array(this.maxM * gs) : new Float32Array(this.maxM * gs)).subarray(0, n);
    for (let g = 0; g < G; g++) {
      for (let m = 0; m < M; m++) blk.set(x.subarray(m * K + g * gs, m * K + (g + 1) * gs), m * gs);
      this.be.fakeQuantShiftedU7PerTensor(blk, blk, n);
      for (let m = 0; m < M; m++) out.set(blk.subarray(m * gs, (m + 1) * gs), m * K + g * gs);
    }
  }

  /** The integer codes of the last forward if `a` is what it returned for these M rows (not a hook's replacement). */
  codesFor(a: FloatArray, M: number): InputCodes | undefined {
    return this.codesRows === M && a === this.a ? this.codes : undefined;
  }

  /** The array the matmuls read in the last forward pass (a, or x itself when nothing is applied). */
  get input(): FloatArray {
    return this.a.length > 0 ? this.a : this.x!;
  }

  /**
   * For one more consumer of da (linearBackward): false for the first since the last forward, which overwrites
   * da; true after it, to add.
   */
  claimGrad(M: number): boolean {
    if (this.daRows >= M) return true;
    this.daRows = M;
    return false;
  }

  /** da for M rows: zeroed here if no consumer wrote it since the last forward (its gradient is zero). */
  private gradA(M: number): FloatArray {
    if (this.daRows < M) {
      this.da.fill(0, 0, M * this.K);
      this.daRows = M;
    }
    return this.da;
  }

  /**
   * The gradient w.r.t. x (M, K): da itself where preparing the input is the identity in the backward pass (a
   * quantizer's STE without LayerNorm or Hadamard inside: no copy), else written into dx (overwritten). The
   * returned array is valid until the next forward.
   */
  gradient(dx: FloatArray, M: number): FloatArray {
    if (!this.spec.lnInside && !this.spec.hadamard) return this.gradA(M);
    dx.fill(0, 0, M * this.K);
    this.backward(dx, M);
    return dx;
  }

  /** dx (M, K) += d(prepare)/dx applied to da. */
  backward(dx: FloatArray, M: number): void {
    const { be, spec, K } = this;
    const n = M * K;
    this.gradA(M);
    if (spec.act === 'none' && !spec.lnInside && !spec.hadamard) {
      be.add(dx, dx, this.da, n);
      return;
    }
    const g = this.da;
    if (spec.hadamard) {
      // H is symmetric and orthonormal: d(Hx)/dx applied to g is H g. In place on da.
      be.hadamardForward(g, g, M, K);
    }
    if (spec.lnInside) be.layernormBackward(dx, null, null, g, this.x!, null, this.mean!, this.rstd!, M, K);
    else be.add(dx, dx, g, n); // the quantizer's STE: the identity
  }
}

/** Quantized view of one latent weight matrix W (N, K). */
export class QuantWeight {
  /** w̃: (N, K), the weight the matmul uses (= W itself for 'none'). */
  readonly wq: FloatArray;
  /** Last scales: β (ternary/sign) and α (sign), per group. */
  beta = 0;
  lambda = 1;
  /** Integer codes of grouped quantizers (groups > 1). */
  private readonly q: Int8Array | undefined;
  private readonly alpha: FloatArray | undefined;
  private readonly betas: FloatArray | undefined;
  /** Integer forward (module doc): `q` packed in the 'i2r4' layout. */
  readonly packed: Uint8Array | undefined;
  /** β̃ = f32(1/f32(1/β)): the magnitude w̃ holds, the scale of the integer product. */
  intScale = 0;
  /** True when `packed` holds the last update's weights (false with λ < 1 or `integer` off). */
  intReady = false;
  /** Pack the codes in update() (module doc), where the weight has them (per-tensor ternary, f32). */
  integer = true;

  constructor(private readonly be: Backend, arena: Arena, readonly kind: WeightQuant, readonly w: FloatArray, readonly N: number, readonly K: number, readonly groups: number) {
    this.wq = kind === 'none' ? w : arena.alloc(w instanceof Float64Array ? 'f64' : 'f32', N * K);
    if (kind === 'ternary' && groups === 1 && w instanceof Float32Array) this.packed = arena.alloc('u8', INT_FORMAT.bytes(N, K));
    if (groups > 1) {
      this.q = new Int8Array(N * K);
      // f32 (the scales are f32 values either way): the wasm grouped quantizers take Float32Array only.
      this.alpha = new Float32Array(groups);
      this.betas = new Float32Array(groups);
    }
  }

  /** Recompute w̃ from the latent W (once per forward pass). */
  update(): FloatArray {
    const { be, kind, w, N, K } = this;
    if (kind === 'none') return w;
    const n = N * K;
    if (this.groups > 1) {
      const G = this.groups;
      if (kind === 'sign') be.quantizeSignGrouped(this.q!, this.alpha!, this.betas!, w, N, K, G);
      else be.quantizeTernaryAbsmeanGrouped(this.q!, this.betas!, w, N, K, G);
      const per = (N / G) * K;
      for (let i = 0; i < n; i++) this.wq[i] = this.q![i]! * this.betas![Math.floor(i / per)]!;
    } else if (kind === 'sign') {
      this.beta = be.fakeQuantSign(this.wq, w, n).beta;
    } else {
      this.beta = be.fakeQuantTernary(this.wq, w, n);
    }
    this.intReady = false;
    if (this.packed !== undefined && this.integer && this.lambda === 1) {
      // w̃ = q·β̃ holds the codes in its signs: pack those (threaded) rather than quantize W again and pack in JS
      // (the two were ~1.5 % of a two-thread step, serial).
      be.packSignsI2R4(this.packed, this.wq, this.N, this.K);
      this.intScale = Math.fround(1 / Math.fround(1 / this.beta));
      this.intReady = true;
    }
    if (this.lambda < 1) lerp(this.wq, w, this.lambda, n);
    return this.wq;
  }
}

/**
 * w̃ = Quant_w(w) with the reference kernels, for code that works on plain arrays (PTQ, interp):
 * the same quantizers QuantWeight applies per tensor ('none' copies).
 */
export function fakeQuantWeightRef(kind: WeightQuant, out: FloatArray, w: FloatArray, n: number): void {
  if (kind === 'ternary') fakeQuantTernary(out, w, n);
  else if (kind === 'sign') fakeQuantSign(out, w, n);
  else out.set(w.subarray(0, n));
}

/**
 * y (M, N) = a (M, K) · w̃ (N, K)ᵀ. With `input` (the QuantInput that produced a) and both sides ready for
 * the integer forward, the engine's packed kernel computes it from the codes (module doc).
 */
export function linearForward(be: Backend, y: FloatArray, a: FloatArray, w: QuantWeight, M: number, input?: QuantInput): void {
  const c = w.intReady ? input?.codesFor(a, M) : undefined;
  if (c !== undefined) be[c.kernel](y, c.q, c.s, w.packed!, M, c.K, w.N, w.intScale);
  else be.matmul(y, a, w.wq, M, w.K, w.N);
}

/**
 * da (+)= dy · w̃ into `input`'s da (the first consumer since its forward writes, the others add);
 * dW += dyᵀ · a (STE: the latent weight gets the gradient of w̃).
 */
export function linearBackward(be: Backend, input: QuantInput, dW: FloatArray, dy: FloatArray, w: QuantWeight, M: number): void {
  be.matmulBackwardInput(input.da, dy, w.wq, M, w.K, w.N, input.claimGrad(M));
  be.matmulBackwardWeight(dW, dy, input.input, M, w.K, w.N);
}

/** out = x + λ(out − x): out holds q(x) on entry. */
function lerp(out: FloatArray, x: FloatArray, lambda: number, n: number): void {
  for (let i = 0; i < n; i++) out[i] = x[i]! + lambda * (out[i]! - x[i]!);
}


/**
 * BitNet v1 group quantization of activations (docs/spec.md §1.2 Eq.14): columns split into G groups,
 * absmax γ_g per group over the whole (M, K/G) block (per tensor, as in training),
 * out = round(x·127/γ_g) clamped to ±127, dequantized ·γ_g/127.
 */
function fakeQuantGroupsPerTensor(out: FloatArray, x: FloatArray, M: number, K: number, G: number): void {
  const gs = K / G;
  for (let g = 0; g < G; g++) {
    let amax = 0;
    for (let m = 0; m < M; m++) for (let j = g * gs; j < (g + 1) * gs; j++) amax = Math.max(amax, Math.abs(x[m * K + j]!));
    const s = Math.fround(127 / Math.max(amax, 1e-5));
    for (let m = 0; m < M; m++) {
      for (let j = g * gs; j < (g + 1) * gs; j++) {
        const v = Math.fround(x[m * K + j]! * s);
        out[m * K + j] = Math.max(-128, Math.min(127, roundHalfEven(v))) / s;
      }
    }
  }
}

export interface BitLinearOptions {
  inFeatures: number;
  outFeatures: number;
  /** The BitLinear variant (a row of QUANT_VARIANTS, src/quant/modes.ts); 'fp' is nn.Linear. */
  mode: QuantMode;
  /** Largest number of rows (tokens) per call. */
  maxRows: number;
  /** H-BitLinear (BitNet v2): online Hadamard transform of the input (inFeatures a power of two). */
  hadamard?: boolean;
  /**
   * BitNet v1 (mode 'bitnet') only: quantize the input with the zero-point [0, 127] quantizer
   * (docs/spec.md §1.1 Eq.6) instead of absmax — for a layer whose input comes out of a non-linearity
   * (the Transformer's down_proj with config.v1ShiftedActs 'ffn-down').
   */
  shifted?: boolean;
  dtype?: 'f32' | 'f64';
  /**
   * Integer forward where it applies (f32, per-tensor ternary weights, per-token activation codes; default
   * true): the product runs on the engine's int8 × ternary kernels instead of an f32 GEMM (module doc).
   */
  integer?: boolean;
  /** Init N(0, 0.02) from this seed (default 0). */
  seed?: number;
  eps?: number;
}

/** One trainable tensor of a layer: its values, its gradient (same length), shape, and whether weight decay applies. */
export interface BitLinearParameter {
  name: string;
  p: FloatArray;
  g: FloatArray;
  shape: number[];
  decay: boolean;
}

/**
 * A standalone BitLinear layer, the drop-in for nn.Linear (no bias), for users composing their own models:
 *   y = forward(x, M)     x (M, K) → y (M, N): quantize input and weight (fake-quant), matmul
 *   dx = backward(dy, M)  STE: dx = prep'(dy · w̃), and the latent weight's gradient `grad` += dyᵀ · a
 *   parameters()          [{ name 'weight', p: weight, g: grad, shape [N, K], decay: true }] — for an optimizer
 *                         (AdamW.update(p, g, lr, wd) per parameter, src/train/adamw.ts)
 * Owns its latent weight (N, K) and gradient; buffers are allocated once for maxRows.
 * The Transformer uses the same QuantInput/QuantWeight pieces with shared inputs (q/k/v, gate/up).
 */
export class BitLinear {
  readonly weight: FloatArray;
  readonly grad: FloatArray;
  private readonly input: QuantInput;
  private readonly qw: QuantWeight;
  private readonly y: FloatArray;
  private readonly dx: FloatArray;

  constructor(private readonly be: Backend, arena: Arena, readonly opts: BitLinearOptions) {
    const { inFeatures: K, outFeatures: N, mode, maxRows } = opts;
    const dtype = opts.dtype ?? 'f32';
    const row = QUANT_VARIANTS[mode];
    if (row === undefined) throw new ArgumentError(`BitLinear: unknown mode '${String(mode)}'`);
    for (const [k, v] of Object.entries({ inFeatures: K, outFeatures: N, maxRows })) {
      if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`BitLinear: ${k} must be a positive integer, got ${v}`);
    }
    const hadamard = opts.hadamard ?? false;
    if (hadamard && (K & (K - 1)) !== 0) throw new ArgumentError(`BitLinear: the Hadamard input needs a power-of-two inFeatures, got ${K}`);
    this.weight = arena.alloc(dtype, N * K);
    this.grad = arena.alloc(dtype, N * K);
    new Rng(opts.seed ?? 0).fillNormal(this.weight, 0, 0.02);
    const rule = bitLinearRule(mode, hadamard, opts.shifted ?? false);
    this.input = new QuantInput(be, arena, { ...rule, groups: 1, eps: opts.eps ?? 1e-5 }, maxRows, K, dtype);
    this.qw = new QuantWeight(be, arena, row.weight, this.weight, N, K, 1);
    this.input.integer = this.qw.integer = opts.integer ?? true;
    this.y = arena.alloc(dtype, maxRows * N);
    this.dx = arena.alloc(dtype, maxRows * K);
  }

  /** The trainable tensors (one: the latent weight (N, K) and its gradient). */
  parameters(): BitLinearParameter[] {
    return [{ name: 'weight', p: this.weight, g: this.grad, shape: [this.opts.outFeatures, this.opts.inFeatures], decay: true }];
  }

  /** grad := 0 (backward accumulates). */
  zeroGrad(): void {
    this.grad.fill(0);
  }

  /** y (M, N) for x (M, K); the returned view is valid until the next forward. */
  forward(x: FloatArray, M: number): FloatArray {
    this.checkRows(M);
    const a = this.input.forward(x, M);
    this.qw.update();
    const y = this.y.subarray(0, M * this.opts.outFeatures);
    linearForward(this.be, y, a, this.qw, M, this.input);
    return y;
  }

  /** dx (M, K) for dy (M, N) of the last forward; accumulates the weight gradient into `grad`. */
  backward(dy: FloatArray, M: number): FloatArray {
    this.checkRows(M);
    linearBackward(this.be, this.input, this.grad, dy, this.qw, M);
    const dx = this.dx.subarray(0, M * this.opts.inFeatures);
    dx.fill(0);
    this.input.backward(dx, M);
    return dx;
  }

  private checkRows(M: number): void {
    if (!Number.isInteger(M) || M < 1 || M > this.opts.maxRows) throw new ArgumentError(`BitLinear: M=${M} rows must be in [1, maxRows=${this.opts.maxRows}]`);
  }
}
