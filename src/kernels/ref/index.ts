// Every reference kernel. This set defines the Kernels interface (src/kernels/backend.ts).
export * from './matmul.js';
export * from './nn.js';
