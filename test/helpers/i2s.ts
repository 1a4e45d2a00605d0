/** I2_S bytes (bitnet.cpp's layout, read by src/io/gguf_quant.ts): 128-weight blocks of 32 bytes, byte k = weights k + 32g in bits 6 − 2g (code w + 1); one f32 scale after. Tests only: the library reads I2_S, never writes it. */
export function encodeI2S(q: Int8Array, scale: number): Uint8Array {
  const out = new Uint8Array(q.length / 4 + 32);
  for (let b = 0; b < q.length / 128; b++) for (let k = 0; k < 32; k++) for (let g = 0; g < 4; g++) out[b * 32 + k]! |= (q[b * 128 + 32 * g + k]! + 1) << (6 - 2 * g);
  new DataView(out.buffer).setFloat32(q.length / 4, scale, true);
  return out;
}
