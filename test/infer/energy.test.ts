import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeConfig } from '../../src/model/config.js';
import { matmulEnergyPerToken, weightBytes } from '../../src/science/energy.js';

describe('energy model', () => {
  test('per-op ratio reproduces the 71.4× (7 nm, fp16 MAC vs int8 add) of BitNet b1.58', () => {
    const fp = makeConfig('2b4t', { quant: 'fp' });
    const b = makeConfig('2b4t', { quant: 'b158' });
    const ef = matmulEnergyPerToken(fp), eb = matmulEnergyPerToken(b, { node: '7nm', fpPrecision: 'fp16', rescalePrecision: 'fp16' });
    // adds-only ratio: (0.34 + 0.16) / 0.007 per MAC. The rescales are (N + K) fp16 multiplies per N·K int8 adds:
    // a few percent of the total at d = 2560 for one token.
    assert.ok(Math.abs(ef.joules / eb.addJ - 71.43) < 0.1, `ratio ${ef.joules / eb.addJ}`);
    assert.ok(eb.mulJ / eb.joules > 0.01 && eb.mulJ / eb.joules < 0.05, `rescale share ${eb.mulJ / eb.joules}`);
  });
  test('weight memory: 2 bits per ternary weight, 16 per fp16 weight', () => {
    const c = makeConfig('tiny');
    assert.equal(weightBytes({ ...c, quant: 'fp' }) / weightBytes(c), 8);
  });
});
