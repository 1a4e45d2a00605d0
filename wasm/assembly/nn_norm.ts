// RMSNorm and LayerNorm over rows of C floats (twins of src/kernels/ref/norm.ts).
// Row kernels own rows [r0, r1); the weight/bias gradients are reduced over rows by
// separate column kernels that own columns [r0, r1) (split aligned to 4), each column
// summed over m in order, so no thread ever writes another's output and the result
// does not depend on the split. A null weight/bias is passed as pointer 0.
import { hsum } from './nn_math';

/** Σ x² over a row. */
@inline function sumsq(x: usize, C: i32): f32 {
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= C; c += 4) {
    const v = v128.load(x + (<usize>c << 2));
    acc = f32x4.add(acc, f32x4.mul(v, v));
  }
  let s = hsum(acc);
  for (; c < C; c++) {
    const v = load<f32>(x + (<usize>c << 2));
    s += v * v;
  }
  return s;
}

@inline function sum(x: usize, C: i32): f32 {
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= C; c += 4) acc = f32x4.add(acc, v128.load(x + (<usize>c << 2)));
  let s = hsum(acc);
  for (; c < C; c++) s += load<f32>(x + (<usize>c << 2));
  return s;
}

/** out = x·rstd·w (w = 1 if weight == 0), rstd = 1/√(mean(x²)+eps). Rows of (M, C). */
export function rmsnorm_fwd_f32(out: usize, rstd: usize, inp: usize, weight: usize, C: i32, eps: f32,
                                r0: i32, r1: i32, tid: i32): void {
  for (let m = r0; m < r1; m++) {
    const x = inp + (<usize>m * <usize>C << 2);
    const y = out + (<usize>m * <usize>C << 2);
    const r: f32 = 1 / Mathf.sqrt(sumsq(x, C) / <f32>C + eps);
    store<f32>(rstd + (<usize>m << 2), r);
    const vr = f32x4.splat(r);
    let c = 0;
    if (weight != 0) {
      for (; c + 4 <= C; c += 4) {
        const o = <usize>c << 2;
        v128.store(y + o, f32x4.mul(f32x4.mul(v128.load(x + o), vr), v128.load(weight + o)));
      }
      for (; c < C; c++) {
        const o = <usize>c << 2;
        store<f32>(y + o, load<f32>(x + o) * r * load<f32>(weight + o));
      }
    } else {
      for (; c + 4 <= C; c += 4) v128.store(y + (<usize>c << 2), f32x4.mul(v128.load(x + (<usize>c << 2)), vr));
      for (; c < C; c++) store<f32>(y + (<usize>c << 2), load<f32>(x + (<usize>c << 2)) * r);
    }
  }
}

/** dx += rstd·(g − n·mean(g·n)), n = x·rstd, g = dy·w. Rows of (M, C). */
export function rmsnorm_bwd_f32(dinp: usize, dout: usize, inp: usize, weight: usize, rstd: usize, C: i32,
                                r0: i32, r1: i32, tid: i32): void {
  const one = f32x4.splat(1);
  for (let m = r0; m < r1; m++) {
    const off = <usize>m * <usize>C << 2;
    const x = inp + off, dy = dout + off, dx = dinp + off;
    const r = load<f32>(rstd + (<usize>m << 2));
    // mean(g·n) = r/C · Σ dy·w·x
    let acc = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const w = weight != 0 ? v128.load(weight + o) : one;
      acc = f32x4.add(acc, f32x4.mul(f32x4.mul(v128.load(dy + o), w), v128.load(x + o)));
    }
    let s = hsum(acc);
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const w: f32 = weight != 0 ? load<f32>(weight + o) : 1;
      s += load<f32>(dy + o) * w * load<f32>(x + o);
    }
    const dot = s * r / <f32>C;
    const vr = f32x4.splat(r), vd = f32x4.splat(dot);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const w = weight != 0 ? v128.load(weight + o) : one;
      const g = f32x4.mul(v128.load(dy + o), w);
      const n = f32x4.mul(v128.load(x + o), vr);
      v128.store(dx + o, f32x4.add(v128.load(dx + o), f32x4.mul(vr, f32x4.sub(g, f32x4.mul(n, vd)))));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const w: f32 = weight != 0 ? load<f32>(weight + o) : 1;
      const g = load<f32>(dy + o) * w;
      const n = load<f32>(x + o) * r;
      store<f32>(dx + o, load<f32>(dx + o) + r * (g - n * dot));
    }
  }
}

