/**
 * A small classifier for the interpretability experiments (docs/data.md §3.2 item 2):
 *
 *   e = E x                    linear embedding (D, N_in), full precision (optional: D = N_in, no embedding)
 *   a = Quant_act(e)           b1.58: per-token absmax int8; fp: identity
 *   g = (W̃ a) ⊙ (Ṽ a)          bilinear (or its ReLU-MLP twin g = relu(W̃ a))      W, V: (H, D)
 *   y = P̃ Quant_act(g)         head / down-projection (O, H)
 *
 * W̃ = W (fp) or absmean ternary β·round(W/β) (b1.58, docs/spec.md §2) through the project's BitLinear
 * pieces (QuantInput/QuantWeight, straight-through estimator in the backward pass).
 * Loss: cross-entropy (classifier) or mean squared error (Boolean toy tasks, B.2 item 1).
 * No biases (the paper's setting). All weights in one flat buffer (all decayed, as in the paper).
 */
import { ArgumentError, ShapeError } from '../errors.js';
import type { Backend } from '../kernels/backend.js';
import type { FloatArray } from '../tensor/dtype.js';
import { Rng } from '../tensor/rng.js';
import { QuantInput, QuantWeight, linearBackward, linearForward, type InputSpec } from '../nn/bitlinear.js';
import type { BilinearWeights } from './bilinear.js';

export type InterpQuant = 'fp' | 'b158';
export type InterpArch = 'bilinear' | 'relu';
export const INTERP_QUANTS: readonly InterpQuant[] = ['fp', 'b158'];
export const INTERP_ARCHS: readonly InterpArch[] = ['bilinear', 'relu'];

export interface ClassifierConfig {
  /** N_in: input features (784 for MNIST). */
  nIn: number;
  /** D: embedding width; 0 = no embedding (the layer reads x directly, D = N_in). */
  embed: number;
  /** H: hidden units of the bilinear / ReLU layer. */
  hidden: number;
  /** O: outputs (classes or Boolean targets). */
  nOut: number;
  arch: InterpArch;
  quant: InterpQuant;
  loss: 'ce' | 'mse';
}

