/**
 * Argument checks of the nn kernel family, shared by both twins (reference and
 * WASM) so that they raise the same typed errors for the same bad call.
 * Not a kernel file: do not re-export from the kernel index.
 *
 * `f32only` = the WASM twin: every float operand must be Float32Array
 * (DTypeError otherwise). The reference accepts f32 or f64, not mixed.
 */
import { ArgumentError } from '../../errors.js';
import type { FloatArray } from '../../tensor/dtype.js';
import { checkDType, checkDims, checkLen, checkPositive, checkSameFloat } from '../../tensor/shape.js';

export type Floats = Record<string, FloatArray | null>;

/** dtype checks for all non-null float operands. */
export function checkFloats(where: string, f32only: boolean, arrs: Floats): void {
  if (f32only) {
    // the WASM twins' path, on every call: no allocation
    for (const k in arrs) {
      const a = arrs[k]!;
      if (a !== null) checkDType(where, k, a, 'f32');
    }
    return;
  }
  const present: Record<string, FloatArray> = {};
  for (const [k, a] of Object.entries(arrs)) if (a !== null) present[k] = a;
  checkSameFloat(where, present);
}

/** Length checks: each operand (if non-null) must hold at least n elements. */
export function checkLens(where: string, lens: [string, ArrayLike<number> | null, number][]): void {
  for (const [name, a, n] of lens) if (a !== null) checkLen(where, name, a, n);
}

export function checkFinite(where: string, scalars: Record<string, number>, min = -Infinity): void {
  for (const [k, v] of Object.entries(scalars)) {
    if (!Number.isFinite(v) || v < min) throw new ArgumentError(`${where}: ${k}=${v} must be a finite number${min > -Infinity ? ` >= ${min}` : ''}`);
  }
}


// ---- per-family checks ----------------------------------------------------------------------

export function checkRowsCols(where: string, M: number, C: number): void {
  checkDims(where, { M });
  checkPositive(where, { C });
}

export function checkRmsnormForward(where: string, f32only: boolean, out: FloatArray, rstd: FloatArray, inp: FloatArray,
                                    weight: FloatArray | null, M: number, C: number, eps: number): void {
  checkRowsCols(where, M, C);
  checkFinite(where, { eps }, 0);
  checkFloats(where, f32only, { out, rstd, inp, weight });
  checkLens(where, [['out', out, M * C], ['rstd', rstd, M], ['inp', inp, M * C], ['weight', weight, C]]);
}

export function checkRmsnormBackward(where: string, f32only: boolean, dinp: FloatArray, dweight: FloatArray | null, dout: FloatArray,
                                     inp: FloatArray, weight: FloatArray | null, rstd: FloatArray, M: number, C: number): void {
  checkRowsCols(where, M, C);
  checkFloats(where, f32only, { dinp, dweight, dout, inp, weight, rstd });
  checkLens(where, [['dinp', dinp, M * C], ['dweight', dweight, C], ['dout', dout, M * C], ['inp', inp, M * C],
    ['weight', weight, C], ['rstd', rstd, M]]);
  if (dweight !== null && weight === null) throw new ArgumentError(`${where}: dweight given but weight is null`);
}

export function checkLayernormForward(where: string, f32only: boolean, out: FloatArray, mean: FloatArray, rstd: FloatArray,
                                      inp: FloatArray, weight: FloatArray | null, bias: FloatArray | null, M: number, C: number, eps: number): void {
  checkRowsCols(where, M, C);
  checkFinite(where, { eps }, 0);
  checkFloats(where, f32only, { out, mean, rstd, inp, weight, bias });
  checkLens(where, [['out', out, M * C], ['mean', mean, M], ['rstd', rstd, M], ['inp', inp, M * C], ['weight', weight, C], ['bias', bias, C]]);
}

export function checkLayernormBackward(where: string, f32only: boolean, dinp: FloatArray, dweight: FloatArray | null, dbias: FloatArray | null,
                                       dout: FloatArray, inp: FloatArray, weight: FloatArray | null, mean: FloatArray, rstd: FloatArray,
                                       M: number, C: number): void {
  checkRowsCols(where, M, C);
  checkFloats(where, f32only, { dinp, dweight, dbias, dout, inp, weight, mean, rstd });
  checkLens(where, [['dinp', dinp, M * C], ['dweight', dweight, C], ['dbias', dbias, C], ['dout', dout, M * C], ['inp', inp, M * C],
    ['weight', weight, C], ['mean', mean, M], ['rstd', rstd, M]]);
  if (dweight !== null && weight === null) throw new ArgumentError(`${where}: dweight given but weight is null`);
}

export function checkSoftmax(where: string, f32only: boolean, arrs: Floats, M: number, C: number): void {
  checkRowsCols(where, M, C);
  checkFloats(where, f32only, arrs);
  checkLens(where, Object.entries(arrs).map(([k, a]) => [k, a, M * C] as [string, FloatArray | null, number]));
}

export function checkRopeTables(where: string, f32only: boolean, cos: FloatArray, sin: FloatArray, maxT: number, HS: number, theta: number): void {
  checkDims(where, { maxT });
  checkPositive(where, { HS });
  if (HS % 2 !== 0) throw new ArgumentError(`${where}: head size HS=${HS} must be even for rotate-half RoPE`);
  checkFinite(where, { theta });
  if (!(theta > 0)) throw new ArgumentError(`${where}: theta=${theta} must be > 0`);
  checkFloats(where, f32only, { cos, sin });
  checkLens(where, [['cos', cos, maxT * (HS / 2)], ['sin', sin, maxT * (HS / 2)]]);
}

