// Orthonormal fast Walsh–Hadamard transform per row (twin of src/kernels/ref/hadamard.ts):
// unnormalised butterflies in place, then one multiply by 1/√n (passed in as `scale`).
import { scal } from './nn_math';

/** In-place butterflies on one row of n = 2^k floats. */
@inline function fwht(x: usize, n: i32): void {
  if (n >= 4) {
    // Strides 1 and 2 inside each vector: [a0+a1, a0−a1, a2+a3, a2−a3], then pairs (0,2), (1,3).
    const s1 = f32x4(1, -1, 1, -1);
    const s2 = f32x4(1, 1, -1, -1);
    for (let i = 0; i < n; i += 4) {
      const p = x + (<usize>i << 2);
      let v = v128.load(p);
      v = f32x4.add(v128.shuffle<f32>(v, v, 0, 0, 2, 2), f32x4.mul(v128.shuffle<f32>(v, v, 1, 1, 3, 3), s1));
      v = f32x4.add(v128.shuffle<f32>(v, v, 0, 1, 0, 1), f32x4.mul(v128.shuffle<f32>(v, v, 2, 3, 2, 3), s2));
      v128.store(p, v);
    }
    for (let h = 4; h < n; h <<= 1) {
      const hb = <usize>h << 2;
      for (let i = 0; i < n; i += h << 1) {
        const p0 = x + (<usize>i << 2);
        for (let j: usize = 0; j < hb; j += 16) {
          const a = v128.load(p0 + j);
          const b = v128.load(p0 + hb + j);
          v128.store(p0 + j, f32x4.add(a, b));
          v128.store(p0 + hb + j, f32x4.sub(a, b));
        }
      }
    }
  } else if (n == 2) {
    const a = load<f32>(x), b = load<f32>(x, 4);
    store<f32>(x, a + b);
    store<f32>(x, a - b, 4);
  }
}

/** out[m,:] = H·inp[m,:] (scale = 1/√n). Rows of (M, n); out may equal inp. */
export function hadamard_fwd_f32(out: usize, inp: usize, n: i32, scale: f32, r0: i32, r1: i32, tid: i32): void {
  for (let m = r0; m < r1; m++) {
    const off = <usize>m * <usize>n << 2;
    if (out != inp) memory.copy(out + off, inp + off, <usize>n << 2);
    fwht(out + off, n);
    scal(out + off, scale, n);
  }
}

/** dinp[m,:] += H·dout[m,:]; `scratch` holds n floats per thread (thread tid uses scratch + tid·n·4). */
export function hadamard_bwd_f32(dinp: usize, dout: usize, n: i32, scale: f32, scratch: usize, r0: i32, r1: i32, tid: i32): void {
  const tmp = scratch + (<usize>tid * <usize>n << 2);
  const vs = f32x4.splat(scale);
  for (let m = r0; m < r1; m++) {
    const off = <usize>m * <usize>n << 2;
    memory.copy(tmp, dout + off, <usize>n << 2);
    fwht(tmp, n);
    const d = dinp + off;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(d + o, f32x4.add(v128.load(d + o), f32x4.mul(v128.load(tmp + o), vs)));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(d + o, load<f32>(d + o) + load<f32>(tmp + o) * scale);
    }
  }
}
