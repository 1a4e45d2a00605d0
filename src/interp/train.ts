/**
 * Training for the interpretability models (docs/data.md §3.2 item 2, Table 1 of Pearce et al.):
 * AdamW (src/train/adamw.ts), cosine LR, decoupled weight decay on every matrix, Gaussian
 * input noise as the regulariser. Pure: data comes in as arrays, nothing is read or written.
 */
import { ArgumentError, NumericsError, ShapeError } from '../errors.js';
import { AdamW } from '../train/adamw.js';
import { Rng } from '../tensor/rng.js';
import type { BilinearClassifier } from './model.js';

/** A labelled set of flat feature rows. */
export interface Dataset {
  /** (n, nIn) features. */
  x: Float32Array;
  /** (n) class ids. */
  y: Int32Array;
  n: number;
  nIn: number;
  nClasses: number;
}

export function checkDataset(d: Dataset, where = 'dataset'): void {
  if (d.x.length !== d.n * d.nIn) throw new ShapeError(`${where}: x has ${d.x.length} values, expected n×nIn = ${d.n}×${d.nIn}`);
  if (d.y.length !== d.n) throw new ShapeError(`${where}: y has ${d.y.length} labels, expected ${d.n}`);
  for (let i = 0; i < d.n; i++) {
    const c = d.y[i]!;
    if (!(c >= 0 && c < d.nClasses)) throw new ArgumentError(`${where}: label ${c} at row ${i} outside [0, ${d.nClasses})`);
  }
}

/** Rows `idx` of a dataset as a new dataset. */
export function subset(d: Dataset, idx: ArrayLike<number>): Dataset {
  const x = new Float32Array(idx.length * d.nIn);
  const y = new Int32Array(idx.length);
  for (let t = 0; t < idx.length; t++) {
    const i = idx[t]!;
    x.set(d.x.subarray(i * d.nIn, (i + 1) * d.nIn), t * d.nIn);
    y[t] = d.y[i]!;
  }
  return { x, y, n: idx.length, nIn: d.nIn, nClasses: d.nClasses };
}

/** Seeded shuffle split into train/test (testFraction of the rows to test). */
export function splitDataset(d: Dataset, testFraction: number, seed: number): { train: Dataset; test: Dataset } {
  if (!(testFraction > 0 && testFraction < 1)) throw new ArgumentError(`splitDataset: testFraction must be in (0, 1), got ${testFraction}`);
  const idx = new Rng(seed).fork('split').shuffle(Array.from({ length: d.n }, (_, i) => i));
  const nTest = Math.round(d.n * testFraction);
  return { test: subset(d, idx.slice(0, nTest)), train: subset(d, idx.slice(nTest)) };
}

export interface FitOptions {
  epochs: number;
  batch: number;
  lr: number;
  weightDecay: number;
  /** Std of the Gaussian noise added to every input feature (0 = off). */
  noiseStd: number;
  seed: number;
  onEpoch?: (epoch: number, meanLoss: number) => void;
}

export const DEFAULT_FIT: Omit<FitOptions, 'seed'> = { epochs: 10, batch: 128, lr: 3e-3, weightDecay: 0.1, noiseStd: 0.4 };

/** Cosine LR from lr to lr/10 over all steps (no warmup: the models are tiny). */
function cosineLr(lr: number, step: number, total: number): number {
  const t = total <= 1 ? 1 : step / (total - 1);
  return lr / 10 + 0.5 * (lr - lr / 10) * (1 + Math.cos(Math.PI * t));
}

