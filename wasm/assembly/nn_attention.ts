// Causal GQA attention (twin of src/kernels/ref/attention.ts; see the two-pass backward there).
// Forward and backward pass 1 own rows (b, h, t) of the (B, H, T) grid; pass 2 owns rows (b, g, t2)
// of (B, KVH, T). Query head h reads kv head g = h / (H / KVH).
//
// Every float operation happens in the order of the plain row-by-row form (one dot per key, then
// axpy per key into the output row: `dot` and `axpy` of nn_math.ts), so results are bit for bit those
// of that form; only loads and stores are saved:
//   - scores: four keys per pass share each load of the query chunk (`dots4`, four accumulators
//     with `dot`'s per-lane order and `hsum`'s final pairing);
//   - weighted sums (out, dq, dk, dv): the output row is kept in registers, 32 floats at a time,
//     while the keys stream past (`acc_rows`), instead of a load + store of it per key.
import { dot, expShiftSum, scal } from './nn_math';

@inline function qkvOff(b: i32, t: i32, h: i32, T: i32, NH: i32, HS: i32): usize {
  return ((<usize>b * <usize>T + <usize>t) * <usize>NH + <usize>h) * <usize>HS << 2;
}

/** [dot(a, b0), dot(a, b1), dot(a, b2), dot(a, b3)] over n floats, n a multiple of 4: bit for bit `dot` four times. */
@inline function dots4(a: usize, b0: usize, b1: usize, b2: usize, b3: usize, n: i32): v128 {
  let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const va = v128.load(a + o);
    s0 = f32x4.add(s0, f32x4.mul(va, v128.load(b0 + o)));
    s1 = f32x4.add(s1, f32x4.mul(va, v128.load(b1 + o)));
    s2 = f32x4.add(s2, f32x4.mul(va, v128.load(b2 + o)));
    s3 = f32x4.add(s3, f32x4.mul(va, v128.load(b3 + o)));
  }
  // lane j = (sj[0] + sj[1]) + (sj[2] + sj[3]), hsum's pairing
  const t01 = f32x4.add(v128.shuffle<f32>(s0, s1, 0, 4, 2, 6), v128.shuffle<f32>(s0, s1, 1, 5, 3, 7));
  const t23 = f32x4.add(v128.shuffle<f32>(s2, s3, 0, 4, 2, 6), v128.shuffle<f32>(s2, s3, 1, 5, 3, 7));
  return f32x4.add(v128.shuffle<f32>(t01, t23, 0, 1, 4, 5), v128.shuffle<f32>(t01, t23, 2, 3, 6, 7));
}

/**
 * y[0..n) += Σ_j coef(j)·x_j[0..n) for j = 0 … cnt−1 in order, x_j = x0 + j·xStride, coef(j) =
 * f32(load(c0 + j·cStride))·cScale (cScale 1: the coefficient itself): the same f32 operations, in the
 * same order, as `axpy(y, coef(j), x_j, n)` for j = 0, 1, …; y stays in registers 32 floats at a time.
 */
