/**
 * LLaMA-style decoder with BitLinear projections — training forward and backward
 * (the llm.c gpt2_forward / gpt2_backward of this project).
 *
 *   x = emb[tokens]                                                  (B·T, C)
 *   per layer:
 *     a = RMSNorm(x)              q,k,v = BitLinear(a)               (M, C), (M, KV), (M, KV)
 *     q,k = RoPE(q,k)             o = CausalGQA(q,k,v)               (M, C)
 *     o = RMSNorm_sub(o)?         x = x + BitLinear_o(o)             SubLN (2B4T attn_sub_norm); v2: Hadamard input
 *     a = RMSNorm(x)              h = act(BitLinear_gate(a)) ⊙ BitLinear_up(a)   (M, F)  (or act(up(a)) for plain MLPs)
 *     h = RMSNorm_sub(h)?         x = x + BitLinear_down(h)          SubLN (ffn_sub_norm); v2: Hadamard input;
 *                                                                    v1 + v1ShiftedActs 'ffn-down': zero-point [0,127] input
 *   logits = RMSNorm(x) · headᵀ (head = emb when tied, full precision)      (M, V)
 * Each BitLinear input's pre-transform and quantizer is its site's rule ('attn', 'o', 'ffn', 'down') in the
 * config's row of QUANT_VARIANTS (src/quant/modes.ts).
 *
 * Parameters live in one flat buffer (matrices first — the weight-decay group — then
 * norm weights), gradients in a second with the same layout; activations are allocated
 * once for the largest (B, T). Nothing is allocated per step. M = B·T rows, KV = KVH·HS; every
 * activation and activation gradient has its shape written where it is declared (LayerActs, GradActs, Acts).
 */
import { ArgumentError, NumericsError, ShapeError } from '../errors.js';
import type { Backend } from '../kernels/backend.js';
import type { FloatArray } from '../tensor/dtype.js';
import type { Arena } from '../tensor/arena.js';
import { Rng } from '../tensor/rng.js';
import { QuantInput, QuantWeight, linearBackward, linearForward } from '../nn/bitlinear.js';
import { quantVariant, type LinearSite } from '../quant/modes.js';
import { isGatedFfn, type ModelConfig, validateConfig } from './config.js';
import { ffnActivationForward, reluBackward } from '../nn/ffn.js';

export type Dtype = 'f32' | 'f64';

/**
 * A BitLinear input of layer `layer`: 'attn' feeds q/k/v, 'o' feeds o_proj, 'ffn' feeds gate/up,
 * 'down' feeds down_proj.
 */
export interface InputSite { layer: number; kind: LinearSite }

/**
 * Forward-only observer/override of the array each group of linears reads, (M, K) row-major:
 * return undefined to keep it (calibration statistics), or an array to use instead (activation
 * fake-quantization of post-training-quantized models, src/science/ptq.ts).
 */
export type InputHook = (site: InputSite, x: FloatArray, M: number, K: number) => FloatArray | undefined;

/** One named parameter tensor in the flat buffer. */
export interface ParamInfo {
  name: string;
  shape: number[];
  offset: number;
  size: number;
  /** Matrices decay; norm weights do not. */
  decay: boolean;
}

interface Layer {
  attnNorm: string; wq: string; wk: string; wv: string; wo: string; attnSubNorm?: string;
  ffnNorm: string; wGate?: string; wUp: string; wDown: string; ffnSubNorm?: string;
}

