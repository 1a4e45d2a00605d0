import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ArgumentError } from '../../src/errors.js';
import { makeConfig } from '../../src/model/config.js';
import { formatEnergyPerToken, formatWeightBytes, FP16_FORMAT, linearShapes, matmulEnergyPerToken, trainedFormat, weightBytes } from '../../src/science/energy.js';
import { ptqFormat } from '../../src/science/ptq.js';
import { fitScalingLaw, predictScaling } from '../../src/science/scaling.js';
import { Rng } from '../../src/tensor/rng.js';

describe('energy per token for every format', () => {
  const c = makeConfig('2b4t', { quant: 'fp' });
  test('reproduces the 71.4× FP16 MAC vs INT8 add ratio at 7 nm (b1.58 §3), 50× at 45 nm', () => {
    const fp = formatEnergyPerToken(c, FP16_FORMAT);
    const b = formatEnergyPerToken(c, trainedFormat('b158'));
    // per MAC (0.34 + 0.16)/0.007 = 71.43; the N·K muls vs N·(K−1) adds add 0.34/(0.007·K) ≈ 0.02 at K = 2560
    assert.ok(Math.abs(fp.joules / b.addJ - 71.43) < 0.05, `${fp.joules / b.addJ}`);
    const o45 = { node: '45nm', fpPrecision: 'fp16', rescalePrecision: 'fp16' } as const;
    assert.ok(Math.abs(formatEnergyPerToken(c, FP16_FORMAT, o45).joules / formatEnergyPerToken(c, trainedFormat('b158'), o45).addJ - 50) < 0.05);
  });
  test('agrees with the existing per-model energy and memory for FP and b1.58', () => {
    const b = makeConfig('tiny');
    assert.deepEqual(formatEnergyPerToken(c, FP16_FORMAT), matmulEnergyPerToken(c));
    assert.deepEqual(formatEnergyPerToken(b, trainedFormat('b158')), matmulEnergyPerToken(b));
    assert.equal(formatWeightBytes(b, trainedFormat('b158')), weightBytes(b));
    assert.equal(formatWeightBytes({ ...b, quant: 'fp' }, FP16_FORMAT), weightBytes({ ...b, quant: 'fp' }));
  });
  test('orders the PTQ formats as expected: W8A8 int MACs between FP16 and additions; W·A16 costs FP16 arithmetic', () => {
    const e = (m: string) => formatEnergyPerToken(c, ptqFormat(m, c)).joules;
    const fp = formatEnergyPerToken(c, FP16_FORMAT).joules;
    assert.ok(e('absmean-w1.58a8') < e('absmax-w8a8') && e('absmax-w8a8') < fp);
    assert.equal(e('gptq-w4a16'), fp);
    assert.ok(e('quip-w2a16') > fp, 'online rotations cost extra');
    let n = 0;
    for (const [N, K] of linearShapes(c)) n += N * K;
    const rows = linearShapes(c).reduce((s, [N]) => s + N, 0);
    assert.equal(formatWeightBytes(c, ptqFormat('gptq-w4a16', c)), n / 2 + 3 * rows);
    assert.equal(formatWeightBytes(c, ptqFormat('absmax-w8a8', c)), n + 2 * rows);
  });
  test('rescale precision is a parameter', () => {
    const b = trainedFormat('b158');
    const f16 = formatEnergyPerToken(c, b, { node: '7nm', fpPrecision: 'fp16', rescalePrecision: 'fp16' });
    const f32 = formatEnergyPerToken(c, b, { node: '7nm', fpPrecision: 'fp16', rescalePrecision: 'fp32' });
    assert.equal(f16.addJ, f32.addJ);
    assert.ok(Math.abs(f32.mulJ / f16.mulJ - 1.31 / 0.34) < 1e-9);
  });
});

describe('scaling-law fit L(N) = aN^b + c', () => {
  const Ns = [1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8];
  const truth = { a: 40, b: -0.28, c: 1.7 };
  const law = (N: number) => truth.a * N ** truth.b + truth.c;
  test('recovers known parameters from exact synthetic points', () => {
    const f = fitScalingLaw(Ns, Ns.map(law));
    assert.ok(Math.abs(f.a / truth.a - 1) < 1e-4 && Math.abs(f.b - truth.b) < 1e-5 && Math.abs(f.c - truth.c) < 1e-5, JSON.stringify(f));
    assert.ok(Math.abs(predictScaling(f, 1e9).loss - law(1e9)) < 1e-4);
  });
  test('with noise, the truth lies within 3 standard errors and the held-out prediction within 3σ', () => {
    const rng = new Rng(8);
    const f = fitScalingLaw(Ns, Ns.map((N) => law(N) + 0.005 * rng.normal()));
    assert.ok(Math.abs(f.b - truth.b) < 3 * f.bErr && f.bErr > 0, `b ${f.b} ± ${f.bErr}`);
    assert.ok(Math.abs(f.c - truth.c) < 3 * f.cErr && f.cErr > 0, `c ${f.c} ± ${f.cErr}`);
    const p = predictScaling(f, 1e8);
    assert.ok(Math.abs(p.loss - law(1e8)) < 3 * p.err + 0.01, `${p.loss} ± ${p.err} vs ${law(1e8)}`);
  });
  test('refuses too few or bad points', () => {
    assert.throws(() => fitScalingLaw([1, 2], [3, 2]), ArgumentError);
    assert.throws(() => fitScalingLaw([1, -2, 3], [3, 2, 1]), ArgumentError);
  });
});
