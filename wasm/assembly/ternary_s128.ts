// SIMD128 primitives of the packed-weight matmuls (ternary_driver.ts runs them in core.wasm): codes
// widened to i16 and multiplied with i32x4.dot_i16x8_s, exact int32 accumulation (no block limit).
// Not a module entry: only what the driver reaches is compiled.
import { sum_i8, reduce4, hsum, FMT_I2, FMT_I1P6, FMT_B1, block_weights, codes, trits, times3 } from './ternary_common';

/** Σ over 16 weights of c·x with c (u8 codes) and x (i8) widened to i16: one i32x4. */
@inline export function dot16(c: v128, x: v128): v128 {
  return i32x4.add(
    i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(c), i16x8.extend_low_i8x16_s(x)),
    i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(c), i16x8.extend_high_i8x16_s(x)));
}

/** Same, with the activations already widened (xl, xh). */
@inline export function dot16w(c: v128, xl: v128, xh: v128): v128 {
  return i32x4.add(
    i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(c), xl),
    i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(c), xh));
}

/** Σ code·x over nb full blocks of 4 rows (row stride rb): [row0, row1, row2, row3]. */
@inline export function dots4_s128(FMT: i32, w: usize, rb: usize, x: usize, nb: i32, c3: i32, BSH: i32 = 4): v128 {
  const m3 = i8x16.splat(<i8>c3);
  const m1 = i8x16.splat(<i8>(c3 >> 1));
  const lo = i8x16.splat(<i8>(-14 * c3 - 1)); // −43
  const hi = i8x16.splat(<i8>(14 * c3)); // 42
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  for (let g = 0; g < nb; g++) {
    const wo = w + (<usize>g << BSH);
    let b0 = v128.load(wo), b1 = v128.load(wo + rb), b2 = v128.load(wo + 2 * rb), b3 = v128.load(wo + 3 * rb);
    const xp = x + <usize>(g * block_weights(FMT));
    if (FMT == FMT_I2) {
      { const xv = v128.load(xp, 0); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 0, m3), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 0, m3), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 0, m3), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 0, m3), xl, xh));
      }
      { const xv = v128.load(xp, 16); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 2, m3), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 2, m3), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 2, m3), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 2, m3), xl, xh));
      }
      { const xv = v128.load(xp, 32); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 4, m3), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 4, m3), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 4, m3), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 4, m3), xl, xh));
      }
      { const xv = v128.load(xp, 48); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 6, m3), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 6, m3), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 6, m3), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 6, m3), xl, xh));
      }
    } else if (FMT == FMT_B1) {
      { const xv = v128.load(xp, 0); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 0, m1), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 0, m1), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 0, m1), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 0, m1), xl, xh));
      }
      { const xv = v128.load(xp, 16); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 1, m1), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 1, m1), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 1, m1), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 1, m1), xl, xh));
      }
      { const xv = v128.load(xp, 32); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 2, m1), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 2, m1), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 2, m1), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 2, m1), xl, xh));
      }
      { const xv = v128.load(xp, 48); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 3, m1), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 3, m1), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 3, m1), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 3, m1), xl, xh));
      }
      { const xv = v128.load(xp, 64); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 4, m1), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 4, m1), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 4, m1), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 4, m1), xl, xh));
      }
      { const xv = v128.load(xp, 80); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 5, m1), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 5, m1), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 5, m1), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 5, m1), xl, xh));
      }
      { const xv = v128.load(xp, 96); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 6, m1), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 6, m1), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 6, m1), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 6, m1), xl, xh));
      }
      { const xv = v128.load(xp, 112); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 7, m1), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 7, m1), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 7, m1), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 7, m1), xl, xh));
      }
    } else {
      { const xv = v128.load(xp, 0); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(trits(b0, lo, hi), xl, xh));
        a1 = i32x4.add(a1, dot16w(trits(b1, lo, hi), xl, xh));
        a2 = i32x4.add(a2, dot16w(trits(b2, lo, hi), xl, xh));
        a3 = i32x4.add(a3, dot16w(trits(b3, lo, hi), xl, xh));
        b0 = times3(b0); b1 = times3(b1); b2 = times3(b2); b3 = times3(b3);
      }
      { const xv = v128.load(xp, 16); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(trits(b0, lo, hi), xl, xh));
        a1 = i32x4.add(a1, dot16w(trits(b1, lo, hi), xl, xh));
        a2 = i32x4.add(a2, dot16w(trits(b2, lo, hi), xl, xh));
        a3 = i32x4.add(a3, dot16w(trits(b3, lo, hi), xl, xh));
        b0 = times3(b0); b1 = times3(b1); b2 = times3(b2); b3 = times3(b3);
      }
      { const xv = v128.load(xp, 32); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(trits(b0, lo, hi), xl, xh));
        a1 = i32x4.add(a1, dot16w(trits(b1, lo, hi), xl, xh));
        a2 = i32x4.add(a2, dot16w(trits(b2, lo, hi), xl, xh));
        a3 = i32x4.add(a3, dot16w(trits(b3, lo, hi), xl, xh));
        b0 = times3(b0); b1 = times3(b1); b2 = times3(b2); b3 = times3(b3);
      }
      { const xv = v128.load(xp, 48); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(trits(b0, lo, hi), xl, xh));
        a1 = i32x4.add(a1, dot16w(trits(b1, lo, hi), xl, xh));
        a2 = i32x4.add(a2, dot16w(trits(b2, lo, hi), xl, xh));
        a3 = i32x4.add(a3, dot16w(trits(b3, lo, hi), xl, xh));
        b0 = times3(b0); b1 = times3(b1); b2 = times3(b2); b3 = times3(b3);
      }
      { const xv = v128.load(xp, 64); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(trits(b0, lo, hi), xl, xh));
        a1 = i32x4.add(a1, dot16w(trits(b1, lo, hi), xl, xh));
        a2 = i32x4.add(a2, dot16w(trits(b2, lo, hi), xl, xh));
        a3 = i32x4.add(a3, dot16w(trits(b3, lo, hi), xl, xh));
      }
    }
  }
  return reduce4(a0, a1, a2, a3);
}

