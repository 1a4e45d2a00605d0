/**
 * Memory read bandwidth from WebAssembly: XOR-reduce a 256 MiB buffer with v128
 * loads (wasm/assembly/membw.ts) on 1 and 2 threads. GEMV benchmarks report
 * their weight-streaming rate as a fraction of this number from the same run.
 */
import { WasmContext } from '../src/kernels/wasm/context.js';
import { stats, timeIt, type Reporter } from './harness.js';

const CHUNK = 65536;

export async function benchMembw(rep: Reporter, opts: { reps: number; threads: number[]; mib?: number }): Promise<Map<number, number>> {
  const bytes = (opts.mib ?? 256) << 20;
  const out = new Map<number, number>();
  for (const threads of opts.threads) {
    const ctx = await WasmContext.create({ threads });
    const buf = ctx.arena.alloc('u8', bytes);
    for (let i = 0; i < bytes; i += 4096) buf[i] = i & 255; // touch every page
    const res = ctx.arena.alloc('u8', 16 * ctx.threads);
    const s = stats(timeIt(() => ctx.parallel('read_xor_u8', [buf.byteOffset, bytes, res.byteOffset], Math.ceil(bytes / CHUNK)), opts.reps, 1));
    const gbs = bytes / s.medianMs / 1e6;
    out.set(ctx.threads, gbs);
    rep.add({ suite: 'membw', name: 'read', shape: `${bytes >> 20} MiB`, backend: 'wasm', threads: ctx.threads, ...s, metrics: { GBs: gbs, bestGBs: bytes / s.minMs / 1e6 } });
    await ctx.dispose();
  }
  return out;
}