/** Parameter table for a config, in buffer order (HF-like names). */
export function paramTable(c: ModelConfig): ParamInfo[] {
  const hs = c.dim / c.nHeads;
  const kv = c.nKvHeads * hs;
  const gated = isGatedFfn(c);
  const mats: Array<[string, number[]]> = [['embed_tokens', [c.vocabSize, c.dim]]];
  if (!c.tieEmbeddings) mats.push(['lm_head', [c.vocabSize, c.dim]]);
  const norms: Array<[string, number[]]> = [];
  for (let l = 0; l < c.nLayers; l++) {
    const p = `layers.${l}.`;
    mats.push([`${p}q_proj`, [c.dim, c.dim]], [`${p}k_proj`, [kv, c.dim]], [`${p}v_proj`, [kv, c.dim]], [`${p}o_proj`, [c.dim, c.dim]]);
    if (gated) mats.push([`${p}gate_proj`, [c.ffnDim, c.dim]]);
    mats.push([`${p}up_proj`, [c.ffnDim, c.dim]], [`${p}down_proj`, [c.dim, c.ffnDim]]);
    norms.push([`${p}input_layernorm`, [c.dim]], [`${p}post_attention_layernorm`, [c.dim]]);
    if (c.subln) norms.push([`${p}attn_sub_norm`, [c.dim]], [`${p}ffn_sub_norm`, [c.ffnDim]]);
  }
  norms.push(['norm', [c.dim]]);
  const out: ParamInfo[] = [];
  let off = 0;
  for (const [list, decay] of [[mats, true], [norms, false]] as const) {
    for (const [name, shape] of list) {
      const size = shape.reduce((a, b) => a * b, 1);
      out.push({ name, shape, offset: off, size, decay });
      off += size;
    }
  }
  return out;
}

export class Transformer {
  /** (numParams): every parameter tensor, in `table` order. */
  readonly params: FloatArray;
  /** (numParams): their gradients, same layout. */
  readonly grads: FloatArray;
  readonly table: ParamInfo[];
  /** Size of the weight-decay group (params[0 : decaySize]). */
  readonly decaySize: number;
  private readonly views = new Map<string, { p: FloatArray; g: FloatArray; info: ParamInfo }>();
  private readonly layers: Layer[];
  private acts: Acts | undefined;
  private last: { B: number; T: number; M: number; tokens: Int32Array; targets: Int32Array | null } | undefined;
  /** λ of warmup quantization for every BitLinear (1 = plain BitNet). */
  private lambdaValue = 1;
  /** Integer forward where it applies (src/nn/bitlinear.ts module doc); on by default. */
  private integerValue = true;
  /** Forward-only hook on every linear input (see InputHook); undefined = none (the default). */
  inputHook: InputHook | undefined;
  /** Set when the hook replaced an input in the last forward: backward is then refused. */
  private hookReplaced = false;

  constructor(readonly be: Backend, readonly config: ModelConfig, readonly dtype: Dtype = 'f32', private readonly arena: Arena = be.arena) {
    validateConfig(config);
    if (dtype === 'f64' && be.name !== 'ref') throw new ArgumentError('Transformer: dtype f64 needs the reference backend');
    this.table = paramTable(config);
    const total = this.table.reduce((s, p) => s + p.size, 0);
    this.decaySize = this.table.filter((p) => p.decay).reduce((s, p) => s + p.size, 0);
    this.params = arena.alloc(dtype, total);
    this.grads = arena.alloc(dtype, total);
    for (const info of this.table) {
      this.views.set(info.name, { p: this.params.subarray(info.offset, info.offset + info.size), g: this.grads.subarray(info.offset, info.offset + info.size), info });
    }
    const gated = isGatedFfn(config);
    this.layers = Array.from({ length: config.nLayers }, (_, l) => {
      const p = `layers.${l}.`;
      return {
        attnNorm: `${p}input_layernorm`, wq: `${p}q_proj`, wk: `${p}k_proj`, wv: `${p}v_proj`, wo: `${p}o_proj`,
        ...(config.subln ? { attnSubNorm: `${p}attn_sub_norm`, ffnSubNorm: `${p}ffn_sub_norm` } : {}),
        ffnNorm: `${p}post_attention_layernorm`, ...(gated ? { wGate: `${p}gate_proj` } : {}), wUp: `${p}up_proj`, wDown: `${p}down_proj`,
      };
    });
  }

  get numParams(): number {
    return this.params.length;
  }

  /** Parameter (and its gradient) by name. */
  param(name: string): { p: FloatArray; g: FloatArray; info: ParamInfo } {
    const v = this.views.get(name);
    if (v === undefined) throw new ArgumentError(`no parameter '${name}'`);
    return v;
  }

