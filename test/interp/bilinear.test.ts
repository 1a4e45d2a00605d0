import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ShapeError } from '../../src/errors.js';
import { foldBiases, bilinearForward, bilinearTensor, contractTensor, decomposeOutputs, effectiveRank, eigenForm, hosvd, interactionMatrix, type BilinearWeights } from '../../src/interp/bilinear.js';
import { symEig } from '../../src/interp/eigen.js';
import { Rng } from '../../src/tensor/rng.js';
import { assertAllClose, randn } from '../helpers/check.js';

function layer(seed: number, D: number, H: number, O: number): BilinearWeights {
  const rng = new Rng(seed);
  return { W: randn(rng, H * D), V: randn(rng, H * D), P: randn(rng, O * H), D, H, O };
}

describe('bilinear tensor view (weights only)', () => {
  for (const [D, H, O] of [[5, 3, 2], [9, 16, 4], [20, 7, 10]] as const) {
    test(`uᵀy = Σ λᵢ (vᵢᵀx)² to 1e-9, D=${D} H=${H} O=${O}`, () => {
      const w = layer(D * 100 + H, D, H, O);
      const rng = new Rng(7);
      for (let trial = 0; trial < 5; trial++) {
        const x = randn(rng, D), u = randn(rng, O);
        const y = bilinearForward(w, x);
        let uy = 0;
        for (let o = 0; o < O; o++) uy += u[o]! * y[o]!;
        const e = symEig(interactionMatrix(w, u), D);
        const viaEig = eigenForm(e, x);
        assert.ok(Math.abs(uy - viaEig) <= 1e-9 * Math.max(1, Math.abs(uy)), `uᵀy ${uy} vs Σλ(v·x)² ${viaEig}`);
        // rank(Q) ≤ min(D, 2H): the other eigenvalues vanish
        const nz = Array.from(e.values).filter((v) => Math.abs(v) > 1e-9 * Math.abs(e.values[0]!) + 1e-12).length;
        assert.ok(nz <= Math.min(D, 2 * H), `rank ${nz} > min(D, 2H)`);
      }
    });
    test(`B·x·x equals the layer output, D=${D} H=${H} O=${O}`, () => {
      const w = layer(D + H + O, D, H, O);
      const B = bilinearTensor(w);
      // symmetric slices
      for (let o = 0; o < O; o++) for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) assert.equal(B[o * D * D + i * D + j], B[o * D * D + j * D + i]);
      const rng = new Rng(3);
      for (let t = 0; t < 4; t++) {
        const x = randn(rng, D);
        assertAllClose(contractTensor(B, x, O, D), bilinearForward(w, x), { atol: 1e-10, rtol: 1e-10 }, 'B·x·x');
      }
    });
  }

  test('Q(u) is linear in u and matches Σ_o u_o B_o', () => {
    const w = layer(11, 6, 5, 3);
    const B = bilinearTensor(w);
    const u = [0.3, -1.2, 2];
    const Q = interactionMatrix(w, u);
    const ref = new Float64Array(36);
    for (let o = 0; o < 3; o++) for (let i = 0; i < 36; i++) ref[i] = ref[i]! + u[o]! * B[o * 36 + i]!;
    assertAllClose(Q, ref, { atol: 1e-12, rtol: 0 });
  });

  test('HOSVD: Σσ² = ‖B‖²_F and the components reconstruct B', () => {
    const w = layer(5, 6, 4, 3);
    const { D, O } = w;
    const B = bilinearTensor(w);
    const h = hosvd(w);
    let fro = 0;
    for (const v of B) fro += v * v;
    const s2 = Array.from(h.sigma).reduce((a, s) => a + s * s, 0);
    assert.ok(Math.abs(fro - s2) < 1e-9 * fro, `‖B‖² ${fro} vs Σσ² ${s2}`);
    const rec = new Float64Array(O * D * D);
    for (let k = 0; k < h.sigma.length; k++) for (let o = 0; o < O; o++) {
      const f = h.sigma[k]! * h.outputDirs[k * O + o]!;
      for (let i = 0; i < D * D; i++) rec[o * D * D + i] = rec[o * D * D + i]! + f * h.matrices[k]![i]!;
    }
    assertAllClose(rec, B, { atol: 1e-10, rtol: 0 }, 'U Σ Rᵀ');
    for (let k = 0; k < h.sigma.length; k++) assert.ok(Math.abs(h.matrices[k]!.reduce((a, v) => a + v * v, 0) - 1) < 1e-10, 'unit right singular vectors');
  });

  test('effective rank (L1/L2)²: one-hot → 1, n equal magnitudes → n; decomposeOutputs gives one eig per output', () => {
    assert.equal(effectiveRank([0, 0, 3, 0]), 1);
    assert.ok(Math.abs(effectiveRank([1, -1, 1, -1, 1]) - 5) < 1e-12);
    assert.equal(decomposeOutputs(layer(1, 4, 3, 5)).length, 5);
  });

  test('biases folded in as a constant input reproduce (Wx + b) ⊙ (Vx + c)', () => {
    const w = layer(21, 5, 4, 3);
    const rng = new Rng(8);
    const b = randn(rng, 4), c = randn(rng, 4), x = randn(rng, 5);
    const f = foldBiases(w, b, c);
    const g = new Float64Array(4);
    for (let a = 0; a < 4; a++) {
      let l = b[a]!, r = c[a]!;
      for (let i = 0; i < 5; i++) {
        l += (w.W[a * 5 + i] as number) * x[i]!;
        r += (w.V[a * 5 + i] as number) * x[i]!;
      }
      g[a] = l * r;
    }
    const y = new Float64Array(3);
    for (let o = 0; o < 3; o++) for (let a = 0; a < 4; a++) y[o] = y[o]! + (w.P[o * 4 + a] as number) * g[a]!;
    const x1 = Float64Array.of(...x, 1);
    assertAllClose(bilinearForward(f, x1), y, { atol: 1e-12, rtol: 1e-12 });
    const e = symEig(interactionMatrix(f, [1, 0, 0]), 6);
    assert.ok(Math.abs(eigenForm(e, x1) - y[0]!) < 1e-9 * Math.max(1, Math.abs(y[0]!)));
  });

  test('shape errors name the operand', () => {
    const w = layer(1, 4, 3, 2);
    assert.throws(() => interactionMatrix(w, [1, 2, 3]), ShapeError);
    assert.throws(() => bilinearForward({ ...w, W: new Float64Array(5) }, new Float64Array(4)), /W has 5 elements/);
  });
});
