// Memory read bandwidth probe: XOR-reduce [p, p+bytes) with v128 loads, 4
// independent accumulators. Used by bench/ to measure, in the same run, the
// read bandwidth the GEMV kernels are compared against. Threaded over 64 KiB
// chunks; returns nothing (the result is stored to `out` + tid*16 so the loads
// cannot be optimised away).
const CHUNK: i32 = 65536;

export function read_xor_u8(p: usize, bytes: i32, out: usize, r0: i32, r1: i32, tid: i32): void {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  for (let c = r0; c < r1; c++) {
    const start = <i32>c * CHUNK;
    const end = min(bytes, start + CHUNK);
    let q = p + <usize>start;
    const stop = p + <usize>end;
    while (q + 64 <= stop) {
      a0 = v128.xor(a0, v128.load(q));
      a1 = v128.xor(a1, v128.load(q, 16));
      a2 = v128.xor(a2, v128.load(q, 32));
      a3 = v128.xor(a3, v128.load(q, 48));
      q += 64;
    }
  }
  v128.store(out + <usize>tid * 16, v128.xor(v128.xor(a0, a1), v128.xor(a2, a3)));
}