  /** GPT-2 style init: N(0, 0.02), residual output projections scaled by 1/√(2L), norms = 1. */
  init(seed: number): void {
    const rng = new Rng(seed);
    const resid = 0.02 / Math.sqrt(2 * this.config.nLayers);
    for (const info of this.table) {
      const { p } = this.views.get(info.name)!;
      if (!info.decay) p.fill(1);
      else rng.fork(info.name).fillNormal(p, 0, /(o_proj|down_proj)$/.test(info.name) ? resid : 0.02);
    }
  }

  set lambda(v: number) {
    if (!(v >= 0 && v <= 1)) throw new ArgumentError(`lambda must be in [0, 1], got ${v}`);
    this.lambdaValue = v;
    if (this.acts) for (const q of [...this.acts.inputs, ...this.acts.weights.values()]) q.lambda = v;
  }
  get lambda(): number {
    return this.lambdaValue;
  }

  /**
   * The integer forward (src/nn/bitlinear.ts): f32 models with per-tensor ternary weights and per-token
   * activation quantizers (b1.58, v2) run every BitLinear product on the engine's int8 × ternary kernels.
   * On by default; false runs the f32 fake-quant product (the two agree to f32 rounding).
   */
  set integerForward(v: boolean) {
    this.integerValue = v;
    if (this.acts) for (const q of [...this.acts.inputs, ...this.acts.weights.values()]) q.integer = v;
  }
  get integerForward(): boolean {
    return this.integerValue;
  }

  /** Allocate activations for batches up to (B, T) (called by forward on first use). */
  allocate(B: number, T: number): void {
    const c = this.config;
    if (T > c.maxSeqLen) throw new ShapeError(`sequence length ${T} exceeds config.maxSeqLen ${c.maxSeqLen}`);
    if (this.acts && this.acts.B >= B && this.acts.T >= T) return;
    this.acts = makeActs(this, B, T);
    this.lambda = this.lambdaValue;
    this.integerForward = this.integerValue;
  }

  zeroGrad(): void {
    this.grads.fill(0);
  }

