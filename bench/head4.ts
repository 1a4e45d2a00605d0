/**
 * LM head GEMV at BitNet b1.58 2B4T (`npm run bench -- head4`): the tied 128256×2560 head, M = 1,
 * 4-bit per-group 'q4g' (matmulQ4G; G = 64, and G = 32 / 128 for the group-size choice) against the
 * 7-bit 'i7r4' head (matmulI7), relaxed SIMD and SIMD128, 1 and 2 threads. The head is larger than any
 * cache, so every call streams it from DRAM. Each case is checked bit for bit against its reference
 * twin on the first rows before timing. ms per call, weight GB/s = (codes + scales) / t, and the
 * fraction of the read bandwidth measured in the same run (bench/membw.ts).
 *
 * Quality rows (suite head4, backend ref): relative RMS error of the reconstructed weights and of the
 * head outputs (int8 activations, both formats) against f32, on the trained embedding of the bundled
 * tiny model (4096×128) and on a synthetic 2048×2560 matrix (normal, 1 % outliers ×8). The time of
 * those rows is the reference quantizer's.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { quantizeRowsI7 } from '../src/infer/packed_model.js';
import { toFloat32, parseSafetensors } from '../src/io/safetensors.js';
import * as H from '../src/kernels/ref/head4.js';
import { bytesI7R4, I7_OFFSET, matmulI7 as refI7, packI7R4 } from '../src/kernels/ref/infer.js';
import { quantizeAbsmaxI8PerToken } from '../src/kernels/ref/quant.js';
import { WasmContext } from '../src/kernels/wasm/context.js';
import { matmulQ4GGroupWasm } from '../src/kernels/wasm/head4.js';
import { matmulI7 } from '../src/kernels/wasm/infer.js';
import { Rng } from '../src/tensor/rng.js';
import { stats, type Reporter } from './harness.js';

const K = 2560;
const V = 128256;
/** Rows checked against the reference before timing. */
const CHECK_ROWS = 64;

interface Case { name: string; fmt: 'i7r4' | 'q4g'; G: number }
const CASES: Case[] = [
  { name: 'i7r4 (matmulI7)', fmt: 'i7r4', G: 0 },
  { name: 'q4g G=64 (matmulQ4G)', fmt: 'q4g', G: 64 },
  { name: 'q4g G=32', fmt: 'q4g', G: 32 },
  { name: 'q4g G=128', fmt: 'q4g', G: 128 },
];

/** Fill with a repeated 1 MiB random block (the timing does not depend on the values). */
function fillRandom(a: Uint8Array | Int8Array, rng: Rng, map?: (b: number) => number): void {
  const block = new Uint8Array(Math.min(a.length, 1 << 20));
  rng.fillInt(block, 0, 255);
  if (map) for (let i = 0; i < block.length; i++) block[i] = map(block[i]!);
  const u8 = new Uint8Array(a.buffer, a.byteOffset, a.length);
  for (let o = 0; o < u8.length; o += block.length) u8.set(block.subarray(0, Math.min(block.length, u8.length - o)), o);
}

export async function benchHead4(rep: Reporter, opts: { reps: number; threads: number[]; membw: Map<number, number>; quick: boolean }): Promise<void> {
  quality(rep);
  const rng = new Rng(17);
  const N = opts.quick ? V >> 2 : V;
  for (const relaxed of [true, false]) {
    for (const threads of opts.threads) {
      const ctx = await WasmContext.create({ threads, relaxed });
      if (relaxed && !ctx.relaxed) { await ctx.dispose(); continue; }
      for (const c of CASES) {
        if (!relaxed && c.fmt === 'q4g' && c.G !== 64) continue;
        const mark = ctx.arena.mark();
        const x = ctx.arena.alloc('i8', K);
        rng.fillInt(x, -127, 127);
        const xs = ctx.arena.alloc('f32', 1);
        xs[0] = 12.5;
        const out = ctx.arena.alloc('f32', N);
        const want = new Float32Array(CHECK_ROWS);
        let call: () => void, bytes: number;
        if (c.fmt === 'i7r4') {
          const w = ctx.arena.alloc('i8', bytesI7R4(N, K));
          fillRandom(w, rng, (b) => (b & 127) || 1); // offset codes in [1, 127]
          const ws = ctx.arena.alloc('f32', N).fill(0.01);
          bytes = w.length + ws.byteLength;
          refI7(want, x, xs, w.subarray(0, bytesI7R4(CHECK_ROWS, K)), ws.subarray(0, CHECK_ROWS), 1, K, CHECK_ROWS);
          call = () => matmulI7(ctx, out, x, xs, w, ws, 1, K, N);
        } else {
          const w = ctx.arena.alloc('u8', H.bytesQ4G(N, K));
          fillRandom(w, rng); // every nibble is a valid code
          const ws = ctx.arena.alloc('f32', H.scalesQ4G(N, K, c.G));
          for (let i = 0; i < ws.length; i++) ws[i] = 0.001 * (1 + (i % 7));
          bytes = w.length + ws.byteLength;
          H.matmulQ4GGroup(want, x, xs, w.subarray(0, H.bytesQ4G(CHECK_ROWS, K)), ws.subarray(0, H.scalesQ4G(CHECK_ROWS, K, c.G)), 1, K, CHECK_ROWS, c.G);
          call = () => matmulQ4GGroupWasm(ctx, out, x, xs, w, ws, 1, K, N, c.G);
        }
        call();
        for (let i = 0; i < CHECK_ROWS; i++) if (out[i] !== want[i]) throw new Error(`head4 bench ${c.name}: wasm ${out[i]} != reference ${want[i]} at row ${i}`);
        const ts: number[] = [];
        for (let r = 0; r < opts.reps; r++) {
          const t0 = performance.now();
          call();
          ts.push(performance.now() - t0);
        }
        const s = stats(ts.sort((a, b) => a - b));
        const gbs = bytes / s.medianMs / 1e6;
        const bw = opts.membw.get(ctx.threads);
        rep.add({
          suite: 'head4', name: c.name, shape: `${N}x${K}`, backend: `wasm${ctx.relaxed ? '+relaxed' : ''}`, threads: ctx.threads, ...s,
          metrics: { MB: bytes / 1e6, weightGBs: gbs, bestGBs: bytes / s.minMs / 1e6, GMACs: (N * K) / s.medianMs / 1e6, ...(bw ? { fracOfMembw: gbs / bw } : {}) },
        });
        ctx.arena.release(mark);
      }
      await ctx.dispose();
    }
  }
}

