/**
 * `npm run bench -- load`: process start → first generated token, and peak RSS, for a synthetic model of
 * each published shape opened from every format — our model file (the memory image), GGUF TQ2_0 (repacked
 * at load), a Hugging Face packed directory — against native llama.cpp's llama-cli on the same GGUF in the
 * same run (bench/peer_native.ts). Each measurement is a whole `bitnet generate MODEL -n 1` process (wall
 * time until it exits, peak RSS from GNU time), median of `reps`. Files are made once and cached in
 * bench/results/ (the 2B4T GGUF takes about a minute to write).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadGguf } from '../src/interop/gguf_model.js';
import { exportHF } from '../src/interop/hf.js';
import { saveModelFile } from '../src/load/open.js';
import { makeConfig } from '../src/model/config.js';
import type { Reporter } from './harness.js';
import { nativeBin, nativeFirstToken, timedProcess } from './peer_native.js';
import { peerGguf } from './peer_llamacpp.js';

const cacheDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** The benchmark's files of a preset's synthetic model (made once, cached in bench/results/). */
export function modelFiles(preset: string): { gguf: string; modelFile: string; hf: string } {
  mkdirSync(cacheDir, { recursive: true });
  const gguf = peerGguf(preset);
  const modelFile = join(cacheDir, `synthetic-${preset}.safetensors`), hf = join(cacheDir, `synthetic-${preset}-hf`);
  if (!existsSync(modelFile) || !existsSync(hf)) {
    const g = loadGguf(gguf);
    try {
      if (!existsSync(modelFile)) saveModelFile(modelFile, g.source, g.tokenizer);
      if (!existsSync(hf)) exportHF(hf, g.source, { dtype: 'BF16', ...(g.tokenizer ? { tokenizer: g.tokenizer } : {}) }); // bf16 embeddings, as the official 2B4T
    } finally {
      g.close();
    }
  }
  return { gguf, modelFile, hf };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchLoad(rep: Reporter, opts: { reps: number; quick: boolean; threads?: number }): Promise<void> {
  const presets = opts.quick ? ['b1.58-large'] : ['b1.58-large', '2b4t'];
  const threads = opts.threads ?? 2;
  const reps = Math.max(3, opts.reps);
  const peer = nativeBin();
  if (!peer) console.error('bench load: native llama.cpp not found (LLAMA_NATIVE_BIN); reporting ours only');
  for (const preset of presets) {
    const f = modelFiles(preset);
    const ctx = makeConfig(preset).maxSeqLen;
    let peerS = NaN, peerRss = NaN;
    if (peer) {
      const runs = Array.from({ length: reps }, () => nativeFirstToken(f.gguf, threads, 'The', ctx));
      peerS = median(runs.map((r) => r.wallS));
      peerRss = median(runs.map((r) => r.maxRssBytes));
      rep.add({ suite: 'load', name: `${preset} llama-cli (native) gguf tq2_0`, shape: `ctx ${ctx}`, backend: 'native', threads, medianMs: peerS * 1000, minMs: NaN, p90Ms: NaN,
        metrics: { first_token_s: peerS, peak_rss_MiB: peerRss / 2 ** 20 } });
    }
    for (const [kind, path] of [['model file', f.modelFile], ['gguf tq2_0', f.gguf], ['hf packed dir', f.hf]] as const) {
      const runs = Array.from({ length: reps }, () => timedProcess(process.execPath, [cli, 'generate', path, '-p', 'The', '-n', '1', '--greedy', '-t', String(threads), '--ctx', String(ctx)]));
      const s = median(runs.map((r) => r.wallS)), rss = median(runs.map((r) => r.maxRssBytes));
      const mem = /weights ([\d.]+) MiB .*KV cache ([\d.]+) MiB/.exec(runs[0]!.stderr);
      const model = mem ? (Number(mem[1]) + Number(mem[2])) * 2 ** 20 : NaN;
      const metrics: Record<string, number> = { first_token_s: s, peak_rss_MiB: rss / 2 ** 20, weights_plus_kv_MiB: model / 2 ** 20, rss_over_weights_kv_MiB: (rss - model) / 2 ** 20 };
      if (peer) {
        metrics.vs_llama_cli = s / peerS;
        metrics.rss_vs_llama_cli = rss / peerRss;
      }
      rep.add({ suite: 'load', name: `${preset} bitnet generate, ${kind}`, shape: `ctx ${ctx}`, backend: 'wasm', threads, medianMs: s * 1000, minMs: NaN, p90Ms: NaN, metrics });
    }
  }
}
