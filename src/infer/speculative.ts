/**
 * Speculative decoding: a cheap proposer guesses the next k tokens, the target model runs the last
 * token and the k guesses as ONE segment of k+1 consecutive rows (InferenceSession.verify,
 * InferenceBatch entries with `logits: 'all'`) and keeps the longest prefix it agrees with, plus one
 * token of its own; the positions of rejected guesses are rolled back by resetting the position
 * (later writes overwrite them).
 *
 * Proposers:
 *  - prompt lookup (`lookupDraft`): the most recent earlier occurrence of the context's last n tokens
 *    (n = ngram … 1), and the up to k tokens that followed it. Free; useful when the output repeats
 *    the input (edits, code, quotes) or itself.
 *  - a draft model with the same tokenizer (`ModelDrafter`, `checkDraftVocab`): its own session, k
 *    sequential decodes sampled with the same sampler settings.
 *
 * Acceptance (`acceptDraft`), so that the output distribution is the target's:
 *  - greedy (temperature 0): a guess is kept iff it is the target's argmax, so the output is exactly
 *    plain greedy decoding's;
 *  - sampling: guess x drawn from q is kept with probability min(1, p(x)/q(x)); on rejection the token
 *    is drawn from normalize(max(0, p − q)). For prompt-lookup guesses q is a point mass on x: keep with
 *    probability p(x), else draw from p with x removed, renormalized. When every guess is kept the extra
 *    token is drawn from the last row's p as plain sampling would. p is the sampler's distribution
 *    (penalties over the same history plain decoding has, temperature, top-k/p, min-p).
 *
 * Adaptivity (`DraftPolicy`): prompt lookup drafts only when an n-gram matches; the draft length follows
 * the estimated acceptance rate and a fixed per-row cost model (tokens decide, never timings, so a
 * seeded run is reproducible); while drafts do not pay, plain decode steps with rare one-token probes.
 */
import { ArgumentError } from '../errors.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { Rng } from '../tensor/rng.js';
import { Sampler, type SamplerOptions } from './sampler.js';
import type { InferenceSession } from './session.js';

export type SpecMode = 'off' | 'lookup' | 'draft';
export const SPEC_MODES: readonly SpecMode[] = ['off', 'lookup', 'draft'];

export interface SpeculativeOptions {
  mode: SpecMode;
  /** Most draft tokens per step (default 4). */
  k?: number;
  /** Longest n-gram matched by prompt lookup (default 3; shorter ones are tried down to 1). */
  ngram?: number;
  /** Cost of one more row in a verify step, in one-row steps (default: defaultRowCost of the target). */
  rowCost?: number;
  /** The draft model's session (mode 'draft'), same tokenizer as the target (checkDraftVocab). */
  draft?: InferenceSession;
}

export const SPEC_K_MAX = 16;
export const SPEC_NGRAM_MAX = 16;

/** Checked k and ngram (typed errors for bad values). */
export function resolveSpec(o: SpeculativeOptions): { mode: SpecMode; k: number; ngram: number } {
  if (!SPEC_MODES.includes(o.mode)) throw new ArgumentError(`speculative mode must be one of ${SPEC_MODES.join(', ')}, got ${String(o.mode)}`);
  const k = o.k ?? 4, ngram = o.ngram ?? 3;
  if (!Number.isInteger(k) || k < 1 || k > SPEC_K_MAX) throw new ArgumentError(`speculative k must be an integer in [1, ${SPEC_K_MAX}], got ${k}`);
  if (!Number.isInteger(ngram) || ngram < 1 || ngram > SPEC_NGRAM_MAX) throw new ArgumentError(`speculative ngram must be an integer in [1, ${SPEC_NGRAM_MAX}], got ${ngram}`);
  if (o.mode === 'draft' && o.draft === undefined) throw new ArgumentError("speculative mode 'draft' needs a draft model");
  return { mode: o.mode, k, ngram };
}

/**
 * Prompt lookup: for n = ngram … 1, the most recent earlier occurrence of seq's last n tokens that has
 * a continuation; returns up to k tokens following it ([] when nothing matches).
 */
export function lookupDraft(seq: readonly number[], ngram: number, k: number): number[] {
  const L = seq.length;
  for (let n = Math.min(ngram, L - 1); n >= 1; n--) {
    // candidate start s of an earlier occurrence: seq[s … s+n) = seq[L−n … L), s + n < L
    for (let s = L - n - 1; s >= 0; s--) {
      let j = 0;
      while (j < n && seq[s + j] === seq[L - n + j]) j++;
      if (j === n) return seq.slice(s + n, Math.min(L, s + n + k));
    }
  }
  return [];
}

