// f32 GEMM, cache-blocked and SIMD128 (BLIS-style): C(M,N) (+)= A(M,K) · B(K,N)
// with A and B read through arbitrary (row, col) element strides, so one core
// serves the forward product and both backward products without transposes:
//
//   forward          out(M,N)  = x(M,K) · w(N,K)ᵀ   A=x  (K,1)   B=wᵀ (1,K)
//   backward input   dx(M,K)  += dy(M,N) · w(N,K)   A=dy (N,1)   B=w  (K,1)
//   backward weight  dw(N,K)  += dy(M,N)ᵀ · x(M,K)  A=dyᵀ (1,N)  B=x  (K,1)
//
// Loop nest (per thread, over its slice of rows or columns of C):
//   jc over NC columns → pc over KC → pack B(KC×NC) into NR-wide panels
//     → ic over MC rows → pack A(MC×KC) into MR-tall panels
//       → jr, ir: MR×NR micro-kernel, 8 f32x4 accumulators, multiply-add (fused in relaxed.wasm).
// Each C element is the sum over k in fixed KC blocks, in k order, so the
// result does not depend on how rows are split between threads (bit-identical).
// Zero padding of edge panels adds exact zeros.
//
// Scratch per thread: MC*KC + KC*NC floats (GEMM_SCRATCH_BYTES), at
// scratch + tid * stride (the context's per-thread scratch region).

import { mac, transpose4x4 } from './nn_math';

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 128;
const NC: i32 = 1024;
export const GEMM_SCRATCH_BYTES: i32 = (MC * KC + KC * NC) * 4;

// Pack rows [i0, i0+mc) × cols [p0, p0+kc) of A into MR-row panels: panel r holds, for each k, MR values.
@inline function packA(dst: usize, a: usize, rsA: i32, csA: i32, i0: i32, mc: i32, p0: i32, kc: i32, M: i32): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const panel = dst + <usize>(ir * kc * 4);
    if (rsA == 1 && i0 + ir + MR <= M && ir + MR <= mc) {
      // the panel's MR rows are adjacent floats (dW's A = dyᵀ): one v128 per k. Row by row, the 4 scalar passes
      // each walked kc rows N·4 bytes apart (16 KiB for the LM head's dW) and missed L1 on every load.
      let src = a + <usize>((i0 + ir) + p0 * csA) * 4;
      const step = <usize>csA * 4;
      for (let k = 0; k < kc; k++) {
        v128.store(panel + <usize>(k * MR * 4), v128.load(src));
        src += step;
      }
      continue;
    }
    for (let r = 0; r < MR; r++) {
      const i = i0 + ir + r;
      if (i < M && ir + r < mc) {
        let src = a + <usize>(i * rsA + p0 * csA) * 4;
        const step = <usize>csA * 4;
        for (let k = 0; k < kc; k++) {
          store<f32>(panel + <usize>((k * MR + r) * 4), load<f32>(src));
          src += step;
        }
      } else {
        for (let k = 0; k < kc; k++) store<f32>(panel + <usize>((k * MR + r) * 4), 0);
      }
    }
  }
}

// Pack rows [p0, p0+kc) × cols [j0, j0+nc) of B into NR-column panels: panel c holds, for each k, NR values.
@inline function packB(dst: usize, b: usize, rsB: i32, csB: i32, p0: i32, kc: i32, j0: i32, nc: i32, N: i32): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const panel = dst + <usize>(jr * kc * 4);
    const j = j0 + jr;
    if (csB == 1 && j + NR <= N && jr + NR <= nc) {
      // contiguous columns: two v128 loads per k
      let src = b + <usize>(p0 * rsB + j) * 4;
      const step = <usize>rsB * 4;
      for (let k = 0; k < kc; k++) {
        const d = panel + <usize>(k * NR * 4);
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
        src += step;
      }
    } else {
      for (let c = 0; c < NR; c++) {
        const jj = j + c;
        if (jj < N && jr + c < nc) {
          let src = b + <usize>(p0 * rsB + jj * csB) * 4;
          const step = <usize>rsB * 4;
          for (let k = 0; k < kc; k++) {
            store<f32>(panel + <usize>((k * NR + c) * 4), load<f32>(src));
            src += step;
          }
        } else {
          for (let k = 0; k < kc; k++) store<f32>(panel + <usize>((k * NR + c) * 4), 0);
        }
      }
    }
  }
}

