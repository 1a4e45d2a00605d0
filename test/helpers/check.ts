/**
 * Numeric assertions for tests: allclose with named tolerances, exact integer
 * equality, and a central-difference gradient check in float64.
 */
import assert from 'node:assert/strict';
import { Rng } from '../../src/tensor/rng.js';

type Num = ArrayLike<number>;

/** max |a-b| - (atol + rtol|b|) must be <= 0 everywhere; the message names the worst index. */
export function assertAllClose(actual: Num, expected: Num, opts: { atol: number; rtol: number }, what = 'value'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (!(Number.isNaN(a) && Number.isNaN(b))) assert.fail(`${what}[${i}]: ${a} vs ${b} (NaN mismatch)`);
      continue;
    }
    const excess = Math.abs(a - b) - (opts.atol + opts.rtol * Math.abs(b));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    assert.fail(`${what}[${worst}]: ${actual[worst]} vs expected ${expected[worst]} (|diff| ${Math.abs(actual[worst]! - expected[worst]!)} > atol ${opts.atol} + rtol ${opts.rtol}·|expected|)`);
  }
}

/** Exact elementwise equality (integer kernels, bit-identity checks). */
export function assertExact(actual: Num, expected: Num, what = 'value'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i]) && !(actual[i] === expected[i])) {
      assert.fail(`${what}[${i}]: ${actual[i]} !== ${expected[i]}`);
    }
  }
}

/** Bit-identical float arrays (NaN payloads aside): used for thread-count invariance. */
export function assertBitIdentical(a: Float32Array, b: Float32Array, what = 'value'): void {
  const ia = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ib = new Uint32Array(b.buffer, b.byteOffset, b.length);
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < ia.length; i++) if (ia[i] !== ib[i]) assert.fail(`${what}[${i}]: ${a[i]} and ${b[i]} differ in bits`);
}

export function randn(rng: Rng, n: number, std = 1): Float64Array {
  return rng.fillNormal(new Float64Array(n), 0, std) as Float64Array;
}

export function randnF32(rng: Rng, n: number, std = 1): Float32Array {
  return rng.fillNormal(new Float32Array(n), 0, std) as Float32Array;
}

/**
 * Central-difference gradient check in float64 ("fake loss", llm.c):
 *   L(inputs) = Σ forward(inputs) ⊙ r   for a fixed random r,
 * so the analytic gradient to compare is backward(dout = r).
 *
 * `forward(inputs)` returns the output array; `analytic` maps input name → gradient
 * computed by the kernel's backward with dout = r (given to `backward`).
 * Checks up to `maxCoords` coordinates of each input (chosen by a seeded RNG).
 */
export function gradcheck(opts: {
  inputs: Record<string, Float64Array>;
  forward: (inputs: Record<string, Float64Array>) => Float64Array;
  backward: (dout: Float64Array, inputs: Record<string, Float64Array>) => Record<string, Float64Array>;
  eps?: number;
  atol?: number;
  rtol?: number;
  maxCoords?: number;
  seed?: number;
  /** Inputs that are not differentiated (e.g. integer-valued). */
  skip?: string[];
}): void {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-7;
  const rtol = opts.rtol ?? 1e-5;
  const rng = new Rng(opts.seed ?? 1234);
  const out0 = opts.forward(opts.inputs);
  const r = randn(rng, out0.length);
  const grads = opts.backward(r, opts.inputs);
  const loss = (): number => {
    const o = opts.forward(opts.inputs);
    let s = 0;
    for (let i = 0; i < o.length; i++) s += o[i]! * r[i]!;
    return s;
  };
  for (const [name, x] of Object.entries(opts.inputs)) {
    if (opts.skip?.includes(name)) continue;
    const g = grads[name];
    assert.ok(g, `gradcheck: backward returned no gradient for '${name}'`);
    assert.equal(g.length, x.length, `gradcheck: gradient for '${name}' has wrong length`);
    const n = Math.min(x.length, opts.maxCoords ?? 64);
    const idx = x.length <= n ? [...Array(x.length).keys()] : rng.shuffle([...Array(x.length).keys()]).slice(0, n);
    for (const i of idx) {
      const orig = x[i]!;
      x[i] = orig + eps;
      const lp = loss();
      x[i] = orig - eps;
      const lm = loss();
      x[i] = orig;
      const fd = (lp - lm) / (2 * eps);
      const an: number = g[i]!;
      if (!(Math.abs(fd - an) <= atol + rtol * Math.max(Math.abs(fd), Math.abs(an)))) {
        assert.fail(`gradcheck '${name}'[${i}]: analytic ${an} vs finite-difference ${fd} (|diff| ${Math.abs(fd - an)})`);
      }
    }
  }
}

/** Shapes every parity test should cover: 1, primes, non-multiples of 16/128, and powers of two. */
export const AWKWARD_SIZES = [1, 3, 7, 13, 16, 17, 31, 64, 127, 129, 257];
