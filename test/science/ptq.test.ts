import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ArgumentError } from '../../src/errors.js';
import { refBackend } from '../../src/kernels/backend.js';
import { validateConfig, type ModelConfig } from '../../src/model/config.js';
import { Transformer } from '../../src/model/transformer.js';
import { Rng } from '../../src/tensor/rng.js';
import { gptqQuantize, HessianAccumulator, reconstructionError, rtnMinMax } from '../../src/science/gptq.js';
import { cholesky, hadamardMatrix, matmul, orthogonalityError, randomOrthogonal, randomizedHadamard, spdInverse, transpose, upperCholeskyOfInverse } from '../../src/science/linalg.js';
import { actQuantHook, channelAbsMax, cloneModel, fakeQuantActPerToken, PTQ_METHODS, quantizeModel, rtnAbsmaxPerChannel, type CalibBatch } from '../../src/science/ptq.js';
import { incoherence, quipQuantize, randomRotation, unrotate } from '../../src/science/quip.js';
import { smoothModel } from '../../src/science/smoothquant.js';
import { assertAllClose } from '../helpers/check.js';

/** Calibration activations with correlated channels and a few outlier channels (as in real LLM inputs). */
function correlatedX(rng: Rng, M: number, K: number): Float64Array {
  const mix = new Float64Array(K * K);
  for (let i = 0; i < K * K; i++) mix[i] = rng.normal() / Math.sqrt(K);
  for (let i = 0; i < K; i++) mix[i * K + i]! += 1;
  const z = new Float64Array(M * K);
  for (let i = 0; i < M * K; i++) z[i] = rng.normal();
  const x = matmul(z, mix, M, K, K);
  for (let m = 0; m < M; m++) for (const j of [3, 17]) x[m * K + j]! *= 8;
  return x;
}

function gram(x: Float64Array, M: number, K: number): Float64Array {
  return matmul(transpose(x, M, K), x, K, M, K);
}

function spd(rng: Rng, n: number): Float64Array {
  const A = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) A[i] = rng.normal();
  const S = matmul(A, transpose(A, n, n), n, n, n);
  for (let i = 0; i < n; i++) S[i * n + i]! += n;
  return S;
}

describe('linalg', () => {
  test('Cholesky, SPD inverse and the upper factor of the inverse', () => {
    const n = 7;
    const A = spd(new Rng(1), n);
    const L = cholesky(A, n);
    assertAllClose(matmul(L, transpose(L, n, n), n, n, n), A, { atol: 1e-9, rtol: 1e-12 }, 'L Lᵀ');
    const Ai = spdInverse(A, n);
    const I = new Float64Array(n * n);
    for (let i = 0; i < n; i++) I[i * n + i] = 1;
    assertAllClose(matmul(A, Ai, n, n, n), I, { atol: 1e-12, rtol: 0 }, 'A A⁻¹');
    const U = upperCholeskyOfInverse(A, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) assert.equal(U[i * n + j], 0, 'U is upper triangular');
    assertAllClose(matmul(transpose(U, n, n), U, n, n, n), Ai, { atol: 1e-12, rtol: 1e-10 }, 'UᵀU = A⁻¹');
  });
  test('rotations are orthogonal (Haar QR, Hadamard, randomized Hadamard)', () => {
    const rng = new Rng(2);
    for (const n of [1, 5, 24]) assert.ok(orthogonalityError(randomOrthogonal(n, rng), n) < 1e-12, `Haar ${n}`);
    for (const n of [1, 2, 16, 64]) {
      assert.ok(orthogonalityError(hadamardMatrix(n), n) < 1e-12, `H ${n}`);
      assert.ok(orthogonalityError(randomizedHadamard(n, rng), n) < 1e-12, `HD ${n}`);
    }
    assert.throws(() => hadamardMatrix(12), ArgumentError);
    // Different seeds give different rotations; the same seed the same one.
    assert.notDeepEqual(randomOrthogonal(6, new Rng(3)), randomOrthogonal(6, new Rng(4)));
    assert.deepEqual(randomOrthogonal(6, new Rng(3)), randomOrthogonal(6, new Rng(3)));
  });
});

