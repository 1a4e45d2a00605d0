/** Argument checks shared by the reference kernels and their WASM bindings. */
import { DTypeError } from '../errors.js';
import type { FloatArray } from '../tensor/dtype.js';
import { checkDims, checkLen, checkSameFloat } from '../tensor/shape.js';

/** Dims are non-negative integers, arrays share one float dtype and are long enough. */
export function checkMatmul(where: string, a: Record<string, FloatArray>, sizes: Record<string, number>, M: number, K: number, N: number): void {
  checkDims(where, { M, K, N });
  checkSameFloat(where, a);
  for (const [name, n] of Object.entries(sizes)) checkLen(where, name, a[name]!, n);
}

/** The WASM kernels compute in f32 only. */
export function f32Only(where: string, arrs: Record<string, ArrayBufferView>): void {
  for (const [k, v] of Object.entries(arrs)) {
    if (!(v instanceof Float32Array)) throw new DTypeError(`${where}: wasm kernels take Float32Array; ${k} is ${v.constructor.name}`);
  }
}
