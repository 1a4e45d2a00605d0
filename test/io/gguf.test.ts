import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FormatError } from '../../src/errors.js';
import { bufferSource, ggufChunks, ggufTensorBytes, gv, parseGguf, serializeGgufHeader, type GgufTensorSpec, type GgufValue } from '../../src/io/gguf.js';
import { bf16ToFloat, decodeGgml, decodeTernary, encodeGgml, encodeQ8_0, encodeTQ1_0, encodeTQ2_0, encodeTernaryTQ, floatToBf16, floatToHalf, ggmlType, halfToFloat } from '../../src/io/gguf_quant.js';
import { Rng } from '../../src/tensor/rng.js';

const concat = (chunks: Iterable<Uint8Array>): Uint8Array => {
  const parts = [...chunks];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const T = (name: string) => ggmlType(name)!;

describe('f16 / bf16 conversion', () => {
  test('every finite half round-trips; ties round to even', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue; // inf/NaN
      assert.equal(floatToHalf(halfToFloat(h)), h, `half 0x${h.toString(16)}`);
    }
    // 1 + 2^-11 is halfway between 1 (0x3c00, even) and 1 + 2^-10 (0x3c01): rounds to 0x3c00.
    assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00);
    // 1 + 3·2^-11 is halfway between 0x3c01 (odd) and 0x3c02 (even): rounds to 0x3c02.
    assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02);
    assert.equal(floatToHalf(65520), 0x7c00); // rounds up to inf
    assert.equal(floatToHalf(2 ** -25), 0x0000); // tie between 0 and the smallest subnormal → 0 (even)
    assert.equal(floatToHalf(3 * 2 ** -26), 0x0001);
    assert.equal(floatToHalf(-0), 0x8000);
  });
  test('bf16 rounds to nearest even', () => {
    assert.equal(floatToBf16(1), 0x3f80);
    assert.equal(floatToBf16(1 + 2 ** -8), 0x3f80); // tie → even
    assert.equal(floatToBf16(1 + 3 * 2 ** -8), 0x3f82); // tie → even (up)
    assert.equal(bf16ToFloat(floatToBf16(-2.5)), -2.5);
    assert.ok(Number.isNaN(bf16ToFloat(floatToBf16(NaN))));
  });
});

