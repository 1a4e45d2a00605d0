/**
 * A synthetic random-ternary model as a WeightSource (pure): for benchmarks and format tests at real
 * shapes (PRESETS '2b4t', 'b1.58-large') without a trained checkpoint. Every tensor is a deterministic
 * function of (seed, name) through the project RNG and is produced only when asked for, so exporting a
 * 2B-parameter model holds one tensor at a time.
 *   linear weights  q uniform over {-1, 0, +1}, β = 1/√(⅔·K) (unit-variance outputs for unit inputs)
 *   embeddings      N(0, 1)      norms   1 + N(0, 0.02)
 */
import { FormatError } from '../errors.js';
import type { ModelConfig } from '../model/config.js';
import { validateConfig } from '../model/config.js';
import { paramTable } from '../model/transformer.js';
import { Rng } from '../tensor/rng.js';
import type { QuantizedTensor, WeightSource } from '../infer/source.js';

export function syntheticSource(config: ModelConfig, seed = 1): WeightSource {
  validateConfig(config);
  const table = new Map(paramTable(config).map((p) => [p.name, p]));
  const isLinear = (name: string): boolean => /_proj$/.test(name);
  const info = (name: string) => {
    const p = table.get(name);
    if (p === undefined) throw new FormatError(`synthetic: unknown tensor '${name}'`);
    return p;
  };
  const ternary = (name: string): QuantizedTensor => {
    const p = info(name);
    const rng = new Rng(seed).fork(name);
    const q = new Int8Array(p.size);
    for (let i = 0; i < p.size; i++) q[i] = (rng.nextU32() % 3) - 1;
    return { q, scale: 1 / Math.sqrt((2 / 3) * p.shape[1]!) };
  };
  return {
    config,
    where: `synthetic(seed ${seed})`,
    dense(name) {
      const p = info(name);
      if (isLinear(name)) {
        const { q, scale } = ternary(name);
        const out = new Float32Array(p.size);
        for (let i = 0; i < p.size; i++) out[i] = q[i]! * scale;
        return out;
      }
      const rng = new Rng(seed).fork(name);
      const out = new Float32Array(p.size);
      if (name === 'embed_tokens' || name === 'lm_head') rng.fillNormal(out, 0, 1);
      else {
        rng.fillNormal(out, 0, 0.02);
        for (let i = 0; i < out.length; i++) out[i]! += 1;
      }
      return out;
    },
    quantized(name) {
      return isLinear(name) && config.quant !== 'fp' ? ternary(name) : undefined;
    },
  };
}