describe('GPTQ', () => {
  const N = 24, K = 64, M = 512;
  const rng = new Rng(11);
  const X = correlatedX(rng, M, K);
  const G = gram(X, M, K);
  const W = new Float64Array(N * K);
  for (let i = 0; i < W.length; i++) W[i] = rng.normal() * 0.05;
  const acc = new HessianAccumulator(K);
  acc.add(X, M);
  const H = acc.result();
  test('the Hessian accumulator is 2XᵀX / M', () => {
    assertAllClose(H, G.map((v) => (2 * v) / M), { atol: 1e-12, rtol: 1e-12 }, 'H');
  });
  for (const bits of [2, 3, 4]) {
    test(`reconstruction error ‖XWᵀ − XŴᵀ‖² is below round-to-nearest on the same grid (W${bits})`, () => {
      const rtn = reconstructionError(W, rtnMinMax(W, N, K, bits), N, K, G);
      for (const opts of [{ actOrder: false, blockSize: 128 }, { actOrder: true, blockSize: 16 }, { actOrder: false, blockSize: 8, groupSize: 32 }]) {
        const q = gptqQuantize(W, N, K, H, { bits, ...opts });
        const e = reconstructionError(W, q, N, K, G);
        assert.ok(e < 0.8 * rtn, `GPTQ ${JSON.stringify(opts)}: ${e} vs RTN ${rtn}`);
        // every row stays on a (2^bits)-level grid
        for (let r = 0; r < N && opts.groupSize === undefined; r++) assert.ok(new Set(q.subarray(r * K, (r + 1) * K)).size <= 2 ** bits, 'levels per row');
      }
    });
  }
  test('lazy batch updates do not change the result (block size 1 = block size K)', () => {
    assertAllClose(gptqQuantize(W, N, K, H, { bits: 3, blockSize: 1 }), gptqQuantize(W, N, K, H, { bits: 3, blockSize: K }), { atol: 1e-12, rtol: 0 }, 'Ŵ');
  });
  test('QuIP: incoherence processing is function-preserving and its 2-bit rounding beats RTN', () => {
    const U = randomRotation(N, new Rng(5)), V = randomRotation(K, new Rng(6));
    assert.ok(orthogonalityError(U, N) < 1e-12 && orthogonalityError(V, K) < 1e-12);
    const { Wt, Ht } = incoherence(W, N, K, H, U, V);
    // Ŵ = Uᵀ W̃ V recovers W exactly, and (W̃)(V x) = U (W x).
    assertAllClose(unrotate(Wt, N, K, U, V), W, { atol: 1e-12, rtol: 0 }, 'UᵀW̃V');
    const x = X.subarray(0, K);
    assertAllClose(matmul(Wt, matmul(V, x, K, K, 1), N, K, 1), matmul(U, matmul(W, x, N, K, 1), N, N, 1), { atol: 1e-10, rtol: 0 }, 'W̃Vx = UWx');
    // the proxy loss is invariant: tr(Δ̃ H̃ Δ̃ᵀ) = tr(Δ H Δᵀ) for Δ̃ = U Δ Vᵀ
    const D = W.map((v, i) => v - Math.round(v * 20) / 20 + (i % 3) * 1e-3);
    const { Wt: Dt } = incoherence(D, N, K, H, U, V);
    const z = new Float64Array(N * K);
    assert.ok(Math.abs(reconstructionError(Dt, z, N, K, Ht) - reconstructionError(D, z, N, K, H)) < 1e-9);
    const rtn = reconstructionError(W, rtnMinMax(W, N, K, 2), N, K, G);
    const quip = reconstructionError(W, quipQuantize(W, N, K, H, { bits: 2, seed: 1 }), N, K, G);
    assert.ok(quip < rtn, `QuIP ${quip} vs RTN ${rtn}`);
  });
});

