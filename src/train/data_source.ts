/**
 * The trainer's DataSource over token streams (src/data): training batches are a pure
 * function of (seed, batch index) (`batchAt`), validation batches are the sequential,
 * non-overlapping windows of `evalBatches`; rows past the end of the split are masked
 * with target -1 so they do not count.
 */
import { arraySource, batchAt, evalBatches, type Batch, type TokenSource } from '../data/sampler.js';
import type { DataSource } from './loop.js';

export function tokenDataSource(train: TokenSource, val: TokenSource, valBytesPerToken: number, seed: number): DataSource {
  // One batch buffer, reused every step (the model is done with a batch before the next is drawn).
  let buf: Batch | undefined;
  return {
    valBytesPerToken,
    trainBatch: (index, B, T) => {
      if (buf === undefined || buf.B !== B || buf.T !== T) buf = { inputs: new Int32Array(B * T), targets: new Int32Array(B * T), B, T, rows: B };
      return batchAt(train, B, T, seed, index, buf);
    },
    *valBatches(B, T, maxBatches) {
      for (const b of evalBatches(val, B, T, maxBatches * B)) {
        b.targets.fill(-1, b.rows * T);
        yield b;
      }
    },
  };
}

/** A DataSource over in-memory token arrays (tests, small corpora). */
export function arrayDataSource(train: ArrayLike<number> & Iterable<number>, val: ArrayLike<number> & Iterable<number>, valBytesPerToken: number, seed: number): DataSource {
  return tokenDataSource(arraySource(Int32Array.from(train)), arraySource(Int32Array.from(val)), valBytesPerToken, seed);
}
