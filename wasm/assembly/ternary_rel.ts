// Relaxed-SIMD primitives of the packed-weight matmuls (ternary_driver.ts runs them in relaxed.wasm):
// same layouts and results (exact) as the SIMD128 primitives (ternary_s128.ts). Not a module entry.
//
// i16x8.relaxed_dot_i8x16_i7x16_s(x, c) multiplies int8 activations by the unpacked codes
// (c ∈ {0,1,2}: valid 7-bit operands, so the result is deterministic on every engine; x86
// lowers it to pmaddubsw) and adds adjacent pairs into i16 lanes. The i16 accumulators take
// BLK blocks before they are widened (i32x4.extadd_pairwise_i16x8_s) into int32:
//   int8 activations (|x| ≤ 128, |c·x| ≤ 256, pair ≤ 512): 32767/512 → ≤ 63 dots per lane
//     'i2'   4 dots/block, BLK 8  → 32 dots      'i1.6' 5 dots/block, BLK 8 → 40 dots
//     'b1'   8 dots/block (c ≤ 1, pair ≤ 256), BLK 8 → 64 dots · 256 = 16384
//   int4 activations (|x| ≤ 8, pair ≤ 32): 'i2' BLK 128 → 512 dots · 32 = 16384
// Four weight rows share each activation load (docs/platform.md §3.2: ≈600 µs for 6912×2560, 1 thread);
// for M ≥ 2, 'i2' runs 2-row × 2-token tiles so each unpacked code vector serves two tokens.
// Helpers shared with ternary.ts live in ternary_common.ts (not re-exported by the entries).

import { sum_i8, reduce4, hsum, FMT_I2, FMT_I1P6, FMT_B1, block_weights, codes, trits, times3 } from './ternary_common';

