/**
 * Text generation with the training model (full forward over the window for every new
 * token: O(T²), fine for small models). The packed KV-cache engine replaces this for
 * fast decoding; this one defines what that engine must reproduce.
 */
import type { Transformer } from '../model/transformer.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { Sampler, type SamplerOptions } from './sampler.js';

export function generateText(model: Transformer, tok: Tokenizer, prompt: string, maxNewTokens: number, opts: SamplerOptions): { text: string; tokens: number[] } {
  const V = model.config.vocabSize;
  const sampler = new Sampler(V, opts);
  const ids = [tok.bosId, ...tok.encode(prompt)];
  const out: number[] = [];
  for (let i = 0; i < maxNewTokens; i++) {
    const ctx = ids.slice(-model.config.maxSeqLen);
    model.forward(Int32Array.from(ctx), null, 1, ctx.length);
    const logits = model.logits().subarray((ctx.length - 1) * V, ctx.length * V);
    const next = sampler.sample(logits, ids);
    if (next === tok.eosId) break;
    ids.push(next);
    out.push(next);
  }
  return { text: tok.decode(out), tokens: out };
}