/** Index drawn from the (unnormalized, non-negative) weights w[0 … V) with uniform u ∈ [0, 1); −1 when they sum to 0. */
function drawWeighted(w: (i: number) => number, V: number, u: number): number {
  let total = 0;
  for (let i = 0; i < V; i++) total += w(i);
  if (!(total > 0)) return -1;
  let r = u * total, last = -1;
  for (let i = 0; i < V; i++) {
    const x = w(i);
    if (x <= 0) continue;
    last = i;
    r -= x;
    if (r < 0) return i;
  }
  return last;
}

/** A token drawn from the normalized distribution p with uniform u. */
export function drawFrom(p: Float64Array, u: number): number {
  const t = drawWeighted((i) => p[i]!, p.length, u);
  if (t < 0) throw new ArgumentError('drawFrom: the distribution has no mass');
  return t;
}

/**
 * The speculative acceptance rule for one draft token x (see the file comment). p: the target's
 * distribution; q: the draft's (undefined = a point mass on x, as prompt lookup proposes); uniform:
 * the draws (one to test x, one more to resample on rejection).
 */
export function acceptDraft(p: Float64Array, x: number, q: Float64Array | undefined, uniform: () => number): { token: number; accepted: boolean } {
  const V = p.length;
  const px = p[x] ?? 0;
  const qx = q === undefined ? 1 : q[x]!;
  const ratio = qx > 0 ? px / qx : px > 0 ? Infinity : 0;
  if (uniform() < ratio) return { token: x, accepted: true };
  const u = uniform();
  const t = q === undefined ? drawWeighted((i) => (i === x ? 0 : p[i]!), V, u) : drawWeighted((i) => Math.max(0, p[i]! - q[i]!), V, u);
  // p = q (up to rounding), or p a point mass on x: rejection had (almost) no probability; draw from p.
  return { token: t >= 0 ? t : drawFrom(p, u), accepted: false };
}

/**
 * The relative cost of one more row in a step, c(M) = 1 + rowCost·(M − 1) steps of one row, as a fixed
 * function of the model's size so that the draft policy depends on tokens only. Measured on the WASM
 * engine (2 threads, bench/spec.ts): the bundled 1M-parameter model is bound by per-step overhead
 * (5 rows ≈ 1.15 × one row in the forward), b1.58-large (0.7B) by arithmetic (5 rows ≈ 3 × one row).
 * The floor 0.15 stands for the per-row work outside the matmuls (the head's softmax and sort when
 * sampling: for the bundled model a sampled verify row costs about what its forward row does).
 */
export function defaultRowCost(c: { dim: number; nLayers: number; ffnDim: number; vocabSize: number }): number {
  const params = c.nLayers * (4 * c.dim * c.dim + 3 * c.dim * c.ffnDim) + c.vocabSize * c.dim;
  return Math.min(0.5, 0.15 + params / 1.5e9);
}

/**
 * How many tokens to draft next, from acceptance alone (never timings: a seeded run is reproducible).
 * The acceptance rate α is estimated from counts of kept and rejected guesses decayed by 0.9 per verify
 * (prior 0.7, weight 1); the draft length is the k ≤ kMax maximizing the expected tokens per step (1 − α^(k+1))/(1 − α)
 * over the step's cost c(k+1) = 1 + rowCost·k, and 0 (plain decode) when no k beats one token per
 * plain step. Then a probe of one token is made after a cool-down of 4, 8, … 64 plain steps (doubling
 * while probes fail), so rejected drafts cost at most one two-row verify per 64 steps in the long run.
 */
export class DraftPolicy {
  private kept = 0;
  private rejected = 0;
  private wait = 0;
  private cool = 0;
  /** Totals for reports: draft tokens proposed and accepted, verify steps. */
  proposed = 0;
  accepted = 0;
  steps = 0;

  constructor(readonly kMax: number, readonly rowCost = 0.5) {
    if (!(rowCost >= 0)) throw new ArgumentError(`rowCost must be ≥ 0, got ${rowCost}`);
  }

  /** The estimated acceptance rate of one draft token. */
  get alpha(): number {
    return (this.kept + 0.7) / (this.kept + this.rejected + 1);
  }