/** Σ code·x over nb full blocks of 4 rows (row stride rb), i16 accumulation: [row0..row3]. */
@inline export function dots4_rel(FMT: i32, w: usize, rb: usize, x: usize, nb: i32, c3: i32, BLK: i32, BSH: i32 = 4): v128 {
  const m3 = i8x16.splat(<i8>c3);
  const m1 = i8x16.splat(<i8>(c3 >> 1));
  const lo = i8x16.splat(<i8>(-14 * c3 - 1)); // −43
  const hi = i8x16.splat(<i8>(14 * c3)); // 42
  let s = i32x4.splat(0);
  let g = 0;
  while (g < nb) {
    const ge = min(g + BLK, nb);
    let h0 = i16x8.splat(0), h1 = i16x8.splat(0), h2 = i16x8.splat(0), h3 = i16x8.splat(0);
    for (; g < ge; g++) {
      const wo = w + (<usize>g << BSH);
      let b0 = v128.load(wo), b1 = v128.load(wo + rb), b2 = v128.load(wo + 2 * rb), b3 = v128.load(wo + 3 * rb);
      const xp = x + <usize>(g * block_weights(FMT));
      if (FMT == FMT_I2) {
        { const xv = v128.load(xp, 0);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b0, 0, m3)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b1, 0, m3)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b2, 0, m3)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b3, 0, m3)));
        }
        { const xv = v128.load(xp, 16);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b0, 2, m3)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b1, 2, m3)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b2, 2, m3)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b3, 2, m3)));
        }
        { const xv = v128.load(xp, 32);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b0, 4, m3)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b1, 4, m3)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b2, 4, m3)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b3, 4, m3)));
        }
        { const xv = v128.load(xp, 48);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b0, 6, m3)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b1, 6, m3)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b2, 6, m3)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b3, 6, m3)));
        }
      } else if (FMT == FMT_B1) {
        { const xv = v128.load(xp, 0);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b0, 0, m1)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b1, 0, m1)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b2, 0, m1)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b3, 0, m1)));
        }
        { const xv = v128.load(xp, 16);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b0, 1, m1)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b1, 1, m1)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b2, 1, m1)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b3, 1, m1)));
        }
        { const xv = v128.load(xp, 32);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b0, 2, m1)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b1, 2, m1)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b2, 2, m1)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b3, 2, m1)));
        }
        { const xv = v128.load(xp, 48);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b0, 3, m1)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b1, 3, m1)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b2, 3, m1)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b3, 3, m1)));
        }
        { const xv = v128.load(xp, 64);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b0, 4, m1)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b1, 4, m1)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b2, 4, m1)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b3, 4, m1)));
        }
        { const xv = v128.load(xp, 80);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b0, 5, m1)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b1, 5, m1)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b2, 5, m1)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b3, 5, m1)));
        }
        { const xv = v128.load(xp, 96);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b0, 6, m1)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b1, 6, m1)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b2, 6, m1)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b3, 6, m1)));
        }
        { const xv = v128.load(xp, 112);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b0, 7, m1)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b1, 7, m1)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b2, 7, m1)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, codes(b3, 7, m1)));
        }
      } else {
        { const xv = v128.load(xp, 0);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b0, lo, hi)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b1, lo, hi)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b2, lo, hi)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b3, lo, hi)));
          b0 = times3(b0); b1 = times3(b1); b2 = times3(b2); b3 = times3(b3);
        }
        { const xv = v128.load(xp, 16);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b0, lo, hi)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b1, lo, hi)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b2, lo, hi)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b3, lo, hi)));
          b0 = times3(b0); b1 = times3(b1); b2 = times3(b2); b3 = times3(b3);
        }
        { const xv = v128.load(xp, 32);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b0, lo, hi)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b1, lo, hi)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b2, lo, hi)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b3, lo, hi)));
          b0 = times3(b0); b1 = times3(b1); b2 = times3(b2); b3 = times3(b3);
        }
        { const xv = v128.load(xp, 48);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b0, lo, hi)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b1, lo, hi)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b2, lo, hi)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b3, lo, hi)));
          b0 = times3(b0); b1 = times3(b1); b2 = times3(b2); b3 = times3(b3);
        }
        { const xv = v128.load(xp, 64);
          h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b0, lo, hi)));
          h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b1, lo, hi)));
          h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b2, lo, hi)));
          h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(xv, trits(b3, lo, hi)));
        }
      }
    }
    s = i32x4.add(s, reduce4(i32x4.extadd_pairwise_i16x8_s(h0), i32x4.extadd_pairwise_i16x8_s(h1),
                             i32x4.extadd_pairwise_i16x8_s(h2), i32x4.extadd_pairwise_i16x8_s(h3)));
  }
  return s;
}

/** Σ code·x over nb full blocks of one row, i16 accumulation. */
@inline export function dot1_rel(FMT: i32, w: usize, x: usize, nb: i32, c3: i32, BLK: i32): i32 {
  const m3 = i8x16.splat(<i8>c3);
  const m1 = i8x16.splat(<i8>(c3 >> 1));
  const lo = i8x16.splat(<i8>(-14 * c3 - 1));
  const hi = i8x16.splat(<i8>(14 * c3));
  let s = i32x4.splat(0);
  let g = 0;
  while (g < nb) {
    const ge = min(g + BLK, nb);
    let h = i16x8.splat(0);
    for (; g < ge; g++) {
      let b = v128.load(w + (<usize>g << 4));
      const xp = x + <usize>(g * block_weights(FMT));
      if (FMT == FMT_I2) {
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 0), codes(b, 0, m3)));
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 16), codes(b, 2, m3)));
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 32), codes(b, 4, m3)));
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 48), codes(b, 6, m3)));
      } else if (FMT == FMT_B1) {
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 0), codes(b, 0, m1)));
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 16), codes(b, 1, m1)));
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 32), codes(b, 2, m1)));
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 48), codes(b, 3, m1)));
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 64), codes(b, 4, m1)));
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 80), codes(b, 5, m1)));
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 96), codes(b, 6, m1)));
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 112), codes(b, 7, m1)));
      } else {
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 0), trits(b, lo, hi)));
        b = times3(b);
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 16), trits(b, lo, hi)));
        b = times3(b);
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 32), trits(b, lo, hi)));
        b = times3(b);
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 48), trits(b, lo, hi)));
        b = times3(b);
        h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp, 64), trits(b, lo, hi)));
      }
    }
    s = i32x4.add(s, i32x4.extadd_pairwise_i16x8_s(h));
  }
  return hsum(s);
}