/** Σ code·x over nb full blocks of one row. */
@inline export function dot1_s128(FMT: i32, w: usize, x: usize, nb: i32, c3: i32): i32 {
  const m3 = i8x16.splat(<i8>c3);
  const m1 = i8x16.splat(<i8>(c3 >> 1));
  const lo = i8x16.splat(<i8>(-14 * c3 - 1));
  const hi = i8x16.splat(<i8>(14 * c3));
  let a = i32x4.splat(0);
  for (let g = 0; g < nb; g++) {
    let b = v128.load(w + (<usize>g << 4));
    const xp = x + <usize>(g * block_weights(FMT));
    if (FMT == FMT_I2) {
      a = i32x4.add(a, dot16(codes(b, 0, m3), v128.load(xp, 0)));
      a = i32x4.add(a, dot16(codes(b, 2, m3), v128.load(xp, 16)));
      a = i32x4.add(a, dot16(codes(b, 4, m3), v128.load(xp, 32)));
      a = i32x4.add(a, dot16(codes(b, 6, m3), v128.load(xp, 48)));
    } else if (FMT == FMT_B1) {
      a = i32x4.add(a, dot16(codes(b, 0, m1), v128.load(xp, 0)));
      a = i32x4.add(a, dot16(codes(b, 1, m1), v128.load(xp, 16)));
      a = i32x4.add(a, dot16(codes(b, 2, m1), v128.load(xp, 32)));
      a = i32x4.add(a, dot16(codes(b, 3, m1), v128.load(xp, 48)));
      a = i32x4.add(a, dot16(codes(b, 4, m1), v128.load(xp, 64)));
      a = i32x4.add(a, dot16(codes(b, 5, m1), v128.load(xp, 80)));
      a = i32x4.add(a, dot16(codes(b, 6, m1), v128.load(xp, 96)));
      a = i32x4.add(a, dot16(codes(b, 7, m1), v128.load(xp, 112)));
    } else {
      a = i32x4.add(a, dot16(trits(b, lo, hi), v128.load(xp, 0)));
      b = times3(b);
      a = i32x4.add(a, dot16(trits(b, lo, hi), v128.load(xp, 16)));
      b = times3(b);
      a = i32x4.add(a, dot16(trits(b, lo, hi), v128.load(xp, 32)));
      b = times3(b);
      a = i32x4.add(a, dot16(trits(b, lo, hi), v128.load(xp, 48)));
      b = times3(b);
      a = i32x4.add(a, dot16(trits(b, lo, hi), v128.load(xp, 64)));
    }
  }
  return hsum(a);
}


