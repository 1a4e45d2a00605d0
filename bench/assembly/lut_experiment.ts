// Lookup-table (T-MAC / bitnet.cpp TL1-style) ternary GEMV against the multiply-add kernel, for
// `npm run bench -- lut` (bench/lut.ts compiles this file with asc at run time; it is not part of
// the library). Both compute exact int32 Σ_k w[n,k]·x[k] for ternary w and int8 x.
//   mad_r4: the production decode kernel's inner loop ('i2r4', wasm/assembly/ternary_relaxed.ts):
//           2-bit codes c = w+1, i16x8.relaxed_dot_i8x16_i7x16_s, four interleaved rows per stream;
//           returns Σ c·x (the caller subtracts Σ x).
//   lut_*:  pairs of weights index a 9-entry table of exact int16 partial sums T_j[i] = w0·x[2j] + w1·x[2j+1],
//           split into lo/hi byte tables so i8x16.relaxed_swizzle (one pshufb) looks up 16 rows at once.
@inline function cd(b: v128, SH: i32, m3: v128): v128 { return v128.and(SH == 0 ? b : i16x8.shr_u(b, SH), m3); }
@inline function dot(h: v128, x: v128, c: v128): v128 { return i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(x, c)); }
@inline function ext(h: v128): v128 { return i32x4.extadd_pairwise_i16x8_s(h); }
@inline function red4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const t01 = i32x4.add(v128.shuffle<i32>(a0, a1, 0, 4, 2, 6), v128.shuffle<i32>(a0, a1, 1, 5, 3, 7));
  const t23 = i32x4.add(v128.shuffle<i32>(a2, a3, 0, 4, 2, 6), v128.shuffle<i32>(a2, a3, 1, 5, 3, 7));
  return i32x4.add(v128.shuffle<i32>(t01, t23, 0, 1, 4, 5), v128.shuffle<i32>(t01, t23, 2, 3, 6, 7));
}
export function mad_r4(out: usize, x: usize, w: usize, N: i32, K: i32): void {
  const rb = <usize>(K >> 2); const nb = K >> 6; const m3 = i8x16.splat(3);
  for (let n = 0; n < N; n += 4) {
    const wr = w + <usize>n * rb;
    let s = i32x4.splat(0);
    for (let g = 0; g < nb; ) {
      const ge = min(g + 8, nb);
      let h0 = i16x8.splat(0), h1 = h0, h2 = h0, h3 = h0;
      for (; g < ge; g++) {
        const wo = wr + (<usize>g << 6);
        const b0 = v128.load(wo), b1 = v128.load(wo, 16), b2 = v128.load(wo, 32), b3 = v128.load(wo, 48);
        const xp = x + <usize>(g << 6);
        let xv = v128.load(xp, 0);
        h0 = dot(h0, xv, cd(b0, 0, m3)); h1 = dot(h1, xv, cd(b1, 0, m3)); h2 = dot(h2, xv, cd(b2, 0, m3)); h3 = dot(h3, xv, cd(b3, 0, m3));
        xv = v128.load(xp, 16);
        h0 = dot(h0, xv, cd(b0, 2, m3)); h1 = dot(h1, xv, cd(b1, 2, m3)); h2 = dot(h2, xv, cd(b2, 2, m3)); h3 = dot(h3, xv, cd(b3, 2, m3));
        xv = v128.load(xp, 32);
        h0 = dot(h0, xv, cd(b0, 4, m3)); h1 = dot(h1, xv, cd(b1, 4, m3)); h2 = dot(h2, xv, cd(b2, 4, m3)); h3 = dot(h3, xv, cd(b3, 4, m3));
        xv = v128.load(xp, 48);
        h0 = dot(h0, xv, cd(b0, 6, m3)); h1 = dot(h1, xv, cd(b1, 6, m3)); h2 = dot(h2, xv, cd(b2, 6, m3)); h3 = dot(h3, xv, cd(b3, 6, m3));
      }
      s = i32x4.add(s, red4(ext(h0), ext(h1), ext(h2), ext(h3)));
    }
    v128.store(out + (<usize>n << 2), s);
  }
}

