/**
 * The nn kernel family (reference twins): everything except matmul and quantization.
 * Re-export this file (not nn_checks.ts) from the kernel index.
 */
export { rmsnormForward, rmsnormBackward, layernormForward, layernormBackward } from './norm.js';
export { softmaxForward, softmaxBackward, crossentropyForward, crossentropyBackward } from './softmax.js';
export { ropeTables, ropeForward, ropeBackward } from './rope.js';
export { attentionForward, attentionBackward } from './attention.js';
export {
  siluForward, siluBackward, relu2Forward, relu2Backward, geluForward, geluBackward,
  swigluForward, swigluBackward, relu2gluForward, relu2gluBackward, bilinearForward, bilinearBackward, add,
} from './activation.js';
export { hadamardForward, hadamardBackward } from './hadamard.js';
export { adamwStep, sumSquares, scale } from './adamw.js';