const CFG: ModelConfig = validateConfig({
  vocabSize: 23, dim: 16, nLayers: 2, nHeads: 2, nKvHeads: 1, ffnDim: 32, maxSeqLen: 12,
  ropeTheta: 10000, normEps: 1e-5, ffn: 'swiglu', subln: true, tieEmbeddings: true, quant: 'fp', groups: 1,
});

function model(cfg: ModelConfig, dtype: 'f32' | 'f64' = 'f64', outlier = 6): Transformer {
  const m = new Transformer(refBackend(), cfg, dtype);
  m.init(7);
  const rng = new Rng(9);
  // generic norm weights and an outlier channel so smoothing has something to do
  for (const info of m.table) if (!info.decay) for (let i = 0; i < info.size; i++) m.param(info.name).p[i] = 1 + 0.5 * rng.normal() + (i === 2 ? outlier : 0);
  return m;
}

function calib(cfg: ModelConfig, n: number, seed: number): CalibBatch[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => ({ tokens: Int32Array.from({ length: 2 * 10 }, () => rng.int(cfg.vocabSize)), B: 2, T: 10 }));
}

function logitsOf(m: Transformer, b: CalibBatch): Float64Array {
  m.forward(b.tokens, null, b.B, b.T);
  return Float64Array.from(m.logits());
}

describe('SmoothQuant', () => {
  const variants: Array<[string, Partial<ModelConfig>]> = [
    ['SubLN (scales fold into every RMSNorm)', {}],
    ['no SubLN, MHA SwiGLU (o: v_proj rows, down: up_proj rows)', { subln: false, nKvHeads: 2 }],
    ['no SubLN, ReLU MLP (down: up_proj rows, positive homogeneity)', { subln: false, nKvHeads: 2, ffn: 'mlp-relu' }],
  ];
  for (const [name, over] of variants) {
    test(`is exactly function-preserving before quantization: ${name}`, () => {
      const cfg = validateConfig({ ...CFG, ...over });
      const m = model(cfg);
      const cb = calib(cfg, 2, 1);
      const before = logitsOf(m, cb[0]!);
      const sm = cloneModel(m);
      const skipped = smoothModel(sm, channelAbsMax(sm, cb), 0.5);
      assert.deepEqual(skipped, []);
      // the weights really changed…
      assert.ok(sm.params.some((v, i) => Math.abs(v - m.params[i]!) > 1e-3));
      // …and the function did not.
      assertAllClose(logitsOf(sm, cb[0]!), before, { atol: 1e-11, rtol: 1e-11 }, 'logits');
    });
  }
  test('reports sites it cannot fold exactly (GELU MLP, no SubLN, GQA)', () => {
    const cfg = validateConfig({ ...CFG, subln: false, ffn: 'mlp-gelu' });
    const m = model(cfg);
    const skipped = smoothModel(m, channelAbsMax(m, calib(cfg, 1, 1)), 0.5);
    assert.deepEqual(skipped, ['layers.0.o', 'layers.0.down', 'layers.1.o', 'layers.1.down']);
  });
  test('smoothing lowers the activation quantization error of outlier channels', () => {
    const m = model(CFG, 'f64', 40);
    const cb = calib(CFG, 2, 3);
    const ref = logitsOf(m, cb[1]!);
    const err = (q: Transformer) => logitsOf(q, cb[1]!).reduce((s, v, i) => s + (v - ref[i]!) ** 2, 0);
    for (const bits of ['w8a8', 'w4a4']) {
      const plain = quantizeModel(m, `absmax-${bits}`, cb).model;
      const smooth = quantizeModel(m, `smoothquant-${bits}`, cb).model;
      assert.ok(err(smooth) < err(plain), `${bits}: smooth ${err(smooth)} vs absmax ${err(plain)}`);
    }
  });
});