// MR×NR micro-kernel over kc: acc = Σ_k A[:,k] ⊗ B[k,:]; then C (=|+=) acc for the valid mr×nr corner.
@inline function micro(ap: usize, bp: usize, kc: i32, c: usize, ldc: i32, mr: i32, nr: i32, add: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let pa = ap, pb = bp;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = mac(c00, a, b0); c01 = mac(c01, a, b1);
    a = v128.load32_splat(pa, 4);
    c10 = mac(c10, a, b0); c11 = mac(c11, a, b1);
    a = v128.load32_splat(pa, 8);
    c20 = mac(c20, a, b0); c21 = mac(c21, a, b1);
    a = v128.load32_splat(pa, 12);
    c30 = mac(c30, a, b0); c31 = mac(c31, a, b1);
    pa += MR * 4;
    pb += NR * 4;
  }
  const ldb = <usize>ldc * 4;
  if (mr == MR && nr == NR) {
    let p = c;
    if (add) {
      v128.store(p, f32x4.add(v128.load(p), c00)); v128.store(p, f32x4.add(v128.load(p, 16), c01), 16); p += ldb;
      v128.store(p, f32x4.add(v128.load(p), c10)); v128.store(p, f32x4.add(v128.load(p, 16), c11), 16); p += ldb;
      v128.store(p, f32x4.add(v128.load(p), c20)); v128.store(p, f32x4.add(v128.load(p, 16), c21), 16); p += ldb;
      v128.store(p, f32x4.add(v128.load(p), c30)); v128.store(p, f32x4.add(v128.load(p, 16), c31), 16);
    } else {
      v128.store(p, c00); v128.store(p, c01, 16); p += ldb;
      v128.store(p, c10); v128.store(p, c11, 16); p += ldb;
      v128.store(p, c20); v128.store(p, c21, 16); p += ldb;
      v128.store(p, c30); v128.store(p, c31, 16);
    }
    return;
  }
  // Edge tile: spill to a stack-free path through lanes.
  for (let r = 0; r < mr; r++) {
    const v0 = r == 0 ? c00 : r == 1 ? c10 : r == 2 ? c20 : c30;
    const v1 = r == 0 ? c01 : r == 1 ? c11 : r == 2 ? c21 : c31;
    const row = c + <usize>r * ldb;
    for (let j = 0; j < nr; j++) {
      let x: f32;
      switch (j) {
        case 0: x = f32x4.extract_lane(v0, 0); break;
        case 1: x = f32x4.extract_lane(v0, 1); break;
        case 2: x = f32x4.extract_lane(v0, 2); break;
        case 3: x = f32x4.extract_lane(v0, 3); break;
        case 4: x = f32x4.extract_lane(v1, 0); break;
        case 5: x = f32x4.extract_lane(v1, 1); break;
        case 6: x = f32x4.extract_lane(v1, 2); break;
        default: x = f32x4.extract_lane(v1, 3); break;
      }
      const q = row + <usize>(j * 4);
      store<f32>(q, add ? load<f32>(q) + x : x);
    }
  }
}

/**
 * Pack X(k, j) = src[k·rs + j·cs] (k < K, j < N) into P-wide panels for all k: panel jp holds, for each k, the P
 * values of columns jp·P … jp·P + P − 1 (0 past N), at dst + (jp·K + k)·P floats. Panels [r0, r1). The layout of
 * every packB / packA block at once (B: P = NR; A as X(k, i) = A(i, k): P = MR), so that threads that split the
 * other dimension of C read one shared copy (`gemm`'s preA / preB) instead of each packing the whole operand.
 */
export function gemm_pack_f32(dst: usize, src: usize, rs: i32, cs: i32, K: i32, N: i32, P: i32, r0: i32, r1: i32, tid: i32): void {
  const pb = <usize>K * <usize>P * 4; // bytes per panel
  // Whole panels [r0, full) take a vector path where one stride is 1; the rest, one value at a time.
  const full = (cs == 1 || rs == 1) && (P == 4 || P == 8) ? max(r0, min(r1, N / P)) : r0;
  if (cs == 1) {
    // Adjacent columns: k outer, this chunk's whole panels inner, so that each source row's span of (full − r0)·P
    // floats is read once, front to back (panel by panel, each row's line was fetched once per panel).
    const step = <usize>rs * 4;
    let row = src + <usize>(r0 * P) * 4;
    for (let k = 0; k < K && full > r0; k++) {
      let d = dst + <usize>r0 * pb + <usize>k * <usize>P * 4;
      let p = row;
      for (let jp = r0; jp < full; jp++) {
        v128.store(d, v128.load(p));
        if (P == 8) v128.store(d, v128.load(p, 16), 16);
        d += pb;
        p += <usize>P * 4;
      }
      row += step;
    }
  } else if (rs == 1) {
    // Adjacent k (each column of X contiguous: A = x for the forward, B = wᵀ): 4 × 4 blocks transposed in
    // registers, 4 loads and 4 stores per 16 floats instead of 16 scalar loads at a column stride.
    const cstep = <usize>cs * 4;
    for (let jp = r0; jp < full; jp++) {
      const panel = dst + <usize>jp * pb;
      for (let j = 0; j < P; j += 4) {
        const c0 = src + <usize>(jp * P + j) * cstep;
        let k = 0;
        for (; k + 4 <= K; k += 4) transpose4x4(c0 + (<usize>k << 2), cstep, panel + ((<usize>k * <usize>P + <usize>j) << 2), <usize>P * 4);
        for (; k < K; k++) {
          for (let jj = 0; jj < 4; jj++) store<f32>(panel + ((<usize>k * <usize>P + <usize>(j + jj)) << 2), load<f32>(c0 + <usize>jj * cstep + (<usize>k << 2)));
        }
      }
    }
  }
  // The rest (other strides, the last partial panel): one value at a time, 0 past N.
  for (let jp = full; jp < r1; jp++) {
    const j0 = jp * P;
    const panel = dst + <usize>jp * pb;
    for (let j = 0; j < P; j++) {
      const jj = j0 + j;
      if (jj < N) {
        let p = src + <usize>jj * <usize>cs * 4;
        const step = <usize>rs * 4;
        for (let k = 0; k < K; k++) {
          store<f32>(panel + (<usize>(k * P + j) << 2), load<f32>(p));
          p += step;
        }
      } else {
        for (let k = 0; k < K; k++) store<f32>(panel + (<usize>(k * P + j) << 2), 0);
      }
    }
  }
}