  /**
   * Forward pass over tokens (B, T). With targets, returns the mean cross-entropy
   * (targets = -1 are ignored) and keeps what backward needs; without, returns NaN and
   * leaves logits in `logits()`.
   */
  forward(tokens: Int32Array, targets: Int32Array | null, B: number, T: number): number {
    const c = this.config;
    const M = B * T;
    if (tokens.length < M) throw new ShapeError(`forward: tokens has ${tokens.length} entries, B·T = ${M}`);
    if (targets !== null && targets.length < M) throw new ShapeError(`forward: targets has ${targets.length} entries, B·T = ${M}`);
    this.allocate(B, T);
    const a = this.acts!;
    const be = this.be;
    const C = c.dim, F = c.ffnDim, V = c.vocabSize, H = c.nHeads, KVH = c.nKvHeads, HS = C / H, KV = KVH * HS;
    // embedding lookup
    const emb = this.param('embed_tokens').p;
    const x0 = a.resid[0]!; // (M, C)
    for (let i = 0; i < M; i++) {
      const t = tokens[i]!;
      if (!(t >= 0 && t < V)) throw new ArgumentError(`forward: token id ${t} at position ${i} is outside the vocabulary [0, ${V})`);
      x0.set(emb.subarray(t * C, (t + 1) * C), i * C);
    }
    for (const w of a.weights.values()) w.update();
    this.hookReplaced = false;
    for (let l = 0; l < c.nLayers; l++) {
      const L = this.layers[l]!;
      const la = a.layer[l]!;
      const x = a.resid[2 * l]!, xMid = a.resid[2 * l + 1]!, xOut = a.resid[2 * l + 2]!; // (M, C) each
      // attention block
      be.rmsnormForward(la.ln1, la.ln1Rstd, x, this.param(L.attnNorm).p, M, C, c.normEps);
      const inA = this.site(l, 'attn', la.inAttn.forward(la.ln1, M), M, C);
      linearForward(be, la.q, inA, a.weights.get(L.wq)!, M, la.inAttn);
      linearForward(be, la.k, inA, a.weights.get(L.wk)!, M, la.inAttn);
      linearForward(be, la.v, inA, a.weights.get(L.wv)!, M, la.inAttn);
      be.ropeForward(la.q, la.q, a.cos, a.sin, B, T, H, HS, 0);
      be.ropeForward(la.k, la.k, a.cos, a.sin, B, T, KVH, HS, 0);
      be.attentionForward(la.attOut, la.att, la.q, la.k, la.v, B, T, H, KVH, HS);
      let o = la.attOut;
      if (L.attnSubNorm) {
        be.rmsnormForward(la.sub1, la.sub1Rstd, o, this.param(L.attnSubNorm).p, M, C, c.normEps);
        o = la.sub1;
      }
      linearForward(be, a.yO, this.site(l, 'o', la.inO.forward(o, M), M, C), a.weights.get(L.wo)!, M, la.inO);
      be.add(xMid, x, a.yO, M * C);
      // FFN block
      be.rmsnormForward(la.ln2, la.ln2Rstd, xMid, this.param(L.ffnNorm).p, M, C, c.normEps);
      const inF = this.site(l, 'ffn', la.inFfn.forward(la.ln2, M), M, C);
      linearForward(be, la.up, inF, a.weights.get(L.wUp)!, M, la.inFfn);
      if (L.wGate) linearForward(be, la.gate, inF, a.weights.get(L.wGate)!, M, la.inFfn);
      ffnActivationForward(be, c.ffn, la.h, la.gate, la.up, M * F);
      let h = la.h;
      if (L.ffnSubNorm) {
        be.rmsnormForward(la.sub2, la.sub2Rstd, h, this.param(L.ffnSubNorm).p, M, F, c.normEps);
        h = la.sub2;
      }
      linearForward(be, a.yDown, this.site(l, 'down', la.inDown.forward(h, M), M, F), a.weights.get(L.wDown)!, M, la.inDown);
      be.add(xOut, xMid, a.yDown, M * C);
    }
    const xL = a.resid[2 * c.nLayers]!;
    be.rmsnormForward(a.lnf, a.lnfRstd, xL, this.param('norm').p, M, C, c.normEps);
    be.matmul(a.logits, a.lnf, this.head().p, M, C, V);
    this.last = { B, T, M, tokens, targets };
    if (targets === null) return NaN;
    be.crossentropyForward(a.losses, a.probs, a.logits, targets, M, V);
    let sum = 0, n = 0;
    for (let i = 0; i < M; i++) if (targets[i]! >= 0) (sum += a.losses[i]!), n++;
    if (n === 0) throw new ArgumentError('forward: every target is -1 (ignored); nothing to learn from');
    return sum / n;
  }

  /** The input hook applied at one site (identity without a hook). */
  private site(layer: number, kind: InputSite['kind'], x: FloatArray, M: number, K: number): FloatArray {
    if (this.inputHook === undefined) return x;
    const r = this.inputHook({ layer, kind }, x, M, K);
    if (r === undefined) return x;
    this.hookReplaced = true;
    return r;
  }

  /** Logits (M, V) of the last forward pass. */
  logits(): FloatArray {
    if (!this.acts || !this.last) throw new ArgumentError('logits: run forward first');
    return this.acts.logits.subarray(0, this.last.M * this.config.vocabSize);
  }

  private head(): { p: FloatArray; g: FloatArray } {
    return this.param(this.config.tieEmbeddings ? 'embed_tokens' : 'lm_head');
  }

