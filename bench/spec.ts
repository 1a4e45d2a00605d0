/**
 * Speculative decoding benchmark (`npm run bench -- spec [--reps N] [--quick] [--preset P] [--threads T]`):
 * decode tok/s with prompt-lookup speculation against plain decoding, in the same run (the two
 * alternate rep by rep; medians), the draft acceptance rate, and whether the tokens are the same
 * (greedy: they must be).
 *  (a) a task that repeats its input: the bundled SOTU model, a prompt holding a paragraph and then
 *      its first words again (the continuation can copy the paragraph);
 *  (b) free generation from the bundled model (a short prompt);
 *  (c) free generation on the synthetic GGUF of a preset (default b1.58-large; random ternary
 *      weights, synthetic vocabulary: its greedy output tends to loop, which lookup then predicts).
 * Both greedy (output identical by construction) and seeded sampling (temperature 0.8) for (a)/(b).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel, type LoadedModel } from '../src/load/open.js';
import { generate, type GenerateOptions } from '../src/infer/generate.js';
import { InferenceSession } from '../src/infer/session.js';
import { makeConfig } from '../src/model/config.js';
import { byteTokenizer } from '../src/tokenizer/bpe.js';
import type { Reporter } from './harness.js';
import { peerGguf } from './peer_llamacpp.js';

const BUNDLED = fileURLToPath(new URL('../../models/sotu-tiny-b158.safetensors', import.meta.url));

const PARAGRAPH = 'We must work together to build a stronger economy, to keep our nation safe, and to give every child the chance to learn. The American people expect us to meet these challenges with courage and with purpose.';

export interface SpecBenchOptions {
  reps: number;
  threads: number;
  quick: boolean;
  preset: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function compare(rep: Reporter, L: LoadedModel, name: string, prompt: string | number[], maxTokens: number, o: SpecBenchOptions, sampling: Omit<GenerateOptions, 'speculative'>, k = 4): Promise<void> {
  const tok = L.tokenizer ?? byteTokenizer();
  const ctx = L.model.config.maxSeqLen;
  const plainS = new InferenceSession(L.model, { ctx });
  const specS = new InferenceSession(L.model, { ctx, verifyRows: k + 1 });
  const base: GenerateOptions = { maxTokens, ...sampling, ...(typeof prompt === 'string' ? {} : { addBos: false }), stopIds: [] };
  const plain: number[] = [], spec: number[] = [];
  let same = 1, proposed = 0, accepted = 0, steps = 0, tokens = 0;
  for (let r = 0; r < o.reps + 1; r++) {
    const a = await generate(plainS, tok, prompt, base);
    const b = await generate(specS, tok, prompt, { ...base, speculative: { mode: 'lookup', k, ngram: 3 } });
    if (r === 0) continue; // warm-up
    plain.push(((a.tokens.length - 1) * 1000) / a.decodeMs);
    spec.push(((b.tokens.length - 1) * 1000) / b.decodeMs);
    if (a.tokens.join() !== b.tokens.join()) same = 0;
    proposed += b.draft!.proposed;
    accepted += b.draft!.accepted;
    steps += b.draft!.steps;
    tokens = b.tokens.length;
  }
  const greedy = sampling.temperature === 0;
  rep.add({
    suite: 'spec', name: `${name}, ${greedy ? 'greedy' : `T ${sampling.temperature}`}, lookup k ≤ ${k}`, shape: `${tokens} tokens`, backend: L.backend.name, threads: L.backend.threads,
    medianMs: 1000 / median(spec), minMs: 1000 / Math.max(...spec), p90Ms: 1000 / Math.min(...spec),
    metrics: {
      plain_tok_s: median(plain), spec_tok_s: median(spec), speedup: median(spec) / median(plain),
      acceptance: proposed > 0 ? accepted / proposed : 0, proposed_per_run: proposed / o.reps, verify_steps_per_run: steps / o.reps,
      ...(greedy ? { same_tokens: same } : {}),
    },
  });
}

export async function benchSpec(rep: Reporter, o: SpecBenchOptions): Promise<void> {
  if (existsSync(BUNDLED)) {
    const L = await loadModel(BUNDLED, { backend: 'wasm', threads: o.threads, requireTokenizer: true });
    try {
      const n = L.model.config.maxSeqLen;
      const ids = L.tokenizer!.encode(PARAGRAPH);
      // The paragraph, a blank line, then its first four words: the rest of the context is the copy.
      const repeat = `${PARAGRAPH}\n\n${PARAGRAPH.split(' ').slice(0, 4).join(' ')}`;
      const room = n - ids.length - 12;
      for (const sampling of [{ temperature: 0 }, { temperature: 0.8, seed: 1 }]) {
        await compare(rep, L, '(a) bundled, repeat a paragraph', repeat, Math.min(room, 64), o, sampling);
        await compare(rep, L, '(b) bundled, free generation', 'The State of the Union', o.quick ? 48 : 96, o, sampling);
      }
    } finally {
      await L.dispose();
    }
  } else console.error(`bench spec: the bundled model ${BUNDLED} is missing; no (a)/(b) rows`);
  if (o.quick) return;
  const file = peerGguf(o.preset);
  const L = await loadModel(file, { backend: 'wasm', threads: o.threads });
  try {
    const V = makeConfig(o.preset).vocabSize;
    const prompt = Array.from({ length: 16 }, (_, i) => (i * 7919 + 13) % (V - 2) + 1);
    await compare(rep, L, `(c) ${o.preset} synthetic, free generation`, prompt, 48, { ...o, reps: Math.min(o.reps, 3) }, { temperature: 0 });
  } finally {
    await L.dispose();
  }
}
