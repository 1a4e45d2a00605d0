// Causal GQA attention (twin of src/kernels/ref/attention.ts; see the two-pass backward there).
// Forward and backward pass 1 own rows (b, h, t) of the (B, H, T) grid; pass 2 owns rows (b, g, t2)
// of (B, KVH, T). Query head h reads kv head g = h / (H / KVH). The backward runs both passes block by block
// (b, g) (`attention_bwd_f32`), the block's score gradient in per-thread scratch.
//
// Every float operation of a row happens in a fixed order that does not depend on the thread split:
//   - scores (q·k in the forward, dout·v in backward pass 1): keys in lanes over the transposed keys, a
//     tile of up to 4 query rows × 8 keys (`scores4`), each score the sequential sum over the head dim;
//   - weighted sums (out, dq, dk, dv): one multiply-add (`mac`: fused in relaxed.wasm) per element and key, in
//     key order, the output row kept in registers 32 floats at a time while the keys stream past (`acc_rows`,
//     out of line in `attention_acc32_f32`; pass 2 takes rows t2, t2 + 1 together in `attention_acc2x16_f32`);
//   - datt carries the 1/√HS of the scores (rounded once, the coefficient dq and dk both use).
import { dot, mac, softmaxRow, transpose4x4 } from './nn_math';

@inline function qkvOff(b: i32, t: i32, h: i32, T: i32, NH: i32, HS: i32): usize {
  return ((<usize>b * <usize>T + <usize>t) * <usize>NH + <usize>h) * <usize>HS << 2;
}

/**
 * y[0..32) += Σ_j c(j)·x_j[0..32) for j = 0 … cnt−1 in order, x_j = x + j·xStride, c(j) = load(c + j·cStride):
 * one multiply-add per element (`mac`), the 32 floats of y in registers. Exported only so that Binaryen keeps
 * it out of line: inlined into the callers' row loops (or with a loop around it in its own function), V8
 * (Node 20) spilled two accumulators and hoisted all eight loads, and the loop ran at 17–19 GFLOP/s against
 * 47–49 out of line (one core; docs/kernels.md). Not a kernel: callers are the attention kernels below.
 */
export function attention_acc32_f32(y: usize, x: usize, xStride: usize, c: usize, cStride: usize, cnt: i32): void {
  let y0 = v128.load(y), y1 = v128.load(y, 16), y2 = v128.load(y, 32), y3 = v128.load(y, 48);
  let y4 = v128.load(y, 64), y5 = v128.load(y, 80), y6 = v128.load(y, 96), y7 = v128.load(y, 112);
  let xp = x, cp = c;
  for (let j = 0; j < cnt; j++) {
    const va = v128.load32_splat(cp);
    y0 = mac(y0, va, v128.load(xp)); y1 = mac(y1, va, v128.load(xp, 16));
    y2 = mac(y2, va, v128.load(xp, 32)); y3 = mac(y3, va, v128.load(xp, 48));
    y4 = mac(y4, va, v128.load(xp, 64)); y5 = mac(y5, va, v128.load(xp, 80));
    y6 = mac(y6, va, v128.load(xp, 96)); y7 = mac(y7, va, v128.load(xp, 112));
    xp += xStride; cp += cStride;
  }
  v128.store(y, y0); v128.store(y, y1, 16); v128.store(y, y2, 32); v128.store(y, y3, 48);
  v128.store(y, y4, 64); v128.store(y, y5, 80); v128.store(y, y6, 96); v128.store(y, y7, 112);
}

/**
 * Two rows at once, 16 floats each: y0[0..16) += Σ_j c(j)·x_j and y1[0..16) += Σ_j c'(j)·x_j, c'(j) the float after
 * c(j) (backward pass 2's neighbouring columns t2, t2 + 1), so each x_j load serves both rows; the same `mac` per
 * element in the same order as `attention_acc32_f32`. Out of line for the same reason (14 live vectors).
 */
