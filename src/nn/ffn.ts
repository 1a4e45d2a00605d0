/**
 * The FFN non-linearity, one dispatch for the training model and the inference engine:
 *   gated kinds (isGatedFfn):  h = act(gate) ⊙ up   — SwiGLU (SiLU), ReLU²-GLU (2B4T), bilinear (identity)
 *   plain MLPs (BitNet v1):    h = act(up)           — ReLU, GELU (tanh approximation)
 */
import type { Backend } from '../kernels/backend.js';
import type { FfnKind } from '../model/config.js';
import type { FloatArray } from '../tensor/dtype.js';

/** h (n) from gate, up (n); `gate` is ignored by plain MLPs. */
export function ffnActivationForward(be: Backend, ffn: FfnKind, h: FloatArray, gate: FloatArray, up: FloatArray, n: number): void {
  if (ffn === 'swiglu') be.swigluForward(h, gate, up, n);
  else if (ffn === 'relu2glu') be.relu2gluForward(h, gate, up, n);
  else if (ffn === 'bilinear') be.bilinearForward(h, gate, up, n);
  else if (ffn === 'mlp-relu') reluForward(h, up, n);
  else be.geluForward(h, up, n);
}

/** Plain ReLU for BitNet v1-style MLPs (elementwise glue; no kernel needed). */
export function reluForward(out: FloatArray, x: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) out[i] = x[i]! > 0 ? x[i]! : 0;
}

/** dinp += dout where x > 0. */
export function reluBackward(dinp: FloatArray, dout: FloatArray, x: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) if (x[i]! > 0) dinp[i]! += dout[i]!;
}
