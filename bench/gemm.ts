/**
 * f32 GEMM: forward and both backward products at 512³, 1024³, 2048³ on 1 and 2
 * threads, and the plain-TS reference (512³ only: it runs at ~0.3–1 GFLOP/s),
 * all in one run. Validates against the reference first (on a slice).
 */
import * as ref from '../src/kernels/ref/matmul.js';
import { WasmContext } from '../src/kernels/wasm/context.js';
import * as wasm from '../src/kernels/wasm/matmul.js';
import { Rng } from '../src/tensor/rng.js';
import { stats, timeIt, type Reporter } from './harness.js';

export async function benchGemm(rep: Reporter, opts: { sizes: number[]; reps: number; threads: number[] }): Promise<void> {
  const rng = new Rng(7);
  // Validate once on a small problem.
  {
    const ctx = await WasmContext.create({ threads: 1 });
    const [M, K, N] = [37, 129, 65];
    const x = rng.fillNormal(new Float32Array(M * K)) as Float32Array;
    const w = rng.fillNormal(new Float32Array(N * K)) as Float32Array;
    const a = new Float32Array(M * N);
    const b = new Float32Array(M * N);
    ref.matmul(a, x, w, M, K, N);
    wasm.matmul(ctx, b, x, w, M, K, N);
    for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > 1e-3) throw new Error(`gemm bench: wasm disagrees with reference at ${i}`);
    await ctx.dispose();
  }
  const refN = 512;
  {
    const x = rng.fillNormal(new Float32Array(refN * refN)) as Float32Array;
    const w = rng.fillNormal(new Float32Array(refN * refN)) as Float32Array;
    const o = new Float32Array(refN * refN);
    const ts = timeIt(() => ref.matmul(o, x, w, refN, refN, refN), 3, 0);
    const s = stats(ts);
    rep.add({ suite: 'gemm', name: 'forward', shape: `${refN}^3`, backend: 'ref', threads: 1, ...s, metrics: { GFLOPs: (2 * refN ** 3) / s.medianMs / 1e6 } });
  }
  for (const threads of opts.threads) {
    const ctx = await WasmContext.create({ threads });
    for (const n of opts.sizes) {
      const mark = ctx.arena.mark();
      const x = ctx.arena.alloc('f32', n * n);
      const w = ctx.arena.alloc('f32', n * n);
      const o = ctx.arena.alloc('f32', n * n);
      rng.fillNormal(x);
      rng.fillNormal(w);
      const cases: Array<[string, () => void]> = [
        ['forward', () => wasm.matmul(ctx, o, x, w, n, n, n)],
        ['backward-input', () => wasm.matmulBackwardInput(ctx, o, x, w, n, n, n)],
        ['backward-weight', () => wasm.matmulBackwardWeight(ctx, o, x, w, n, n, n)],
      ];
      for (const [name, fn] of cases) {
        const s = stats(timeIt(fn, opts.reps, 1));
        rep.add({
          suite: 'gemm', name, shape: `${n}^3`, backend: `wasm${ctx.relaxed ? '+relaxed' : ''}`, threads: ctx.threads, ...s,
          metrics: { GFLOPs: (2 * n ** 3) / s.medianMs / 1e6, bestGFLOPs: (2 * n ** 3) / s.minMs / 1e6 },
        });
      }
      ctx.arena.release(mark);
    }
    await ctx.dispose();
  }
}