export function attention_acc2x16_f32(y0: usize, y1: usize, x: usize, xStride: usize, c: usize, cStride: usize, cnt: i32): void {
  let a0 = v128.load(y0), a1 = v128.load(y0, 16), a2 = v128.load(y0, 32), a3 = v128.load(y0, 48);
  let b0 = v128.load(y1), b1 = v128.load(y1, 16), b2 = v128.load(y1, 32), b3 = v128.load(y1, 48);
  let xp = x, cp = c;
  for (let j = 0; j < cnt; j++) {
    const ca = v128.load32_splat(cp), cb = v128.load32_splat(cp, 4);
    const x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
    a0 = mac(a0, ca, x0); a1 = mac(a1, ca, x1); a2 = mac(a2, ca, x2); a3 = mac(a3, ca, x3);
    b0 = mac(b0, cb, x0); b1 = mac(b1, cb, x1); b2 = mac(b2, cb, x2); b3 = mac(b3, cb, x3);
    xp += xStride; cp += cStride;
  }
  v128.store(y0, a0); v128.store(y0, a1, 16); v128.store(y0, a2, 32); v128.store(y0, a3, 48);
  v128.store(y1, b0); v128.store(y1, b1, 16); v128.store(y1, b2, 32); v128.store(y1, b3, 48);
}

/** acc_rows for two rows whose coefficients are neighbouring floats (c and c + 4): 16-float pairs, then each row alone. */
function acc_pair(y0: usize, y1: usize, n: i32, x0: usize, xStride: usize, c0: usize, cStride: usize, cnt: i32): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) attention_acc2x16_f32(y0 + (<usize>i << 2), y1 + (<usize>i << 2), x0 + (<usize>i << 2), xStride, c0, cStride, cnt);
  if (i < n) {
    acc_rows(y0 + (<usize>i << 2), n - i, x0 + (<usize>i << 2), xStride, c0, cStride, cnt);
    acc_rows(y1 + (<usize>i << 2), n - i, x0 + (<usize>i << 2), xStride, c0 + 4, cStride, cnt);
  }
}

/**
 * y[0..n) += Σ_j c(j)·x_j[0..n) for j = 0 … cnt−1 in order (x_j = x0 + j·xStride, c(j) = load(c0 + j·cStride)):
 * one multiply-add per element, in the same order for every split; 32 floats at a time out of line
 * (`attention_acc32_f32`), then 4, then 1.
 */
function acc_rows(y: usize, n: i32, x0: usize, xStride: usize, c0: usize, cStride: usize, cnt: i32): void {
  let i = 0;
  for (; i + 32 <= n; i += 32) attention_acc32_f32(y + (<usize>i << 2), x0 + (<usize>i << 2), xStride, c0, cStride, cnt);
  for (; i + 4 <= n; i += 4) {
    const yo = y + (<usize>i << 2);
    let y0 = v128.load(yo);
    let xp = x0 + (<usize>i << 2), cp = c0;
    for (let j = 0; j < cnt; j++) {
      y0 = mac(y0, v128.load32_splat(cp), v128.load(xp));
      xp += xStride; cp += cStride;
    }
    v128.store(yo, y0);
  }
  for (; i < n; i++) {
    const yo = y + (<usize>i << 2);
    let s = load<f32>(yo);
    let xp = x0 + (<usize>i << 2), cp = c0;
    for (let j = 0; j < cnt; j++) {
      s = s + load<f32>(cp) * load<f32>(xp);
      xp += xStride; cp += cStride;
    }
    store<f32>(yo, s);
  }
}

// ---- scores with keys in lanes ---------------------------------------------------------------------
// Score rows s[t, t2] = Σ_i a_t[i]·K[t2, i] read the keys transposed, kT (B, KVH, HS, Tp) (Tp = T rounded up
// to an odd multiple of 8, padding 0; `transpose_kv_f32`), so a tile of R query rows × 8 keys is a small GEMM with no horizontal
// sums: per i, R splats of a_t[i], two loads of kT[i, t2..t2+7], R·8 multiply-adds. Every score is the plain
// sequential sum over i (acc = acc + a[i]·k[i] from 0), whatever R is, so a row's bits do not depend on which
// rows share its tile, hence not on how rows are split between threads.

/** Keys per tile column block. */
const KB: i32 = 8;

