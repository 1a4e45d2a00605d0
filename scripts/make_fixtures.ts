/**
 * Regenerates test/fixtures/golden_tiny.json (llm.c's debug-state idea): a seeded tiny
 * b1.58 config on the f64 reference backend — the step-0 loss, per-parameter gradient
 * norms, and the losses of 10 AdamW steps on one fixed batch — and test/fixtures/golden_decode.json:
 * the exact greedy token ids the packed inference engine decodes from a seeded tiny model.
 *
 *   npm run build && node dist/scripts/make_fixtures.js
 *
 * Regenerate only when the math changes on purpose; the test fails with a hint otherwise.
 */
import { writeFileSync } from 'node:fs';
import { refBackend } from '../src/kernels/backend.js';
import { validateConfig, type ModelConfig } from '../src/model/config.js';
import { Transformer } from '../src/model/transformer.js';
import { AdamW } from '../src/train/adamw.js';
import { Rng } from '../src/tensor/rng.js';
import { PackedModel } from '../src/infer/packed_model.js';
import { InferenceSession } from '../src/infer/session.js';
import { sourceFromTransformer } from '../src/weights/source.js';

export const GOLDEN_MAGIC = 'bitnet-ts-golden';
export const GOLDEN_VERSION = 1;

export const GOLDEN_CONFIG: ModelConfig = validateConfig({
  vocabSize: 64, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, ffnDim: 64, maxSeqLen: 16,
  ropeTheta: 10000, normEps: 1e-5, ffn: 'relu2glu', subln: true, tieEmbeddings: true, quant: 'b158', groups: 1,
});

export interface Golden {
  magic: string;
  version: number;
  config: ModelConfig;
  seed: number;
  B: number;
  T: number;
  tokens: number[];
  targets: number[];
  step0: { loss: number; gradNorms: Record<string, number> };
  losses: number[];
}

export function computeGolden(): Golden {
  const seed = 20240327;
  const B = 2, T = 16;
  const rng = new Rng(seed);
  const tokens = Array.from({ length: B * T }, () => rng.int(GOLDEN_CONFIG.vocabSize));
  const targets = Array.from({ length: B * T }, () => rng.int(GOLDEN_CONFIG.vocabSize));
  const be = refBackend();
  const m = new Transformer(be, GOLDEN_CONFIG, 'f64');
  m.init(seed);
  const x = Int32Array.from(tokens), y = Int32Array.from(targets);
  m.zeroGrad();
  const loss = m.forward(x, y, B, T);
  m.backward();
  const gradNorms: Record<string, number> = {};
  for (const info of m.table) {
    const g = m.param(info.name).g;
    let s = 0;
    for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
    gradNorms[info.name] = Math.sqrt(s);
  }
  const opt = new AdamW(be, be.arena, m.numParams, m.decaySize, { beta1: 0.9, beta2: 0.95, eps: 1e-8, gradClip: 1 }, 'f64');
  const losses: number[] = [];
  for (let step = 0; step < 10; step++) {
    m.zeroGrad();
    losses.push(m.forward(x, y, B, T));
    m.backward();
    opt.clip(m.grads);
    opt.update(m.params, m.grads, 1e-2, 0.1);
  }
  return { magic: GOLDEN_MAGIC, version: GOLDEN_VERSION, config: GOLDEN_CONFIG, seed, B, T, tokens, targets, step0: { loss, gradNorms }, losses };
}

export const DECODE_CONFIG: ModelConfig = validateConfig({ ...GOLDEN_CONFIG, vocabSize: 256, maxSeqLen: 64, tieEmbeddings: false });

export interface GoldenDecode { magic: string; version: number; config: ModelConfig; seed: number; prompt: number[]; tokens: number[] }

/** Tiny seeded b1.58 model (weights from Transformer.init; embeddings ×30 and an untied head ×30 for decisive argmaxes). */
export function goldenDecodeModel(seed: number): Transformer {
  const m = new Transformer(refBackend(), DECODE_CONFIG, 'f32');
  m.init(seed);
  for (const name of ['embed_tokens', 'lm_head']) {
    const e = m.param(name).p;
    for (let i = 0; i < e.length; i++) e[i]! *= 30;
  }
  return m;
}

export function greedyIds(s: InferenceSession, prompt: number[], n: number): number[] {
  const argmax = (l: Float32Array) => l.reduce((b, v, i, a) => (v > a[b]! ? i : b), 0);
  s.reset();
  let next = argmax(s.prefill(prompt));
  const out = [next];
  while (out.length < n) out.push(next = argmax(s.decode(next)));
  return out;
}

export function computeGoldenDecode(): GoldenDecode {
  const seed = 4242;
  const prompt = [1, 72, 101, 108, 108, 111];
  const pm = PackedModel.load(refBackend(), sourceFromTransformer(goldenDecodeModel(seed)), { head: 'f32' });
  return { magic: GOLDEN_MAGIC, version: GOLDEN_VERSION, config: DECODE_CONFIG, seed, prompt, tokens: greedyIds(new InferenceSession(pm, { ctx: 64 }), prompt, 40) };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  for (const [file, make] of [['golden_tiny.json', computeGolden], ['golden_decode.json', computeGoldenDecode]] as const) {
    const path = new URL(`../../test/fixtures/${file}`, import.meta.url);
    writeFileSync(path, JSON.stringify(make(), null, 1) + '\n');
    console.log(`wrote ${path.pathname}`);
  }
}