/** Train a classifier (loss 'ce') on a dataset; returns the mean training loss per epoch. */
export function fitClassifier(model: BilinearClassifier, data: Dataset, o: FitOptions): number[] {
  checkDataset(data, 'fitClassifier');
  if (model.config.loss !== 'ce') throw new ArgumentError('fitClassifier: the model must use the cross-entropy loss');
  if (data.nIn !== model.config.nIn) throw new ShapeError(`fitClassifier: data has ${data.nIn} features, model expects ${model.config.nIn}`);
  for (const k of ['epochs', 'batch'] as const) if (!Number.isInteger(o[k]) || o[k] < 1) throw new ArgumentError(`fit.${k} must be a positive integer, got ${o[k]}`);
  if (!(o.lr > 0) || !(o.weightDecay >= 0) || !(o.noiseStd >= 0)) throw new ArgumentError('fit: lr must be > 0, weightDecay and noiseStd ≥ 0');
  const B = Math.min(o.batch, model.maxM, data.n);
  const be = model.be;
  // Optimizer state and the batch buffer are scratch: released on return (the arena is a bump allocator).
  const mark = be.arena.mark();
  try {
    return fitLoop(model, data, o, B);
  } finally {
    be.arena.release(mark);
  }
}

function fitLoop(model: BilinearClassifier, data: Dataset, o: FitOptions, B: number): number[] {
  const be = model.be;
  const opt = new AdamW(be, be.arena, model.params.length, model.params.length, { beta1: 0.9, beta2: 0.999, eps: 1e-8, gradClip: 0 }, model.dtype);
  const xb = be.arena.alloc(model.dtype, B * data.nIn);
  const yb = new Int32Array(B);
  const rng = new Rng(o.seed);
  const steps = Math.floor(data.n / B);
  const total = steps * o.epochs;
  const history: number[] = [];
  let step = 0;
  for (let ep = 0; ep < o.epochs; ep++) {
    const order = rng.fork(`epoch${ep}`).shuffle(Array.from({ length: data.n }, (_, i) => i));
    const noise = rng.fork(`noise${ep}`);
    let sum = 0;
    for (let s = 0; s < steps; s++, step++) {
      for (let b = 0; b < B; b++) {
        const i = order[s * B + b]!;
        const src = data.x.subarray(i * data.nIn, (i + 1) * data.nIn);
        const off = b * data.nIn;
        if (o.noiseStd > 0) for (let j = 0; j < data.nIn; j++) xb[off + j] = src[j]! + noise.normal(0, o.noiseStd);
        else xb.set(src, off);
        yb[b] = data.y[i]!;
      }
      model.grads.fill(0);
      const loss = model.forward(xb, B, yb);
      if (!Number.isFinite(loss)) throw new NumericsError(`fitClassifier: non-finite loss at epoch ${ep} step ${s}`);
      model.backward();
      opt.update(model.params, model.grads, cosineLr(o.lr, step, total), o.weightDecay);
      sum += loss;
    }
    history.push(sum / steps);
    o.onEpoch?.(ep, sum / steps);
  }
  return history;
}

/** Predicted classes and accuracy of the model's own forward pass (activation quantization included). */
export function evaluateClassifier(model: BilinearClassifier, data: Dataset): { accuracy: number; logits: Float64Array } {
  checkDataset(data, 'evaluateClassifier');
  const B = model.maxM;
  const O = model.config.nOut;
  const logits = new Float64Array(data.n * O);
  const arena = model.be.arena;
  const mark = arena.mark();
  try {
    const xb = arena.alloc(model.dtype, B * data.nIn);
    for (let s = 0; s < data.n; s += B) {
      const m = Math.min(B, data.n - s);
      xb.set(data.x.subarray(s * data.nIn, (s + m) * data.nIn));
      model.forward(xb, m);
      logits.set(model.logits(), s * O);
    }
  } finally {
    arena.release(mark);
  }
  return { accuracy: accuracyOf(logits, data.y, O), logits };
}

/** Fraction of rows whose argmax logit equals the label (ties go to the lowest index). */
export function accuracyOf(logits: ArrayLike<number>, y: ArrayLike<number>, O: number): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (argmax(logits, i * O, O) === y[i]) ok++;
  return y.length === 0 ? 0 : ok / y.length;
}

export function argmax(a: ArrayLike<number>, off: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (a[off + j]! > a[off + best]!) best = j;
  return best;
}
