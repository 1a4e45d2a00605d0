/**
 * Batches for training and evaluation.
 *
 * - `batchAt(src, B, T, seed, step)`: the training batch of step `step`, a pure function of (tokens, B, T,
 *   seed, step): row b is a window of T+1 consecutive tokens starting at s_b = rng.int(N − T), with
 *   rng = new Rng(seed).fork(step) drawn b = 0…B−1 in order. inputs[b,t] = tok[s_b + t],
 *   targets[b,t] = tok[s_b + t + 1]. Resuming at step k reproduces the run exactly; no state to save
 *   (`BatchSampler` wraps it with a step counter and getState/setState for convenience).
 * - `evalBatches(src, B, T)`: the sequential non-overlapping windows w = 0…⌊(N−1)/T⌋−1 (inputs tok[wT, wT+T),
 *   targets shifted by one), B per batch; the last batch may have fewer valid rows (`rows`), the rest zero.
 * - `bitsPerByte(lossNatsPerToken, tokens, bytes)` = loss · tokens / (bytes · ln 2).
 */
import { ArgumentError } from '../errors.js';
import { Rng } from '../tensor/rng.js';

/** Random access to a token sequence (an in-memory array or a TokenFileReader). */
export interface TokenSource {
  readonly length: number;
  /** Copy tokens [start, start + n) into out[outOffset…]. */
  read(start: number, n: number, out: Int32Array, outOffset?: number): void;
}

/** A TokenSource over an in-memory array. */
export function arraySource(tokens: Uint16Array | Uint32Array | Int32Array | readonly number[]): TokenSource {
  return {
    length: tokens.length,
    read(start: number, n: number, out: Int32Array, outOffset = 0): void {
      if (start < 0 || n < 0 || start + n > tokens.length) throw new ArgumentError(`arraySource.read: range [${start}, ${start + n}) outside [0, ${tokens.length})`);
      for (let i = 0; i < n; i++) out[outOffset + i] = tokens[start + i]!;
    },
  };
}

/** One batch: inputs and targets are (B, T) row-major; `rows` ≤ B rows are valid (the rest are zero). */
export interface Batch { inputs: Int32Array; targets: Int32Array; B: number; T: number; rows: number }

function checkBT(src: TokenSource, B: number, T: number, what: string): void {
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) throw new ArgumentError(`${what}: B and T must be positive integers, got B=${B}, T=${T}`);
  if (src.length < T + 1) throw new ArgumentError(`${what}: ${src.length} tokens are too few for windows of T+1 = ${T + 1}`);
}

/** Copy window [start, start+T] into row `b` of inputs/targets, using `win` (length ≥ T+1) as scratch. */
function fillRow(src: TokenSource, start: number, T: number, b: number, win: Int32Array, out: Batch): void {
  src.read(start, T + 1, win, 0);
  out.inputs.set(win.subarray(0, T), b * T);
  out.targets.set(win.subarray(1, T + 1), b * T);
}

/** The training batch of `step` (see the module comment). `out` may be reused across calls. */
export function batchAt(src: TokenSource, B: number, T: number, seed: number, step: number, out?: Batch): Batch {
  checkBT(src, B, T, 'batchAt');
  if (!Number.isInteger(step) || step < 0) throw new ArgumentError(`batchAt: step must be a non-negative integer, got ${step}`);
  const batch = out ?? { inputs: new Int32Array(B * T), targets: new Int32Array(B * T), B, T, rows: B };
  if (batch.inputs.length !== B * T || batch.targets.length !== B * T) throw new ArgumentError('batchAt: out has the wrong size');
  batch.rows = B;
  const rng = new Rng(seed).fork(step);
  const win = new Int32Array(T + 1);
  for (let b = 0; b < B; b++) fillRow(src, rng.int(src.length - T), T, b, win, batch);
  return batch;
}

/** Stateful convenience wrapper over `batchAt`: state = {seed, step}, serialisable as JSON. */
export class BatchSampler {
  private step: number;
  constructor(readonly src: TokenSource, readonly B: number, readonly T: number, readonly seed: number, step = 0) {
    checkBT(src, B, T, 'BatchSampler');
    this.step = step;
  }
  /** The batch of the current step, then advance. */
  next(out?: Batch): Batch { return batchAt(this.src, this.B, this.T, this.seed, this.step++, out); }
  /** The resumable state. */
  getState(): { seed: number; step: number } { return { seed: this.seed, step: this.step }; }
  /** Resume from a saved state (the seed must match). */
  setState(s: { seed: number; step: number }): void {
    if (s.seed !== this.seed) throw new ArgumentError(`BatchSampler.setState: seed ${s.seed} ≠ ${this.seed}`);
    this.step = s.step;
  }
}

/** Number of non-overlapping evaluation windows of length T in `src` (⌊(N−1)/T⌋). */
export function numEvalWindows(src: TokenSource, T: number): number {
  return Math.max(0, Math.floor((src.length - 1) / T));
}

/**
 * Sequential non-overlapping evaluation batches (see the module comment). With `maxWindows`, only that many
 * windows are used, evenly spaced: w_i = ⌊i · W / maxWindows⌋.
 */
export function* evalBatches(src: TokenSource, B: number, T: number, maxWindows?: number): Generator<Batch> {
  checkBT(src, B, T, 'evalBatches');
  const W = numEvalWindows(src, T);
  const n = maxWindows === undefined ? W : Math.min(W, maxWindows);
  const win = new Int32Array(T + 1);
  for (let i0 = 0; i0 < n; i0 += B) {
    const rows = Math.min(B, n - i0);
    const batch: Batch = { inputs: new Int32Array(B * T), targets: new Int32Array(B * T), B, T, rows };
    for (let r = 0; r < rows; r++) {
      const w = n === W ? i0 + r : Math.floor(((i0 + r) * W) / n);
      fillRow(src, w * T, T, r, win, batch);
    }
    yield batch;
  }
}

/** Bits per byte from a mean loss in nats per token: bpb = loss · tokens / (bytes · ln 2). */
export function bitsPerByte(lossNatsPerToken: number, tokens: number, bytes: number): number {
  if (!(bytes > 0)) throw new ArgumentError(`bitsPerByte: bytes must be > 0, got ${bytes}`);
  return (lossNatsPerToken * tokens) / (bytes * Math.LN2);
}
