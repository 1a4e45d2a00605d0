/**
 * QuIP (Chee, Cai, Kuleshov, De Sa 2023, arXiv 2307.13304): quantization with incoherence
 * processing. The weight and Hessian are conjugated by random orthogonal matrices so that
 * no entry of W stands out and H has no dominant direction, then rounded adaptively with
 * LDLQ — which the paper shows is the same rounding as OPTQ/GPTQ (Theorem 6) — and rotated back:
 *
 *   W̃ = U W Vᵀ   (N, K),   H̃ = V H Vᵀ   (K, K)          U: N × N, V: K × K orthogonal
 *   Q̃ = LDLQ(W̃, H̃)                                       (here: gptqQuantize, same grid)
 *   Ŵ = Uᵀ Q̃ V                                            (so Ŵx = Uᵀ Q̃ (V x): exact rotations)
 *
 * U and V are randomized Hadamard matrices (H·diag(±1), QuIP#) when the size is a power of two,
 * else Haar-random orthogonal (the original paper uses Kronecker products of small random
 * orthogonal matrices for speed; at these sizes a dense one is fine). They are generated from a
 * seed, so a deployment stores only the seed; the engine here runs the folded dense Ŵ (fake quant).
 */
import { ArgumentError } from '../errors.js';
import { Rng } from '../tensor/rng.js';
import { gptqQuantize, type GptqOptions } from './gptq.js';
import { matmul, randomizedHadamard, randomOrthogonal, transpose } from './linalg.js';

export type RotationKind = 'auto' | 'hadamard' | 'orthogonal';

/** A random n × n orthogonal matrix: randomized Hadamard (power-of-two n, unless 'orthogonal') or Haar. */
export function randomRotation(n: number, rng: Rng, kind: RotationKind = 'auto'): Float64Array {
  const pow2 = n > 0 && (n & (n - 1)) === 0;
  if (kind === 'hadamard' && !pow2) throw new ArgumentError(`randomRotation: a Hadamard rotation needs a power-of-two size, got ${n}`);
  return (kind === 'hadamard' || (kind === 'auto' && pow2)) ? randomizedHadamard(n, rng) : randomOrthogonal(n, rng);
}

/** Incoherence processing: W̃ = U W Vᵀ and H̃ = V H Vᵀ. */
export function incoherence(W: ArrayLike<number>, N: number, K: number, H: ArrayLike<number>, U: Float64Array, V: Float64Array): { Wt: Float64Array; Ht: Float64Array } {
  const Vt = transpose(V, K, K);
  const Wt = matmul(matmul(U, W, N, N, K), Vt, N, K, K);
  const Ht = matmul(matmul(V, H, K, K, K), Vt, K, K, K);
  return { Wt, Ht };
}

/** Undo the rotations: Ŵ = Uᵀ Q̃ V. */
export function unrotate(Qt: ArrayLike<number>, N: number, K: number, U: Float64Array, V: Float64Array): Float64Array {
  return matmul(matmul(transpose(U, N, N), Qt, N, N, K), V, N, K, K);
}

export interface QuipOptions extends GptqOptions {
  seed: number;
  rotation: RotationKind;
}

/** QuIP-quantize W (N, K) with Hessian H (K, K); returns the dequantized Ŵ in the original basis. */
export function quipQuantize(W: ArrayLike<number>, N: number, K: number, H: ArrayLike<number>, opts: Partial<QuipOptions> & { seed: number }): Float64Array {
  const rng = new Rng(opts.seed);
  const U = randomRotation(N, rng.fork('U'), opts.rotation);
  const V = randomRotation(K, rng.fork('V'), opts.rotation);
  const { Wt, Ht } = incoherence(W, N, K, H, U, V);
  const Qt = gptqQuantize(Wt, N, K, Ht, { ...opts, actOrder: false });
  return unrotate(Qt, N, K, U, V);
}