  /** The draft length worth proposing at the current estimate (0: none). */
  best(): number {
    const a = this.alpha;
    let bestK = 0, bestV = 1 + 1e-9, e = 1, ai = 1;
    for (let k = 1; k <= this.kMax; k++) {
      ai *= a;
      e += ai;
      const v = e / (1 + this.rowCost * k);
      if (v > bestV) {
        bestV = v;
        bestK = k;
      }
    }
    return bestK;
  }

  /** Draft tokens to propose at this step (0: decode plainly). Call once per step. */
  next(): number {
    if (this.wait > 0) {
      this.wait--;
      return 0;
    }
    return Math.max(1, this.best());
  }

  /** A verified draft: `proposed` tokens, the first `accepted` of them kept. */
  update(proposed: number, accepted: number): void {
    if (proposed <= 0) return;
    this.proposed += proposed;
    this.accepted += accepted;
    this.steps++;
    this.kept = 0.9 * this.kept + accepted;
    this.rejected = 0.9 * this.rejected + (accepted < proposed ? 1 : 0);
    if (this.best() === 0) {
      this.cool = this.cool === 0 ? 4 : Math.min(64, this.cool * 2);
      this.wait = this.cool;
    } else this.cool = 0;
  }
}

/** A draft: tokens, and per token the draft's distribution (undefined: point masses). */
export interface Draft {
  tokens: number[];
  q: Float64Array[] | undefined;
}

/** The draft model must share the target's vocabulary: same size, same token strings, same BOS/EOS. */
export function checkDraftVocab(target: Tokenizer, targetVocab: number, draft: Tokenizer, draftVocab: number): void {
  if (targetVocab !== draftVocab) throw new ArgumentError(`draft model: vocabulary of ${draftVocab} tokens, the target has ${targetVocab}; a draft model needs the target's tokenizer`);
  if (target.vocabSize !== draft.vocabSize) throw new ArgumentError(`draft model: tokenizer of ${draft.vocabSize} tokens, the target's has ${target.vocabSize}`);
  if (target.bosId !== draft.bosId || target.eosId !== draft.eosId) throw new ArgumentError(`draft model: BOS/EOS ids ${draft.bosId}/${draft.eosId}, the target's are ${target.bosId}/${target.eosId}`);
  for (let i = 0; i < target.vocabSize; i++) {
    const a = target.idToToken(i), b = draft.idToToken(i);
    if (a !== b) throw new ArgumentError(`draft model: token ${i} is ${JSON.stringify(b)}, the target's is ${JSON.stringify(a)}; a draft model needs the target's tokenizer`);
  }
}

/**
 * Drafts from a small model over its own session: its cache follows the target's sequence (the common
 * prefix is kept, the rest prefilled), then k tokens are decoded one by one, sampled with the target's
 * sampler settings and an RNG of its own (forked from the seed), each with its distribution q.
 */
export class ModelDrafter {
  private held: number[] = [];
  private readonly smp: Sampler;
  private readonly rng: Rng;
  private readonly greedy: boolean;

  constructor(readonly session: InferenceSession, opts: SamplerOptions) {
    this.smp = new Sampler(session.model.config.vocabSize, opts);
    this.rng = new Rng(opts.seed).fork('draft');
    this.greedy = opts.temperature === 0;
  }

  /** Forget the cache (a new sequence). */
  reset(): void {
    this.held = [];
    this.session.reset();
  }

  /** Up to k tokens following `seq` (fewer when the draft's context is full). */
  propose(seq: readonly number[], k: number): Draft {
    const s = this.session;
    let keep = 0;
    const n = Math.min(this.held.length, s.pos, seq.length - 1);
    while (keep < n && this.held[keep] === seq[keep]) keep++;
    const room = s.ctx - seq.length;
    k = Math.min(k, room + 1);
    if (k < 1) return { tokens: [], q: undefined };
    s.truncate(keep);
    let logits = s.prefill(seq.slice(keep));
    this.held = seq.slice();
    const tokens: number[] = [];
    const q: Float64Array[] = [];
    const hist = seq.slice();
    for (let i = 0; i < k; i++) {
      let t: number;
      if (this.greedy) t = this.smp.sample(logits, hist);
      else {
        const d = new Float64Array(s.model.config.vocabSize);
        this.smp.distribution(logits, hist, d);
        t = drawFrom(d, this.rng.uniform());
        q.push(d);
      }
      tokens.push(t);
      hist.push(t);
      if (i + 1 < k) {
        logits = s.decode(t);
        this.held.push(t);
      }
    }
    return { tokens, q: this.greedy ? undefined : q };
  }
}