/** Σ code·x of 2 rows × 2 tokens over nb full 'i2' blocks (row stride rb): [row0·xa, row1·xa, row0·xb, row1·xb]. */
@inline export function dots2x2_i2_s128(w: usize, rb: usize, xa: usize, xb: usize, nb: i32, c3: i32): v128 {
  const m3 = i8x16.splat(<i8>c3);
  let a00 = i32x4.splat(0), a10 = i32x4.splat(0), a01 = i32x4.splat(0), a11 = i32x4.splat(0);
  for (let g = 0; g < nb; g++) {
    const wo = w + (<usize>g << 4);
    const b0 = v128.load(wo), b1 = v128.load(wo + rb);
    const pa = xa + (<usize>g << 6), pb = xb + (<usize>g << 6);
    for (let j = 0; j < 4; j++) {
      const va = v128.load(pa + (<usize>j << 4)), vb = v128.load(pb + (<usize>j << 4));
      const al = i16x8.extend_low_i8x16_s(va), ah = i16x8.extend_high_i8x16_s(va);
      const bl = i16x8.extend_low_i8x16_s(vb), bh = i16x8.extend_high_i8x16_s(vb);
      const sh = j << 1;
      const c0 = codes(b0, sh, m3), c1 = codes(b1, sh, m3);
      const c0l = i16x8.extend_low_i8x16_u(c0), c0h = i16x8.extend_high_i8x16_u(c0);
      const c1l = i16x8.extend_low_i8x16_u(c1), c1h = i16x8.extend_high_i8x16_u(c1);
      a00 = i32x4.add(a00, i32x4.add(i32x4.dot_i16x8_s(c0l, al), i32x4.dot_i16x8_s(c0h, ah)));
      a10 = i32x4.add(a10, i32x4.add(i32x4.dot_i16x8_s(c1l, al), i32x4.dot_i16x8_s(c1h, ah)));
      a01 = i32x4.add(a01, i32x4.add(i32x4.dot_i16x8_s(c0l, bl), i32x4.dot_i16x8_s(c0h, bh)));
      a11 = i32x4.add(a11, i32x4.add(i32x4.dot_i16x8_s(c1l, bl), i32x4.dot_i16x8_s(c1h, bh)));
    }
  }
  return reduce4(a00, a10, a01, a11);
}

/** Bytes of unpacked codes per 64-weight block of a 4-row group (unpack_group_i2r4_s128): i16 codes. */
export const UNPACK_BLOCK_SHIFT_S128: i32 = 9;

/**
 * Unpack the 2-bit codes of one 'i2r4' group (4 rows × nb blocks) once, for prefill, widened to i16:
 * 16-weight step s of row r goes to dst + 128·s + 32·r (low 8 codes, then high 8), so every token pair
 * reads ready operands of i32x4.dot_i16x8_s.
 */
@inline export function unpack_group_i2r4_s128(dst: usize, w: usize, nb: i32, c3: i32): void {
  const m3 = i8x16.splat(<i8>c3);
  for (let g = 0; g < nb; g++) {
    const wo = w + (<usize>g << 6), d = dst + (<usize>g << 9);
    for (let r = 0; r < 4; r++) {
      const b = v128.load(wo + (<usize>r << 4));
      const dr = d + (<usize>r << 5);
      for (let j = 0; j < 4; j++) {
        const c = codes(b, j << 1, m3);
        const o = dr + (<usize>j << 7);
        v128.store(o, i16x8.extend_low_i8x16_u(c));
        v128.store(o, i16x8.extend_high_i8x16_u(c), 16);
      }
    }
  }
}

/** [row0..3 · xa] of the last dots4x2_dec_s128 (a global: per instance, so per thread). */
export let dotsA_s128: v128 = i32x4.splat(0);

/** 4 rows × 2 tokens over i16 codes (unpack_group_i2r4_s128), `steps` 16-weight steps. Returns ·xb; ·xa in dotsA_s128. */
@inline export function dots4x2_dec_s128(c: usize, xa: usize, xb: usize, steps: i32): v128 {
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  for (let s = 0; s < steps; s++) {
    const cp = c + (<usize>s << 7);
    const va = v128.load(xa + (<usize>s << 4)), vb = v128.load(xb + (<usize>s << 4));
    const al = i16x8.extend_low_i8x16_s(va), ah = i16x8.extend_high_i8x16_s(va);
    const bl = i16x8.extend_low_i8x16_s(vb), bh = i16x8.extend_high_i8x16_s(vb);
    let kl = v128.load(cp), kh = v128.load(cp, 16);
    a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(kl, al), i32x4.dot_i16x8_s(kh, ah)));
    b0 = i32x4.add(b0, i32x4.add(i32x4.dot_i16x8_s(kl, bl), i32x4.dot_i16x8_s(kh, bh)));
    kl = v128.load(cp, 32); kh = v128.load(cp, 48);
    a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(kl, al), i32x4.dot_i16x8_s(kh, ah)));
    b1 = i32x4.add(b1, i32x4.add(i32x4.dot_i16x8_s(kl, bl), i32x4.dot_i16x8_s(kh, bh)));
    kl = v128.load(cp, 64); kh = v128.load(cp, 80);
    a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(kl, al), i32x4.dot_i16x8_s(kh, ah)));
    b2 = i32x4.add(b2, i32x4.add(i32x4.dot_i16x8_s(kl, bl), i32x4.dot_i16x8_s(kh, bh)));
    kl = v128.load(cp, 96); kh = v128.load(cp, 112);
    a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(kl, al), i32x4.dot_i16x8_s(kh, ah)));
    b3 = i32x4.add(b3, i32x4.add(i32x4.dot_i16x8_s(kl, bl), i32x4.dot_i16x8_s(kh, bh)));
  }
  dotsA_s128 = reduce4(a0, a1, a2, a3);
  return reduce4(b0, b1, b2, b3);
}
