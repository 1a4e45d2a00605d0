/**
 * Shapes and argument checks shared by every kernel. Checks are cheap (O(1))
 * and run on every call: a wrong length must raise ShapeError, never read
 * out of bounds or silently produce garbage.
 */
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { dtypeOf, type DType } from './dtype.js';

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides in elements. */
export function strides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function shapeEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function fmtShape(shape: Shape): string {
  return `(${shape.join(', ')})`;
}

/** Dimension sizes must be non-negative integers. */
export function checkDims(where: string, dims: Record<string, number>): void {
  for (const k in dims) { // for-in, not Object.entries: these run on every kernel call (no allocation)
    const v = dims[k]!;
    if (!Number.isInteger(v) || v < 0) throw new ArgumentError(`${where}: dimension ${k}=${v} must be a non-negative integer`);
  }
}

/** Dimension sizes must be positive integers. */
export function checkPositive(where: string, dims: Record<string, number>): void {
  for (const k in dims) {
    const v = dims[k]!;
    if (!Number.isInteger(v) || v <= 0) throw new ArgumentError(`${where}: ${k}=${v} must be a positive integer`);
  }
}

/** `arr` must have at least `n` elements (views may be longer than needed only if `exact` is false). */
export function checkLen(where: string, name: string, arr: ArrayLike<number>, n: number, exact = false): void {
  if (exact ? arr.length !== n : arr.length < n) {
    throw new ShapeError(`${where}: ${name} has ${arr.length} elements, expected ${exact ? '' : 'at least '}${n}`);
  }
}

/** `arr` must be one of the given dtypes. */
export function checkDType(where: string, name: string, arr: ArrayBufferView, ...allowed: DType[]): void {
  const dt = dtypeOf(arr);
  if (dt === undefined || !allowed.includes(dt)) {
    throw new DTypeError(`${where}: ${name} must be ${allowed.join(' or ')}, got ${dt ?? arr.constructor.name}`);
  }
}

/** Same float dtype for all arrays (the reference kernels accept f32 or f64, not mixed). */
export function checkSameFloat(where: string, arrs: Record<string, ArrayBufferView>): void {
  let first: DType | undefined;
  for (const name in arrs) {
    const a = arrs[name]!;
    checkDType(where, name, a, 'f32', 'f64');
    const dt = dtypeOf(a);
    if (first === undefined) first = dt;
    else if (dt !== first) throw new DTypeError(`${where}: ${name} is ${dt} but other operands are ${first}`);
  }
}