/** T rounded up to the key block. */
@inline function keysPadded(T: i32): i32 {
  return (T + KB - 1) & ~(KB - 1);
}

/**
 * Tp, the kT row length: keysPadded(T) made an odd multiple of 8 floats, so the HS rows a tile walks (Tp·4
 * bytes apart) do not all fall into the same few L1 sets (T = 256, HS = 64 ran 1.3× slower at Tp = 256).
 */
@inline function rowLen(T: i32): i32 {
  return keysPadded(T) | KB;
}

/** rowLen for the host side (src/kernels/wasm/nn.ts sizes the transposed keys and checks the scratch with it). */
export function attention_kv_row_len(T: i32): i32 {
  return rowLen(T);
}

/** sc[r, 0..nk) for r < 4: rows a0 + r·aStride (HS floats each) against kT (HS rows of Tp); nk a multiple of 8. */
@inline function scores4(sc: usize, scStride: usize, a0: usize, aStride: usize, kT: usize, Tp: i32, nk: i32, HS: i32, scale: f32, SCALE: bool): void {
  const ktStride = <usize>Tp << 2;
  const vs = f32x4.splat(scale);
  for (let t2 = 0; t2 < nk; t2 += KB) {
    let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    let kp = kT + (<usize>t2 << 2);
    let ap = a0;
    for (let i = 0; i < HS; i++) {
      const k0 = v128.load(kp), k1 = v128.load(kp, 16);
      let a = v128.load32_splat(ap);
      c00 = mac(c00, a, k0); c01 = mac(c01, a, k1);
      a = v128.load32_splat(ap + aStride);
      c10 = mac(c10, a, k0); c11 = mac(c11, a, k1);
      a = v128.load32_splat(ap + 2 * aStride);
      c20 = mac(c20, a, k0); c21 = mac(c21, a, k1);
      a = v128.load32_splat(ap + 3 * aStride);
      c30 = mac(c30, a, k0); c31 = mac(c31, a, k1);
      kp += ktStride;
      ap += 4;
    }
    if (SCALE) {
      c00 = f32x4.mul(c00, vs); c01 = f32x4.mul(c01, vs); c10 = f32x4.mul(c10, vs); c11 = f32x4.mul(c11, vs);
      c20 = f32x4.mul(c20, vs); c21 = f32x4.mul(c21, vs); c30 = f32x4.mul(c30, vs); c31 = f32x4.mul(c31, vs);
    }
    const o = sc + (<usize>t2 << 2);
    v128.store(o, c00); v128.store(o, c01, 16);
    v128.store(o + scStride, c10); v128.store(o + scStride, c11, 16);
    v128.store(o + 2 * scStride, c20); v128.store(o + 2 * scStride, c21, 16);
    v128.store(o + 3 * scStride, c30); v128.store(o + 3 * scStride, c31, 16);
  }
}

/** scores4 for one row (the same operations per score). */
@inline function scores1(sc: usize, a0: usize, kT: usize, Tp: i32, nk: i32, HS: i32, scale: f32, SCALE: bool): void {
  const ktStride = <usize>Tp << 2;
  const vs = f32x4.splat(scale);
  for (let t2 = 0; t2 < nk; t2 += KB) {
    let c0 = f32x4.splat(0), c1 = c0;
    let kp = kT + (<usize>t2 << 2);
    for (let i = 0; i < HS; i++) {
      const a = v128.load32_splat(a0 + (<usize>i << 2));
      c0 = mac(c0, a, v128.load(kp)); c1 = mac(c1, a, v128.load(kp, 16));
      kp += ktStride;
    }
    if (SCALE) { c0 = f32x4.mul(c0, vs); c1 = f32x4.mul(c1, vs); }
    const o = sc + (<usize>t2 << 2);
    v128.store(o, c0); v128.store(o, c1, 16);
  }
}

/**
 * Score rows of the query rows [row, row + R) of one (b, h) (R = 4 when four rows remain in the thread's range
 * and in the (b, h) block, else 1) into sc (4 rows of Tp floats); returns R. `a` is the query-side input
 * (q in the forward, dout in backward pass 1), kT the transposed keys (or values) of kv head g.
 */
