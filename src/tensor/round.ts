/**
 * Round half to even ("banker's rounding"), as torch.round and ggml's
 * nearest_int do. JS Math.round rounds halves towards +inf
 * (Math.round(-2.5) = -2, Math.round(2.5) = 3), which would make every
 * quantizer disagree with the reference implementations at ties.
 * docs/spec.md §0.2 "Rounding". WebAssembly's f32.nearest / f32x4.nearest is
 * round-half-even too, so the WASM kernels match this function exactly.
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; if we landed on an odd integer from an exact tie, step back.
  if (r - x === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/** Round half away from zero (C lroundf), used by ggml's TQ1_0/TQ2_0 quantizers. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Clamp to [lo, hi]. */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
