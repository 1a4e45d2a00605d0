/**
 * A DataSource over in-memory token arrays. Batch b of (step, micro) starts at an
 * offset drawn from a counter-based hash of (seed, step, micro, b): a pure function,
 * so any step's batch can be recomputed after a resume without replaying the stream.
 */
import { ArgumentError } from '../errors.js';
import type { DataSource } from './loop.js';

type Tokens = Uint16Array | Uint32Array | Int32Array;

/** 32-bit mix of four integers (murmur3 finalizer over a running hash). */
function hash4(a: number, b: number, c: number, d: number): number {
  let h = 0x9e3779b9 ^ a;
  for (const x of [b, c, d]) {
    h = Math.imul(h ^ x, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

export class TokenSource implements DataSource {
  constructor(readonly train: Tokens, readonly val: Tokens, readonly valBytesPerToken: number, readonly seed: number) {
    if (train.length < 2 || val.length < 2) throw new ArgumentError('TokenSource: train and val need at least 2 tokens each');
  }

  trainBatch(step: number, micro: number, B: number, T: number): { inputs: Int32Array; targets: Int32Array } {
    const n = this.train.length;
    if (n < T + 1) throw new ArgumentError(`TokenSource: ${n} training tokens cannot fill a window of ${T + 1}`);
    const inputs = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      // 53-bit offset from two hashes so long corpora are covered uniformly.
      const r = (hash4(this.seed, step, micro, b) * 2 ** 21 + (hash4(this.seed ^ 0x5bd1e995, step, micro, b) >>> 11)) / 2 ** 53;
      const off = Math.floor(r * (n - T));
      for (let t = 0; t < T; t++) {
        inputs[b * T + t] = this.train[off + t]!;
        targets[b * T + t] = this.train[off + t + 1]!;
      }
    }
    return { inputs, targets };
  }

  *valBatches(B: number, T: number, maxBatches: number): Iterable<{ inputs: Int32Array; targets: Int32Array }> {
    const n = this.val.length;
    let off = 0;
    for (let k = 0; k < maxBatches; k++) {
      if (off + B * T + 1 > n) return;
      const inputs = new Int32Array(B * T);
      const targets = new Int32Array(B * T);
      for (let i = 0; i < B * T; i++) {
        inputs[i] = this.val[off + i]!;
        targets[i] = this.val[off + i + 1]!;
      }
      off += B * T;
      yield { inputs, targets };
    }
  }
}
