/**
 * Element types. A Tensor's `data` is always the matching TypedArray.
 * f64 exists for the reference kernels and finite-difference gradient checks.
 */
export type DType = 'f32' | 'f64' | 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32';

export interface DTypeMap {
  f32: Float32Array;
  f64: Float64Array;
  i8: Int8Array;
  u8: Uint8Array;
  i16: Int16Array;
  /** IEEE half bits (the f16 KV cache, src/tensor/half.ts). */
  u16: Uint16Array;
  i32: Int32Array;
  u32: Uint32Array;
}

export type TypedArray = DTypeMap[DType];
/** Float storage accepted by the reference kernels (f64 for gradchecks). */
export type FloatArray = Float32Array | Float64Array;

type Ctor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; new (length: number): T; BYTES_PER_ELEMENT: number };

export const DTYPE_CTOR: { [K in DType]: Ctor<DTypeMap[K]> } = {
  f32: Float32Array,
  f64: Float64Array,
  i8: Int8Array,
  u8: Uint8Array,
  i16: Int16Array,
  u16: Uint16Array,
  i32: Int32Array,
  u32: Uint32Array,
};

export const DTYPE_BYTES: { [K in DType]: number } = { f32: 4, f64: 8, i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4 };

/** The dtype of a typed array, or undefined for unsupported arrays. */
export function dtypeOf(a: ArrayBufferView): DType | undefined {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Int8Array) return 'i8';
  if (a instanceof Uint8Array) return 'u8';
  if (a instanceof Int16Array) return 'i16';
  if (a instanceof Uint16Array) return 'u16';
  if (a instanceof Int32Array) return 'i32';
  if (a instanceof Uint32Array) return 'u32';
  return undefined;
}