describe('ggml block codecs (docs/spec.md §6.1)', () => {
  // One 256-block: zeros except x[0] = +1, x[32] = −1, x[161] = +1, x[250] = −1; d = absmax = 1.
  const block = (): Float32Array => {
    const x = new Float32Array(256);
    x[0] = 1; x[32] = -1; x[161] = 1; x[250] = -1;
    return x;
  };

  test('TQ2_0 hand-computed block', () => {
    const b = encodeTQ2_0(block());
    assert.equal(b.length, 66);
    // qs[j+m] = Σ t(x[4j+m+32n]) << 2n with t = x+1. All-zero weights give 0b01010101 = 0x55.
    // qs[0]: weights 0, 32, 64, 96 → trits 2, 0, 1, 1 → 2 + 0 + 16 + 64 = 82.
    assert.equal(b[0], 82);
    // qs[33] (j = 32, m = 1): weights 129, 161, 193, 225 → 1, 2, 1, 1 → 1 + 8 + 16 + 64 = 89.
    assert.equal(b[33], 89);
    // qs[62] (j = 32, m = 30): weights 158, 190, 222, 254 → all 1; weight 250 is qs[32+26] n=3 → 1+4+16+0 = 21.
    assert.equal(b[32 + 26], 21);
    for (let i = 0; i < 64; i++) if (![0, 33, 58].includes(i)) assert.equal(b[i], 0x55, `qs[${i}]`);
    assert.deepEqual([b[64], b[65]], [0x00, 0x3c]); // d = f16(1.0) = 0x3c00
    assert.deepEqual([...decodeGgml(T('TQ2_0'), b, 256)], [...block()]);
  });

  test('TQ1_0 hand-computed block', () => {
    const b = encodeTQ1_0(block());
    assert.equal(b.length, 54);
    // A byte holds 5 trits, first most significant, stored as ⌈256·v/243⌉. All-zero weights: v = 11111₃ = 121 → 128.
    // qs[0]: weights 0, 32, 64, 96, 128 → 2,0,1,1,1: v = 162 + 0 + 9 + 3 + 1 = 175 → ⌈44800/243⌉ = 185.
    assert.equal(b[0], 185);
    // qs[33]: weights 161 + 16n → 2,1,1,1,1: v = 202 → ⌈51712/243⌉ = 213.
    assert.equal(b[33], 213);
    // qh[2]: weights 242, 246, 250, 254 → 1,1,0,1: v = 27 + 9 + 0 + 1 = 37, ×3 = 111 → ⌈28416/243⌉ = 117.
    assert.equal(b[48 + 2], 117);
    // Other qh bytes: 1111₃ = 40, ×3 = 120 → ⌈30720/243⌉ = 127.
    assert.deepEqual([b[48], b[49], b[51]], [127, 127, 127]);
    for (let i = 0; i < 48; i++) if (i !== 0 && i !== 33) assert.equal(b[i], 128, `qs[${i}]`);
    assert.deepEqual([b[52], b[53]], [0x00, 0x3c]);
    assert.deepEqual([...decodeGgml(T('TQ1_0'), b, 256)], [...block()]);
  });

  test('every TQ1_0 byte encoding of 5 trits decodes back (pow3 decoder)', () => {
    for (let v = 0; v < 243; v++) {
      const trits = [4, 3, 2, 1, 0].map((k) => Math.floor(v / 3 ** k) % 3);
      const x = new Float32Array(256);
      for (let n = 0; n < 5; n++) x[32 * n] = trits[n]! - 1;
      x[255] = 1; // keep d = 1 when the trits are all zero
      const { q } = decodeTernary(T('TQ1_0'), encodeTQ1_0(x), 256);
      for (let n = 0; n < 5; n++) assert.equal(q[32 * n], trits[n]! - 1, `v=${v} n=${n}`);
    }
  });

  test('ternary q·β maps losslessly into TQ blocks; the direct encoder gives the same bytes', () => {
    const rng = new Rng(7);
    const n = 256 * 5;
    const q = new Int8Array(n);
    for (let i = 0; i < n; i++) q[i] = (rng.nextU32() % 3) - 1;
    q.fill(0, 512, 768); // an all-zero block: d = 0
    const beta = 0.0371;
    const w = Float32Array.from(q, (v) => v * beta);
    for (const kind of ['TQ1_0', 'TQ2_0'] as const) {
      const fromFloats = encodeGgml(T(kind), w);
      assert.deepEqual(encodeTernaryTQ(kind, q, beta), fromFloats, kind);
      const d = decodeTernary(T(kind), fromFloats, n);
      assert.deepEqual(d.q, q);
      assert.deepEqual([...d.scales], [1, 1, 0, 1, 1].map((k) => k * halfToFloat(floatToHalf(beta))));
    }
  });

  test('Q8_0 block: d = amax/127 (f16), q = round-half-away(x/d)', () => {
    const x = Float32Array.from({ length: 32 }, (_, j) => j - 16); // amax 16
    const b = encodeQ8_0(x);
    assert.equal(b.length, 34);
    const dv = new DataView(b.buffer);
    assert.equal(dv.getUint16(0, true), floatToHalf(16 / 127));
    assert.equal(dv.getInt8(2 + 0), -127); // −16·(127/16)
    assert.equal(dv.getInt8(2 + 16), 0);
    assert.equal(dv.getInt8(2 + 18), 16); // 2·7.9375 = 15.875 → 16
    assert.equal(dv.getInt8(2 + 17), 8); // 7.9375 → 8
    const y = decodeGgml(T('Q8_0'), b, 32);
    for (let j = 0; j < 32; j++) assert.ok(Math.abs(y[j]! - x[j]!) <= halfToFloat(floatToHalf(16 / 127)) / 2 + 1e-3);
  });

  test('I2_S (bitnet.cpp) decodes: 128-blocks, byte k holds k, 32+k, 64+k, 96+k from the high bits; f32 scale at n/4', () => {
    const n = 256;
    const q = new Int8Array(n);
    const rng = new Rng(3);
    for (let i = 0; i < n; i++) q[i] = (rng.nextU32() % 3) - 1;
    const bytes = new Uint8Array(n / 4 + 32);
    for (let b = 0; b < n / 128; b++) for (let k = 0; k < 32; k++) for (let g = 0; g < 4; g++) bytes[b * 32 + k]! |= (q[b * 128 + 32 * g + k]! + 1) << (6 - 2 * g);
    new DataView(bytes.buffer).setFloat32(n / 4, 0.5, true);
    const d = decodeTernary(T('I2_S'), bytes, n);
    assert.deepEqual(d.q, q);
    assert.deepEqual([...d.scales], [0.5]);
  });
});

