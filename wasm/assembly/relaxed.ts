// Entry of relaxed.wasm: everything in core plus relaxed-SIMD variants, named *_relaxed.
export * from './core';
export * from './ternary_relaxed';
export * from './infer_relaxed';
export * from './head4_relaxed';
