/** `bitnet info`: which kernel backend this runtime gets, checked against the reference. */
import { BitnetError } from '../../errors.js';
import { createBackend } from '../../kernels/backend.js';
import * as ref from '../../kernels/ref/matmul.js';
import { Rng } from '../../tensor/rng.js';
import { SHARED_OPTIONS, choiceFlag, intFlag, type Command } from '../args.js';

export const infoCommand: Command = {
  summary: 'show the kernel backend this runtime gets (SIMD, relaxed SIMD, threads) and check it against the reference',
  options: { threads: SHARED_OPTIONS.threads, backend: SHARED_OPTIONS.backend },
  async run(v) {
    const threads = intFlag(v, 'threads');
    const backend = choiceFlag(v, 'backend', ['auto', 'ref', 'wasm'] as const)!;
    const be = await createBackend({ backend, ...(threads !== undefined ? { threads } : {}) });
    console.log(`backend   ${be.name}`);
    console.log(`features  ${be.features ? Object.entries(be.features).map(([k, x]) => `${k}=${x ? 'yes' : 'no'}`).join(' ') : 'reference kernels only'}`);
    console.log(`threads   ${be.threads}`);
    const [M, K, N] = [64, 256, 96];
    const rng = new Rng(1);
    const x = rng.fillNormal(new Float32Array(M * K)) as Float32Array;
    const w = rng.fillNormal(new Float32Array(N * K)) as Float32Array;
    const a = new Float32Array(M * N);
    const b = new Float32Array(M * N);
    ref.matmul(a, x, w, M, K, N);
    const t0 = performance.now();
    be.matmul(b, x, w, M, K, N);
    const ms = performance.now() - t0;
    let maxErr = 0;
    for (let i = 0; i < a.length; i++) maxErr = Math.max(maxErr, Math.abs(a[i]! - b[i]!));
    console.log(`selfcheck gemm ${M}x${K}x${N}: max |Δ| vs reference ${maxErr.toExponential(2)} (${ms.toFixed(2)} ms)`);
    await be.dispose();
    if (!(maxErr < 1e-3)) throw new BitnetError('kernel self-check failed');
  },
};