/** A small GGUF file with metadata of every value type and three tensors. */
export function sampleGguf(alignment = 64): { bytes: Uint8Array; metadata: Map<string, GgufValue>; specs: GgufTensorSpec[]; data: Uint8Array[] } {
  const metadata = new Map<string, GgufValue>([
    ['general.architecture', gv.str('bitnet')],
    ['general.alignment', gv.u32(alignment)],
    ['t.u8', gv.u8(255)], ['t.i8', { type: 'i8', value: -128 }], ['t.u16', { type: 'u16', value: 65535 }], ['t.i16', { type: 'i16', value: -32768 }],
    ['t.u32', gv.u32(4294967295)], ['t.i32', gv.i32(-2147483648)], ['t.f32', gv.f32(Math.fround(0.1))], ['t.bool', gv.bool(true)],
    ['t.str', gv.str('héllo · 世界 🙂')], ['t.empty', gv.str('')], ['t.u64', gv.u64(2n ** 64n - 1n)], ['t.i64', { type: 'i64', value: -(2n ** 63n) }], ['t.f64', gv.f64(Math.PI)],
    ['t.arr.str', gv.arr('string', ['a', '', 'ü'])], ['t.arr.f32', gv.arr('f32', [1.5, -2])], ['t.arr.nested', gv.arr('array', [{ elem: 'i32', items: [1, 2] }, { elem: 'string', items: ['x'] }])],
    ['t.arr.empty', gv.arr('u8', [])],
  ]);
  const rng = new Rng(11);
  const w = rng.fillNormal(new Float32Array(256 * 2)) as Float32Array;
  const specs: GgufTensorSpec[] = [
    { name: 'a.weight', dims: [3], type: T('F32') },
    { name: 'b.weight', dims: [256, 2], type: T('TQ2_0') },
    { name: 'c.weight', dims: [32, 2], type: T('F16') },
  ];
  const data = [encodeGgml(T('F32'), [1, 2, 3]), encodeGgml(T('TQ2_0'), w), encodeGgml(T('F16'), w.subarray(0, 64))];
  return { bytes: concat(ggufChunks(metadata, specs, (i) => data[i]!)), metadata, specs, data };
}