@inline function acc_rows(y: usize, n: i32, x0: usize, xStride: usize, c0: usize, cStride: usize, cnt: i32, cScale: f32, SCALED: bool): void {
  let i = 0;
  for (; i + 32 <= n; i += 32) {
    const yo = y + (<usize>i << 2);
    let y0 = v128.load(yo), y1 = v128.load(yo, 16), y2 = v128.load(yo, 32), y3 = v128.load(yo, 48);
    let y4 = v128.load(yo, 64), y5 = v128.load(yo, 80), y6 = v128.load(yo, 96), y7 = v128.load(yo, 112);
    let xp = x0 + (<usize>i << 2), cp = c0;
    for (let j = 0; j < cnt; j++) {
      const c = SCALED ? load<f32>(cp) * cScale : load<f32>(cp);
      const va = f32x4.splat(c);
      y0 = f32x4.add(y0, f32x4.mul(va, v128.load(xp))); y1 = f32x4.add(y1, f32x4.mul(va, v128.load(xp, 16)));
      y2 = f32x4.add(y2, f32x4.mul(va, v128.load(xp, 32))); y3 = f32x4.add(y3, f32x4.mul(va, v128.load(xp, 48)));
      y4 = f32x4.add(y4, f32x4.mul(va, v128.load(xp, 64))); y5 = f32x4.add(y5, f32x4.mul(va, v128.load(xp, 80)));
      y6 = f32x4.add(y6, f32x4.mul(va, v128.load(xp, 96))); y7 = f32x4.add(y7, f32x4.mul(va, v128.load(xp, 112)));
      xp += xStride; cp += cStride;
    }
    v128.store(yo, y0); v128.store(yo, y1, 16); v128.store(yo, y2, 32); v128.store(yo, y3, 48);
    v128.store(yo, y4, 64); v128.store(yo, y5, 80); v128.store(yo, y6, 96); v128.store(yo, y7, 112);
  }
  for (; i + 4 <= n; i += 4) {
    const yo = y + (<usize>i << 2);
    let y0 = v128.load(yo);
    let xp = x0 + (<usize>i << 2), cp = c0;
    for (let j = 0; j < cnt; j++) {
      const c = SCALED ? load<f32>(cp) * cScale : load<f32>(cp);
      y0 = f32x4.add(y0, f32x4.mul(f32x4.splat(c), v128.load(xp)));
      xp += xStride; cp += cStride;
    }
    v128.store(yo, y0);
  }
  for (; i < n; i++) {
    const yo = y + (<usize>i << 2);
    let s = load<f32>(yo);
    let xp = x0 + (<usize>i << 2), cp = c0;
    for (let j = 0; j < cnt; j++) {
      const c = SCALED ? load<f32>(cp) * cScale : load<f32>(cp);
      s = s + c * load<f32>(xp);
      xp += xStride; cp += cStride;
    }
    store<f32>(yo, s);
  }
}

/** d[t2] = dot(a, K_t2)·scale for t2 ∈ [0, n), K_t2 = k0 + t2·kStride (keys of one kv head); returns max of d (SCALE) or nothing. */
@inline function row_dots(d: usize, a: usize, k0: usize, kStride: usize, n: i32, HS: i32, scale: f32, SCALE: bool): f32 {
  let mx: f32 = -Infinity;
  let t2 = 0;
  if ((HS & 3) == 0) {
    const vs = f32x4.splat(scale);
    for (; t2 + 4 <= n; t2 += 4) {
      const kp = k0 + <usize>t2 * kStride;
      let s = dots4(a, kp, kp + kStride, kp + 2 * kStride, kp + 3 * kStride, HS);
      if (SCALE) s = f32x4.mul(s, vs);
      v128.store(d + (<usize>t2 << 2), s);
      if (SCALE) mx = max(max(mx, max(f32x4.extract_lane(s, 0), f32x4.extract_lane(s, 1))), max(f32x4.extract_lane(s, 2), f32x4.extract_lane(s, 3)));
    }
  }
  for (; t2 < n; t2++) {
    let s = dot(a, k0 + <usize>t2 * kStride, HS);
    if (SCALE) s *= scale;
    store<f32>(d + (<usize>t2 << 2), s);
    if (SCALE) mx = max(mx, s);
  }
  return mx;
}

/** att[b,h,t,:] = causal softmax(q·k/√HS), out[b,t,h] = Σ att·v. Rows = B·H·T in (b, h, t) order. */
export function attention_fwd_f32(out: usize, att: usize, q: usize, k: usize, v: usize, T: i32, H: i32, KVH: i32, HS: i32,
                                  r0: i32, r1: i32, tid: i32): void {
  const scale: f32 = 1 / Mathf.sqrt(<f32>HS);
  const G = H / KVH;
  const kvStride = <usize>KVH * <usize>HS << 2;
  for (let row = r0; row < r1; row++) {
    const t = row % T;
    const bh = row / T;
    const h = bh % H;
    const b = bh / H;
    const g = h / G;
    const qp = q + qkvOff(b, t, h, T, H, HS);
    const a = att + (<usize>row * <usize>T << 2);
    const n = t + 1;
    const mx = row_dots(a, qp, k + qkvOff(b, 0, g, T, KVH, HS), kvStride, n, HS, scale, true);
    // exp over the causal prefix [0, t] (contiguous), then normalise.
    const sum = expShiftSum(a, a, mx, n);
    scal(a, 1 / sum, n);
    if (n < T) memory.fill(a + (<usize>n << 2), 0, <usize>(T - n) << 2);
    const op = out + qkvOff(b, t, h, T, H, HS);
    memory.fill(op, 0, <usize>HS << 2);
    acc_rows(op, HS, v + qkvOff(b, 0, g, T, KVH, HS), kvStride, a, 4, n, 1, false);
  }
}