export function validateClassifierConfig(c: ClassifierConfig): ClassifierConfig {
  for (const k of ['nIn', 'hidden', 'nOut'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new ArgumentError(`classifier.${k} must be a positive integer, got ${c[k]}`);
  }
  if (!Number.isInteger(c.embed) || c.embed < 0) throw new ArgumentError(`classifier.embed must be a non-negative integer, got ${c.embed}`);
  if (!['bilinear', 'relu'].includes(c.arch)) throw new ArgumentError(`classifier.arch must be bilinear or relu, got '${String(c.arch)}'`);
  if (!['fp', 'b158'].includes(c.quant)) throw new ArgumentError(`classifier.quant must be fp or b158, got '${String(c.quant)}'`);
  if (!['ce', 'mse'].includes(c.loss)) throw new ArgumentError(`classifier.loss must be ce or mse, got '${String(c.loss)}'`);
  return c;
}

interface Slot {
  off: number;
  size: number;
}

export class BilinearClassifier {
  readonly params: FloatArray;
  readonly grads: FloatArray;
  readonly D: number;
  private readonly slots: { E?: Slot; W: Slot; V?: Slot; P: Slot };
  private readonly qW: QuantWeight;
  private readonly qV: QuantWeight | undefined;
  private readonly qP: QuantWeight;
  private readonly inWV: QuantInput;
  private readonly inP: QuantInput;
  // activations (maxM rows)
  private readonly e: FloatArray;
  private readonly l: FloatArray;
  private readonly r: FloatArray;
  private readonly g: FloatArray;
  private readonly y: FloatArray;
  private readonly dg: FloatArray;
  private readonly dl: FloatArray;
  private readonly dr: FloatArray;
  private readonly de: FloatArray;
  private readonly dy: FloatArray;
  private readonly probs: FloatArray;
  private readonly losses: FloatArray;
  private readonly dlosses: FloatArray;
  private last: { x: FloatArray; M: number; targets: Int32Array | Float64Array | Float32Array | undefined } | undefined;

  constructor(readonly be: Backend, readonly config: ClassifierConfig, readonly maxM: number, readonly dtype: 'f32' | 'f64' = 'f32') {
    validateClassifierConfig(config);
    if (dtype === 'f64' && be.name !== 'ref') throw new ArgumentError('BilinearClassifier: dtype f64 needs the reference backend');
    if (!Number.isInteger(maxM) || maxM < 1) throw new ArgumentError(`BilinearClassifier: maxM must be a positive integer, got ${maxM}`);
    const { nIn, embed, hidden: H, nOut: O, arch, quant } = config;
    const D = embed > 0 ? embed : nIn;
    this.D = D;
    let off = 0;
    const take = (size: number): Slot => {
      const s = { off, size };
      off += size;
      return s;
    };
    this.slots = { ...(embed > 0 ? { E: take(D * nIn) } : {}), W: take(H * D), ...(arch === 'bilinear' ? { V: take(H * D) } : {}), P: take(O * H) };
    const arena = be.arena;
    this.params = arena.alloc(dtype, off);
    this.grads = arena.alloc(dtype, off);
    const wk = quant === 'b158' ? 'ternary' : 'none';
    const view = (s: Slot) => this.params.subarray(s.off, s.off + s.size);
    this.qW = new QuantWeight(be, arena, wk, view(this.slots.W), H, D, 1);
    this.qV = this.slots.V ? new QuantWeight(be, arena, wk, view(this.slots.V), H, D, 1) : undefined;
    this.qP = new QuantWeight(be, arena, wk, view(this.slots.P), O, H, 1);
    const spec: InputSpec = { act: quant === 'b158' ? 'i8-token' : 'none', lnInside: false, hadamard: false, groups: 1, eps: 1e-5 };
    this.inWV = new QuantInput(be, arena, spec, maxM, D, dtype);
    this.inP = new QuantInput(be, arena, spec, maxM, H, dtype);
    const f = (n: number) => arena.alloc(dtype, n);
    this.e = embed > 0 ? f(maxM * D) : new Float64Array(0);
    this.de = f(maxM * D);
    this.l = f(maxM * H);
    this.r = f(maxM * H);
    this.g = f(maxM * H);
    this.dg = f(maxM * H);
    this.dl = f(maxM * H);
    this.dr = f(maxM * H);
    this.y = f(maxM * O);
    this.dy = f(maxM * O);
    this.probs = f(maxM * O);
    this.losses = f(maxM);
    this.dlosses = f(maxM);
  }

  /** Named parameter view (E, W, V, P) of the latent weights. */
  param(name: 'E' | 'W' | 'V' | 'P'): { p: FloatArray; g: FloatArray } {
    const s = this.slots[name];
    if (s === undefined) throw new ArgumentError(`BilinearClassifier: no parameter '${name}' (arch ${this.config.arch}, embed ${this.config.embed})`);
    return { p: this.params.subarray(s.off, s.off + s.size), g: this.grads.subarray(s.off, s.off + s.size) };
  }

  /** Init: N(0, 1/fan_in) for every matrix (PyTorch-like scale), seeded. */
  init(seed: number): void {
    const rng = new Rng(seed);
    const { nIn, hidden: H } = this.config;
    for (const [name, fanIn] of [['E', nIn], ['W', this.D], ['V', this.D], ['P', H]] as const) {
      if (this.slots[name] === undefined) continue;
      rng.fork(name).fillNormal(this.param(name).p, 0, 1 / Math.sqrt(fanIn));
    }
  }

  /**
   * Forward over M rows of x (M, N_in). With targets (class ids for 'ce', (M, O) values for 'mse'),
   * returns the mean loss; logits are in `logits()`.
   */
  forward(x: FloatArray, M: number, targets?: Int32Array | Float64Array | Float32Array): number {
    const { nIn, hidden: H, nOut: O, arch, embed, loss } = this.config;
    if (!(M >= 1 && M <= this.maxM)) throw new ArgumentError(`BilinearClassifier.forward: M = ${M} outside [1, ${this.maxM}]`);
    if (x.length < M * nIn) throw new ShapeError(`BilinearClassifier.forward: x has ${x.length} elements, expected ≥ ${M}×${nIn}`);
    const be = this.be;
    let e: FloatArray = x;
    if (embed > 0) {
      be.matmul(this.e, x, this.param('E').p, M, nIn, this.D);
      e = this.e;
    }
    this.qW.update();
    this.qV?.update();
    this.qP.update();
    const a = this.inWV.forward(e, M);
    linearForward(be, this.l, a, this.qW, M);
    if (arch === 'bilinear') {
      linearForward(be, this.r, a, this.qV!, M);
      be.bilinearForward(this.g, this.l, this.r, M * H);
    } else {
      for (let i = 0; i < M * H; i++) this.g[i] = this.l[i]! > 0 ? this.l[i]! : 0;
    }
    const b = this.inP.forward(this.g, M);
    linearForward(be, this.y, b, this.qP, M);
    this.last = { x, M, targets };
    if (targets === undefined) return NaN;
    if (loss === 'ce') {
      if (!(targets instanceof Int32Array) || targets.length < M) throw new ShapeError(`BilinearClassifier.forward: cross-entropy needs Int32Array targets of length ≥ ${M}`);
      be.crossentropyForward(this.losses, this.probs, this.y, targets, M, O);
      let s = 0;
      for (let m = 0; m < M; m++) s += this.losses[m]!;
      return s / M;
    }
    if (targets instanceof Int32Array || targets.length < M * O) throw new ShapeError(`BilinearClassifier.forward: MSE needs float targets of length ≥ ${M}×${O}`);
    let s = 0;
    for (let i = 0; i < M * O; i++) {
      const d = this.y[i]! - targets[i]!;
      s += d * d;
    }
    return s / (M * O);
  }

  /** Logits (M, O) of the last forward pass. */
  logits(): FloatArray {
    if (!this.last) throw new ArgumentError('logits: run forward first');
    return this.y.subarray(0, this.last.M * this.config.nOut);
  }

  /** Gradients of the mean loss of the last forward pass, accumulated into `grads` (zero them first). */
  backward(): void {
    if (!this.last || this.last.targets === undefined) throw new ArgumentError('backward: run forward with targets first');
    const { x, M, targets } = this.last;
    const { nIn, hidden: H, nOut: O, arch, embed, loss } = this.config;
    const be = this.be;
    const dy = this.dy;
    dy.fill(0, 0, M * O);
    if (loss === 'ce') {
      this.dlosses.fill(1 / M, 0, M);
      be.crossentropyBackward(dy, this.dlosses, this.probs, targets as Int32Array, M, O);
    } else {
      const s = 2 / (M * O);
      for (let i = 0; i < M * O; i++) dy[i] = s * (this.y[i]! - targets[i]!);
    }
    linearBackward(be, this.inP, this.param('P').g, dy, this.qP, M);
    this.dg.fill(0, 0, M * H);
    this.inP.backward(this.dg, M);
    this.dl.fill(0, 0, M * H);
    if (arch === 'bilinear') {
      this.dr.fill(0, 0, M * H);
      be.bilinearBackward(this.dl, this.dr, this.dg, this.l, this.r, M * H);
      linearBackward(be, this.inWV, this.param('W').g, this.dl, this.qW, M);
      linearBackward(be, this.inWV, this.param('V').g, this.dr, this.qV!, M);
    } else {
      for (let i = 0; i < M * H; i++) this.dl[i] = this.l[i]! > 0 ? this.dg[i]! : 0;
      linearBackward(be, this.inWV, this.param('W').g, this.dl, this.qW, M);
    }
    if (embed > 0) {
      this.de.fill(0, 0, M * this.D);
      this.inWV.backward(this.de, M);
      be.matmulBackwardWeight(this.param('E').g, this.de, x, M, nIn, this.D);
    }
  }

  /**
   * Effective weights in float64 for the weight-based analysis: E, and W̃, Ṽ, P̃ as the forward
   * pass uses them (ternary × β for b1.58). Activation quantization is not part of the tensor
   * view (docs/data.md §3.4 caveat 1: treated as the identity, as the STE does).
   */
  effectiveWeights(): { E: Float64Array | undefined; layer: BilinearWeights } {
    if (this.config.arch !== 'bilinear') throw new ArgumentError('effectiveWeights: only bilinear models have a weight-based decomposition');
    this.qW.update();
    this.qV!.update();
    this.qP.update();
    const f64 = (a: FloatArray) => Float64Array.from(a);
    return {
      E: this.slots.E ? f64(this.param('E').p) : undefined,
      layer: { W: f64(this.qW.wq), V: f64(this.qV!.wq), P: f64(this.qP.wq), D: this.D, H: this.config.hidden, O: this.config.nOut },
    };
  }

  /** Ternary statistics of the effective weights (b1.58): β and the fraction of zeros per matrix. */
  ternaryStats(): Record<string, { beta: number; zeros: number }> {
    const out: Record<string, { beta: number; zeros: number }> = {};
    const list: Array<[string, QuantWeight | undefined]> = [['W', this.qW], ['V', this.qV], ['P', this.qP]];
    for (const [name, q] of list) {
      if (!q) continue;
      q.update();
      let z = 0;
      for (let i = 0; i < q.wq.length; i++) if (q.wq[i] === 0) z++;
      out[name] = { beta: q.beta, zeros: z / q.wq.length };
    }
    return out;
  }
}
