/**
 * Packed GEMV (decode: M = 1) at the BitNet b1.58 2B4T shapes: ternary i2 (relaxed SIMD and
 * SIMD128), ternary i1.6 (base-3), binary b1, all × int8 activations, plus ternary × int4.
 * Hot: one matrix reused (cache-resident). Cold: round-robin over copies totalling ≥ 256 MB,
 * so weights stream from DRAM as in decode across layers. 1 and 2 threads; the reference
 * kernel once for the ratio. GOPS = 2·N·K / t; weight GB/s = packed bytes / t; and its
 * fraction of the read bandwidth measured in the same run (bench/membw.ts).
 */
import * as ref from '../src/kernels/ref/ternary.js';
import { WasmContext } from '../src/kernels/wasm/context.js';
import * as wasm from '../src/kernels/wasm/ternary.js';
import { FORMAT_TRAITS, type FormatName } from '../src/quant/formats.js';
import { Rng } from '../src/tensor/rng.js';
import { stats, type Reporter } from './harness.js';

const SHAPES: Array<[number, number]> = [[2560, 2560], [6912, 2560], [2560, 6912]];
const COLD_BYTES = 256 << 20;

type Kernel = 'matmulTernaryI8' | 'matmulTernaryI4' | 'matmulTernary1p6I8' | 'matmulBinaryI8';
const CASES: Array<{ name: string; fmt: FormatName; kernel: Kernel; relaxed: boolean; i4?: boolean }> = [
  { name: 'i2 x i8 (relaxed)', fmt: 'i2', kernel: 'matmulTernaryI8', relaxed: true },
  { name: 'i2 x i8 (simd128)', fmt: 'i2', kernel: 'matmulTernaryI8', relaxed: false },
  { name: 'i2 x i4', fmt: 'i2', kernel: 'matmulTernaryI4', relaxed: true, i4: true },
  { name: 'i1.6 x i8', fmt: 'i1.6', kernel: 'matmulTernary1p6I8', relaxed: true },
  { name: 'b1 x i8', fmt: 'b1', kernel: 'matmulBinaryI8', relaxed: true },
];

export async function benchGemv(rep: Reporter, opts: { reps: number; threads: number[]; membw: Map<number, number>; quick: boolean }): Promise<void> {
  const rng = new Rng(11);
  const shapes = opts.quick ? SHAPES.slice(1, 2) : SHAPES;
  // Reference twin once (plain TS), for the ratio.
  {
    const [N, K] = shapes[0]!;
    const t = FORMAT_TRAITS.i2;
    const q = rng.fillInt(new Int8Array(N * K), -1, 1) as Int8Array;
    const w = new Uint8Array(t.bytes(N, K));
    t.pack(w, q, N, K);
    const x = rng.fillInt(new Int8Array(K), -127, 127) as Int8Array;
    const out = new Float32Array(N);
    const ts: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      ref.matmulTernaryI8(out, x, Float32Array.of(1), w, 1, K, N, 1);
      ts.push(performance.now() - t0);
    }
    const s = stats(ts.sort((a, b) => a - b));
    rep.add({ suite: 'gemv', name: 'i2 x i8', shape: `${N}x${K}`, backend: 'ref', threads: 1, ...s, metrics: { GOPS: (2 * N * K) / s.medianMs / 1e6 } });
  }
  for (const c of CASES) {
    for (const threads of opts.threads) {
      const ctx = await WasmContext.create({ threads, relaxed: c.relaxed });
      const traits = FORMAT_TRAITS[c.fmt];
      for (const [N, K] of shapes) {
        const mark = ctx.arena.mark();
        const bytes = traits.bytes(N, K);
        const copies = Math.max(1, Math.ceil(COLD_BYTES / bytes));
        const q = rng.fillInt(new Int8Array(N * K), traits.values === 'binary' ? 0 : -1, 1) as Int8Array;
        if (traits.values === 'binary') for (let i = 0; i < q.length; i++) q[i] = q[i] ? 1 : -1;
        const mats: Uint8Array[] = [];
        for (let i = 0; i < copies; i++) {
          const w = ctx.arena.alloc('u8', bytes);
          if (i === 0) traits.pack(w, q, N, K);
          else w.set(mats[0]!);
          mats.push(w);
        }
        const x = ctx.arena.alloc('i8', K);
        rng.fillInt(x, c.i4 ? -8 : -127, c.i4 ? 7 : 127);
        const xs = ctx.arena.alloc('f32', 1);
        xs[0] = 1;
        const out = ctx.arena.alloc('f32', N);
        const fn = wasm[c.kernel];
        // validate against the reference first
        const expect = new Float32Array(N);
        ref[c.kernel](expect, x, xs, mats[0]!, 1, K, N, 1);
        fn(ctx, out, x, xs, mats[0]!, 1, K, N, 1);
        for (let i = 0; i < N; i++) if (out[i] !== expect[i]) throw new Error(`gemv bench ${c.name} ${N}x${K}: wasm ${out[i]} != reference ${expect[i]} at row ${i}`);
        for (const mode of ['hot', 'cold'] as const) {
          const calls = mode === 'hot' ? 50 : copies;
          const ts: number[] = [];
          for (let r = 0; r < opts.reps + 1; r++) {
            const t0 = performance.now();
            for (let i = 0; i < calls; i++) fn(ctx, out, x, xs, mode === 'hot' ? mats[0]! : mats[i]!, 1, K, N, 1);
            if (r > 0) ts.push((performance.now() - t0) / calls);
          }
          const s = stats(ts.sort((a, b) => a - b));
          const gbs = bytes / s.medianMs / 1e6;
          const bw = opts.membw.get(ctx.threads);
          rep.add({
            suite: 'gemv', name: `${c.name} ${mode}`, shape: `${N}x${K}`, backend: `wasm${ctx.relaxed ? '+relaxed' : ''}`, threads: ctx.threads, ...s,
            metrics: { GOPS: (2 * N * K) / s.medianMs / 1e6, bestGOPS: (2 * N * K) / s.minMs / 1e6, weightGBs: gbs, ...(bw ? { fracOfMembw: gbs / bw } : {}) },
          });
        }
        ctx.arena.release(mark);
      }
      await ctx.dispose();
    }
  }
}
