/**
 * IEEE 754 binary16 ("half", f16) ↔ number, scalar and exact: the definitions behind the f16 tensors
 * of safetensors/GGUF files (src/io) and the f16 KV cache (src/kernels/ref/infer.ts f32ToF16/f16ToF32).
 *
 *   halfToFloat(h)   exact for every one of the 65536 bit patterns (subnormals, ±0, ±inf, NaN)
 *   floatToHalf(v)   v is first rounded to f32, then to the nearest half, ties to even; |v| ≥ 65520 → ±inf;
 *                    below half the smallest subnormal (2⁻²⁵) → ±0; NaN → 0x7e00 with v's sign (quiet)
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** IEEE half bits → float (exact). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** f32 → IEEE half bits, round to nearest even (overflow → ±inf, NaN stays NaN). */
export function floatToHalf(v: number): number {
  F32[0] = v;
  const x = U32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 2 ** (shift - 1);
    let r = Math.floor(mant / 2 ** shift);
    const rem = mant - r * 2 ** shift;
    if (rem > half || (rem === half && (r & 1))) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1))) r++; // a carry into the exponent is the correct rounding (up to inf)
  return sign | r;
}