// C[m0:m1, n0:n1] (=|+=) A·B. `scratch` is this thread's MC*KC + KC*NC floats. preA / preB (0: none): A or B packed
// whole by gemm_pack_f32 (P = MR / NR), read in place of this thread's own packing of the same blocks.
function gemm(M: i32, N: i32, K: i32, a: usize, rsA: i32, csA: i32, b: usize, rsB: i32, csB: i32,
              c: usize, ldc: i32, accumulate: bool, m0: i32, m1: i32, n0: i32, n1: i32, scratch: usize,
              preA: usize = 0, preB: usize = 0): void {
  const apack = scratch;
  const bpack = scratch + <usize>(MC * KC * 4);
  if (K == 0) {
    if (!accumulate) for (let i = m0; i < m1; i++) memory.fill(c + <usize>(i * ldc + n0) * 4, 0, <usize>(n1 - n0) * 4);
    return;
  }
  for (let jc = n0; jc < n1; jc += NC) {
    const nc = min(NC, n1 - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const add = accumulate || pc > 0;
      if (preB == 0) packB(bpack, b, rsB, csB, pc, kc, jc, nc, n1);
      for (let ic = m0; ic < m1; ic += MC) {
        const mc = min(MC, m1 - ic);
        if (preA == 0) packA(apack, a, rsA, csA, ic, mc, pc, kc, m1);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bp = preB != 0 ? preB + (<usize>(((jc + jr) / NR) * K + pc) * NR << 2) : bpack + <usize>(jr * kc * 4);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const ap = preA != 0 ? preA + (<usize>(((ic + ir) / MR) * K + pc) * MR << 2) : apack + <usize>(ir * kc * 4);
            micro(ap, bp, kc, c + <usize>((ic + ir) * ldc + jc + jr) * 4, ldc, mr, nr, add);
          }
        }
      }
    }
  }
}


/** out(M,N) (=|+=) x(M,K) · w(N,K)ᵀ */
export function matmul_f32(out: usize, x: usize, w: usize, M: i32, K: i32, N: i32, accumulate: i32,
                           scratch: usize, stride: i32, splitN: i32, pre: usize, r0: i32, r1: i32, tid: i32): void {
  const s = scratch + <usize>tid * <usize>stride;
  if (splitN) gemm(M, N, K, x, K, 1, w, 1, K, out, N, accumulate != 0, 0, M, r0, r1, s, pre, 0);
  else gemm(M, N, K, x, K, 1, w, 1, K, out, N, accumulate != 0, r0, r1, 0, N, s, 0, pre);
}

/** dx(M,K) (=|+=) dy(M,N) · w(N,K) */
export function matmul_bwd_input_f32(dx: usize, dy: usize, w: usize, M: i32, K: i32, N: i32, accumulate: i32,
                                     scratch: usize, stride: i32, splitN: i32, pre: usize, r0: i32, r1: i32, tid: i32): void {
  const s = scratch + <usize>tid * <usize>stride;
  // C = dx (M×K), reduction over N.
  if (splitN) gemm(M, K, N, dy, N, 1, w, K, 1, dx, K, accumulate != 0, 0, M, r0, r1, s, pre, 0);
  else gemm(M, K, N, dy, N, 1, w, K, 1, dx, K, accumulate != 0, r0, r1, 0, K, s, 0, pre);
}

/** dw(N,K) (=|+=) dy(M,N)ᵀ · x(M,K) */
export function matmul_bwd_weight_f32(dw: usize, dy: usize, x: usize, M: i32, K: i32, N: i32, accumulate: i32,
                                      scratch: usize, stride: i32, splitN: i32, pre: usize, r0: i32, r1: i32, tid: i32): void {
  const s = scratch + <usize>tid * <usize>stride;
  // C = dw (N×K), reduction over M; A[n,m] = dy[m*N+n].
  if (splitN) gemm(N, K, M, dy, 1, N, x, K, 1, dw, K, accumulate != 0, 0, N, r0, r1, s, pre, 0);
  else gemm(N, K, M, dy, 1, N, x, K, 1, dw, K, accumulate != 0, r0, r1, 0, K, s, 0, pre);
}
