/**
 * Sampling from logits (llama2.c's decision tree, with the usual filters):
 *   temperature 0 → argmax; otherwise penalties → temperature → softmax → top-k → top-p → min-p
 *   → a draw from the seeded RNG. Same seed, same tokens.
 */
import { ArgumentError } from '../errors.js';
import { Rng } from '../tensor/rng.js';

export interface SamplerOptions {
  temperature: number;
  /** Keep the k most likely tokens (0 = off). */
  topK: number;
  /** Keep the smallest set whose probability reaches p (1 = off). */
  topP: number;
  /** Drop tokens with probability below minP · p_max (0 = off). */
  minP: number;
  /** CTRL-style repetition penalty on tokens already present (1 = off). */
  repetitionPenalty: number;
  /** OpenAI-style presence penalty subtracted from logits of present tokens (0 = off). */
  presencePenalty: number;
  seed: number;
}

export const DEFAULT_SAMPLER: SamplerOptions = { temperature: 0.8, topK: 40, topP: 0.95, minP: 0, repetitionPenalty: 1, presencePenalty: 0, seed: 1 };

export function validateSampler(o: SamplerOptions): void {
  if (!(o.temperature >= 0)) throw new ArgumentError(`temperature must be ≥ 0, got ${o.temperature}`);
  if (!Number.isInteger(o.topK) || o.topK < 0) throw new ArgumentError(`topK must be a non-negative integer, got ${o.topK}`);
  if (!(o.topP > 0 && o.topP <= 1)) throw new ArgumentError(`topP must be in (0, 1], got ${o.topP}`);
  if (!(o.minP >= 0 && o.minP < 1)) throw new ArgumentError(`minP must be in [0, 1), got ${o.minP}`);
  if (!(o.repetitionPenalty > 0)) throw new ArgumentError(`repetitionPenalty must be > 0, got ${o.repetitionPenalty}`);
}

export class Sampler {
  private readonly rng: Rng;
  private readonly probs: Float64Array;
  private readonly idx: Int32Array;

  constructor(readonly vocabSize: number, readonly opts: SamplerOptions) {
    validateSampler(opts);
    this.rng = new Rng(opts.seed);
    this.probs = new Float64Array(vocabSize);
    this.idx = new Int32Array(vocabSize);
  }

  /** Next token from logits (V); `history` = tokens so far (for penalties). Does not modify logits. */
  sample(logits: ArrayLike<number>, history: ArrayLike<number> = []): number {
    const n = this.prepare(logits, history);
    if (n < 0) return -n - 1;
    const p = this.probs, idx = this.idx;
    let mass = 0;
    for (let i = 0; i < n; i++) mass += p[idx[i]!]!;
    let r = this.rng.uniform() * mass;
    for (let i = 0; i < n; i++) {
      r -= p[idx[i]!]!;
      if (r <= 0) return idx[i]!;
    }
    return idx[n - 1]!;
  }

  /**
   * The distribution `sample` draws from (same penalties, temperature and filters), normalized into
   * `out` (V; 0 outside the kept set; temperature 0: a point mass on the argmax). Draws nothing.
   * Speculative verification (src/infer/speculative.ts) compares it with the draft's.
   */
  distribution(logits: ArrayLike<number>, history: ArrayLike<number>, out: Float64Array): void {
    const V = this.vocabSize;
    const n = this.prepare(logits, history);
    out.fill(0, 0, V);
    if (n < 0) {
      out[-n - 1] = 1;
      return;
    }
    const p = this.probs, idx = this.idx;
    let mass = 0;
    for (let i = 0; i < n; i++) mass += p[idx[i]!]!;
    for (let i = 0; i < n; i++) out[idx[i]!] = p[idx[i]!]! / mass;
  }

  /** A uniform draw in [0, 1) from this sampler's RNG (speculative acceptance tests use the same stream). */
  uniform(): number {
    return this.rng.uniform();
  }

  /**
   * Penalties, temperature and filters: returns −(argmax + 1) for temperature 0, else n, the kept
   * candidates idx[0 … n) with unnormalized probabilities in `probs`.
   */
  private prepare(logits: ArrayLike<number>, history: ArrayLike<number>): number {
    const V = this.vocabSize;
    const o = this.opts;
    const p = this.probs;
    for (let i = 0; i < V; i++) p[i] = logits[i]!;
    if (o.repetitionPenalty !== 1 || o.presencePenalty !== 0) {
      const seen = new Set<number>();
      for (let i = 0; i < history.length; i++) seen.add(history[i]!);
      for (const t of seen) {
        if (t < 0 || t >= V) continue;
        const l = p[t]!;
        p[t] = (l > 0 ? l / o.repetitionPenalty : l * o.repetitionPenalty) - o.presencePenalty;
      }
    }
    if (o.temperature === 0) {
      let best = 0;
      for (let i = 1; i < V; i++) if (p[i]! > p[best]!) best = i;
      return -best - 1;
    }
    let max = -Infinity;
    for (let i = 0; i < V; i++) max = Math.max(max, p[i]!);
    let sum = 0;
    for (let i = 0; i < V; i++) sum += p[i] = Math.exp((p[i]! - max) / o.temperature);
    // Candidates sorted by probability (ties by id, for determinism).
    const idx = this.idx;
    for (let i = 0; i < V; i++) idx[i] = i;
    idx.sort((a, b) => p[b]! - p[a]! || a - b);
    let n = o.topK > 0 ? Math.min(o.topK, V) : V;
    if (o.topP < 1) {
      let c = 0;
      for (let i = 0; i < n; i++) {
        c += p[idx[i]!]! / sum;
        if (c >= o.topP) {
          n = i + 1;
          break;
        }
      }
    }
    if (o.minP > 0) {
      const thr = o.minP * p[idx[0]!]!;
      let k = 1;
      while (k < n && p[idx[k]!]! >= thr) k++;
      n = k;
    }
    return n;
  }
}
