// The nn kernel family (everything but matmul and quantization); one file per group.
export * from './nn_norm';
export * from './nn_softmax';
export * from './nn_rope';
export * from './nn_attention';
export * from './nn_act';
export * from './nn_adamw';
export * from './nn_hadamard';
