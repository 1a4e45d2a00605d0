/**
 * Generation over the packed engine: greedy tokens equal the full-forward reference generator
 * (training model), same seed → same sample, stop strings are never emitted (and held back while
 * they might still match), incomplete UTF-8 is held back, EOS/abort/length finish reasons, chat
 * templates; the model file round-trips to bit-identical logits and rejects corrupt input.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FormatError } from '../../src/errors.js';
import { refBackend } from '../../src/kernels/backend.js';
import { validateConfig, type ModelConfig } from '../../src/model/config.js';
import { Transformer } from '../../src/model/transformer.js';
import { PackedModel } from '../../src/infer/packed_model.js';
import { InferenceSession } from '../../src/infer/session.js';
import { sourceFromTransformer } from '../../src/weights/source.js';
import { generate, generateStream, renderChat, type GenerateChunk } from '../../src/infer/generate.js';
import { generateText } from '../../src/infer/generate_simple.js';
import { openModel, saveModelFile } from '../../src/load/open.js';
import { loadModelImage } from '../../src/infer/model_file.js';
import { byteTokenizer } from '../../src/tokenizer/bpe.js';
import { assertBitIdentical } from '../helpers/check.js';

const tok = byteTokenizer(['<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>']);
const CFG: ModelConfig = validateConfig({ vocabSize: tok.vocabSize, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, ffnDim: 64, maxSeqLen: 64, ropeTheta: 10000, normEps: 1e-5, ffn: 'relu2glu', subln: true, tieEmbeddings: true, quant: 'b158', groups: 1 });
const dir = mkdtempSync(join(tmpdir(), 'bitnet-gen-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function model(seed = 5, embScale = 40): Transformer {
  const m = new Transformer(refBackend(), CFG, 'f32');
  m.init(seed);
  // Larger embeddings so the random model has decisive (non-tied) argmaxes.
  const e = m.param('embed_tokens').p;
  for (let i = 0; i < e.length; i++) e[i]! *= embScale;
  return m;
}

test('greedy generation = the full-forward reference generator (training model), token for token', async () => {
  const m = model();
  const s = new InferenceSession(PackedModel.load(refBackend(), sourceFromTransformer(m), { head: 'f32' }), { ctx: 64 });
  const want = generateText(m, tok, 'The State of', 20, { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, presencePenalty: 0, seed: 1 });
  const got = await generate(s, tok, 'The State of', { maxTokens: 20, temperature: 0 });
  assert.deepEqual(got.tokens, want.tokens.slice(0, got.tokens.length));
  assert.ok(got.tokens.length === want.tokens.length, `${got.tokens.length} vs ${want.tokens.length} tokens (${got.finishReason})`);
  assert.equal(got.text, want.text);
});

test('same seed → same sampled tokens; another seed → another sample', async () => {
  const s = new InferenceSession(PackedModel.load(refBackend(), sourceFromTransformer(model(5, 1))), { ctx: 64 });
  const opts = { maxTokens: 24, temperature: 1.5, topK: 0 };
  const a = await generate(s, tok, 'x', { ...opts, seed: 7 });
  const b = await generate(s, tok, 'x', { ...opts, seed: 7 });
  const c = await generate(s, tok, 'x', { ...opts, seed: 8 });
  assert.deepEqual(a.tokens, b.tokens);
  assert.notDeepEqual(a.tokens, c.tokens);
});

/** A session stand-in that forces a scripted token sequence (one-hot logits). */
function scripted(ids: number[], V = tok.vocabSize): InferenceSession {
  let i = 0;
  const logits = new Float32Array(V);
  const next = () => {
    logits.fill(0);
    logits[ids[Math.min(i++, ids.length - 1)]!] = 10;
    return logits;
  };
  return { model: { config: CFG }, ctx: 64, chunk: 64, pos: 0, reset() { i = 0; }, prefill: () => next(), decode: () => next() } as unknown as InferenceSession;
}

async function collect(s: InferenceSession, opts: Parameters<typeof generateStream>[3]): Promise<{ chunks: string[]; text: string; finish: string }> {
  const chunks: string[] = [];
  const it = generateStream(s, tok, 'p', opts);
  for (;;) {
    const r = await it.next();
    if (r.done) return { chunks, text: r.value.text, finish: r.value.finishReason };
    chunks.push((r.value as GenerateChunk).text);
  }
}

const bytes = (s: string) => [...new TextEncoder().encode(s)];