  /** Backward pass of the last forward (with targets): accumulates into `grads`. */
  backward(): void {
    const last = this.last;
    if (!this.acts || !last || last.targets === null) throw new ArgumentError('backward: run forward with targets first');
    if (this.hookReplaced) throw new ArgumentError('backward: the input hook replaced linear inputs in the last forward (forward-only)');
    const c = this.config;
    const a = this.acts;
    const be = this.be;
    const { B, T, M, targets, tokens } = last;
    const C = c.dim, F = c.ffnDim, V = c.vocabSize, H = c.nHeads, KVH = c.nKvHeads, HS = C / H;
    let n = 0;
    for (let i = 0; i < M; i++) if (targets[i]! >= 0) n++;
    const d = a.d;
    a.dlosses.fill(1 / n, 0, M);
    // Activation gradients are written by their first kernel (accumulate false), not zeroed first: the zeroing
    // passes were serial JS fills, ~2 % of a two-thread step.
    const dlogits = a.logits; // (M, V) logits are not needed any more: reuse as their gradient
    be.crossentropyBackward(dlogits, a.dlosses, a.probs, targets, M, V, false);
    be.matmulBackwardWeight(this.head().g, dlogits, a.lnf, M, C, V);
    be.matmulBackwardInput(d.dlnf, dlogits, this.head().p, M, C, V, false);
    const dres = d.dres;
    dres.fill(0, 0, M * C);
    const xL = a.resid[2 * c.nLayers]!;
    be.rmsnormBackward(dres, this.param('norm').g, d.dlnf, xL, this.param('norm').p, a.lnfRstd, M, C);
    for (let l = c.nLayers - 1; l >= 0; l--) {
      const L = this.layers[l]!;
      const la = a.layer[l]!;
      const x = a.resid[2 * l]!, xMid = a.resid[2 * l + 1]!;
      // FFN block: xOut = xMid + down(inDown(sub2(h)))
      linearBackward(be, la.inDown, this.param(L.wDown).g, dres, a.weights.get(L.wDown)!, M);
      const { dup } = d;
      const dh = this.subNormBackward(d.dh, d.dsub2, la.inDown, L.ffnSubNorm, la.h, la.sub2Rstd, M, F);
      if (L.wGate) {
        const dgate = d.dgate;
        if (c.ffn === 'swiglu') be.swigluBackward(dgate, dup, dh, la.gate, la.up, M * F, false);
        else if (c.ffn === 'relu2glu') be.relu2gluBackward(dgate, dup, dh, la.gate, la.up, M * F, false);
        else be.bilinearBackward(dgate, dup, dh, la.gate, la.up, M * F, false);
        linearBackward(be, la.inFfn, this.param(L.wGate).g, dgate, a.weights.get(L.wGate)!, M);
      } else {
        dup.fill(0, 0, M * F);
        if (c.ffn === 'mlp-relu') reluBackward(dup, dh, la.up, M * F);
        else be.geluBackward(dup, dh, la.up, M * F);
      }
      linearBackward(be, la.inFfn, this.param(L.wUp).g, dup, a.weights.get(L.wUp)!, M);
      const dln2 = la.inFfn.gradient(d.dln2, M);
      be.rmsnormBackward(dres, this.param(L.ffnNorm).g, dln2, xMid, this.param(L.ffnNorm).p, la.ln2Rstd, M, C);
      // attention block: xMid = x + o(inO(sub1(attOut)))
      linearBackward(be, la.inO, this.param(L.wo).g, dres, a.weights.get(L.wo)!, M);
      const { dq, dk, dv, dqPre, dkPre } = d;
      const dattOut = this.subNormBackward(d.dattOut, d.dsub1, la.inO, L.attnSubNorm, la.attOut, la.sub1Rstd, M, C);
      be.attentionBackward(dq, dk, dv, d.datt, dattOut, la.q, la.k, la.v, la.att, B, T, H, KVH, HS, false);
      be.ropeBackward(dqPre, dq, a.cos, a.sin, B, T, H, HS, 0, false);
      be.ropeBackward(dkPre, dk, a.cos, a.sin, B, T, KVH, HS, 0, false);
      linearBackward(be, la.inAttn, this.param(L.wq).g, dqPre, a.weights.get(L.wq)!, M);
      linearBackward(be, la.inAttn, this.param(L.wk).g, dkPre, a.weights.get(L.wk)!, M);
      linearBackward(be, la.inAttn, this.param(L.wv).g, dv, a.weights.get(L.wv)!, M);
      const dln1 = la.inAttn.gradient(d.dln1, M);
      be.rmsnormBackward(dres, this.param(L.attnNorm).g, dln1, x, this.param(L.attnNorm).p, la.ln1Rstd, M, C);
    }
    // embedding: scatter-add rows
    const dEmb = this.param('embed_tokens').g;
    for (let i = 0; i < M; i++) {
      const t = tokens[i]!;
      for (let j = 0; j < C; j++) dEmb[t * C + j]! += dres[i * C + j]!;
    }
  }