describe('PTQ models', () => {
  test('every method runs through Transformer.forward; error grows as bits shrink', () => {
    const m = model(CFG, 'f32');
    const cb = calib(CFG, 2, 5);
    const ref = logitsOf(m, cb[0]!);
    const err: Record<string, number> = {};
    for (const name of Object.keys(PTQ_METHODS)) {
      const { model: q } = quantizeModel(m, name, cb);
      const l = logitsOf(q, cb[0]!);
      assert.ok(l.every(Number.isFinite), name);
      err[name] = Math.sqrt(l.reduce((s, v, i) => s + (v - ref[i]!) ** 2, 0) / l.length);
    }
    assert.deepEqual(logitsOf(m, cb[0]!), ref, 'the FP model is untouched');
    assert.ok(err['absmax-w8a8']! < err['absmax-w4a4']!, JSON.stringify(err));
    assert.ok(err['gptq-w4a16']! < err['gptq-w2a16']!, JSON.stringify(err));
    assert.ok(err['absmax-w8a8']! < 0.05 * Math.sqrt(ref.reduce((s, v) => s + v * v, 0) / ref.length), JSON.stringify(err));
  });
  test('absmax quantizers: per-token activations and per-channel weights land on the integer grid', () => {
    const rng = new Rng(4);
    const x = Float64Array.from({ length: 3 * 8 }, () => rng.normal());
    const out = new Float64Array(x.length);
    fakeQuantActPerToken(out, x, 3, 8, 4);
    for (let m = 0; m < 3; m++) {
      const amax = Math.max(...Array.from(x.subarray(m * 8, m * 8 + 8), Math.abs));
      for (let j = 0; j < 8; j++) {
        const q = (out[m * 8 + j]! * 7) / amax;
        assert.ok(Math.abs(q - Math.round(q)) < 1e-9 && Math.abs(q) <= 7);
      }
    }
    const w = rtnAbsmaxPerChannel(x, 3, 8, 8);
    for (let r = 0; r < 3; r++) assertAllClose(w.subarray(r * 8, r * 8 + 8), x.subarray(r * 8, r * 8 + 8), { atol: Math.max(...Array.from(x.subarray(r * 8, r * 8 + 8), Math.abs)) / 254 + 1e-12, rtol: 0 });
  });
  test('an observing hook sees every site once per forward with its width, and changes nothing', () => {
    for (const quant of ['fp', 'b158', 'v2-a8'] as const) {
      const cfg = validateConfig({ ...CFG, quant, ffnDim: 32 });
      const m = new Transformer(refBackend(), cfg, 'f32');
      m.init(3);
      const b = calib(cfg, 1, 4)[0]!;
      const loss0 = m.forward(b.tokens, b.tokens, b.B, b.T);
      const l0 = Float32Array.from(m.logits());
      const seen: string[] = [];
      m.inputHook = (site, _x, M, K) => {
        seen.push(`${site.layer}.${site.kind}:${M}x${K}`);
        return undefined;
      };
      const loss1 = m.forward(b.tokens, b.tokens, b.B, b.T);
      assert.equal(loss1, loss0, quant);
      assert.deepEqual(Float32Array.from(m.logits()), l0, quant);
      m.backward(); // allowed: nothing was replaced
      const M = b.B * b.T;
      assert.deepEqual(seen, [0, 1].flatMap((l) => [`${l}.attn:${M}x16`, `${l}.o:${M}x16`, `${l}.ffn:${M}x16`, `${l}.down:${M}x32`]), quant);
    }
  });
  test('the input hook is forward-only: backward after a replaced input is refused', () => {
    const m = model(CFG, 'f32');
    m.inputHook = actQuantHook(8);
    const b = calib(CFG, 1, 2)[0]!;
    m.forward(b.tokens, b.tokens, b.B, b.T);
    assert.throws(() => m.backward(), ArgumentError);
    m.inputHook = undefined;
    m.forward(b.tokens, b.tokens, b.B, b.T);
    m.backward();
  });
  test('post-training quantization refuses a model that is not full precision, and unknown methods', () => {
    const m = new Transformer(refBackend(), { ...CFG, quant: 'b158' });
    assert.throws(() => quantizeModel(m, 'absmax-w8a8', []), /full-precision/);
    assert.throws(() => quantizeModel(model(CFG), 'nope', []), /unknown PTQ method/);
    assert.throws(() => quantizeModel(model(CFG), 'gptq-w4a16', []), /calibration/);
  });
});