// Column reduction shared by the norm weight gradients: for columns [c0, c1),
//   dw[c] += Σ_m dy[m,c]·(x[m,c] − mean[m])·rstd[m]   (mean = 0 when meanp == 0)
//   db[c] += Σ_m dy[m,c]                              (if db != 0)
// 4 columns per vector; each column's sum runs over m in order in every path (vector or
// scalar lanes round identically: no fused ops), so column results are split-invariant.
@inline function normColumns(dw: usize, db: usize, dout: usize, inp: usize, meanp: usize, rstd: usize,
                             M: i32, C: i32, c0: i32, c1: i32): void {
  const rowb = <usize>C << 2;
  let c = c0;
  for (; c + 4 <= c1; c += 4) {
    const o = <usize>c << 2;
    let aw = f32x4.splat(0), ab = f32x4.splat(0);
    let p = o;
    for (let m = 0; m < M; m++) {
      const mu: f32 = meanp != 0 ? load<f32>(meanp + (<usize>m << 2)) : 0;
      const r = load<f32>(rstd + (<usize>m << 2));
      const dy = v128.load(dout + p);
      const n = f32x4.mul(f32x4.sub(v128.load(inp + p), f32x4.splat(mu)), f32x4.splat(r));
      aw = f32x4.add(aw, f32x4.mul(dy, n));
      ab = f32x4.add(ab, dy);
      p += rowb;
    }
    if (dw != 0) v128.store(dw + o, f32x4.add(v128.load(dw + o), aw));
    if (db != 0) v128.store(db + o, f32x4.add(v128.load(db + o), ab));
  }
  for (; c < c1; c++) {
    const o = <usize>c << 2;
    let aw: f32 = 0, ab: f32 = 0;
    let p = o;
    for (let m = 0; m < M; m++) {
      const mu: f32 = meanp != 0 ? load<f32>(meanp + (<usize>m << 2)) : 0;
      const r = load<f32>(rstd + (<usize>m << 2));
      const dy = load<f32>(dout + p);
      aw += dy * ((load<f32>(inp + p) - mu) * r);
      ab += dy;
      p += rowb;
    }
    if (dw != 0) store<f32>(dw + o, load<f32>(dw + o) + aw);
    if (db != 0) store<f32>(db + o, load<f32>(db + o) + ab);
  }
}

/** dweight[c] += Σ_m dy·x·rstd, threaded over columns [r0, r1) of C. */
export function rmsnorm_bwd_dw_f32(dweight: usize, dout: usize, inp: usize, rstd: usize, M: i32, C: i32,
                                   r0: i32, r1: i32, tid: i32): void {
  normColumns(dweight, 0, dout, inp, 0, rstd, M, C, r0, r1);
}

