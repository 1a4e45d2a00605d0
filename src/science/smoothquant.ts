/**
 * SmoothQuant (Xiao et al. 2023, arXiv 2211.10438, §4): migrate activation outliers into the
 * weights with a per-input-channel scale s, which leaves a linear layer's function unchanged:
 *
 *   Y = X Wᵀ = (X diag(s)⁻¹) (W diag(s))ᵀ,     s_j = max|X_j|^α / max|W_{:,j}|^(1−α)   (Eq. 4)
 *
 * max|X_j| comes from calibration activations; max|W_{:,j}| is over every linear that reads the
 * same input (q/k/v together, gate/up together). X diag(s)⁻¹ is folded into the operation that
 * produces X, so nothing is added at run time:
 *   - q/k/v and gate/up inputs: the preceding RMSNorm weight γ_j /= s_j (exact: RMSNorm is γ ⊙ x/rms(x));
 *   - o_proj / down_proj inputs: the SubLN RMSNorm weight when the model has one; otherwise, for
 *     o_proj with one query head per KV head, the rows of v_proj (attention is linear in v); for
 *     down_proj of a gated FFN, the rows of up_proj (h = act(gate) ⊙ up is linear in up), and of
 *     a ReLU MLP (relu(x/s) = relu(x)/s for s > 0). Any other site is left unsmoothed (reported).
 */
import { ArgumentError } from '../errors.js';
import type { InputSite, Transformer } from '../model/transformer.js';
import { siteKey, siteLinears } from './sites.js';

/** s_j = max|X_j|^α / max|W_{:,j}|^(1−α), clamped to [1e-5, 1e5]; channels never active get s = 1. */
export function smoothScales(actMax: ArrayLike<number>, weights: Array<{ w: ArrayLike<number>; N: number }>, K: number, alpha: number): Float64Array {
  if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentError(`smoothquant: alpha must be in [0, 1], got ${alpha}`);
  const wMax = new Float64Array(K);
  for (const { w, N } of weights) {
    if (w.length !== N * K) throw new ArgumentError(`smoothquant: a weight has ${w.length} entries, expected ${N}×${K}`);
    for (let r = 0; r < N; r++) for (let j = 0; j < K; j++) wMax[j] = Math.max(wMax[j]!, Math.abs(w[r * K + j]!));
  }
  const s = new Float64Array(K);
  for (let j = 0; j < K; j++) {
    const a = actMax[j]!, b = wMax[j]!;
    s[j] = a > 0 && b > 0 ? Math.min(1e5, Math.max(1e-5, a ** alpha / b ** (1 - alpha))) : 1;
  }
  return s;
}

/** Where the 1/s of a site is folded, or undefined when it cannot be done exactly. */
export function smoothingTarget(model: Transformer, site: InputSite): { kind: 'norm' | 'rows'; name: string } | undefined {
  const c = model.config;
  const p = `layers.${site.layer}.`;
  switch (site.kind) {
    case 'attn': return { kind: 'norm', name: `${p}input_layernorm` };
    case 'ffn': return { kind: 'norm', name: `${p}post_attention_layernorm` };
    case 'o':
      if (c.subln) return { kind: 'norm', name: `${p}attn_sub_norm` };
      return c.nKvHeads === c.nHeads ? { kind: 'rows', name: `${p}v_proj` } : undefined;
    case 'down':
      if (c.subln) return { kind: 'norm', name: `${p}ffn_sub_norm` };
      return c.ffn === 'mlp-gelu' ? undefined : { kind: 'rows', name: `${p}up_proj` };
  }
}

/**
 * Apply the smoothing of one site in place: the producer of X divides channel j by s_j, every
 * consuming weight multiplies column j by s_j. Returns false (and changes nothing) when the site
 * has no exact place to fold into.
 */
export function applySmoothing(model: Transformer, site: InputSite, s: ArrayLike<number>): boolean {
  const target = smoothingTarget(model, site);
  if (target === undefined) return false;
  const lin = siteLinears(model.config, site);
  const K = model.param(lin[0]!).info.shape[1]!;
  if (s.length !== K) throw new ArgumentError(`applySmoothing: ${s.length} scales for ${K} channels`);
  const t = model.param(target.name).p;
  if (target.kind === 'norm') for (let j = 0; j < K; j++) t[j] = t[j]! / s[j]!;
  else for (let j = 0; j < K; j++) for (let i = 0; i < t.length / K; i++) t[j * (t.length / K) + i] = t[j * (t.length / K) + i]! / s[j]!;
  for (const name of lin) {
    const w = model.param(name).p;
    const N = w.length / K;
    for (let r = 0; r < N; r++) for (let j = 0; j < K; j++) w[r * K + j] = w[r * K + j]! * s[j]!;
  }
  return true;
}

/** Smooth every site of the model from calibration channel maxima (keyed by siteKey). Returns the skipped sites. */
export function smoothModel(model: Transformer, actMax: Map<string, Float64Array>, alpha: number): string[] {
  const skipped: string[] = [];
  for (let l = 0; l < model.config.nLayers; l++) {
    for (const kind of ['attn', 'o', 'ffn', 'down'] as const) {
      const site = { layer: l, kind };
      const am = actMax.get(siteKey(site));
      if (am === undefined) throw new ArgumentError(`smoothModel: no calibration statistics for ${siteKey(site)}`);
      const lin = siteLinears(model.config, site);
      const ws = lin.map((n) => ({ w: model.param(n).p, N: model.param(n).info.shape[0]! }));
      const s = smoothScales(am, ws, am.length, alpha);
      if (!applySmoothing(model, site, s)) skipped.push(siteKey(site));
    }
  }
  return skipped;
}
