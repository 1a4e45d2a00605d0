/**
 * The standalone BitLinear layer: mode 'fp' passes a float64 finite-difference gradcheck (quantized modes
 * are not differentiable: their backward is the STE by definition); b1.58 forward = fake-quant input ×
 * fake-quant weight and backward = the straight-through estimator (dx = dy·w̃, dW = dyᵀ·x̃); WASM agrees.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError } from '../../src/errors.js';
import { createBackend, refBackend } from '../../src/kernels/backend.js';
import * as R from '../../src/kernels/ref/index.js';
import { BitLinear } from '../../src/nn/bitlinear.js';
import { AdamW, DEFAULT_ADAMW } from '../../src/train/adamw.js';
import { Arena } from '../../src/tensor/arena.js';
import { Rng } from '../../src/tensor/rng.js';
import { assertAllClose, gradcheck, randn } from '../helpers/check.js';

test('BitLinear fp: float64 gradcheck of dx and dW', () => {
  const [M, K, N] = [3, 8, 5];
  const layer = new BitLinear(refBackend(), Arena.heap(), { inFeatures: K, outFeatures: N, mode: 'fp', maxRows: 4, dtype: 'f64', seed: 1 });
  const x = randn(new Rng(2), M * K);
  gradcheck({
    inputs: { x, w: layer.weight as Float64Array },
    forward: (i) => Float64Array.from(layer.forward(i.x!, M)),
    backward: (dy, i) => {
      layer.forward(i.x!, M);
      layer.grad.fill(0);
      const dx = Float64Array.from(layer.backward(dy, M));
      return { x: dx, w: Float64Array.from(layer.grad) };
    },
  });
});

test('BitLinear b1.58: forward = fake-quant x · fake-quant W, backward = STE; wasm agrees', async () => {
  const [M, K, N] = [4, 16, 6];
  const layer = new BitLinear(refBackend(), Arena.heap(), { inFeatures: K, outFeatures: N, mode: 'b158', maxRows: 4, seed: 3 });
  const x = new Float32Array(randn(new Rng(4), M * K));
  const y = Float32Array.from(layer.forward(x, M));
  const xq = new Float32Array(M * K), wq = new Float32Array(N * K), want = new Float32Array(M * N);
  R.fakeQuantAbsmaxI8PerToken(xq, x, M, K);
  R.fakeQuantTernary(wq, layer.weight, N * K);
  R.matmul(want, xq, wq, M, K, N);
  assertAllClose(y, want, { atol: 1e-6, rtol: 1e-6 }, 'forward');
  const dy = new Float32Array(randn(new Rng(5), M * N));
  layer.grad.fill(0);
  const dx = layer.backward(dy, M);
  const wantDx = new Float32Array(M * K), wantDw = new Float32Array(N * K);
  R.matmulBackwardInput(wantDx, dy, wq, M, K, N);
  R.matmulBackwardWeight(wantDw, dy, xq, M, K, N);
  assertAllClose(dx, wantDx, { atol: 1e-6, rtol: 1e-6 }, 'dx (STE)');
  assertAllClose(layer.grad, wantDw, { atol: 1e-6, rtol: 1e-6 }, 'dW (STE)');
  const be = await createBackend({ backend: 'wasm', threads: 1 });
  try {
    const wl = new BitLinear(be, be.arena, { inFeatures: K, outFeatures: N, mode: 'b158', maxRows: 4, seed: 3 });
    assertAllClose(wl.forward(x, M), y, { atol: 1e-5, rtol: 1e-5 }, 'wasm forward');
  } finally {
    await be.dispose();
  }
});

test('BitLinear bitnet with the shifted input (v1 Eq.6): forward = shifted fake-quant LN(x) · sign weights; wasm agrees', async () => {
  const [M, K, N] = [4, 24, 5];
  const layer = new BitLinear(refBackend(), Arena.heap(), { inFeatures: K, outFeatures: N, mode: 'bitnet', shifted: true, maxRows: 4, seed: 6 });
  const x = new Float32Array(randn(new Rng(7), M * K)).map((v) => Math.max(0, v));
  const y = Float32Array.from(layer.forward(x, M));
  const ln = new Float32Array(M * K), mean = new Float32Array(M), rstd = new Float32Array(M);
  R.layernormForward(ln, mean, rstd, x, null, null, M, K, 1e-5);
  const xq = new Float32Array(M * K), wq = new Float32Array(N * K), want = new Float32Array(M * N);
  R.fakeQuantShiftedU7PerTensor(xq, ln, M * K);
  R.fakeQuantSign(wq, layer.weight, N * K);
  R.matmul(want, xq, wq, M, K, N);
  assertAllClose(y, want, { atol: 1e-6, rtol: 1e-6 }, 'forward');
  const be = await createBackend({ backend: 'wasm', threads: 1 });
  try {
    const wl = new BitLinear(be, be.arena, { inFeatures: K, outFeatures: N, mode: 'bitnet', shifted: true, maxRows: 4, seed: 6 });
    assertAllClose(wl.forward(x, M), y, { atol: 1e-5, rtol: 1e-5 }, 'wasm forward');
  } finally {
    await be.dispose();
  }
});

test('BitLinear: typed errors', () => {
  const ar = Arena.heap();
  assert.throws(() => new BitLinear(refBackend(), ar, { inFeatures: 4, outFeatures: 2, mode: 'b158', shifted: true, maxRows: 1 }), (e: Error) => e instanceof ArgumentError && /shifted/.test(e.message));
  assert.throws(() => new BitLinear(refBackend(), ar, { inFeatures: 0, outFeatures: 2, mode: 'b158', maxRows: 1 }), ArgumentError);
  assert.throws(() => new BitLinear(refBackend(), ar, { inFeatures: 6, outFeatures: 2, mode: 'v2-a4', maxRows: 1, hadamard: true }), ArgumentError);
  const l = new BitLinear(refBackend(), ar, { inFeatures: 4, outFeatures: 2, mode: 'b158', maxRows: 2 });
  assert.throws(() => l.forward(new Float32Array(12), 3), ArgumentError);
});

test('BitLinear as a layer on its own: parameters() is the latent weight and its gradient; AdamW through them fits a ternary teacher (b1.58, STE)', () => {
  const be = refBackend();
  const arena = Arena.heap();
  const [M, K, N] = [16, 32, 8];
  const layer = new BitLinear(be, arena, { inFeatures: K, outFeatures: N, mode: 'b158', maxRows: M, seed: 7 });
  const ps = layer.parameters();
  assert.equal(ps.length, 1);
  assert.equal(ps[0]!.p, layer.weight);
  assert.equal(ps[0]!.g, layer.grad);
  assert.deepEqual(ps[0]!.shape, [N, K]);
  const rng = new Rng(8);
  const teacher = Float32Array.from({ length: N * K }, () => Math.round(rng.uniform() * 2 - 1) * 0.05);
  const x = new Float32Array(randn(rng, M * K));
  const target = new Float32Array(M * N);
  R.matmul(target, x, teacher, M, K, N);
  const opt = new AdamW(be, arena, layer.weight.length, layer.weight.length, DEFAULT_ADAMW);
  const loss = () => {
    const y = layer.forward(x, M);
    let s = 0;
    for (let i = 0; i < M * N; i++) s += (y[i]! - target[i]!) ** 2;
    return s / (M * N);
  };
  const first = loss();
  for (let step = 0; step < 100; step++) {
    const y = layer.forward(x, M);
    const dy = new Float32Array(M * N);
    for (let i = 0; i < M * N; i++) dy[i] = (2 * (y[i]! - target[i]!)) / (M * N);
    layer.zeroGrad();
    layer.backward(dy, M);
    for (const p of layer.parameters()) opt.update(p.p, p.g, 1e-2, 0);
  }
  const last = loss();
  assert.ok(last < 0.5 * first, `loss ${first} → ${last}`);
});
