/**
 * Scaling-law fit L(N) = a·N^b + c (BitNet 2310.11453 §3.3, Eq. 19; docs/spec.md §1.5) by nonlinear
 * least squares, with standard errors from the asymptotic covariance σ²(JᵀJ)⁻¹, and predictions
 * (with a delta-method standard error) at sizes outside the fitted range.
 *
 * Parameterised as (ln a, b, c) so a stays positive; the error of a is σ(ln a)·a (delta method).
 * Starting point: c₀ = 0.9·min L, then (ln a, b) from the straight line log(L − c₀) vs log N.
 */
import { ArgumentError } from '../errors.js';
import { levenbergMarquardt } from './linalg.js';

export interface ScalingFit {
  a: number; b: number; c: number;
  aErr: number; bErr: number; cErr: number;
  /** Covariance of (ln a, b, c). */
  cov: Float64Array;
  rmse: number;
  points: number;
}

export function fitScalingLaw(N: ArrayLike<number>, L: ArrayLike<number>): ScalingFit {
  const n = N.length;
  if (n !== L.length) throw new ArgumentError(`fitScalingLaw: ${n} sizes but ${L.length} losses`);
  if (n < 3) throw new ArgumentError(`fitScalingLaw: need at least 3 points to fit 3 parameters, got ${n}`);
  for (let i = 0; i < n; i++) if (!(N[i]! > 0) || !Number.isFinite(L[i]!)) throw new ArgumentError(`fitScalingLaw: point ${i} (N=${N[i]}, L=${L[i]}) must have N > 0 and a finite loss`);
  const lmin = Math.min(...Array.from(L));
  const c0 = lmin > 0 ? 0.9 * lmin : lmin - 0.1 * Math.abs(lmin) - 1e-3;
  // Line fit of log(L − c0) = ln a + b log N.
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let i = 0; i < n; i++) {
    const x = Math.log(N[i]!), y = Math.log(L[i]! - c0);
    sx += x; sy += y; sxx += x * x; sxy += x * y;
  }
  const b0 = (n * sxy - sx * sy) / Math.max(1e-300, n * sxx - sx * sx);
  const la0 = (sy - b0 * sx) / n;
  const res = (p: Float64Array) => {
    const r = new Float64Array(n);
    for (let i = 0; i < n; i++) r[i] = Math.exp(p[0]! + p[1]! * Math.log(N[i]!)) + p[2]! - L[i]!;
    return r;
  };
  const fit = levenbergMarquardt(res, [la0, b0, c0], { maxIter: 2000, tol: 1e-15 });
  const [la, b, c] = fit.params as unknown as [number, number, number];
  const a = Math.exp(la);
  const sd = (i: number) => Math.sqrt(Math.max(0, fit.covariance[i * 3 + i]!));
  return { a, b, c, aErr: a * sd(0), bErr: sd(1), cErr: sd(2), cov: fit.covariance, rmse: Math.sqrt(fit.sse / n), points: n };
}

/** L(N) from a fit, with the delta-method standard error. */
export function predictScaling(f: ScalingFit, N: number): { loss: number; err: number } {
  const t = f.a * N ** f.b;
  const g = [t, t * Math.log(N), 1];
  let v = 0;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) v += g[i]! * f.cov[i * 3 + j]! * g[j]!;
  return { loss: t + f.c, err: Math.sqrt(Math.max(0, v)) };
}
