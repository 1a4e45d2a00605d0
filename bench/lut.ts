/**
 * Lookup-table vs multiply-add ternary GEMV (`npm run bench -- lut`), 1 thread, int8 activations,
 * at the 2B4T shapes: the experiment the decode issue asks for (docs/spec.md §5, the T-MAC / bitnet.cpp TL
 * idea). Compiles bench/assembly/lut_experiment.ts with the project's asc into a temp dir (it is not
 * a library kernel), checks both kernels exactly against a plain integer dot, then times them hot
 * (one matrix, cache-resident) and cold (round-robin over copies totalling ≥ 256 MiB). The LUT time
 * includes building its tables once per call (once per token in decode). GMAC/s = N·K / t.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { enableRelaxedSimd } from '../src/platform.js';
import { packI2R4 } from '../src/quant/pack.js';
import { Rng } from '../src/tensor/rng.js';
import { stats, type Reporter } from './harness.js';

const SHAPES: Array<[number, number]> = [[2560, 2560], [6912, 2560], [2560, 6912]];
const COLD_BYTES = 256 << 20;

interface LutExports {
  mad_r4(out: number, x: number, w: number, N: number, K: number): void;
  lut_build(tab: number, x: number, K: number): void;
  lut_gemv(out: number, tab: number, w: number, N: number, K: number): void;
}

async function compile(): Promise<{ E: LutExports; mem: WebAssembly.Memory }> {
  const asc = createRequire(import.meta.url).resolve('assemblyscript/bin/asc.js');
  const src = fileURLToPath(new URL('../../bench/assembly/lut_experiment.ts', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'bitnet-lut-'));
  try {
    const out = join(dir, 'lut.wasm');
    execFileSync(process.execPath, [asc, src, '-o', out, '-O3', '--noAssert', '--runtime', 'stub', '--use', 'abort=',
      '--enable', 'simd,relaxed-simd', '--importMemory', '--initialMemory', '17', '--maximumMemory', '65536'], { stdio: ['ignore', 'ignore', 'inherit'] });
    await enableRelaxedSimd();
    const mem = new WebAssembly.Memory({ initial: 17, maximum: 65536 });
    const { instance } = await WebAssembly.instantiate(readFileSync(out), { env: { memory: mem } });
    return { E: instance.exports as unknown as LutExports, mem };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchLut(rep: Reporter, opts: { reps: number; quick: boolean }): Promise<void> {
  const { E, mem } = await compile();
  const rng = new Rng(17);
  for (const [N, K] of opts.quick ? SHAPES.slice(1, 2) : SHAPES) {
    const bytes = (N * K) / 4, copies = Math.max(1, Math.ceil(COLD_BYTES / bytes));
    const base = 4 << 20, x = 1 << 20, out = 2 << 20, tab = 3 << 20; // tables: K/2 · 32 bytes ≤ 1 MiB
    const need = base + 2 * copies * bytes;
    if (mem.buffer.byteLength < need) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
    const q = new Int8Array(N * K).map(() => rng.int(3) - 1);
    const xv = new Int8Array(K);
    rng.fillInt(xv, -128, 127);
    const u8 = new Uint8Array(mem.buffer);
    new Int8Array(mem.buffer).set(xv, x);
    // 'i2r4' (pack.ts) and the LUT layout: tile t (16 rows) × step p (4 weights per row): byte r = idx(2p) | idx(2p+1) << 4
    const mad = base, lut = base + copies * bytes, rb = K / 4;
    packI2R4(u8.subarray(mad, mad + bytes), q, N, K); // N % 4 = 0 here: no padding rows
    for (let n = 0; n < N; n++) {
      const idx = (pos: number) => 3 * (q[n * K + 2 * pos]! + 1) + (q[n * K + 2 * pos + 1]! + 1);
      for (let p = 0; p < K / 4; p++) u8[lut + (n >> 4) * rb * 16 + p * 16 + (n & 15)] = idx(2 * p) | (idx(2 * p + 1) << 4);
    }
    for (let i = 1; i < copies; i++) {
      u8.copyWithin(mad + i * bytes, mad, mad + bytes);
      u8.copyWithin(lut + i * bytes, lut, lut + bytes);
    }
    // exactness against a plain integer dot
    let sx = 0;
    for (let k = 0; k < K; k++) sx += xv[k]!;
    const want = new Int32Array(N);
    for (let n = 0; n < N; n++) { let a = 0; for (let k = 0; k < K; k++) a += q[n * K + k]! * xv[k]!; want[n] = a; }
    const got = new Int32Array(mem.buffer, out, N);
    E.mad_r4(out, x, mad, N, K);
    for (let n = 0; n < N; n++) if (got[n]! - sx !== want[n]) throw new Error(`bench lut: mad_r4 row ${n}: ${got[n]! - sx} != ${want[n]}`);
    E.lut_build(tab, x, K);
    E.lut_gemv(out, tab, lut, N, K);
    for (let n = 0; n < N; n++) if (got[n] !== want[n]) throw new Error(`bench lut: lut_gemv row ${n}: ${got[n]} != ${want[n]}`);
    const kernels: Array<[string, (w: number) => void, number]> = [
      ['mad i2r4 (relaxed dot)', (w) => E.mad_r4(out, x, w, N, K), mad],
      ['lut tl1 (relaxed swizzle, + tables)', (w) => { E.lut_build(tab, x, K); E.lut_gemv(out, tab, w, N, K); }, lut],
    ];
    const median: Record<string, number> = {};
    for (const [name, f, w0] of kernels) {
      for (const mode of ['hot', 'cold'] as const) {
        const calls = mode === 'hot' ? 30 : copies;
        const ts: number[] = [];
        for (let r = 0; r < opts.reps + 1; r++) {
          const t0 = performance.now();
          for (let i = 0; i < calls; i++) f(mode === 'hot' ? w0 : w0 + i * bytes);
          if (r > 0) ts.push((performance.now() - t0) / calls);
        }
        const s = stats(ts.sort((a, b) => a - b));
        median[`${name} ${mode}`] = s.medianMs;
        const metrics: Record<string, number> = { GMACs: (N * K) / s.medianMs / 1e6, weightGBs: bytes / s.medianMs / 1e6 };
        if (name.startsWith('lut')) metrics.vs_mad = median[`mad i2r4 (relaxed dot) ${mode}`]! / s.medianMs;
        rep.add({ suite: 'lut', name: `${name} ${mode}`, shape: `${N}x${K}`, backend: 'wasm+relaxed', threads: 1, ...s, metrics });
      }
    }
  }
}
