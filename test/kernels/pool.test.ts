/**
 * The thread pool hands out rows in chunks that any thread claims (src/kernels/threads/pool.ts): every row is
 * computed exactly once, chunks respect the kernel's alignment, and the result is bit-identical to one thread
 * over hundreds of back-to-back jobs of changing sizes (a worker that wakes late must not run a stale job).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBackend } from '../../src/kernels/backend.js';
import { CHUNKS_PER_THREAD, MAX_CHUNKS } from '../../src/kernels/threads/protocol.js';
import { chunkRows } from '../../src/kernels/threads/pool.js';
import { Rng } from '../../src/tensor/rng.js';

test('chunkRows: a multiple of align, covers the rows in at most the asked chunks (and at most MAX_CHUNKS)', () => {
  for (const rows of [1, 3, 4, 5, 63, 64, 65, 1000, 6912, 70001, 1 << 20])
    for (const align of [1, 4, 8, 64])
      for (const threads of [2, 3, 8]) {
        const want = threads * CHUNKS_PER_THREAD;
        const c = chunkRows(rows, want, align);
        assert.equal(c % align, 0, `${rows}/${align}`);
        assert.ok(c >= 1 && Math.ceil(rows / c) <= Math.max(want, 1) && Math.ceil(rows / c) <= MAX_CHUNKS, `${rows} rows, align ${align}: chunk ${c}`);
      }
});

test('dynamic chunks: 400 back-to-back jobs of changing size on 3 threads equal 1 thread bit for bit', async () => {
  const one = await createBackend({ backend: 'wasm', threads: 1 });
  const three = await createBackend({ backend: 'wasm', threads: 3 });
  try {
    const rng = new Rng(5);
    const C = 48;
    for (let j = 0; j < 400; j++) {
      // sizes from a single row to enough rows that every thread gets several chunks
      const M = 1 + rng.int(j % 7 === 0 ? 3000 : 200);
      const inp = new Float32Array(M * C).map(() => rng.normal());
      const weight = new Float32Array(C).map(() => rng.normal());
      const outs = [one, three].map((be) => {
        const out = new Float32Array(M * C).fill(NaN), rstd = new Float32Array(M).fill(NaN);
        be.rmsnormForward(out, rstd, inp, weight, M, C, 1e-5);
        return { out, rstd };
      });
      assert.deepEqual(new Uint32Array(outs[1]!.out.buffer), new Uint32Array(outs[0]!.out.buffer), `job ${j}, M ${M}`);
      assert.deepEqual(new Uint32Array(outs[1]!.rstd.buffer), new Uint32Array(outs[0]!.rstd.buffer), `job ${j}, M ${M}`);
    }
  } finally {
    await one.dispose();
    await three.dispose();
  }
});
