// placeholder: relaxed-SIMD ternary kernels (*_relaxed) go here
