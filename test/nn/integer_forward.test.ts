/**
 * The integer forward of BitLinear (src/nn/bitlinear.ts module doc): where weights are per-tensor ternary and
 * the input quantizer is per token, the product runs on the engine's int8 × ternary kernels. It must equal the
 * f32 fake-quant product it replaces up to that product's f32 rounding, leave the backward pass unchanged,
 * give the same bits on every backend and thread count, and step aside where it does not apply
 * (λ-warmup, an input hook's replacement, f64, BitNet v1).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createBackend, refBackend, type Backend } from '../../src/kernels/backend.js';
import { BitLinear, QuantInput } from '../../src/nn/bitlinear.js';
import { makeConfig } from '../../src/model/config.js';
import { Transformer } from '../../src/model/transformer.js';
import { Arena } from '../../src/tensor/arena.js';
import { Rng } from '../../src/tensor/rng.js';
import { assertBitIdentical, randnF32 } from '../helpers/check.js';

/**
 * Tolerance of integer vs f32 fake-quant products, relative to Σ_k |a_k|·|w̃_k| of the output: the f32 sum of
 * K ≤ 700 products carries at most ~K·2⁻²⁴ of it (the integer sum carries none); 2⁻¹³ leaves room and still
 * fails on any wrong code or scale (one flipped code moves the output by ≥ 1/127 of the row's largest term).
 */
const INT_TOL = 2 ** -13;

