// Rotate-half RoPE (twin of src/kernels/ref/rope.ts). Rows are (b, t) pairs of the (B, T, NH, HS)
// activation; every head of a row uses the table row of position pos0 + t.

// out may alias inp: each vector pair is loaded before either half is stored.
@inline function rotate(dst: usize, src: usize, cs: usize, sn: usize, half: i32): void {
  const hb = <usize>half << 2;
  let i = 0;
  for (; i + 4 <= half; i += 4) {
    const o = <usize>i << 2;
    const c = v128.load(cs + o);
    const s = v128.load(sn + o);
    const x1 = v128.load(src + o);
    const x2 = v128.load(src + hb + o);
    v128.store(dst + o, f32x4.sub(f32x4.mul(x1, c), f32x4.mul(x2, s)));
    v128.store(dst + hb + o, f32x4.add(f32x4.mul(x2, c), f32x4.mul(x1, s)));
  }
  for (; i < half; i++) {
    const o = <usize>i << 2;
    const c = load<f32>(cs + o);
    const s = load<f32>(sn + o);
    const x1 = load<f32>(src + o);
    const x2 = load<f32>(src + hb + o);
    store<f32>(dst + o, x1 * c - x2 * s);
    store<f32>(dst + hb + o, x2 * c + x1 * s);
  }
}

/** out = x·cos + rotate_half(x)·sin per head. Rows = B·T; out may alias inp. */
export function rope_fwd_f32(out: usize, inp: usize, cos: usize, sin: usize, T: i32, NH: i32, HS: i32, pos0: i32,
                             r0: i32, r1: i32, tid: i32): void {
  const half = HS >> 1;
  for (let bt = r0; bt < r1; bt++) {
    const tab = <usize>((pos0 + bt % T) * half) << 2;
    for (let h = 0; h < NH; h++) {
      const off = (<usize>bt * <usize>NH + <usize>h) * <usize>HS << 2;
      rotate(out + off, inp + off, cos + tab, sin + tab, half);
    }
  }
}

/** dinp += Rᵀ·dout: the rotation by −angle, added (acc 0: written, the old values not read). Rows = B·T. */
export function rope_bwd_f32(dinp: usize, dout: usize, cos: usize, sin: usize, T: i32, NH: i32, HS: i32, pos0: i32, acc: i32,
                             r0: i32, r1: i32, tid: i32): void {
  if (acc == 0) {
    // Zero the rows first (cache-hot, then added to): the same bits as adding to a zeroed buffer.
    memory.fill(dinp + (<usize>r0 * <usize>NH * <usize>HS << 2), 0, <usize>(r1 - r0) * <usize>NH * <usize>HS << 2);
  }
  const half = HS >> 1;
  const hb = <usize>half << 2;
  for (let bt = r0; bt < r1; bt++) {
    const tab = <usize>((pos0 + bt % T) * half) << 2;
    const cs = cos + tab, sn = sin + tab;
    for (let h = 0; h < NH; h++) {
      const off = (<usize>bt * <usize>NH + <usize>h) * <usize>HS << 2;
      const g = dout + off, d = dinp + off;
      let i = 0;
      for (; i + 4 <= half; i += 4) {
        const o = <usize>i << 2;
        const c = v128.load(cs + o), s = v128.load(sn + o);
        const g1 = v128.load(g + o), g2 = v128.load(g + hb + o);
        v128.store(d + o, f32x4.add(v128.load(d + o), f32x4.add(f32x4.mul(g1, c), f32x4.mul(g2, s))));
        v128.store(d + hb + o, f32x4.add(v128.load(d + hb + o), f32x4.sub(f32x4.mul(g2, c), f32x4.mul(g1, s))));
      }
      for (; i < half; i++) {
        const o = <usize>i << 2;
        const c = load<f32>(cs + o), s = load<f32>(sn + o);
        const g1 = load<f32>(g + o), g2 = load<f32>(g + hb + o);
        store<f32>(d + o, load<f32>(d + o) + (g1 * c + g2 * s));
        store<f32>(d + hb + o, load<f32>(d + hb + o) + (g2 * c - g1 * s));
      }
    }
  }
}