@inline function scoreRows(sc: usize, row: i32, r1: i32, T: i32, H: i32, HS: i32, Tp: i32, a: usize, kT: usize, scale: f32, SCALE: bool): i32 {
  const t = row % T;
  const bh = row / T;
  const h = bh % H;
  const b = bh / H;
  const ap = a + qkvOff(b, t, h, T, H, HS);
  const aStride = <usize>H * <usize>HS << 2;
  if (row + 4 <= r1 && t + 4 <= T) {
    scores4(sc, <usize>Tp << 2, ap, aStride, kT, Tp, keysPadded(t + 4), HS, scale, SCALE);
    return 4;
  }
  scores1(sc, ap, kT, Tp, keysPadded(t + 1), HS, scale, SCALE);
  return 1;
}

/**
 * kT[b, g, i, t] = k[b, t, g, i] for rows (b, g) of (B, KVH); the pad columns [T, Tp) are 0. Blocks of 4 keys ×
 * 4 dims are transposed in registers and stored 4 floats at a time: one float at a time, each key's HS stores
 * went to HS lines Tp·4 bytes apart that (with T = 256, HS = 32) did not all stay in L1, 2.8 ms per call at
 * B 8, KVH 8 against 0.65 ms now (docs/kernels.md).
 */
export function transpose_kv_f32(kT: usize, k: usize, T: i32, KVH: i32, HS: i32, r0: i32, r1: i32, tid: i32): void {
  const Tp = rowLen(T);
  const tStride = <usize>KVH * <usize>HS << 2, iStride = <usize>Tp << 2;
  for (let row = r0; row < r1; row++) {
    const g = row % KVH;
    const b = row / KVH;
    const dst = kT + (<usize>row * <usize>HS * <usize>Tp << 2);
    let t = 0;
    for (; t + 4 <= T; t += 4) {
      const src = k + qkvOff(b, t, g, T, KVH, HS);
      let i = 0;
      // rows k[t + j][i … i + 3] → kT rows i … i + 3 at columns t … t + 3
      for (; i + 4 <= HS; i += 4) transpose4x4(src + (<usize>i << 2), tStride, dst + ((<usize>i * <usize>Tp + <usize>t) << 2), iStride);
      for (; i < HS; i++) {
        for (let j = 0; j < 4; j++) store<f32>(dst + ((<usize>i * <usize>Tp + <usize>(t + j)) << 2), load<f32>(src + <usize>j * tStride + (<usize>i << 2)));
      }
    }
    for (; t < T; t++) {
      const src = k + qkvOff(b, t, g, T, KVH, HS);
      for (let i = 0; i < HS; i++) store<f32>(dst + ((<usize>i * <usize>Tp + <usize>t) << 2), load<f32>(src + (<usize>i << 2)));
    }
    if (Tp > T) for (let i = 0; i < HS; i++) memory.fill(dst + ((<usize>i * <usize>Tp + <usize>T) << 2), 0, <usize>(Tp - T) << 2);
  }
}

/**
 * att[b,h,t,:] = causal softmax(q·k/√HS), out[b,t,h] = Σ att·v. Rows = B·H·T in (b, h, t) order.
 * kT: the keys transposed (transpose_kv_f32); scratch + tid·stride: this thread's score rows (4 × Tp floats).
 */
