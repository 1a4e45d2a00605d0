// Every reference kernel (kernels only: argument checkers live in ../checks.ts and */_checks.ts).
// This set defines the Kernels interface (src/kernels/backend.ts).
export * from './matmul.js';
export * from './nn.js';
export {
  quantizeAbsmaxI8PerToken, quantizeAbsmaxI8PerTensor, fakeQuantAbsmaxI8PerToken, fakeQuantAbsmaxI8PerTensor,
  quantizeAbsmeanI4PerToken, fakeQuantAbsmeanI4PerToken, quantizeShiftedU7PerToken,
  fakeQuantShiftedU7PerToken, fakeQuantShiftedU7PerTensor,
  quantizeTernaryAbsmean, quantizeTernaryAbsmeanGrouped, fakeQuantTernary,
  quantizeSign, quantizeSignGrouped, fakeQuantSign, packSignsI2R4, quantizeFakeAbsmaxI8PerToken,
} from './quant.js';
export {
  matmulTernaryI8, matmulTernaryI8Acc, matmulTernaryI4, matmulTernaryI4Acc, matmulTernaryR4I8, matmulTernaryR4I4,
  matmulTernary1p6I8, matmulTernary1p6I8Acc, matmulBinaryI8, matmulBinaryI8Acc,
} from './ternary.js';
export { attentionCached, attentionCachedF16, f32ToF16, f16ToF32, matmulI7, quantizeRowsI7R4, quantizeRowsI7R4F16 } from './infer.js';
export { matmulQ4G } from './head4.js';
