/**
 * The one scoring primitive every task uses (lm-evaluation-harness convention, docs/data.md §2.1):
 * loglikelihood(context, continuation) = Σ log p(continuation tokens | context, earlier continuation
 * tokens), and whether every continuation token is the greedy (argmax) choice.
 *
 * Tokens: [BOS] + encode(context) + encode(continuation) — the continuation is encoded on its own
 * so its tokens do not depend on the context (the harness's convention for the boundary). When the
 * sequence is longer than the model's context, the context is cut from the left.
 * Requests are run in batches of similar length, right-padded (causal attention: padding after
 * a row's end cannot change it).
 */
import { ArgumentError } from '../errors.js';
import type { Transformer } from '../model/transformer.js';
import type { Tokenizer } from '../tokenizer/types.js';

export interface LlRequest { context: string; continuation: string }

export interface LlResult {
  /** Σ log p (nats) of the continuation tokens. */
  logprob: number;
  /** Every continuation token is the argmax. */
  greedy: boolean;
  /** Number of continuation tokens. */
  tokens: number;
  /** UTF-8 bytes of the continuation (for length-normalised accuracy). */
  bytes: number;
}

export interface ScorerOptions {
  /** Rows per forward pass. */
  batchSize: number;
  /** Longest sequence fed to the model (≤ config.maxSeqLen). */
  maxLen: number;
}

const utf8 = new TextEncoder();

/** Scores (context, continuation) requests with a model and its tokenizer. */
export class Scorer {
  readonly opts: ScorerOptions;
  /** Forward passes run so far (for reports). */
  forwards = 0;
  constructor(readonly model: Transformer, readonly tokenizer: Tokenizer, opts: Partial<ScorerOptions> = {}) {
    this.opts = { batchSize: 8, maxLen: model.config.maxSeqLen, ...opts };
    if (this.opts.maxLen > model.config.maxSeqLen) throw new ArgumentError(`Scorer: maxLen ${this.opts.maxLen} exceeds the model's maxSeqLen ${model.config.maxSeqLen}`);
    if (tokenizer.vocabSize > model.config.vocabSize) throw new ArgumentError(`Scorer: tokenizer has ${tokenizer.vocabSize} ids but the model only ${model.config.vocabSize}`);
  }

  loglikelihood(context: string, continuation: string): LlResult {
    return this.loglikelihoodBatch([{ context, continuation }])[0]!;
  }

  /** Token ids of a request: the full sequence (after left truncation) and where the continuation starts. */
  encode(r: LlRequest): { ids: number[]; contStart: number } {
    const cont = this.tokenizer.encode(r.continuation);
    if (cont.length === 0) throw new ArgumentError(`loglikelihood: the continuation '${r.continuation}' encodes to no tokens`);
    const ctx = [this.tokenizer.bosId, ...this.tokenizer.encode(r.context)];
    let ids = [...ctx, ...cont];
    // The model sees ids[0 : n−1] and predicts ids[1 : n]: at most maxLen inputs.
    const keep = this.opts.maxLen + 1;
    if (ids.length > keep) {
      if (cont.length >= keep) throw new ArgumentError(`loglikelihood: the continuation has ${cont.length} tokens, more than the context window ${this.opts.maxLen}`);
      ids = ids.slice(ids.length - keep);
    }
    return { ids, contStart: ids.length - cont.length };
  }

  loglikelihoodBatch(reqs: LlRequest[]): LlResult[] {
    const enc = reqs.map((r) => this.encode(r));
    const order = enc.map((_, i) => i).sort((a, b) => enc[b]!.ids.length - enc[a]!.ids.length || a - b);
    const out: LlResult[] = new Array(reqs.length);
    const V = this.model.config.vocabSize;
    for (let b0 = 0; b0 < order.length; b0 += this.opts.batchSize) {
      const rows = order.slice(b0, b0 + this.opts.batchSize);
      const T = Math.max(...rows.map((i) => enc[i]!.ids.length - 1));
      const B = rows.length;
      const tokens = new Int32Array(B * T);
      rows.forEach((i, r) => tokens.set(enc[i]!.ids.slice(0, -1), r * T));
      this.model.forward(tokens, null, B, T);
      this.forwards++;
      const logits = this.model.logits();
      rows.forEach((i, r) => {
        const { ids, contStart } = enc[i]!;
        let lp = 0, greedy = true;
        for (let p = contStart; p < ids.length; p++) {
          const o = (r * T + p - 1) * V;
          let mx = -Infinity, arg = 0;
          for (let v = 0; v < V; v++) if (logits[o + v]! > mx) (mx = logits[o + v]!), (arg = v);
          let z = 0;
          for (let v = 0; v < V; v++) z += Math.exp(logits[o + v]! - mx);
          lp += logits[o + ids[p]!]! - mx - Math.log(z);
          if (arg !== ids[p]) greedy = false;
        }
        out[i] = { logprob: lp, greedy, tokens: ids.length - contStart, bytes: utf8.encode(reqs[i]!.continuation).length };
      });
    }
    return out;
  }
}
