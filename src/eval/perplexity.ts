/**
 * Sliding-window perplexity and bits per byte (docs/data.md §2.2; the Hugging Face
 * "perplexity of fixed-length models" recipe). Each document is [BOS] + encode(text); windows of
 * `window` tokens start every `stride` tokens, and each window scores only the tokens the
 * previous window did not, so every token after BOS is predicted exactly once, with at least
 * window − stride tokens of context once the first window is past.
 *
 *   ppl = exp(NLL / tokens)        bpb = NLL / (ln 2 · UTF-8 bytes of the texts)
 */
import { ArgumentError } from '../errors.js';
import type { Transformer } from '../model/transformer.js';
import type { Tokenizer } from '../tokenizer/types.js';

export interface PerplexityOptions {
  window: number;
  /** Default window / 2. */
  stride: number;
  batchSize: number;
  /** Stop after scoring this many tokens (the last document is cut at a window boundary; its bytes are counted pro rata). */
  maxTokens: number;
}

export interface PerplexityResult {
  nll: number;
  tokens: number;
  bytes: number;
  /** Mean loss, nats per token. */
  loss: number;
  ppl: number;
  bpb: number;
}

/** The (start, first scored position) of each window over n tokens. */
export function slidingWindows(n: number, window: number, stride: number): Array<{ start: number; end: number; scoreFrom: number }> {
  if (!(Number.isInteger(window) && window >= 1 && Number.isInteger(stride) && stride >= 1 && stride <= window)) {
    throw new ArgumentError(`sliding window: need integers 1 ≤ stride (${stride}) ≤ window (${window})`);
  }
  const out: Array<{ start: number; end: number; scoreFrom: number }> = [];
  let prevEnd = 1; // position 0 (BOS) is never predicted
  for (let start = 0; prevEnd < n; start += stride) {
    const end = Math.min(start + window + 1, n); // inputs [start, end−1), targets [start+1, end)
    if (end <= prevEnd) continue;
    out.push({ start, end, scoreFrom: prevEnd });
    prevEnd = end;
  }
  return out;
}

export function perplexity(model: Transformer, tokenizer: Tokenizer, texts: string[], opts: Partial<PerplexityOptions> = {}): PerplexityResult {
  const window = opts.window ?? model.config.maxSeqLen;
  const o: PerplexityOptions = { window, stride: Math.max(1, Math.floor(window / 2)), batchSize: 8, maxTokens: Infinity, ...opts };
  if (o.window > model.config.maxSeqLen) throw new ArgumentError(`perplexity: window ${o.window} exceeds the model's maxSeqLen ${model.config.maxSeqLen}`);
  const enc = new TextEncoder();
  let nll = 0, tokens = 0, bytes = 0;
  const T = o.window;
  const pending: Array<{ ids: number[]; w: { start: number; end: number; scoreFrom: number } }> = [];
  const flush = () => {
    if (pending.length === 0) return;
    const B = pending.length;
    const inp = new Int32Array(B * T), tgt = new Int32Array(B * T).fill(-1);
    let valid = 0;
    pending.forEach(({ ids, w }, r) => {
      for (let p = w.start; p < w.end - 1; p++) {
        inp[r * T + p - w.start] = ids[p]!;
        if (p + 1 >= w.scoreFrom) (tgt[r * T + p - w.start] = ids[p + 1]!), valid++;
      }
    });
    nll += model.forward(inp, tgt, B, T) * valid;
    tokens += valid;
    pending.length = 0;
  };
  let planned = 0;
  for (const text of texts) {
    if (planned >= o.maxTokens) break;
    const ids = [tokenizer.bosId, ...tokenizer.encode(text)];
    if (ids.length < 2) continue;
    const docBytes = enc.encode(text).length;
    const ws = slidingWindows(ids.length, T, o.stride);
    let scored = 0;
    for (const w of ws) {
      if (planned >= o.maxTokens) break;
      pending.push({ ids, w });
      scored += w.end - w.scoreFrom;
      planned += w.end - w.scoreFrom;
      if (pending.length === o.batchSize) flush();
    }
    bytes += (docBytes * scored) / (ids.length - 1);
  }
  flush();
  if (tokens === 0) throw new ArgumentError('perplexity: no tokens to score');
  const loss = nll / tokens;
  return { nll, tokens, bytes, loss, ppl: Math.exp(loss), bpb: nll / (Math.LN2 * bytes) };
}