export function attention_fwd_f32(out: usize, att: usize, q: usize, kT: usize, v: usize, T: i32, H: i32, KVH: i32, HS: i32,
                                  scratch: usize, stride: i32, r0: i32, r1: i32, tid: i32): void {
  const scale: f32 = 1 / Mathf.sqrt(<f32>HS);
  const G = H / KVH;
  const kvStride = <usize>KVH * <usize>HS << 2;
  const Tp = rowLen(T);
  const sc = scratch + <usize>tid * <usize>stride;
  let row = r0;
  while (row < r1) {
    const bh = row / T;
    const h = bh % H;
    const b = bh / H;
    const g = h / G;
    const kTg = kT + ((<usize>b * <usize>KVH + <usize>g) * <usize>HS * <usize>Tp << 2);
    const R = scoreRows(sc, row, r1, T, H, HS, Tp, q, kTg, scale, true);
    for (let r = 0; r < R; r++, row++) {
      const t = row % T;
      const s = sc + (<usize>r * <usize>Tp << 2);
      const a = att + (<usize>row * <usize>T << 2);
      const n = t + 1;
      // exp over the causal prefix [0, t] (contiguous), then normalise.
      softmaxRow(a, s, n);
      if (n < T) memory.fill(a + (<usize>n << 2), 0, <usize>(T - n) << 2);
      const op = out + qkvOff(b, t, h, T, H, HS);
      memory.fill(op, 0, <usize>HS << 2);
      acc_rows(op, HS, v + qkvOff(b, 0, g, T, KVH, HS), kvStride, a, 4, n);
    }
  }
}

/**
 * Backward pass 1, rows (b, h, t): datt[t2] = f32(att·(dout·v[t2] − Σ att·(dout·v)))/√HS (the pre-softmax score
 * gradient with the 1/√HS of the scores folded in, rounded once more: the very coefficient both dq and dk use;
 * 0 above the diagonal), dq += Σ datt[t2]·k[t2]. vT: the values transposed (transpose_kv_f32).
 */
@inline function bwd1Rows(dq: usize, datt: usize, dout: usize, k: usize, vT: usize, att: usize,
                         T: i32, H: i32, KVH: i32, HS: i32, acc: i32, sc: usize, r0: i32, r1: i32): void {
  const scale: f32 = 1 / Mathf.sqrt(<f32>HS);
  const G = H / KVH;
  const kvStride = <usize>KVH * <usize>HS << 2;
  const Tp = rowLen(T);
  let row = r0;
  while (row < r1) {
    const bh = row / T;
    const h = bh % H;
    const b = bh / H;
    const g = h / G;
    const vTg = vT + ((<usize>b * <usize>KVH + <usize>g) * <usize>HS * <usize>Tp << 2);
    const R = scoreRows(sc, row, r1, T, H, HS, Tp, dout, vTg, 1, false);
    for (let r = 0; r < R; r++, row++) {
      const t = row % T;
      const e = sc + (<usize>r * <usize>Tp << 2); // dout·v[t2]
      const a = att + (<usize>row * <usize>T << 2);
      const d = datt + (<usize>row * <usize>T << 2);
      const n = t + 1;
      // Σ att·(dout·v) in four lanes (`dot`): the one scalar chain of adds was ~2 ms of a 26 ms backward
      const s = dot(a, e, n);
      const vs = f32x4.splat(s), vscale = f32x4.splat(scale);
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        v128.store(d + o, f32x4.mul(f32x4.mul(v128.load(a + o), f32x4.sub(v128.load(e + o), vs)), vscale));
      }
      for (; i < n; i++) {
        const o = <usize>i << 2;
        store<f32>(d + o, (load<f32>(a + o) * (load<f32>(e + o) - s)) * scale);
      }
      if (n < T) memory.fill(d + (<usize>n << 2), 0, <usize>(T - n) << 2);
      const dqp = dq + qkvOff(b, t, h, T, H, HS);
      if (acc == 0) memory.fill(dqp, 0, <usize>HS << 2); // acc 0: this row's dq is written (added to zeros)
      acc_rows(dqp, HS, k + qkvOff(b, 0, g, T, KVH, HS), kvStride, d, 4, n);
    }
  }
}

/**
 * Backward pass 2, rows (b, g, t2) of (B, KVH, T): dk[b,t2,g] += Σ_{h∈g, t≥t2} datt[b,h,t,t2]·q[b,t,h] (datt already
 * carries the 1/√HS),
 * dv[b,t2,g] += Σ_{h∈g, t≥t2} att[b,h,t,t2]·dout[b,t,h].
 */