test('stop strings: never emitted, prefixes held back then released, finish reasons', async () => {
  const r = await collect(scripted([...bytes('Hello ENDworld')]), { maxTokens: 50, temperature: 0, stop: ['END'] });
  assert.equal(r.text, 'Hello ');
  assert.equal(r.chunks.join(''), 'Hello ');
  assert.equal(r.finish, 'stop');
  // "EN" looks like the start of "END" and is held back until it is not.
  const r2 = await collect(scripted([...bytes('aENb'), tok.eosId]), { maxTokens: 50, temperature: 0, stop: ['END'] });
  assert.equal(r2.text, 'aENb');
  assert.equal(r2.chunks.join(''), 'aENb');
  assert.ok(!r2.chunks.includes('aE') && r2.chunks.indexOf('a') >= 0, `chunks ${JSON.stringify(r2.chunks)}`);
  assert.equal(r2.finish, 'stop');
  const r3 = await collect(scripted(bytes('abcdef')), { maxTokens: 3, temperature: 0 });
  assert.equal(r3.text, 'abc');
  assert.equal(r3.finish, 'length');
  const ac = new AbortController();
  ac.abort();
  const r4 = await collect(scripted(bytes('abc')), { maxTokens: 3, temperature: 0, signal: ac.signal });
  assert.equal(r4.finish, 'abort');
  assert.equal(r4.text, '');
});

test('a multi-byte character split across tokens is emitted whole', async () => {
  const r = await collect(scripted([...bytes('é€'), tok.eosId]), { maxTokens: 10, temperature: 0 });
  assert.equal(r.text, 'é€');
  for (const c of r.chunks) assert.ok(!c.includes('\ufffd'), `chunk ${JSON.stringify(c)} has a replacement character`);
});

test('chat templates', () => {
  const msgs = [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'Hi' }];
  const b = renderChat(msgs, 'bitnet', tok);
  assert.equal(b.prompt, '<|begin_of_text|>System: Be brief.<|eot_id|>User: Hi<|eot_id|>Assistant: ');
  assert.equal(b.addBos, false);
  assert.deepEqual(b.stopIds, [tok.tokenToId('<|eot_id|>')]);
  const p = renderChat(msgs, 'plain', tok);
  assert.equal(p.prompt, 'System: Be brief.\n\nUser: Hi\n\nAssistant:');
  assert.ok(p.stop.includes('\nUser:'));
});

test('model file: save → open → bit-identical logits; corrupt files raise FormatError', () => {
  const m = model(9);
  const path = join(dir, 'm.safetensors');
  saveModelFile(path, sourceFromTransformer(m), tok);
  const opened = openModel(path);
  assert.equal(opened.kind, 'model-file');
  assert.equal(opened.tokenizer!.encode('State of the Union').join(','), tok.encode('State of the Union').join(','));
  const toks = [1, 50, 99, 200, 7];
  const a = new InferenceSession(PackedModel.load(refBackend(), sourceFromTransformer(m), { head: 'f32' }), { ctx: 16 }).forwardAll(toks);
  const b = new InferenceSession(loadModelImage(refBackend(), opened.image!.image, opened.image!.src), { ctx: 16 }).forwardAll(toks);
  assertBitIdentical(b, a, 'logits (image read into memory)');
  const c = new InferenceSession(PackedModel.load(refBackend(), opened.source, { head: 'f32' }), { ctx: 16 }).forwardAll(toks);
  assertBitIdentical(c, a, 'logits (re-packed from the file as a WeightSource)');
  opened.close();
  const bytesOk = readFileSync(path);
  writeFileSync(join(dir, 'trunc.safetensors'), bytesOk.subarray(0, bytesOk.length - 100));
  assert.throws(() => openModel(join(dir, 'trunc.safetensors')), FormatError);
  // A non-finite norm weight: the loader names the array and the file offset.
  const bad = Buffer.from(bytesOk);
  const hdr = JSON.parse(bad.subarray(8, 8 + Number(bad.readBigUInt64LE(0))).toString()) as Record<string, { data_offsets: [number, number] }>;
  const at = 8 + Number(bad.readBigUInt64LE(0)) + hdr['layers.0.attn_norm']!.data_offsets[0];
  bad.writeFloatLE(NaN, at + 8);
  writeFileSync(join(dir, 'bad.safetensors'), bad);
  const o = openModel(join(dir, 'bad.safetensors'));
  assert.throws(() => loadModelImage(refBackend(), o.image!.image, o.image!.src), (e: Error) => e instanceof FormatError && /layers\.0\.attn_norm.*NaN.*file byte/.test(e.message));
  o.close();
});

test('loadModel: path → backend + packed model → session → generate', async () => {
  const path = join(dir, 'lm.safetensors');
  saveModelFile(path, sourceFromTransformer(model(3)), tok);
  const { loadModel } = await import('../../src/load/open.js');
  const m = await loadModel(path, { backend: 'wasm', threads: 1, head: 'f32' });
  try {
    assert.equal(m.kind, 'model-file');
    const r = await generate(m.session({ ctx: 32 }), m.tokenizer!, 'ab', { maxTokens: 5, temperature: 0 });
    const want = await generate(new InferenceSession(PackedModel.load(refBackend(), sourceFromTransformer(model(3)), { head: 'f32' }), { ctx: 32 }), tok, 'ab', { maxTokens: 5, temperature: 0 });
    assert.deepEqual(r.tokens, want.tokens);
  } finally {
    await m.dispose();
  }
});
