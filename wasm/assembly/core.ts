// Entry of core.wasm: every SIMD128 kernel. Kernel families live in their own files.
// Threaded kernels take trailing (r0: i32, r1: i32, tid: i32): the row range this
// thread owns and its index (for per-thread scratch).
export * from './matmul';
export * from './nn';
export * from './quant';
export * from './ternary';
export * from './membw';
export * from './infer';
export * from './head4';
export * from './headq';
export const HEAP_BASE: usize = __heap_base;