export function checkRope(where: string, f32only: boolean, a: FloatArray, aName: string, b: FloatArray, bName: string,
                          cos: FloatArray, sin: FloatArray, B: number, T: number, NH: number, HS: number, pos0: number): void {
  checkDims(where, { B, T, NH, pos0 });
  checkPositive(where, { HS });
  if (HS % 2 !== 0) throw new ArgumentError(`${where}: head size HS=${HS} must be even for rotate-half RoPE`);
  checkFloats(where, f32only, { [aName]: a, [bName]: b, cos, sin });
  const n = B * T * NH * HS;
  const tab = (pos0 + T) * (HS / 2);
  checkLens(where, [[aName, a, n], [bName, b, n], ['cos', cos, tab], ['sin', sin, tab]]);
}

export function checkAttentionDims(where: string, B: number, T: number, H: number, KVH: number, HS: number): void {
  checkDims(where, { B, T });
  checkPositive(where, { H, KVH, HS });
  if (H % KVH !== 0) throw new ArgumentError(`${where}: query heads H=${H} must be a multiple of key/value heads KVH=${KVH}`);
}

export function checkAttentionForward(where: string, f32only: boolean, out: FloatArray, att: FloatArray, q: FloatArray, k: FloatArray, v: FloatArray,
                                      B: number, T: number, H: number, KVH: number, HS: number): void {
  checkAttentionDims(where, B, T, H, KVH, HS);
  checkFloats(where, f32only, { out, att, q, k, v });
  checkLens(where, [['out', out, B * T * H * HS], ['att', att, B * H * T * T], ['q', q, B * T * H * HS],
    ['k', k, B * T * KVH * HS], ['v', v, B * T * KVH * HS]]);
}

export function checkAttentionBackward(where: string, f32only: boolean, dq: FloatArray, dk: FloatArray, dv: FloatArray, datt: FloatArray,
                                       dout: FloatArray, q: FloatArray, k: FloatArray, v: FloatArray, att: FloatArray,
                                       B: number, T: number, H: number, KVH: number, HS: number): void {
  checkAttentionDims(where, B, T, H, KVH, HS);
  checkFloats(where, f32only, { dq, dk, dv, datt, dout, q, k, v, att });
  const nq = B * T * H * HS;
  const nkv = B * T * KVH * HS;
  const na = B * H * T * T;
  checkLens(where, [['dq', dq, nq], ['dk', dk, nkv], ['dv', dv, nkv], ['datt', datt, na], ['dout', dout, nq],
    ['q', q, nq], ['k', k, nkv], ['v', v, nkv], ['att', att, na]]);
}

/** Targets must be an Int32Array of M entries in [0, V) or -1 (ignored). */
export function checkTargets(where: string, targets: Int32Array, M: number, V: number): void {
  checkDType(where, 'targets', targets, 'i32');
  checkLen(where, 'targets', targets, M);
  for (let i = 0; i < M; i++) {
    const t = targets[i]!;
    if (t !== -1 && (t < 0 || t >= V)) throw new ArgumentError(`${where}: targets[${i}]=${t} out of range [0, ${V}) (use -1 to ignore a position)`);
  }
}

export function checkCrossentropyForward(where: string, f32only: boolean, losses: FloatArray, probs: FloatArray, logits: FloatArray,
                                         targets: Int32Array, M: number, V: number): void {
  checkRowsCols(where, M, V);
  checkFloats(where, f32only, { losses, probs, logits });
  checkLens(where, [['losses', losses, M], ['probs', probs, M * V], ['logits', logits, M * V]]);
  checkTargets(where, targets, M, V);
}

export function checkCrossentropyBackward(where: string, f32only: boolean, dlogits: FloatArray, dlosses: FloatArray, probs: FloatArray,
                                          targets: Int32Array, M: number, V: number): void {
  checkRowsCols(where, M, V);
  checkFloats(where, f32only, { dlogits, dlosses, probs });
  checkLens(where, [['dlogits', dlogits, M * V], ['dlosses', dlosses, M], ['probs', probs, M * V]]);
  checkTargets(where, targets, M, V);
}

/** Elementwise ops: all operands hold at least n elements. */
export function checkElementwise(where: string, f32only: boolean, arrs: Floats, n: number): void {
  checkDims(where, { n });
  checkFloats(where, f32only, arrs);
  checkLens(where, Object.entries(arrs).map(([k, a]) => [k, a, n] as [string, FloatArray | null, number]));
}

export function checkHadamard(where: string, f32only: boolean, a: FloatArray, aName: string, b: FloatArray, bName: string, M: number, n: number): void {
  checkDims(where, { M });
  checkPositive(where, { n });
  if ((n & (n - 1)) !== 0) throw new ArgumentError(`${where}: n=${n} must be a power of two (Walsh–Hadamard)`);
  checkFloats(where, f32only, { [aName]: a, [bName]: b });
  checkLens(where, [[aName, a, M * n], [bName, b, M * n]]);
}

export function checkAdamw(where: string, f32only: boolean, param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, n: number,
                           lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number): void {
  checkDims(where, { n });
  checkFinite(where, { lr, eps, weightDecay }, 0);
  for (const [k, b] of [['beta1', beta1], ['beta2', beta2]] as const) {
    if (!(b >= 0 && b < 1)) throw new ArgumentError(`${where}: ${k}=${b} must be in [0, 1)`);
  }
  if (!Number.isInteger(step) || step < 1) throw new ArgumentError(`${where}: step=${step} must be an integer >= 1 (bias correction)`);
  checkFloats(where, f32only, { param, grad, m, v });
  checkLens(where, [['param', param, n], ['grad', grad, n], ['m', m, n], ['v', v, n]]);
}
