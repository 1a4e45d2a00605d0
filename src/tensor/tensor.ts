/**
 * Tensor: a typed view with a shape. No autograd, no ops, no ownership:
 * memory belongs to an Arena (see arena.ts) or to the caller.
 */
import { ShapeError } from '../errors.js';
import { DTYPE_CTOR, dtypeOf, type DType, type DTypeMap } from './dtype.js';
import { fmtShape, numel, type Shape } from './shape.js';

export interface Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: Shape;
  readonly data: DTypeMap[D];
  readonly name?: string;
}

/** Wrap an existing typed array as a tensor; its length must equal the shape's element count. */
export function tensor<D extends DType>(data: DTypeMap[D], shape: Shape, name?: string): Tensor<D> {
  const n = numel(shape);
  if (data.length !== n) throw new ShapeError(`tensor${name ? ` '${name}'` : ''}: data has ${data.length} elements, shape ${fmtShape(shape)} needs ${n}`);
  return { dtype: dtypeOf(data) as D, shape: [...shape], data, ...(name !== undefined ? { name } : {}) };
}

/** A zero-filled tensor on the JS heap. */
export function zeros<D extends DType>(dtype: D, shape: Shape, name?: string): Tensor<D> {
  return tensor(new DTYPE_CTOR[dtype](numel(shape)) as DTypeMap[D], shape, name);
}

/** A view of `t` with a new shape of the same element count (no copy). */
export function reshape<D extends DType>(t: Tensor<D>, shape: Shape): Tensor<D> {
  return tensor(t.data, shape, t.name);
}

/** Row `i` of a 2-D (or leading-dimension) tensor as a view. */
export function row<D extends DType>(t: Tensor<D>, i: number): DTypeMap[D] {
  const inner = numel(t.shape.slice(1));
  if (i < 0 || i >= (t.shape[0] ?? 0)) throw new ShapeError(`row ${i} out of range for shape ${fmtShape(t.shape)}`);
  return t.data.subarray(i * inner, (i + 1) * inner) as DTypeMap[D];
}