@inline function bwd2Rows(dk: usize, dv: usize, datt: usize, dout: usize, q: usize, att: usize,
                         T: i32, H: i32, KVH: i32, HS: i32, acc: i32, r0: i32, r1: i32): void {
  const G = H / KVH;
  const qStride = <usize>H * <usize>HS << 2;
  const aStride = <usize>T << 2;
  let row = r0;
  while (row < r1) {
    const t2 = row % T;
    const bg = row / T;
    const g = bg % KVH;
    const b = bg / KVH;
    const dkp = dk + qkvOff(b, t2, g, T, KVH, HS);
    const dvp = dv + qkvOff(b, t2, g, T, KVH, HS);
    // rows t2 and t2 + 1 together where both are this thread's: key t2 for row t2 alone, then keys t2 + 1 … T − 1
    // for both (each row's keys still in order, the same operations per element as one row at a time)
    const pair = row + 1 < r1 && t2 + 1 < T;
    const kvStep = <usize>KVH * <usize>HS << 2;
    if (acc == 0) {
      // acc 0: these rows of dk and dv are written (added to zeros)
      memory.fill(dkp, 0, <usize>HS << 2);
      memory.fill(dvp, 0, <usize>HS << 2);
      if (pair) {
        memory.fill(dkp + kvStep, 0, <usize>HS << 2);
        memory.fill(dvp + kvStep, 0, <usize>HS << 2);
      }
    }
    for (let h = g * G; h < (g + 1) * G; h++) {
      const ai = ((((<usize>b * <usize>H + <usize>h) * <usize>T + <usize>t2) * <usize>T) + <usize>t2) << 2;
      const off = qkvOff(b, t2, h, T, H, HS);
      if (pair) {
        acc_rows(dkp, HS, q + off, qStride, datt + ai, aStride, 1);
        acc_rows(dvp, HS, dout + off, qStride, att + ai, aStride, 1);
        acc_pair(dkp, dkp + kvStep, HS, q + off + qStride, qStride, datt + ai + aStride, aStride, T - t2 - 1);
        acc_pair(dvp, dvp + kvStep, HS, dout + off + qStride, qStride, att + ai + aStride, aStride, T - t2 - 1);
      } else {
        acc_rows(dkp, HS, q + off, qStride, datt + ai, aStride, T - t2);
        acc_rows(dvp, HS, dout + off, qStride, att + ai, aStride, T - t2);
      }
    }
    row += pair ? 2 : 1;
  }
}

/**
 * The backward, blocks (b, g) of (B, KVH) [r0, r1): pass 1 over the rows (b, h, ·) of the group's query heads, then
 * pass 2 over the rows (b, g, ·), so that the block's att and datt (G·T² floats) are still in cache when pass 2
 * reads them by columns. As two separate passes over the batch they were read back from DRAM: at B 8, H 8, T 256
 * the backward ran at 22 GFLOP/s against 33 with B 1 (docs/kernels.md). Each row's operations are those of the
 * passes alone, so the bits do not depend on the blocking. vT: the values transposed (transpose_kv_f32); scratch +
 * tid·stride: this thread's score rows (4 × Tp floats).
 */
export function attention_bwd_f32(dq: usize, dk: usize, dv: usize, dattTmp: usize, dout: usize, q: usize, k: usize, vT: usize, att: usize,
                                  T: i32, H: i32, KVH: i32, HS: i32, acc: i32, scratch: usize, stride: i32, r0: i32, r1: i32, tid: i32): void {
  const G = H / KVH;
  const sc = scratch + <usize>tid * <usize>stride;
  const blockBytes = <usize>G * <usize>T * <usize>T << 2;
  for (let blk = r0; blk < r1; blk++) {
    const b = blk / KVH, g = blk % KVH;
    const q0 = (b * H + g * G) * T;
    // the block's score gradient in this thread's G·T² floats of dattTmp, addressed as rows q0 … of a (B, H, T, T) array
    const datt = dattTmp + <usize>tid * blockBytes - (<usize>q0 * <usize>T << 2);
    bwd1Rows(dq, datt, dout, k, vT, att, T, H, KVH, HS, acc, sc, q0, q0 + G * T);
    bwd2Rows(dk, dv, datt, dout, q, att, T, H, KVH, HS, acc, blk * T, blk * T + T);
  }
}
