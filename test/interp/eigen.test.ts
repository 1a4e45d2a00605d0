import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NumericsError, ShapeError } from '../../src/errors.js';
import { reconstruct, row, symEig } from '../../src/interp/eigen.js';
import { Rng } from '../../src/tensor/rng.js';
import { assertAllClose, randn } from '../helpers/check.js';

/** Random orthogonal n×n (rows) by Gram–Schmidt on Gaussian vectors, twice for stability. */
function randomOrthogonal(rng: Rng, n: number): Float64Array {
  const U = randn(rng, n * n);
  for (let pass = 0; pass < 2; pass++) for (let i = 0; i < n; i++) {
    const ui = row(U, i, n);
    for (let j = 0; j < i; j++) {
      const uj = row(U, j, n);
      let d = 0;
      for (let k = 0; k < n; k++) d += ui[k]! * uj[k]!;
      for (let k = 0; k < n; k++) ui[k] = ui[k]! - d * uj[k]!;
    }
    let s = 0;
    for (let k = 0; k < n; k++) s += ui[k]! ** 2;
    for (let k = 0; k < n; k++) ui[k] = ui[k]! / Math.sqrt(s);
  }
  return U;
}

/** A = Σ λ_i u_i u_iᵀ */
function withSpectrum(U: Float64Array, lam: number[], n: number): Float64Array {
  return reconstruct(Float64Array.from(lam), U, n);
}

function checkOrthonormal(vectors: Float64Array, n: number, tol: number): void {
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) {
    let d = 0;
    for (let k = 0; k < n; k++) d += vectors[i * n + k]! * vectors[j * n + k]!;
    assert.ok(Math.abs(d - (i === j ? 1 : 0)) <= tol, `vᵢ·vⱼ (${i}, ${j}) = ${d}`);
  }
}

describe('symEig (Householder + implicit QL, float64)', () => {
  for (const n of [1, 2, 3, 7, 16, 50]) {
    test(`recovers a known spectrum, n = ${n}`, () => {
      const rng = new Rng(n);
      const lam = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -1 : 1) * (1 + i * 0.7) * (i % 5 === 4 ? 1e-3 : 1));
      const U = randomOrthogonal(rng, n);
      const A = withSpectrum(U, lam, n);
      const e = symEig(A, n);
      assertAllClose(e.values, Float64Array.from(lam).sort((a, b) => b - a), { atol: 1e-11, rtol: 1e-11 }, 'eigenvalues');
      checkOrthonormal(e.vectors, n, 1e-12);
      for (let i = 0; i < n; i++) {
        // A v = λ v
        const v = row(e.vectors, i, n);
        const Av = new Float64Array(n);
        for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) Av[a] = Av[a]! + A[a * n + b]! * v[b]!;
        assertAllClose(Av, v.map((x) => x * e.values[i]!), { atol: 1e-11, rtol: 0 }, `A v_${i}`);
      }
      assertAllClose(reconstruct(e.values, e.vectors, n), A, { atol: 1e-11, rtol: 0 }, 'reconstruction');
    });
  }

  test('repeated eigenvalues and a zero matrix still give an orthonormal basis', () => {
    const n = 12;
    const U = randomOrthogonal(new Rng(3), n);
    const lam = [5, 5, 5, 0, 0, 0, 0, -2, -2, 1, 1, 1];
    const e = symEig(withSpectrum(U, lam, n), n);
    assertAllClose(e.values, Float64Array.from(lam).sort((a, b) => b - a), { atol: 1e-12, rtol: 0 });
    checkOrthonormal(e.vectors, n, 1e-12);
    const z = symEig(new Float64Array(9), 3);
    assert.deepEqual(Array.from(z.values), [0, 0, 0]);
    checkOrthonormal(z.vectors, 3, 0);
  });

  test('2×2 against the closed form; diagonal input is returned sorted', () => {
    const [a, b, d] = [2, 1.5, -1];
    const e = symEig([a, b, b, d], 2);
    const m = (a + d) / 2, r = Math.hypot((a - d) / 2, b);
    assertAllClose(e.values, [m + r, m - r], { atol: 1e-14, rtol: 0 });
    const g = symEig([1, 0, 0, 0, 3, 0, 0, 0, -2], 3);
    assert.deepEqual(Array.from(g.values), [3, 1, -2]);
    assert.equal(Math.abs(g.vectors[1]!), 1);
  });

  test('bad input: wrong length is a ShapeError, NaN a NumericsError', () => {
    assert.throws(() => symEig(new Float64Array(5), 2), ShapeError);
    assert.throws(() => symEig([1, NaN, NaN, 1], 2), NumericsError);
  });
});