describe('BitLinear integer forward', () => {
  const backends: Backend[] = [];
  after(async () => Promise.all(backends.map((b) => b.dispose())));
  const wasm = async (threads: number) => {
    const b = await createBackend({ backend: 'wasm', threads });
    backends.push(b);
    return b;
  };

  /** y with the integer path on and off for the same weights and input, and the row bound Σ|a||w̃| per output. */
  function both(be: Backend, mode: 'b158' | 'v2-a8' | 'v2-a4', hadamard: boolean, M: number, K: number, N: number, seed: number) {
    const mk = (integer: boolean) => new BitLinear(be, be.arena, { inFeatures: K, outFeatures: N, mode, hadamard, maxRows: M, seed, integer });
    const li = mk(true), lf = mk(false);
    const x = randnF32(new Rng(seed + 1), M * K);
    const yi = Float32Array.from(li.forward(x, M));
    const yf = Float32Array.from(lf.forward(x, M));
    return { li, lf, x, yi, yf };
  }

  for (const [mode, hadamard] of [['b158', false], ['v2-a8', true], ['v2-a4', true]] as const) {
    test(`${mode}: integer product = f32 fake-quant product within ${INT_TOL} of Σ|a||w̃| at awkward shapes; backward bit-identical`, async () => {
      const be = await wasm(2);
      const Ks = hadamard ? [64, 128, 256] : [1, 37, 64, 100, 688];
      for (const K of Ks) {
        for (const [M, N] of [[1, 1], [7, 5], [33, 13], [4, 64]] as const) {
          const { li, lf, yi, yf } = both(be, mode, hadamard, M, K, N, 11 + K + M);
          // the bound: |a|·|w̃| row sums from the f32 path's own operands (a = the layer's prepared input)
          const a = (lf as unknown as { input: QuantInput }).input.input;
          const wq = (lf as unknown as { qw: { wq: Float32Array } }).qw.wq;
          for (let m = 0; m < M; m++) {
            for (let n = 0; n < N; n++) {
              let bound = 0;
              for (let k = 0; k < K; k++) bound += Math.abs(a[m * K + k]! * wq[n * K + k]!);
              const d = Math.abs(yi[m * N + n]! - yf[m * N + n]!);
              assert.ok(d <= INT_TOL * bound + 1e-30, `${mode} M=${M} K=${K} N=${N} [${m},${n}]: |Δ| ${d} > ${INT_TOL}·${bound}`);
            }
          }
          // the backward reads a and w̃, which the integer path leaves as they were
          const dy = randnF32(new Rng(K * 7 + M), M * N);
          li.zeroGrad();
          lf.zeroGrad();
          assertBitIdentical(Float32Array.from(li.backward(dy, M)), Float32Array.from(lf.backward(dy, M)), `${mode} K=${K} dx`);
          assertBitIdentical(li.grad as Float32Array, lf.grad as Float32Array, `${mode} K=${K} dW`);
        }
      }
    });
  }

  test('codes: a = f32(q / s) exactly, padding columns zero; same bits on ref and wasm at 1, 2 and 3 threads', async () => {
    const [M, K, N] = [9, 100, 23];
    const out: Float32Array[] = [];
    for (const be of [refBackend(), await wasm(1), await wasm(2), await wasm(3)]) {
      const layer = new BitLinear(be, be.name === 'ref' ? Arena.heap() : be.arena, { inFeatures: K, outFeatures: N, mode: 'b158', maxRows: M, seed: 5 });
      const x = randnF32(new Rng(6), M * K);
      out.push(Float32Array.from(layer.forward(x, M)));
      const input = (layer as unknown as { input: QuantInput }).input;
      const c = input.codesFor(input.input, M);
      assert.ok(c !== undefined, `${be.name}: the integer path ran`);
      assert.equal(c.K, 128, 'K padded to whole 64-weight blocks');
      for (let m = 0; m < M; m++) {
        for (let k = 0; k < c.K; k++) {
          const code: number = c.q[m * c.K + k]!;
          if (k >= K) assert.equal(code, 0, `padding [${m},${k}]`);
          else assert.ok(Math.fround(code / c.s[m]!) === input.input[m * K + k], `a[${m},${k}] = q/s (±0 alike)`);
        }
      }
    }
    for (let i = 1; i < out.length; i++) assertBitIdentical(out[i]!, out[0]!, `backend/threads #${i} vs ref`);
  });

  test('Transformer: integer and f32 forwards agree (b1.58, v2); λ < 1, an input hook, BitNet v1 and f64 take the f32 path', async () => {
    const be = await wasm(2);
    const [B, T] = [2, 32];
    for (const quant of ['b158', 'v2-a8', 'v2-a4', 'bitnet'] as const) {
      const cfg = makeConfig('tiny', { quant, dim: 64, ffnDim: 128, nLayers: 2, maxSeqLen: T });
      const m = new Transformer(be, cfg);
      m.init(3);
      const rng = new Rng(4);
      const x = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
      const y = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
      const run = (integer: boolean) => {
        m.integerForward = integer;
        return { loss: m.forward(x, y, B, T), logits: Float32Array.from(m.logits()) };
      };
      const i = run(true), f = run(false);
      // A code can flip at a rounding boundary between the two paths and propagate, so the model-level check is
      // on the loss; the product-level tolerance is the test above.
      assert.ok(Math.abs(i.loss - f.loss) <= 1e-3 * f.loss, `${quant}: loss ${i.loss} vs ${f.loss}`);
      if (quant === 'bitnet') assertBitIdentical(i.logits, f.logits, 'bitnet (sign weights, per-tensor acts) has no integer path');
      // λ-warmup mixes float into both sides: the integer path steps aside, so the two settings agree bit for bit
      m.lambda = 0.5;
      assertBitIdentical(run(true).logits, run(false).logits, `${quant}: λ = 0.5`);
      m.lambda = 1;
      // a hook that replaces every input: each product must read the replacement (f32), not the original's codes
      m.inputHook = (_site, a, M, K) => a.slice(0, M * K).map((v, j) => (j % K === 0 ? 0 : v));
      const hooked = run(true);
      assertBitIdentical(hooked.logits, run(false).logits, `${quant}: hooked inputs`);
      assert.notDeepEqual(hooked.logits, i.logits, `${quant}: the hook changed the result`);
      m.inputHook = undefined;
    }
    // f64 (the gradchecks' dtype) has no integer path: integerForward changes nothing
    const cfg = makeConfig('tiny', { quant: 'b158', dim: 32, ffnDim: 64, nLayers: 1, maxSeqLen: 8 });
    const m64 = new Transformer(refBackend(), cfg, 'f64');
    m64.init(1);
    const toks = Int32Array.from({ length: 8 }, (_, j) => j % cfg.vocabSize);
    m64.integerForward = true;
    const l1 = m64.forward(toks, toks, 1, 8);
    m64.integerForward = false;
    assert.equal(m64.forward(toks, toks, 1, 8), l1);
  });
});
