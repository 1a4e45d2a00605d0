// Every WASM kernel binding: same names as src/kernels/ref/index.ts, with a leading WasmContext.
export * from './matmul.js';
export * from './nn.js';
export * from './quant.js';
export * from './ternary.js';
export * from './infer.js';
export { matmulQ4G } from './head4.js';