// ---- LUT (T-MAC / TL1-style) prototype: pairs of ternary weights index a 9-entry table of
// exact int16 partial sums, split into lo/hi byte tables (relaxed_swizzle = one pshufb each);
// 16 rows per swizzle (one row per lane). Layout: tile t (rows 16t..16t+15) is K/4·16 bytes;
// 16-byte step p holds, for row r in byte r, idx(pos 2p) | idx(pos 2p+1) << 4, idx = 3(w0+1) + (w1+1).
// Tables: tab + 32·j: 16 lo bytes then 16 hi bytes of T_j[i] = (i/3 − 1)·x[2j] + (i%3 − 1)·x[2j+1].
export function lut_build(tab: usize, x: usize, K: i32): void {
  const c0 = i16x8(-1, -1, -1, 0, 0, 0, 1, 1);   // entries 0..7
  const c1 = i16x8(-1, 0, 1, -1, 0, 1, -1, 0);
  const c0h = i16x8(1, 0, 0, 0, 0, 0, 0, 0);      // entry 8: (1, 1); 9..15 unused (0)
  const c1h = i16x8(1, 0, 0, 0, 0, 0, 0, 0);
  for (let j = 0; j < (K >> 1); j++) {
    const x0 = i16x8.splat(<i16>load<i8>(x + <usize>(2 * j))), x1 = i16x8.splat(<i16>load<i8>(x + <usize>(2 * j + 1)));
    const a = i16x8.add(i16x8.mul(c0, x0), i16x8.mul(c1, x1));
    const b = i16x8.add(i16x8.mul(c0h, x0), i16x8.mul(c1h, x1));
    const lo = v128.shuffle<u8>(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const hi = v128.shuffle<u8>(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    v128.store(tab + (<usize>j << 5), lo);
    v128.store(tab + (<usize>j << 5), hi, 16);
  }
}
@inline function lut_step(acc: v128, tl: v128, th: v128, idx: v128, LOW: bool): v128 {
  const lo = i8x16.relaxed_swizzle(tl, idx), hi = i8x16.relaxed_swizzle(th, idx);
  return LOW ? i16x8.add(acc, v128.shuffle<u8>(lo, hi, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23))
             : i16x8.add(acc, v128.shuffle<u8>(lo, hi, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
}
export function lut_gemv(out: usize, tab: usize, w: usize, N: i32, K: i32): void {
  const steps = K >> 2; // 16-byte steps per tile (2 positions = 4 weights per row each)
  const m4 = i8x16.splat(15);
  for (let t = 0; t < (N >> 4); t++) {
    const wt = w + <usize>t * <usize>(steps << 4);
    let s0 = i32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
    for (let p = 0; p < steps; ) {
      const pe = min(p + 32, steps);
      let a0 = i16x8.splat(0), a1 = a0;
      for (; p < pe; p++) {
        const b = v128.load(wt + (<usize>p << 4));
        const i0 = v128.and(b, m4), i1 = v128.and(i16x8.shr_u(b, 4), m4);
        const tp = tab + (<usize>p << 6);
        const tl0 = v128.load(tp), th0 = v128.load(tp, 16), tl1 = v128.load(tp, 32), th1 = v128.load(tp, 48);
        a0 = lut_step(a0, tl0, th0, i0, true); a1 = lut_step(a1, tl0, th0, i0, false);
        a0 = lut_step(a0, tl1, th1, i1, true); a1 = lut_step(a1, tl1, th1, i1, false);
      }
      s0 = i32x4.add(s0, i32x4.extend_low_i16x8_s(a0)); s1 = i32x4.add(s1, i32x4.extend_high_i16x8_s(a0));
      s2 = i32x4.add(s2, i32x4.extend_low_i16x8_s(a1)); s3 = i32x4.add(s3, i32x4.extend_high_i16x8_s(a1));
    }
    const o = out + (<usize>(t << 4) << 2);
    v128.store(o, s0); v128.store(o, s1, 16); v128.store(o, s2, 32); v128.store(o, s3, 48);
  }
}