/** out = (x − mean)·rstd·w + b, biased variance (two passes). Rows of (M, C). */
export function layernorm_fwd_f32(out: usize, mean: usize, rstd: usize, inp: usize, weight: usize, bias: usize,
                                  C: i32, eps: f32, r0: i32, r1: i32, tid: i32): void {
  for (let m = r0; m < r1; m++) {
    const x = inp + (<usize>m * <usize>C << 2);
    const y = out + (<usize>m * <usize>C << 2);
    const mu = sum(x, C) / <f32>C;
    const vmu = f32x4.splat(mu);
    let acc = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const d = f32x4.sub(v128.load(x + (<usize>c << 2)), vmu);
      acc = f32x4.add(acc, f32x4.mul(d, d));
    }
    let v = hsum(acc);
    for (; c < C; c++) {
      const d = load<f32>(x + (<usize>c << 2)) - mu;
      v += d * d;
    }
    const r: f32 = 1 / Mathf.sqrt(v / <f32>C + eps);
    store<f32>(mean + (<usize>m << 2), mu);
    store<f32>(rstd + (<usize>m << 2), r);
    const vr = f32x4.splat(r);
    const one = f32x4.splat(1), zero = f32x4.splat(0);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const w = weight != 0 ? v128.load(weight + o) : one;
      const b = bias != 0 ? v128.load(bias + o) : zero;
      v128.store(y + o, f32x4.add(f32x4.mul(f32x4.mul(f32x4.sub(v128.load(x + o), vmu), vr), w), b));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const w: f32 = weight != 0 ? load<f32>(weight + o) : 1;
      const b: f32 = bias != 0 ? load<f32>(bias + o) : 0;
      store<f32>(y + o, (load<f32>(x + o) - mu) * r * w + b);
    }
  }
}

/** dx += rstd·(g − mean(g) − n·mean(g·n)), n = (x − mean)·rstd, g = dy·w. Rows of (M, C). */
export function layernorm_bwd_f32(dinp: usize, dout: usize, inp: usize, weight: usize, mean: usize, rstd: usize, C: i32,
                                  r0: i32, r1: i32, tid: i32): void {
  const one = f32x4.splat(1);
  for (let m = r0; m < r1; m++) {
    const off = <usize>m * <usize>C << 2;
    const x = inp + off, dy = dout + off, dx = dinp + off;
    const mu = load<f32>(mean + (<usize>m << 2));
    const r = load<f32>(rstd + (<usize>m << 2));
    const vmu = f32x4.splat(mu), vr = f32x4.splat(r);
    let ag = f32x4.splat(0), agn = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const w = weight != 0 ? v128.load(weight + o) : one;
      const g = f32x4.mul(v128.load(dy + o), w);
      ag = f32x4.add(ag, g);
      agn = f32x4.add(agn, f32x4.mul(g, f32x4.mul(f32x4.sub(v128.load(x + o), vmu), vr)));
    }
    let gs = hsum(ag), gns = hsum(agn);
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const w: f32 = weight != 0 ? load<f32>(weight + o) : 1;
      const g = load<f32>(dy + o) * w;
      gs += g;
      gns += g * ((load<f32>(x + o) - mu) * r);
    }
    const gm = gs / <f32>C, gnm = gns / <f32>C;
    const vgm = f32x4.splat(gm), vgnm = f32x4.splat(gnm);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const w = weight != 0 ? v128.load(weight + o) : one;
      const g = f32x4.mul(v128.load(dy + o), w);
      const n = f32x4.mul(f32x4.sub(v128.load(x + o), vmu), vr);
      const d = f32x4.sub(f32x4.sub(g, vgm), f32x4.mul(n, vgnm));
      v128.store(dx + o, f32x4.add(v128.load(dx + o), f32x4.mul(vr, d)));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const w: f32 = weight != 0 ? load<f32>(weight + o) : 1;
      const g = load<f32>(dy + o) * w;
      const n = (load<f32>(x + o) - mu) * r;
      store<f32>(dx + o, load<f32>(dx + o) + r * (g - gm - n * gnm));
    }
  }
}

/** dweight[c] += Σ_m dy·n, dbias[c] += Σ_m dy (either pointer may be 0), threaded over columns [r0, r1). */
export function layernorm_bwd_dwdb_f32(dweight: usize, dbias: usize, dout: usize, inp: usize, mean: usize, rstd: usize,
                                       M: i32, C: i32, r0: i32, r1: i32, tid: i32): void {
  normColumns(dweight, dbias, dout, inp, mean, rstd, M, C, r0, r1);
}
