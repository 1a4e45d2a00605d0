/**
 * The packed weight formats, one traits table (ggml `type_traits` style):
 * everything generic code needs to size, pack, unpack and multiply a packed
 * matrix, keyed by the format name. Byte layouts are documented in
 * src/quant/pack.ts where they are defined.
 *
 *   name    values    bits/weight  block (weights / bytes)  row padding  scale       matmul kernel (int8 acts)
 *   'i2'    ternary   2            64 / 16                  code 1 (0)   per tensor  matmulTernaryI8 (+ matmulTernaryI4 for int4 acts)
 *   'i1.6'  ternary   1.6          80 / 16                  trit 1 (0)   per tensor  matmulTernary1p6I8
 *   'b1'    binary    1            128 / 16                 bit 0 (−1)   per tensor  matmulBinaryI8
 *   'i2r4'  ternary   2            64 / 16, rows ×4 interl. code 1 (0)   per tensor  matmulTernaryR4I8 / matmulTernaryR4I4
 *           (the decode layout: 'i2' blocks with four rows interleaved, N padded to a multiple of 4)
 *
 * Adding a format (e.g. GGUF TQ1_0 / TQ2_0 with per-256-block fp16 scales): add its
 * name to FormatName, its pack/unpack to pack.ts, and a row here; `scale` says where its
 * scales live ('per-block' formats carry them inside the packed bytes, so `rowBytes`
 * includes them) and `matmul`/`matmulAcc` name its kernels (undefined until written).
 */
import { ArgumentError } from '../errors.js';
import {
  B1_BLOCK, BLOCK_BYTES, I1P6_BLOCK, I2_BLOCK,
  packB1, packI1p6, packI2, packI2R4, ROW_GROUP, rowBytesB1, rowBytesI1p6, rowBytesI2, unpackB1, unpackI1p6, unpackI2, unpackI2R4,
} from './pack.js';

/** Names of the packed formats. Extend the union and FORMAT_TRAITS together. */
export type FormatName = 'i2' | 'i1.6' | 'b1' | 'i2r4';

/** Names of packed-matmul kernels in the Kernels interface (src/kernels/ref/ternary.ts). */
export type PackedMatmulKernel = 'matmulTernaryI8' | 'matmulTernaryI4' | 'matmulTernary1p6I8' | 'matmulBinaryI8' | 'matmulTernaryR4I8' | 'matmulTernaryR4I4';
export type PackedMatmulAccKernel = 'matmulTernaryI8Acc' | 'matmulTernaryI4Acc' | 'matmulTernary1p6I8Acc' | 'matmulBinaryI8Acc';

export interface FormatTraits {
  readonly name: FormatName;
  /** Weight alphabet: ternary {-1,0,1} or binary {-1,+1}. */
  readonly values: 'ternary' | 'binary';
  /** Storage bits per weight, excluding row padding and scales. */
  readonly bitsPerWeight: number;
  /** Weights per block; rows are padded to a whole number of blocks. */
  readonly blockWeights: number;
  /** Bytes per block. */
  readonly blockBytes: number;
  /** Where the weight scale lives: one β per tensor (or per row group), passed to the kernels. */
  readonly scale: 'per-tensor' | 'per-block';
  /** Bytes of one packed row of K weights. */
  rowBytes(K: number): number;
  /** Rows interleaved per group (1: row by row; 4: 'i2r4', N padded to a multiple of it). */
  readonly rowGroup: number;
  /** Bytes of a packed (N, K) matrix. */
  bytes(N: number, K: number): number;
  /** Pack q (N, K) ∈ values into dst (N, rowBytes(K)). */
  pack(dst: Uint8Array, q: Int8Array, N: number, K: number): void;
  /** Unpack src (N, rowBytes(K)) into q (N, K). */
  unpack(q: Int8Array, src: Uint8Array, N: number, K: number): void;
  /** Kernel for (M,K) int8 activations → (M,N) f32 outputs. */
  readonly matmul: PackedMatmulKernel | undefined;
  /** Kernel returning the raw int32 accumulators. */
  readonly matmulAcc: PackedMatmulAccKernel | undefined;
  /** Kernels for int4 activations (codes in [-8, 7]), if any. */
  readonly matmulI4: PackedMatmulKernel | undefined;
  readonly matmulI4Acc: PackedMatmulAccKernel | undefined;
}

function traits(t: Omit<FormatTraits, 'bytes'>): FormatTraits {
  return { ...t, bytes: (N: number, K: number) => Math.ceil(N / t.rowGroup) * t.rowGroup * t.rowBytes(K) };
}

/** The format table. */
export const FORMAT_TRAITS: Readonly<Record<FormatName, FormatTraits>> = {
  'i2': traits({
    name: 'i2', values: 'ternary', bitsPerWeight: 2, blockWeights: I2_BLOCK, blockBytes: BLOCK_BYTES, scale: 'per-tensor',
    rowBytes: rowBytesI2, rowGroup: 1, pack: packI2, unpack: unpackI2,
    matmul: 'matmulTernaryI8', matmulAcc: 'matmulTernaryI8Acc', matmulI4: 'matmulTernaryI4', matmulI4Acc: 'matmulTernaryI4Acc',
  }),
  'i1.6': traits({
    name: 'i1.6', values: 'ternary', bitsPerWeight: 1.6, blockWeights: I1P6_BLOCK, blockBytes: BLOCK_BYTES, scale: 'per-tensor',
    rowBytes: rowBytesI1p6, rowGroup: 1, pack: packI1p6, unpack: unpackI1p6,
    matmul: 'matmulTernary1p6I8', matmulAcc: 'matmulTernary1p6I8Acc', matmulI4: undefined, matmulI4Acc: undefined,
  }),
  'b1': traits({
    name: 'b1', values: 'binary', bitsPerWeight: 1, blockWeights: B1_BLOCK, blockBytes: BLOCK_BYTES, scale: 'per-tensor',
    rowBytes: rowBytesB1, rowGroup: 1, pack: packB1, unpack: unpackB1,
    matmul: 'matmulBinaryI8', matmulAcc: 'matmulBinaryI8Acc', matmulI4: undefined, matmulI4Acc: undefined,
  }),
  'i2r4': traits({
    name: 'i2r4', values: 'ternary', bitsPerWeight: 2, blockWeights: I2_BLOCK, blockBytes: BLOCK_BYTES, scale: 'per-tensor',
    rowBytes: rowBytesI2, rowGroup: ROW_GROUP, pack: packI2R4, unpack: unpackI2R4,
    matmul: 'matmulTernaryR4I8', matmulAcc: undefined, matmulI4: 'matmulTernaryR4I4', matmulI4Acc: undefined,
  }),
};

/** Traits of a format by name; unknown names raise ArgumentError. */
export function formatTraits(name: string): FormatTraits {
  if (!Object.prototype.hasOwnProperty.call(FORMAT_TRAITS, name)) {
    throw new ArgumentError(`unknown packed format '${name}' (known: ${Object.keys(FORMAT_TRAITS).join(', ')})`);
  }
  return FORMAT_TRAITS[name as FormatName];
}
