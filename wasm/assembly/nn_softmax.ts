// Row softmax and fused softmax + cross-entropy (twins of src/kernels/ref/softmax.ts).
// exp is the SIMD polynomial of nn_math (tails go through the same vector path).
import { expShiftSum, hsum, rowMax, scal, softmaxRow } from './nn_math';

/** out[m,:] = softmax(inp[m,:]) with the row max subtracted. Rows of (M, C); out may alias inp. */
export function softmax_fwd_f32(out: usize, inp: usize, C: i32, r0: i32, r1: i32, tid: i32): void {
  for (let m = r0; m < r1; m++) {
    const off = <usize>m * <usize>C << 2;
    softmaxRow(out + off, inp + off, C);
  }
}

/** dinp += y·(dy − Σ dy·y). Rows of (M, C). */
export function softmax_bwd_f32(dinp: usize, dout: usize, out: usize, C: i32, r0: i32, r1: i32, tid: i32): void {
  for (let m = r0; m < r1; m++) {
    const off = <usize>m * <usize>C << 2;
    const dy = dout + off, y = out + off, dx = dinp + off;
    let acc = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      acc = f32x4.add(acc, f32x4.mul(v128.load(dy + o), v128.load(y + o)));
    }
    let s = hsum(acc);
    for (; c < C; c++) {
      const o = <usize>c << 2;
      s += load<f32>(dy + o) * load<f32>(y + o);
    }
    const vs = f32x4.splat(s);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      v128.store(dx + o, f32x4.add(v128.load(dx + o), f32x4.mul(v128.load(y + o), f32x4.sub(v128.load(dy + o), vs))));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      store<f32>(dx + o, load<f32>(dx + o) + load<f32>(y + o) * (load<f32>(dy + o) - s));
    }
  }
}

/** probs = softmax(logits); losses[m] = log Σ exp(l − max) + max − l[t] (0 for t = −1). Rows of (M, V). */
export function crossentropy_fwd_f32(losses: usize, probs: usize, logits: usize, targets: usize, V: i32,
                                     r0: i32, r1: i32, tid: i32): void {
  for (let m = r0; m < r1; m++) {
    const off = <usize>m * <usize>V << 2;
    const mx = rowMax(logits + off, V);
    const s = expShiftSum(probs + off, logits + off, mx, V);
    scal(probs + off, 1 / s, V);
    const t = load<i32>(targets + (<usize>m << 2));
    store<f32>(losses + (<usize>m << 2), t < 0 ? 0 : Mathf.log(s) + mx - load<f32>(logits + off + (<usize>t << 2)));
  }
}

/** dlogits[m,:] += (probs[m,:] − onehot(t))·dlosses[m]; rows with t = −1 untouched. */
/** d[j] = old + p[j]·dl over a row, old = d[j] with ACC, else 0 (0 + x: the same bits as adding to a zeroed row). */
@inline function ceBwdRow(d: usize, p: usize, dl: f32, V: i32, ACC: bool): void {
  const vdl = f32x4.splat(dl), z = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= V; j += 4) {
    const o = <usize>j << 2;
    v128.store(d + o, f32x4.add(ACC ? v128.load(d + o) : z, f32x4.mul(v128.load(p + o), vdl)));
  }
  for (; j < V; j++) {
    const o = <usize>j << 2;
    store<f32>(d + o, (ACC ? load<f32>(d + o) : <f32>0) + load<f32>(p + o) * dl);
  }
}

export function crossentropy_bwd_f32(dlogits: usize, dlosses: usize, probs: usize, targets: usize, V: i32, acc: i32,
                                     r0: i32, r1: i32, tid: i32): void {
  for (let m = r0; m < r1; m++) {
    const t = load<i32>(targets + (<usize>m << 2));
    const off = <usize>m * <usize>V << 2;
    const d = dlogits + off, p = probs + off;
    if (t < 0) {
      if (acc == 0) memory.fill(d, 0, <usize>V << 2);
      continue;
    }
    const dl = load<f32>(dlosses + (<usize>m << 2));
    // The target entry is (p − 1)·dl in one rounding, as in the reference: remember its old value.
    const tOff = <usize>t << 2;
    const dOld = acc != 0 ? load<f32>(d + tOff) : <f32>0;
    if (acc != 0) ceBwdRow(d, p, dl, V, true);
    else ceBwdRow(d, p, dl, V, false);
    store<f32>(d + tOff, dOld + (load<f32>(p + tOff) - 1) * dl);
  }
}
