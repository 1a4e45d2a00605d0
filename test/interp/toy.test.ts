import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { refBackend } from '../../src/kernels/backend.js';
import { boolOp, idealToyMatrix, pairs, toyBatch, trainToy, DEFAULT_TOY } from '../../src/interp/toy.js';
import { Rng } from '../../src/tensor/rng.js';

const be = refBackend();

describe('Boolean toy tasks', () => {
  test('ops, pairs and batches', () => {
    assert.deepEqual(['and', 'or', 'xor', 'nand', 'nor', 'xnor'].map((o) => [0, 1, 2, 3].map((k) => boolOp(o as 'and', k >> 1, k & 1)).join('')), ['0001', '0111', '0110', '1110', '1000', '1001']);
    assert.deepEqual(pairs(3), [[0, 1], [0, 2], [1, 2]]);
    const b = toyBatch(new Rng(1), 2000, 3, 0.3, 'xor');
    const on = b.x.reduce((s, v) => s + v, 0) / b.x.length;
    assert.ok(Math.abs(on - 0.3) < 0.03, `P(on) = ${on}`);
    for (let m = 0; m < 2000; m++) assert.equal(b.t[m * 3 + 2], b.x[m * 3 + 1]! ^ b.x[m * 3 + 2]!);
  });

  for (const op of ['and', 'xor'] as const) {
    test(`${op}: the trained layer's interaction matrices show the known pattern`, () => {
      const n = 3;
      const r = trainToy(be, { ...DEFAULT_TOY, nInputs: n, hidden: 6, op, steps: 600, batch: 256, seed: 2 }, 'f64');
      assert.ok(r.loss < 1e-3, `${op}: MSE ${r.loss}`);
      r.pairs.forEach(([i, j], k) => {
        const Q = r.matrices[k]!;
        const ideal = idealToyMatrix(op, n, i, j)!;
        for (let a = 0; a < n * n; a++) assert.ok(Math.abs(Q[a]! - ideal[a]!) < 0.08, `${op}(x${i}, x${j}) Q[${a}] = ${Q[a]} vs ${ideal[a]}`);
        if (op === 'and') {
          assert.ok(Q[i * n + j]! > 0.4, 'AND: positive cross-interaction');
          assert.ok(Math.abs(Q[i * n + i]!) < 0.08 && Math.abs(Q[j * n + j]!) < 0.08, 'AND: no self-interaction');
        } else {
          assert.ok(Q[i * n + j]! < -0.8 && Q[i * n + i]! > 0.8, 'XOR: positive self, negative cross');
        }
      });
    });
  }
});
