#!/usr/bin/env node
/**
 * Run a GGUF file in llama.cpp through node-llama-cpp (a peer check, not a dependency of this package):
 *   node scripts/llamacpp_check.mjs MODEL.gguf [--tokens N] [--prompt TEXT | --ids 1,2,3] [--threads T] [--ctx C]
 * Loads the model, greedy-decodes N tokens (temperature 0) after the prompt and prints the prompt ids, the
 * generated ids, and prefill / decode tokens per second as JSON on the last line.
 *
 * node-llama-cpp is looked up as `node-llama-cpp` from here, or from the directory in $NODE_LLAMA_CPP_DIR
 * (e.g. /tmp/llamapeer/node_modules/node-llama-cpp after `npm i node-llama-cpp@3.22.1` in /tmp/llamapeer).
 * When it cannot be imported the script says why and exits 0, so it can sit in optional benchmark runs.
 */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tokens: { type: 'string', default: '16' },
    prompt: { type: 'string', default: 'The' },
    ids: { type: 'string' },
    threads: { type: 'string' },
    ctx: { type: 'string', default: '256' },
    gpu: { type: 'boolean', default: false },
  },
});
const path = positionals[0];
if (!path || !existsSync(path)) {
  console.error('usage: node scripts/llamacpp_check.mjs MODEL.gguf [--tokens N] [--prompt TEXT | --ids 1,2,3] [--threads T] [--ctx C] [--gpu]');
  process.exit(2);
}

async function importLlama() {
  const dir = process.env.NODE_LLAMA_CPP_DIR;
  const candidates = dir ? [pathToFileURL(join(dir, 'dist', 'index.js')).href] : [];
  candidates.push('node-llama-cpp');
  const errors = [];
  for (const c of candidates) {
    try {
      return await import(c);
    } catch (e) {
      errors.push(`${c}: ${e.message.split('\n')[0]}`);
    }
  }
  console.log(`llamacpp_check: node-llama-cpp is not importable, skipping (${errors.join('; ')})`);
  console.log('  install it outside this repo: mkdir /tmp/llamapeer && cd /tmp/llamapeer && npm init -y && npm i node-llama-cpp@3.22.1');
  console.log('  then run with NODE_LLAMA_CPP_DIR=/tmp/llamapeer/node_modules/node-llama-cpp');
  process.exit(0);
}

const { getLlama, LlamaLogLevel } = await importLlama();
const llama = await getLlama({ gpu: values.gpu ? 'auto' : false, build: 'never', logLevel: LlamaLogLevel?.error ?? 'error' });
const threads = values.threads ? Number(values.threads) : undefined;
const t0 = performance.now();
const model = await llama.loadModel({ modelPath: path, gpuLayers: values.gpu ? 'max' : 0 });
const loadMs = performance.now() - t0;
const context = await model.createContext({ contextSize: Number(values.ctx), batchSize: 512, ...(threads ? { threads } : {}) });
const seq = context.getSequence();
const promptIds = values.ids ? values.ids.split(',').map(Number) : Array.from(model.tokenize(values.prompt));
const n = Number(values.tokens);
const out = [];
let tFirst = 0;
const tStart = performance.now();
for await (const tok of seq.evaluate(promptIds, { temperature: 0 })) {
  if (out.length === 0) tFirst = performance.now();
  out.push(tok);
  if (out.length >= n) break;
}
const tEnd = performance.now();
const decodeTps = out.length > 1 ? (out.length - 1) / ((tEnd - tFirst) / 1000) : NaN;
const result = {
  model: path,
  llamaCppRelease: llama.llamaCppRelease?.release,
  trainContext: model.trainContextSize,
  vocab: model.tokens?.vocabularyType,
  threads: context.currentThreads ?? threads,
  loadMs: Math.round(loadMs),
  promptIds,
  generatedIds: out,
  text: model.detokenize(out),
  prefillMs: Math.round(tFirst - tStart),
  decodeTokensPerSecond: Number(decodeTps.toFixed(2)),
};
console.log(JSON.stringify(result));
await context.dispose();
await model.dispose();
await llama.dispose();
