/**
 * One decode-benchmark configuration in its own process (so peak RSS is this model's alone):
 *   node dist/bench/decode_child.js '{"preset":"b1.58-large","threads":1,"prefill":128,"decode":64,"reps":3}'
 * Loads a synthetic random-ternary model of the preset's shape, times prefill (a fresh cache each
 * rep) and greedy decode, prints one JSON line.
 */
import { createBackend } from '../src/kernels/backend.js';
import { makeConfig } from '../src/model/config.js';
import { PackedModel, type HeadType } from '../src/infer/packed_model.js';
import { DEFAULT_PREFILL_CHUNK, InferenceSession, type KvCacheType } from '../src/infer/session.js';
import { syntheticSource } from '../src/weights/synthetic.js';
import { stats } from './harness.js';

interface Args { preset: string; threads: number; prefill: number; decode: number; reps: number; head?: HeadType; format?: 'i2' | 'i1.6'; interleave?: boolean; chunk?: number; kv?: KvCacheType }
const a = JSON.parse(process.argv[2] ?? '{}') as Args;
const config = makeConfig(a.preset);
const be = await createBackend({ backend: 'wasm', threads: a.threads });
const t0 = performance.now();
const model = PackedModel.load(be, syntheticSource(config, 1), { head: a.head ?? 'auto', format: a.format ?? 'i2', interleave: a.interleave ?? true });
const loadMs = performance.now() - t0;
const ctx = a.prefill + a.decode + 1;
const chunk = a.chunk ?? DEFAULT_PREFILL_CHUNK; // the session's default (llama-bench runs pp128 as one batch too)
const s = new InferenceSession(model, { ctx, chunk, kv: a.kv ?? 'f16' });
const prompt = Array.from({ length: a.prefill }, (_, i) => (i * 7919 + 13) % config.vocabSize);
const argmax = (l: Float32Array) => {
  let b = 0;
  for (let i = 1; i < l.length; i++) if (l[i]! > l[b]!) b = i;
  return b;
};
const prefillTs: number[] = [];
const decodeTs: number[] = [];
for (let r = 0; r <= a.reps; r++) {
  s.reset();
  let t = performance.now();
  let l = s.prefill(prompt);
  const tp = performance.now() - t;
  s.reset();
  l = s.prefill([1]);
  let tok = argmax(l);
  t = performance.now();
  for (let i = 0; i < a.decode; i++) tok = argmax(s.decode(tok));
  const td = performance.now() - t;
  if (r > 0) { prefillTs.push(tp); decodeTs.push(td); } // rep 0 warms up
}
const sp = stats(prefillTs.sort((x, y) => x - y)), sd = stats(decodeTs.sort((x, y) => x - y));
const kv = s.bytes.kv;
const embBytes = model.head.bytes + (config.tieEmbeddings ? 0 : model.embed.bytes);
console.log(JSON.stringify({
  preset: a.preset, threads: be.threads, backend: be.name, relaxed: be.features?.relaxed ?? false, head: model.head.type, format: model.ternaryFormat,
  loadMs, prefillMs: sp.medianMs, prefillMinMs: sp.minMs, decodeMs: sd.medianMs, decodeMinMs: sd.minMs,
  prefillTokS: (a.prefill * 1000) / sp.medianMs, decodeTokS: (a.decode * 1000) / sd.medianMs,
  bytesPerToken: model.bytesPerToken, linearBytes: model.linearBytes, embBytes, kvBytes: kv,
  maxRssBytes: process.resourceUsage().maxRSS * 1024,
}));
await be.dispose();
