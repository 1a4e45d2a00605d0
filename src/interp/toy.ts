/**
 * Boolean toy tasks (docs/data.md §3.2 item 1; repo `tdooms/bilinear-decomposition` src/toy/model.py):
 * n binary inputs, each on with probability p (default 0.3); one output per pair (i < j)
 * computing op(x_i, x_j); a bilinear layer (no embedding, no bias) trained with MSE and AdamW.
 *
 * Known interaction patterns on binary inputs (x² = x):
 *   and  x_i x_j                  → Q_ij = Q_ji = ½, zero self-interaction
 *   xor  x_i + x_j − 2 x_i x_j    → Q_ii = Q_jj = 1, Q_ij = Q_ji = −1
 *   or   x_i + x_j − x_i x_j      → Q_ii = Q_jj = 1, Q_ij = Q_ji = −½
 * (nand/nor/xnor need a constant term; without biases the fitted matrices are "strange", as the paper notes.)
 */
import { ArgumentError, NumericsError } from '../errors.js';
import type { Backend } from '../kernels/backend.js';
import { AdamW } from '../train/adamw.js';
import { Rng } from '../tensor/rng.js';
import { interactionMatrix, unit } from './bilinear.js';
import { BilinearClassifier, type InterpQuant } from './model.js';

export type BoolOp = 'and' | 'or' | 'xor' | 'nand' | 'nor' | 'xnor';
export const BOOL_OPS: readonly BoolOp[] = ['and', 'or', 'xor', 'nand', 'nor', 'xnor'];

export function boolOp(op: BoolOp, a: number, b: number): number {
  switch (op) {
    case 'and': return a & b;
    case 'or': return a | b;
    case 'xor': return a ^ b;
    case 'nand': return 1 - (a & b);
    case 'nor': return 1 - (a | b);
    case 'xnor': return 1 - (a ^ b);
  }
}

/** All pairs (i < j) of n inputs, in order. */
export function pairs(n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out.push([i, j]);
  return out;
}

/** A batch: x (M, n) ∈ {0,1} with P(1) = p; targets (M, pairs) = op over each pair. */
export function toyBatch(rng: Rng, M: number, n: number, p: number, op: BoolOp): { x: Float32Array; t: Float32Array } {
  const pr = pairs(n);
  const x = new Float32Array(M * n);
  const t = new Float32Array(M * pr.length);
  for (let m = 0; m < M; m++) {
    for (let i = 0; i < n; i++) x[m * n + i] = rng.uniform() < p ? 1 : 0;
    pr.forEach(([i, j], k) => {
      t[m * pr.length + k] = boolOp(op, x[m * n + i]!, x[m * n + j]!);
    });
  }
  return { x, t };
}

export interface ToyOptions {
  nInputs: number;
  hidden: number;
  op: BoolOp;
  quant: InterpQuant;
  steps: number;
  batch: number;
  lr: number;
  weightDecay: number;
  /** Probability an input is on (the repo's 1 − sparsity). */
  p: number;
  seed: number;
}

export const DEFAULT_TOY: ToyOptions = { nInputs: 4, hidden: 8, op: 'and', quant: 'fp', steps: 1000, batch: 512, lr: 0.01, weightDecay: 0.1, p: 0.3, seed: 0 };

export interface ToyResult {
  model: BilinearClassifier;
  /** Final training MSE. */
  loss: number;
  pairs: Array<[number, number]>;
  /** Per output (pair): its symmetric interaction matrix Q (n, n) from the effective weights. */
  matrices: Float64Array[];
}

/** Train a bilinear layer on one Boolean op over all pairs and return its interaction matrices. */
export function trainToy(be: Backend, o: ToyOptions, dtype: 'f32' | 'f64' = 'f32'): ToyResult {
  if (!BOOL_OPS.includes(o.op)) throw new ArgumentError(`toy: op must be one of ${BOOL_OPS.join(', ')}, got '${String(o.op)}'`);
  if (!(o.p > 0 && o.p < 1)) throw new ArgumentError(`toy: p must be in (0, 1), got ${o.p}`);
  if (!Number.isInteger(o.nInputs) || o.nInputs < 2) throw new ArgumentError(`toy: nInputs must be an integer ≥ 2, got ${o.nInputs}`);
  const pr = pairs(o.nInputs);
  const model = new BilinearClassifier(be, { nIn: o.nInputs, embed: 0, hidden: o.hidden, nOut: pr.length, arch: 'bilinear', quant: o.quant, loss: 'mse' }, o.batch, dtype);
  model.init(o.seed);
  const opt = new AdamW(be, be.arena, model.params.length, model.params.length, { beta1: 0.9, beta2: 0.999, eps: 1e-8, gradClip: 0 }, dtype);
  const rng = new Rng(o.seed).fork('toy-data');
  const xb = be.arena.alloc(dtype, o.batch * o.nInputs);
  const tb = dtype === 'f64' ? new Float64Array(o.batch * pr.length) : new Float32Array(o.batch * pr.length);
  let loss = NaN;
  for (let s = 0; s < o.steps; s++) {
    const b = toyBatch(rng, o.batch, o.nInputs, o.p, o.op);
    xb.set(b.x);
    tb.set(b.t);
    model.grads.fill(0);
    loss = model.forward(xb, o.batch, tb);
    if (!Number.isFinite(loss)) throw new NumericsError(`toy: non-finite loss at step ${s}`);
    model.backward();
    opt.update(model.params, model.grads, o.lr, o.weightDecay);
  }
  const { layer } = model.effectiveWeights();
  const matrices = pr.map((_, k) => interactionMatrix(layer, unit(pr.length, k)));
  return { model, loss, pairs: pr, matrices };
}

/** The exact interaction matrix of op on a pair (i, j) over n binary inputs (see the module doc), or undefined for ops that need a bias. */
export function idealToyMatrix(op: BoolOp, n: number, i: number, j: number): Float64Array | undefined {
  const Q = new Float64Array(n * n);
  const set = (diag: number, off: number) => {
    Q[i * n + i] = diag;
    Q[j * n + j] = diag;
    Q[i * n + j] = off;
    Q[j * n + i] = off;
  };
  if (op === 'and') set(0, 0.5);
  else if (op === 'xor') set(1, -1);
  else if (op === 'or') set(1, -0.5);
  else return undefined;
  return Q;
}