/**
 * Backward pass 1, rows (b, h, t): datt[t2] = att·(dout·v[t2] − Σ att·(dout·v)) (pre-softmax score
 * gradient, 0 above the diagonal), dq += Σ datt[t2]·k[t2]/√HS.
 */
export function attention_bwd1_f32(dq: usize, datt: usize, dout: usize, k: usize, v: usize, att: usize,
                                   T: i32, H: i32, KVH: i32, HS: i32, r0: i32, r1: i32, tid: i32): void {
  const scale: f32 = 1 / Mathf.sqrt(<f32>HS);
  const G = H / KVH;
  const kvStride = <usize>KVH * <usize>HS << 2;
  for (let row = r0; row < r1; row++) {
    const t = row % T;
    const bh = row / T;
    const h = bh % H;
    const b = bh / H;
    const g = h / G;
    const dop = dout + qkvOff(b, t, h, T, H, HS);
    const a = att + (<usize>row * <usize>T << 2);
    const d = datt + (<usize>row * <usize>T << 2);
    const n = t + 1;
    row_dots(d, dop, v + qkvOff(b, 0, g, T, KVH, HS), kvStride, n, HS, 1, false);
    let s: f32 = 0;
    for (let t2 = 0; t2 < n; t2++) s += load<f32>(a + (<usize>t2 << 2)) * load<f32>(d + (<usize>t2 << 2));
    const vs = f32x4.splat(s);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(d + o, f32x4.mul(v128.load(a + o), f32x4.sub(v128.load(d + o), vs)));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(d + o, load<f32>(a + o) * (load<f32>(d + o) - s));
    }
    if (n < T) memory.fill(d + (<usize>n << 2), 0, <usize>(T - n) << 2);
    acc_rows(dq + qkvOff(b, t, h, T, H, HS), HS, k + qkvOff(b, 0, g, T, KVH, HS), kvStride, d, 4, n, scale, true);
  }
}

/**
 * Backward pass 2, rows (b, g, t2) of (B, KVH, T): dk[b,t2,g] += Σ_{h∈g, t≥t2} datt[b,h,t,t2]·q[b,t,h]/√HS,
 * dv[b,t2,g] += Σ_{h∈g, t≥t2} att[b,h,t,t2]·dout[b,t,h].
 */
export function attention_bwd2_f32(dk: usize, dv: usize, datt: usize, dout: usize, q: usize, att: usize,
                                   T: i32, H: i32, KVH: i32, HS: i32, r0: i32, r1: i32, tid: i32): void {
  const scale: f32 = 1 / Mathf.sqrt(<f32>HS);
  const G = H / KVH;
  const qStride = <usize>H * <usize>HS << 2;
  const aStride = <usize>T << 2;
  for (let row = r0; row < r1; row++) {
    const t2 = row % T;
    const bg = row / T;
    const g = bg % KVH;
    const b = bg / KVH;
    const dkp = dk + qkvOff(b, t2, g, T, KVH, HS);
    const dvp = dv + qkvOff(b, t2, g, T, KVH, HS);
    for (let h = g * G; h < (g + 1) * G; h++) {
      const ai = ((((<usize>b * <usize>H + <usize>h) * <usize>T + <usize>t2) * <usize>T) + <usize>t2) << 2;
      const off = qkvOff(b, t2, h, T, H, HS);
      acc_rows(dkp, HS, q + off, qStride, datt + ai, aStride, T - t2, scale, true);
      acc_rows(dvp, HS, dout + off, qStride, att + ai, aStride, T - t2, 1, false);
    }
  }
}
