/**
 * Synthetic models: random ternary (or binary) weights of any config, for benchmarks (decode speed
 * does not depend on weight values) and for exercising exporters at real shapes without
 * downloading anything. Deterministic from the seed; tensors are made one at a time on request.
 *   linear  q uniform over {-1, 0, +1} (±1 for BitNet v1), β = 1/√(2K/3) (keeps activations O(1))
 *   norms   1        embeddings  N(0, 1)·0.02·… as init (dense)
 */
import { type ModelConfig, validateConfig } from '../model/config.js';
import { quantVariant } from '../quant/modes.js';
import { Rng } from '../tensor/rng.js';
import { expectedSizes, type QuantizedTensor, type WeightSource } from './source.js';
import { FormatError } from '../errors.js';

/** Ternary codes from raw random bytes: byte % 3 − 1 (bias 1/256 — irrelevant for benchmarks). */
function fillTernary(q: Int8Array, rng: Rng, binary: boolean): void {
  let i = 0;
  const n = q.length;
  while (i < n) {
    let r = rng.nextU32();
    for (let j = 0; j < 4 && i < n; j++, i++) {
      const b = r & 255;
      r >>>= 8;
      q[i] = binary ? (b & 1) * 2 - 1 : (b % 3) - 1;
    }
  }
}

export function syntheticSource(config: ModelConfig, seed = 1): WeightSource {
  const c = validateConfig({ ...config });
  const sizes = expectedSizes(c);
  const rng = new Rng(seed);
  const size = (name: string) => {
    const n = sizes.get(name);
    if (n === undefined) throw new FormatError(`synthetic: no tensor '${name}' in this config`);
    return n;
  };
  const isLinear = (name: string) => /_proj$/.test(name);
  const K = (name: string) => (/down_proj$/.test(name) ? c.ffnDim : c.dim);
  // Values are a pure function of (seed, name, index): approximately normal (sum of 4 uniforms).
  const fill = (a: Float32Array, name: string, i0: number) => {
    if (/norm$|layernorm$/.test(name)) return a.fill(1);
    const s = (isLinear(name) ? 1 / Math.sqrt(K(name)) : 1) * 1.7320508;
    const blk = 4096;
    for (let b = Math.floor(i0 / blk) * blk; b < i0 + a.length; b += blk) {
      const r = rng.fork(`${name}#${b / blk}`);
      for (let i = b; i < Math.min(b + blk, i0 + a.length); i++) {
        const u = (r.nextU32() + r.nextU32() + r.nextU32() + r.nextU32()) / 4294967296 - 2;
        if (i >= i0) a[i - i0] = u * s;
      }
    }
    return a;
  };
  let qbuf = new Int8Array(0);
  return {
    config: c,
    where: `synthetic(${seed})`,
    dense: (name) => fill(new Float32Array(size(name)), name, 0),
    denseRows(name, r0, r1) {
      const C = size(name) / (name === 'embed_tokens' || name === 'lm_head' ? c.vocabSize : 1);
      return fill(new Float32Array((r1 - r0) * C), name, r0 * C);
    },
    quantized(name): QuantizedTensor | undefined {
      const weight = quantVariant(c).weight;
      if (!isLinear(name) || weight === 'none') return undefined;
      const n = size(name);
      if (qbuf.length < n) qbuf = new Int8Array(n);
      const q = qbuf.subarray(0, n);
      fillTernary(q, rng.fork(name), weight === 'sign');
      return { q, scale: 1 / Math.sqrt((2 * K(name)) / 3) };
    },
  };
}