/**
 * 'i2' prefill tile: 2 weight rows × 2 tokens. Each unpacked code vector feeds two tokens,
 * so a pair of tokens costs 14 ops per 16 weights and 2 rows instead of 17 for 4 row-dots.
 * Returns [row0·xa, row1·xa, row0·xb, row1·xb].
 */
@inline export function dots2x2_i2(w: usize, rb: usize, xa: usize, xb: usize, nb: i32, c3: i32, BLK: i32): v128 {
  const m3 = i8x16.splat(<i8>c3);
  let s = i32x4.splat(0);
  let g = 0;
  while (g < nb) {
    const ge = min(g + BLK, nb);
    let h00 = i16x8.splat(0), h10 = i16x8.splat(0), h01 = i16x8.splat(0), h11 = i16x8.splat(0);
    for (; g < ge; g++) {
      const wo = w + (<usize>g << 4);
      const b0 = v128.load(wo), b1 = v128.load(wo + rb);
      const pa = xa + (<usize>g << 6), pb = xb + (<usize>g << 6);
      { const va = v128.load(pa, 0), vb = v128.load(pb, 0), c0 = codes(b0, 0, m3), c1 = codes(b1, 0, m3);
        h00 = i16x8.add(h00, i16x8.relaxed_dot_i8x16_i7x16_s(va, c0)); h10 = i16x8.add(h10, i16x8.relaxed_dot_i8x16_i7x16_s(va, c1));
        h01 = i16x8.add(h01, i16x8.relaxed_dot_i8x16_i7x16_s(vb, c0)); h11 = i16x8.add(h11, i16x8.relaxed_dot_i8x16_i7x16_s(vb, c1)); }
      { const va = v128.load(pa, 16), vb = v128.load(pb, 16), c0 = codes(b0, 2, m3), c1 = codes(b1, 2, m3);
        h00 = i16x8.add(h00, i16x8.relaxed_dot_i8x16_i7x16_s(va, c0)); h10 = i16x8.add(h10, i16x8.relaxed_dot_i8x16_i7x16_s(va, c1));
        h01 = i16x8.add(h01, i16x8.relaxed_dot_i8x16_i7x16_s(vb, c0)); h11 = i16x8.add(h11, i16x8.relaxed_dot_i8x16_i7x16_s(vb, c1)); }
      { const va = v128.load(pa, 32), vb = v128.load(pb, 32), c0 = codes(b0, 4, m3), c1 = codes(b1, 4, m3);
        h00 = i16x8.add(h00, i16x8.relaxed_dot_i8x16_i7x16_s(va, c0)); h10 = i16x8.add(h10, i16x8.relaxed_dot_i8x16_i7x16_s(va, c1));
        h01 = i16x8.add(h01, i16x8.relaxed_dot_i8x16_i7x16_s(vb, c0)); h11 = i16x8.add(h11, i16x8.relaxed_dot_i8x16_i7x16_s(vb, c1)); }
      { const va = v128.load(pa, 48), vb = v128.load(pb, 48), c0 = codes(b0, 6, m3), c1 = codes(b1, 6, m3);
        h00 = i16x8.add(h00, i16x8.relaxed_dot_i8x16_i7x16_s(va, c0)); h10 = i16x8.add(h10, i16x8.relaxed_dot_i8x16_i7x16_s(va, c1));
        h01 = i16x8.add(h01, i16x8.relaxed_dot_i8x16_i7x16_s(vb, c0)); h11 = i16x8.add(h11, i16x8.relaxed_dot_i8x16_i7x16_s(vb, c1)); }
    }
    s = i32x4.add(s, reduce4(i32x4.extadd_pairwise_i16x8_s(h00), i32x4.extadd_pairwise_i16x8_s(h10),
                             i32x4.extadd_pairwise_i16x8_s(h01), i32x4.extadd_pairwise_i16x8_s(h11)));
  }
  return s;
}

