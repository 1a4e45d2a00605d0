/**
 * `npm run bench -- headppl`: the perplexity cost of each LM-head storage ('f32', 'q7', 'q4g') in the
 * packed engine, on the held-out (test) split of the bundled corpus with the bundled model: sliding
 * windows (window = maxSeqLen, stride = window / 2, every token after BOS scored once), logits from
 * InferenceSession.forwardAll. Reports ppl, bits per byte and the ratio to the f32 head, plus bytes
 * per token of the head at the 2B4T shape (128256 × 2560) for each storage.
 */
import { loadCorpus, splitCorpus } from '../src/data/corpus.js';
import { loadModel } from '../src/load/open.js';
import { BUNDLED_MODEL } from '../src/cli/commands/generate.js';
import { slidingWindows } from '../src/eval/perplexity.js';
import type { HeadType } from '../src/infer/layout.js';
import { bytesI7R4 } from '../src/kernels/ref/infer.js';
import { bytesQ4G, scalesQ4G } from '../src/kernels/ref/head4.js';
import type { Reporter } from './harness.js';

export async function benchHeadPpl(rep: Reporter, opts: { quick: boolean; model?: string }): Promise<void> {
  const docs = splitCorpus(loadCorpus('sotu')).test;
  const maxTokens = opts.quick ? 8192 : 65536;
  const enc = new TextEncoder();
  const base: Record<string, number> = {};
  for (const head of ['f32', 'q7', 'q4g'] as HeadType[]) {
    const m = await loadModel(opts.model ?? BUNDLED_MODEL, { backend: 'wasm', threads: 1, head, requireTokenizer: true });
    const tok = m.tokenizer!;
    const W = m.model.config.maxSeqLen;
    const s = m.session({ ctx: W });
    let nll = 0, tokens = 0, bytes = 0;
    for (const d of docs) {
      if (tokens >= maxTokens) break;
      const ids = [tok.bosId ?? 0, ...tok.encode(d.text)];
      const V = m.model.config.vocabSize;
      let scored = 0;
      for (const w of slidingWindows(ids.length, W, W / 2)) {
        s.reset();
        const logits = s.forwardAll(ids.slice(w.start, w.end - 1));
        for (let p = w.scoreFrom; p < w.end; p++) {
          const row = logits.subarray((p - 1 - w.start) * V, (p - w.start) * V);
          let mx = -Infinity;
          for (let i = 0; i < V; i++) mx = Math.max(mx, row[i]!);
          let z = 0;
          for (let i = 0; i < V; i++) z += Math.exp(row[i]! - mx);
          nll += Math.log(z) + mx - row[ids[p]!]!;
          scored++;
        }
        if (tokens + scored >= maxTokens) break;
      }
      tokens += scored;
      bytes += enc.encode(d.text).length * (scored / (ids.length - 1));
    }
    await m.dispose();
    const ppl = Math.exp(nll / tokens), bpb = nll / Math.LN2 / bytes;
    if (head === 'f32') Object.assign(base, { ppl, bpb });
    const V2 = 128256, C2 = 2560;
    const headBytes2b4t = head === 'f32' ? V2 * C2 * 4 : head === 'q7' ? bytesI7R4(V2, C2) + 4 * V2 : bytesQ4G(V2, C2) + 4 * scalesQ4G(V2, C2);
    rep.add({ suite: 'headppl', name: `head ${head}`, shape: `${tokens} held-out tokens`, backend: 'wasm', threads: 1, medianMs: NaN, minMs: NaN, p90Ms: NaN,
      metrics: { ppl, bpb, ppl_vs_f32: ppl / base.ppl!, head_MB_at_2b4t: headBytes2b4t / 1e6 } });
  }
}