  /**
   * The gradient w.r.t. the input x of `input(subNorm?(x))`: through the BitLinear input preparation
   * (QuantInput.gradient: its da itself where that is the identity), then the optional SubLN RMSNorm (whose
   * weight gradient accumulates) into dx. `dsub` may receive the gradient w.r.t. the SubLN output; all
   * (M, width). Returns the array holding the gradient.
   */
  private subNormBackward(dx: FloatArray, dsub: FloatArray, input: QuantInput, subNorm: string | undefined, x: FloatArray, rstd: FloatArray, M: number, width: number): FloatArray {
    if (subNorm === undefined) return input.gradient(dx, M);
    const g = input.gradient(dsub, M);
    dx.fill(0, 0, M * width);
    const n = this.param(subNorm);
    this.be.rmsnormBackward(dx, n.g, g, x, n.p, rstd, M, width);
    return dx;
  }

  /** Throws NumericsError naming the first parameter/gradient tensor holding NaN/Inf. */
  checkFinite(step: number, what: 'params' | 'grads' = 'grads'): void {
    for (const info of this.table) {
      const v = this.views.get(info.name)!;
      const arr = what === 'grads' ? v.g : v.p;
      for (let i = 0; i < arr.length; i++) {
        if (!Number.isFinite(arr[i]!)) throw new NumericsError(`step ${step}: ${what === 'grads' ? 'gradient of' : 'parameter'} '${info.name}' has ${arr[i]} at index ${i}`);
      }
    }
  }
}

/**
 * One layer's activations, kept for backward (M = B·T rows, KV = KVH·HS). Buffers are allocated for the
 * largest (B, T); the shapes below are those of the current call.
 */
interface LayerActs {
  ln1: FloatArray; ln1Rstd: FloatArray;       // (M, C), (M)   RMSNorm(x) before attention
  q: FloatArray; k: FloatArray; v: FloatArray; // (M, C), (M, KV), (M, KV)   rotated by RoPE in place
  att: FloatArray;                             // (B, H, T, T)  attention probabilities
  attOut: FloatArray;                          // (M, C)        attention output (heads concatenated)
  sub1: FloatArray; sub1Rstd: FloatArray;      // (M, C), (M)   attn_sub_norm(attOut); length 0 without SubLN
  ln2: FloatArray; ln2Rstd: FloatArray;        // (M, C), (M)   RMSNorm(x) before the FFN
  gate: FloatArray; up: FloatArray;            // (M, F), (M, F)  gate unused by plain MLPs
  h: FloatArray;                               // (M, F)        act(gate) ⊙ up, or act(up)
  sub2: FloatArray; sub2Rstd: FloatArray;      // (M, F), (M)   ffn_sub_norm(h); length 0 without SubLN
  inAttn: QuantInput; inO: QuantInput; inFfn: QuantInput; inDown: QuantInput; // BitLinear inputs: a, da (M, C) / (M, F) for down
}

/**
 * Gradients of the activations (llm.c's grads_acts), one name per tensor. Names given the same buffer in
 * makeActs are used one after another within a layer's backward, never at once.
 */
interface GradActs {
  dres: FloatArray;                                                  // (M, C)  the residual stream
  dlnf: FloatArray; dln2: FloatArray; dattOut: FloatArray; dln1: FloatArray; // (M, C)  one buffer
  dsub1: FloatArray; dq: FloatArray;                                 // (M, C)  one buffer: d attn_sub_norm output, then dq after RoPE
  dqPre: FloatArray;                                                 // (M, C)  dq before RoPE
  dk: FloatArray; dv: FloatArray; dkPre: FloatArray;                 // (M, KV) each
  dh: FloatArray;                                                    // (M, F)
  dsub2: FloatArray; dup: FloatArray;                                // (M, F)  one buffer: d ffn_sub_norm output, then d up
  dgate: FloatArray;                                                 // (M, F)
  datt: FloatArray;                                                  // (B, H, T, T)
}

