/**
 * Hugging Face BitNet packed ternary weights (transformers `integrations/bitnet.py` pack_weights /
 * unpack_weights; docs/spec.md §3.6, §3.7), pure.
 *
 *   q (R, C) ternary → P uint8 (R/4, C), packed along dim 0 (output features) in **blocks**, not interleaved:
 *   output row r = i·(R/4) + p is stored in bits 2i..2i+1 of P[p][c], code = q + 1 (0 → −1, 1 → 0, 2 → +1;
 *   code 3 is unused). Bits 0-1 hold the first quarter of the rows, bits 6-7 the last quarter.
 *
 * `weight_scale` (one scalar per tensor): for `linear_class: autobitlinear` (the official 2B4T config)
 * W = q · weight_scale; for `linear_class: bitlinear` (the HF default) W = q / weight_scale.
 */
import { FormatError } from '../errors.js';

export type HfLinearClass = 'autobitlinear' | 'bitlinear';

/** Pack ternary q (R, C), R % 4 == 0, into HF's uint8 (R/4, C). */
export function packHfTernary(q: Int8Array, R: number, C: number): Uint8Array {
  if (R % 4 !== 0) throw new FormatError(`HF BitNet packing needs out_features % 4 == 0, got ${R}`);
  if (q.length !== R * C) throw new FormatError(`packHfTernary: q has ${q.length} values, (R, C) = (${R}, ${C}) needs ${R * C}`);
  const P = R / 4;
  const out = new Uint8Array(P * C);
  for (let i = 0; i < 4; i++) {
    for (let p = 0; p < P; p++) {
      const src = (i * P + p) * C;
      const dst = p * C;
      for (let c = 0; c < C; c++) {
        const v = q[src + c]!;
        if (v < -1 || v > 1) throw new FormatError(`packHfTernary: value ${v} at row ${i * P + p}, column ${c} is not ternary`);
        out[dst + c]! |= (v + 1) << (2 * i);
      }
    }
  }
  return out;
}

/** Unpack HF's uint8 (P, C) into ternary q (4P, C). Code 3 raises FormatError naming `what`. */
export function unpackHfTernary(packed: Uint8Array, P: number, C: number, what = 'weight'): Int8Array {
  if (packed.length !== P * C) throw new FormatError(`${what}: packed tensor has ${packed.length} bytes, (${P}, ${C}) needs ${P * C}`);
  const q = new Int8Array(4 * P * C);
  for (let i = 0; i < 4; i++) {
    const shift = 2 * i;
    for (let p = 0; p < P; p++) {
      const src = p * C;
      const dst = (i * P + p) * C;
      for (let c = 0; c < C; c++) {
        const code = (packed[src + c]! >> shift) & 3;
        if (code === 3) throw new FormatError(`${what}: invalid packed code 3 at byte ${src + c} (bits ${shift}-${shift + 1})`);
        q[dst + c] = code - 1;
      }
    }
  }
  return q;
}

/** β (W = β·q) from a stored weight_scale under the docs/spec.md §3.7 rule. */
export function betaFromWeightScale(ws: number, linearClass: HfLinearClass, what = 'weight_scale'): number {
  if (!Number.isFinite(ws) || ws <= 0) throw new FormatError(`${what}: weight_scale must be a positive finite number, got ${ws}`);
  return linearClass === 'autobitlinear' ? ws : 1 / ws;
}

/** The weight_scale to store for β. */
export function weightScaleFromBeta(beta: number, linearClass: HfLinearClass): number {
  return linearClass === 'autobitlinear' ? beta : 1 / beta;
}