/** [row0..3 · xa] of the last dots4x2_dec (a global: per instance, so per thread). */
export let dotsA: v128 = i32x4.splat(0);

/**
 * Unpack the 2-bit codes of one 'i2r4' group (4 rows × nb blocks) once, for prefill: 16-weight step
 * s of row r goes to dst + 64·s + 16·r (the packed block order, 4× wider). Every token pair then
 * reads ready codes: 1 load + dot + add per 16 weights instead of shift + and + dot + add.
 */
@inline export function unpack_group_i2r4(dst: usize, w: usize, nb: i32, c3: i32): void {
  const m3 = i8x16.splat(<i8>c3);
  for (let g = 0; g < nb; g++) {
    const wo = w + (<usize>g << 6), d = dst + (<usize>g << 8);
    for (let r = 0; r < 4; r++) {
      const b = v128.load(wo + (<usize>r << 4));
      const dr = d + (<usize>r << 4);
      v128.store(dr, codes(b, 0, m3));
      v128.store(dr, codes(b, 2, m3), 64);
      v128.store(dr, codes(b, 4, m3), 128);
      v128.store(dr, codes(b, 6, m3), 192);
    }
  }
}

/** 4 rows × 2 tokens over unpacked codes (unpack_group_i2r4); BLKS steps per i16 accumulation. Returns ·xb; ·xa in dotsA. */
@inline export function dots4x2_dec(c: usize, xa: usize, xb: usize, steps: i32, BLKS: i32): v128 {
  let sa = i32x4.splat(0), sb = i32x4.splat(0);
  let s = 0;
  while (s < steps) {
    const se = min(s + BLKS, steps);
    let a0 = i16x8.splat(0), a1 = i16x8.splat(0), a2 = i16x8.splat(0), a3 = i16x8.splat(0);
    let b0 = i16x8.splat(0), b1 = i16x8.splat(0), b2 = i16x8.splat(0), b3 = i16x8.splat(0);
    for (; s < se; s++) {
      const cp = c + (<usize>s << 6);
      const va = v128.load(xa + (<usize>s << 4)), vb = v128.load(xb + (<usize>s << 4));
      let k = v128.load(cp); a0 = i16x8.add(a0, i16x8.relaxed_dot_i8x16_i7x16_s(va, k)); b0 = i16x8.add(b0, i16x8.relaxed_dot_i8x16_i7x16_s(vb, k));
      k = v128.load(cp, 16); a1 = i16x8.add(a1, i16x8.relaxed_dot_i8x16_i7x16_s(va, k)); b1 = i16x8.add(b1, i16x8.relaxed_dot_i8x16_i7x16_s(vb, k));
      k = v128.load(cp, 32); a2 = i16x8.add(a2, i16x8.relaxed_dot_i8x16_i7x16_s(va, k)); b2 = i16x8.add(b2, i16x8.relaxed_dot_i8x16_i7x16_s(vb, k));
      k = v128.load(cp, 48); a3 = i16x8.add(a3, i16x8.relaxed_dot_i8x16_i7x16_s(va, k)); b3 = i16x8.add(b3, i16x8.relaxed_dot_i8x16_i7x16_s(vb, k));
    }
    sa = i32x4.add(sa, reduce4(i32x4.extadd_pairwise_i16x8_s(a0), i32x4.extadd_pairwise_i16x8_s(a1),
                               i32x4.extadd_pairwise_i16x8_s(a2), i32x4.extadd_pairwise_i16x8_s(a3)));
    sb = i32x4.add(sb, reduce4(i32x4.extadd_pairwise_i16x8_s(b0), i32x4.extadd_pairwise_i16x8_s(b1),
                               i32x4.extadd_pairwise_i16x8_s(b2), i32x4.extadd_pairwise_i16x8_s(b3)));
  }
  dotsA = sa;
  return sb;
}


/** Bytes of unpacked codes per 64-weight block of a 4-row group (unpack_group_i2r4): i8 codes. */
export const UNPACK_BLOCK_SHIFT_REL: i32 = 8;