/** Relative RMS error of a against b. */
function relRms(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    e += (a[i]! - b[i]!) ** 2;
    s += b[i]! ** 2;
  }
  return Math.sqrt(e / s);
}

function quality(rep: Reporter): void {
  const mats: Array<[string, Float32Array, number]> = [];
  try {
    const file = fileURLToPath(new URL('../../models/sotu-tiny-b158.safetensors', import.meta.url));
    const t = parseSafetensors(readFileSync(file)).tensors.get('embed_tokens');
    if (t) mats.push(['tiny-embed', toFloat32(t, 'embed_tokens'), t.shape[1]!]);
  } catch { /* no bundled model: synthetic only */ }
  const rng = new Rng(23);
  const syn = rng.fillNormal(new Float32Array(2048 * K), 0, 0.02) as Float32Array;
  for (let i = 0; i < syn.length; i++) if (rng.uniform() < 0.01) syn[i] = syn[i]! * 8;
  mats.push(['synthetic', syn, K]);
  for (const [src, Wt, C] of mats) {
    const N = Wt.length / C, M = 8;
    const xf = rng.fillNormal(new Float32Array(M * C), 0, 1) as Float32Array;
    const xq = new Int8Array(M * C), xs = new Float32Array(M);
    quantizeAbsmaxI8PerToken(xq, xs, xf, M, C);
    const exact = new Float64Array(M * N);
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
      let a = 0;
      for (let k = 0; k < C; k++) a += Wt[n * C + k]! * xf[m * C + k]!;
      exact[m * N + n] = a;
    }
    for (const G of [0, 32, 64, 128]) {
      const t0 = performance.now();
      const rec = new Float32Array(N * C), y = new Float32Array(M * N);
      let bits: number, ms: number;
      if (G === 0) {
        const codes = new Int8Array(N * C), ws = new Float32Array(N);
        quantizeRowsI7(codes, ws, Wt, N, C);
        ms = performance.now() - t0;
        for (let i = 0; i < rec.length; i++) rec[i] = ws[Math.floor(i / C)]! * codes[i]!;
        const w = new Int8Array(bytesI7R4(N, C)).fill(I7_OFFSET);
        packI7R4(w, codes, 0, N, C);
        refI7(y, xq, xs, w, ws, M, C, N);
        bits = 8 + 32 / C;
      } else {
        const ng = H.groupsQ4G(C, G);
        const codes = new Int8Array(N * C), sc = new Float32Array(N * ng);
        H.quantizeQ4G(codes, sc, Wt, N, C, G);
        ms = performance.now() - t0;
        const w = new Uint8Array(H.bytesQ4G(N, C)).fill(H.Q4G_PAD_BYTE), ws = new Float32Array(H.scalesQ4G(N, C, G));
        H.packQ4G(w, ws, codes, sc, 0, N, C, G);
        for (let n = 0; n < N; n++) H.dequantRowQ4G(rec.subarray(n * C, (n + 1) * C), w, ws, n, C, G);
        H.matmulQ4GGroup(y, xq, xs, w, ws, M, C, N, G);
        bits = 4 + 32 / G;
      }
      rep.add({
        suite: 'head4', name: `quality ${src} ${G === 0 ? 'i7r4' : `q4g G=${G}`}`, shape: `${N}x${C}`, backend: 'ref', threads: 1,
        medianMs: ms, minMs: ms, p90Ms: ms, metrics: { bitsPerWeight: bits, weightRelRms: relRms(rec, Wt), outputRelRms: relRms(y, exact) },
      });
    }
  }
}