describe('GGUF v3 container', () => {
  test('write → read: identical metadata, names, dims, bytes; re-serializing gives the same file', () => {
    const { bytes, metadata, specs, data } = sampleGguf();
    const src = bufferSource(bytes);
    const f = parseGguf(src);
    assert.equal(f.version, 3);
    assert.equal(f.alignment, 64);
    assert.equal(f.dataOffset % 64, 0);
    assert.deepEqual([...f.metadata.keys()], [...metadata.keys()]);
    for (const [k, v] of metadata) {
      const got = f.metadata.get(k)!;
      if (v.type === 'f32') assert.equal(got.value, Math.fround(v.value as number));
      else assert.deepEqual(got, v, k);
    }
    assert.deepEqual(f.tensors.map((t) => [t.name, t.dims, t.type.name]), specs.map((s) => [s.name, s.dims, s.type.name]));
    assert.deepEqual(f.tensors[1]!.shape, [2, 256]); // PyTorch order = reversed dims
    f.tensors.forEach((t, i) => {
      assert.equal(t.fileOffset % 64, 0);
      assert.deepEqual(ggufTensorBytes(src, t), data[i]);
    });
    const again = concat(ggufChunks(f.metadata, f.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type })), (i) => ggufTensorBytes(src, f.tensors[i]!)));
    assert.deepEqual(again, bytes);
  });

  test('malformed files raise FormatError naming the problem and the byte offset', () => {
    const { bytes } = sampleGguf(32);
    const f = parseGguf(bufferSource(bytes));
    const bad = (mutate: (b: Uint8Array, dv: DataView) => Uint8Array | void, re: RegExp) => {
      const b = bytes.slice();
      const out = mutate(b, new DataView(b.buffer)) ?? b;
      assert.throws(() => parseGguf(bufferSource(out)), (e: unknown) => e instanceof FormatError && re.test(e.message) && /at byte \d+/.test(e.message), re.source);
    };
    bad((b) => { b[0] = 0x47 ^ 1; }, /not a GGUF file/);
    bad((_, dv) => { dv.setUint32(4, 4, true); }, /version 4/);
    bad((_, dv) => { dv.setUint32(4, 0x03000000, true); }, /big-endian/);
    bad((_, dv) => { dv.setBigUint64(8, 2n ** 40n, true); }, /tensor_count/);
    bad((_, dv) => { dv.setBigUint64(16, 100000n, true); }, /cannot fit/);
    bad((_, dv) => { dv.setBigUint64(24, 2n ** 62n, true); }, /length .* exceeds/); // first key's length lies
    bad((_, dv) => { dv.setBigUint64(24, 5000n, true); }, /truncated|exceeds|UTF-8|type/);
    bad((b) => { b[32] = 0xff; }, /UTF-8/); // inside the first key "general.architecture"
    bad((b) => b.subarray(0, f.tensors[2]!.fileOffset + 10), /runs past the end/);
    bad((b) => b.subarray(0, 100), /cannot fit/);
    bad((b) => b.subarray(0, 400), /truncated/);
    // The tensor info of 'c.weight': name, n_dims, dims, type, offset. Make its offset misaligned.
    const enc = new TextEncoder().encode('c.weight');
    let at = -1;
    for (let i = 0; i < bytes.length - enc.length; i++) if (enc.every((c, k) => bytes[i + k] === c)) { at = i; break; }
    const offPos = at + enc.length + 4 + 8 * 2 + 4;
    bad((_, dv) => { dv.setBigUint64(offPos, BigInt(f.tensors[2]!.offset + 4), true); }, /not a multiple of the alignment/);
    bad((_, dv) => { dv.setBigUint64(offPos, 0n, true); }, /overlap/);
    bad((_, dv) => { dv.setUint32(offPos - 4, 99, true); }, /unknown ggml type 99/);
    bad((_, dv) => { dv.setUint32(at + enc.length, 7, true); }, /n_dims 7/);
  });

  test('fuzz: bit flips, truncations and lying lengths give only FormatError (bounded)', () => {
    const { bytes } = sampleGguf(32);
    const rng = new Rng(2024);
    let ok = 0, typed = 0;
    for (let it = 0; it < 400; it++) {
      let b = bytes.slice();
      const kind = it % 4;
      if (kind === 0) for (let k = 0; k < 1 + rng.int(4); k++) { const i = rng.int(b.length); b[i]! ^= 1 << rng.int(8); }
      else if (kind === 1) b = b.subarray(0, rng.int(b.length));
      else if (kind === 2) { const i = rng.int(Math.min(b.length - 8, 700)); new DataView(b.buffer).setBigUint64(i, BigInt(rng.nextU32()) * BigInt(1 + rng.int(1 << 20)), true); }
      else { const i = rng.int(Math.min(b.length - 4, 700)); new DataView(b.buffer).setUint32(i, rng.nextU32(), true); }
      try {
        const src = bufferSource(b);
        const f = parseGguf(src);
        for (const t of f.tensors) if (t.type.decodable) decodeGgml(t.type, ggufTensorBytes(src, t), t.numel, t.name);
        ok++;
      } catch (e) {
        if (!(e instanceof FormatError)) throw new Error(`iteration ${it} (kind ${kind}): ${String(e)}`);
        typed++;
      }
    }
    assert.ok(typed > 100, `only ${typed} mutations were rejected`);
    assert.ok(ok + typed === 400);
  });

  test('headers larger than the writer and reader buffers (a 150k-token vocabulary) round-trip', () => {
    const tokens = Array.from({ length: 150_000 }, (_, i) => `tok${i}·`);
    const m = new Map<string, GgufValue>([['general.architecture', gv.str('x')], ['tokenizer.ggml.tokens', gv.arr('string', tokens)], ['after', gv.u32(7)]]);
    const bytes = concat(ggufChunks(m, [{ name: 'a', dims: [2], type: T('F32') }], () => encodeGgml(T('F32'), [1, 2])));
    assert.ok(bytes.length > 2 << 20);
    const f = parseGguf(bufferSource(bytes));
    assert.deepEqual(f.metadata.get('tokenizer.ggml.tokens'), m.get('tokenizer.ggml.tokens'));
    assert.equal(f.metadata.get('after')!.value, 7);
    assert.deepEqual(ggufTensorBytes(bufferSource(bytes), f.tensors[0]!), encodeGgml(T('F32'), [1, 2]));
  });

  test('writer refuses invalid layouts', () => {
    const m = new Map<string, GgufValue>([['general.architecture', gv.str('x')]]);
    assert.throws(() => serializeGgufHeader(m, [{ name: 'x', dims: [100], type: T('TQ2_0') }]), /block size/);
    assert.throws(() => serializeGgufHeader(m, [{ name: 'n'.repeat(64), dims: [1], type: T('F32') }]), /longer than 63/);
    assert.throws(() => serializeGgufHeader(m, [{ name: 'a', dims: [1], type: T('F32') }, { name: 'a', dims: [1], type: T('F32') }]), /duplicate/);
    assert.throws(() => serializeGgufHeader(new Map([['k', gv.u32(-1)]]), []), /not a valid u32/);
    assert.throws(() => concat(ggufChunks(m, [{ name: 'a', dims: [4], type: T('F32') }], () => new Uint8Array(3))), /needs 16/);
  });
});
