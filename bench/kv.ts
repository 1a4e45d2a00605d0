/**
 * Decode attention over the KV cache (`npm run bench -- kv`): attentionCached (f32 cache) vs
 * attentionCachedF16 (f16 cache) at the 2B4T head shape (H 20, KVH 5, HS 128), one new query (M = 1)
 * against n = 1024 / 2048 / 4096 cached positions. One "token" = the 30 layers' calls, each on its own
 * layer cache (round robin), so the cache streams from DRAM as in decode. The two cache types are
 * timed in alternation (rep by rep), so a load change on a shared machine hits both alike. Reports ms
 * per token, the cache bytes read per token and the GB/s that implies; f16 rows add the ratio of
 * medians to f32.
 */
import { WasmContext } from '../src/kernels/wasm/context.js';
import { attentionCached, attentionCachedF16, f32ToF16 } from '../src/kernels/wasm/infer.js';
import { Rng } from '../src/tensor/rng.js';
import { stats, type Reporter } from './harness.js';

const H = 20, KVH = 5, HS = 128, LAYERS = 30;
const TYPES = ['f32', 'f16'] as const;

export async function benchKv(rep: Reporter, opts: { reps: number; threads: number[]; quick: boolean }): Promise<void> {
  const rng = new Rng(3);
  const positions = opts.quick ? [1024] : [1024, 2048, 4096];
  const layers = opts.quick ? 8 : LAYERS;
  const KV = KVH * HS;
  for (const threads of opts.threads) {
    const ctx = await WasmContext.create({ threads });
    for (const n of positions) {
      const mark = ctx.arena.mark();
      const q = ctx.arena.alloc('f32', H * HS), out = ctx.arena.alloc('f32', H * HS);
      rng.fillNormal(q, 0, 1);
      const row = new Float32Array(n * KV);
      const k32: Float32Array[] = [], v32: Float32Array[] = [], k16: Uint16Array[] = [], v16: Uint16Array[] = [];
      for (let l = 0; l < layers; l++) {
        for (const [c32, c16] of [[k32, k16], [v32, v16]] as const) {
          rng.fillNormal(row, 0, 1);
          const a = ctx.arena.alloc('f32', n * KV), h = ctx.arena.alloc('u16', n * KV);
          a.set(row);
          f32ToF16(ctx, h, row, n * KV);
          c32.push(a);
          c16.push(h);
        }
      }
      const token = (kv: (typeof TYPES)[number]) => {
        for (let l = 0; l < layers; l++) {
          if (kv === 'f32') attentionCached(ctx, out, q, k32[l]!, v32[l]!, 1, n - 1, n, H, KVH, HS);
          else attentionCachedF16(ctx, out, q, k16[l]!, v16[l]!, 1, n - 1, n, H, KVH, HS);
        }
      };
      const ts: Record<string, number[]> = { f32: [], f16: [] };
      for (let r = 0; r <= opts.reps; r++) {
        for (const kv of TYPES) {
          const t0 = performance.now();
          token(kv);
          if (r > 0) ts[kv]!.push(performance.now() - t0); // rep 0 warms up
        }
      }
      let f32ms = NaN;
      for (const kv of TYPES) {
        const s = stats(ts[kv]!.sort((a, b) => a - b));
        const bytes = 2 * layers * n * KV * (kv === 'f32' ? 4 : 2);
        const metrics: Record<string, number> = { cache_MB_per_token: bytes / 1e6, GB_s: bytes / s.medianMs / 1e6 };
        if (kv === 'f32') f32ms = s.medianMs;
        else metrics.time_vs_f32 = s.medianMs / f32ms;
        rep.add({ suite: 'kv', name: `attention ${kv} cache`, shape: `H${H} KVH${KVH} HS${HS} n=${n} x${layers} layers`, backend: 'wasm', threads: ctx.threads, ...s, metrics });
      }
      ctx.arena.release(mark);
    }
    await ctx.dispose();
  }
}