interface Acts {
  B: number; T: number;
  resid: FloatArray[];                          // 2L + 1 × (M, C): x before layer l is resid[2l], after its attention resid[2l+1]
  layer: LayerActs[]; weights: Map<string, QuantWeight>; inputs: QuantInput[];
  cos: FloatArray; sin: FloatArray;             // (maxSeqLen, HS/2) RoPE tables
  yO: FloatArray; yDown: FloatArray;            // (M, C) one buffer: o_proj's output, then down_proj's, before the residual add
  lnf: FloatArray; lnfRstd: FloatArray;         // (M, C), (M)  final RMSNorm
  logits: FloatArray; probs: FloatArray;        // (M, V) each; logits becomes dlogits in backward
  losses: FloatArray; dlosses: FloatArray;      // (M) each
  d: GradActs;
}

function makeActs(m: Transformer, B: number, T: number): Acts {
  const c = m.config;
  const ar = (m as unknown as { arena: Arena }).arena;
  const dt = m.dtype;
  const M = B * T, C = c.dim, F = c.ffnDim, V = c.vocabSize, H = c.nHeads, HS = C / H, KV = c.nKvHeads * HS;
  const f = (n: number) => ar.alloc(dt, n);
  const row = quantVariant(c); // src/quant/modes.ts: the quantizers of each site
  const inputs: QuantInput[] = [];
  const qi = (K: number, site: LinearSite) => {
    const r = row.sites[site];
    const spec = { act: r.act, lnInside: r.pre === 'layernorm', hadamard: r.pre === 'hadamard', groups: c.groups, eps: c.normEps };
    const q = new QuantInput(m.be, ar, spec, M, K, dt);
    inputs.push(q);
    return q;
  };
  const weights = new Map<string, QuantWeight>();
  for (const info of m.table) {
    if (!info.decay || info.name === 'embed_tokens' || info.name === 'lm_head') continue;
    const { p } = m.param(info.name);
    weights.set(info.name, new QuantWeight(m.be, ar, row.weight, p, info.shape[0]!, info.shape[1]!, c.groups));
  }
  const layer: LayerActs[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    layer.push({ // shapes: LayerActs
      ln1: f(M * C), ln1Rstd: f(M), q: f(M * C), k: f(M * KV), v: f(M * KV), att: f(B * H * T * T), attOut: f(M * C),
      sub1: c.subln ? f(M * C) : f(0), sub1Rstd: c.subln ? f(M) : f(0), ln2: f(M * C), ln2Rstd: f(M),
      gate: f(M * F), up: f(M * F), h: f(M * F), sub2: c.subln ? f(M * F) : f(0), sub2Rstd: c.subln ? f(M) : f(0),
      inAttn: qi(C, 'attn'), inO: qi(C, 'o'), inFfn: qi(C, 'ffn'), inDown: qi(F, 'down'),
    });
  }
  const cos = f(c.maxSeqLen * (HS / 2)), sin = f(c.maxSeqLen * (HS / 2)); // (maxSeqLen, HS/2)
  m.be.ropeTables(cos, sin, c.maxSeqLen, HS, c.ropeTheta);
  const resid = Array.from({ length: 2 * c.nLayers + 1 }, () => f(M * C)); // 2L+1 × (M, C)
  const yProj = f(M * C); // (M, C) yO, then yDown
  const lnf = f(M * C), lnfRstd = f(M), logits = f(M * V), probs = f(M * V), losses = f(M), dlosses = f(M);
  // gradients (GradActs): one buffer per line, the names on a line share it
  const dres = f(M * C);
  const dNorm = f(M * C); // dlnf, dln2, dattOut, dln1
  const dSubQ = f(M * C); // dsub1, dq
  const dqPre = f(M * C);
  const dk = f(M * KV), dv = f(M * KV), dkPre = f(M * KV);
  const dh = f(M * F);
  const dSubUp = f(M * F); // dsub2, dup
  const dgate = f(M * F);
  const datt = f(B * H * T * T); // (B, H, T, T)
  return {
    B, T, resid, layer, weights, inputs, cos, sin, yO: yProj, yDown: yProj, lnf, lnfRstd, logits, probs, losses, dlosses,
    d: { dres, dlnf: dNorm, dln2: dNorm, dattOut: dNorm, dln1: dNorm, dsub1: dSubQ, dq: dSubQ, dqPre, dk, dv, dkPre, dh, dsub2: dSubUp, dup: dSubUp, dgate, datt },
  };
}


