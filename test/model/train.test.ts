import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createBackend, type Backend } from '../../src/kernels/backend.js';
import { type ModelConfig, validateConfig } from '../../src/model/config.js';
import { defaultTrainOptions, train, type TrainOptions } from '../../src/train/loop.js';
import { arrayDataSource } from '../../src/train/data_source.js';
import { readCheckpoint, runDirStore } from '../../src/train/run_dir.js';
import { scheduleAt } from '../../src/train/schedule.js';
import { Rng } from '../../src/tensor/rng.js';
import { assertBitIdentical } from '../helpers/check.js';

const CFG: ModelConfig = validateConfig({
  vocabSize: 32, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, ffnDim: 64, maxSeqLen: 16,
  ropeTheta: 10000, normEps: 1e-5, ffn: 'relu2glu', subln: true, tieEmbeddings: true, quant: 'b158', groups: 1,
});

/** A corpus with learnable structure: a fixed random sequence of 40 tokens repeated. */
function corpus(n: number, seed: number): Uint16Array {
  const rng = new Rng(seed);
  const motif = Array.from({ length: 40 }, () => rng.int(CFG.vocabSize));
  return Uint16Array.from({ length: n }, (_, i) => motif[i % motif.length]!);
}

function opts(steps: number, over: Partial<TrainOptions> = {}): TrainOptions {
  const o = defaultTrainOptions(steps);
  return { ...o, batchSize: 4, seqLen: 16, evalBatches: 2, schedule: { ...o.schedule, lr: 1e-2, minLr: 1e-3, warmup: 5 }, ...over };
}

describe('training', () => {
  const data = arrayDataSource(corpus(4000, 1), corpus(800, 1), 4.5, 7);
  const backends: Backend[] = [];
  after(async () => Promise.all(backends.map((b) => b.dispose())));
  const be = async (threads: number) => {
    const b = await createBackend({ backend: 'wasm', threads });
    backends.push(b);
    return b;
  };

  test('overfits a repeating corpus in every quant mode', async () => {
    const b = await be(2);
    const cases: Array<[string, ModelConfig]> = (['fp', 'bitnet', 'b158', 'v2-a8', 'v2-a4'] as const).map((quant) => [quant, { ...CFG, quant, subln: quant !== 'bitnet' }]);
    // BitNet v1 with the zero-point [0,127] down_proj input (plain ReLU MLP as in v1; and with group quantization)
    const v1s: ModelConfig = { ...CFG, quant: 'bitnet', subln: false, ffn: 'mlp-relu', v1ShiftedActs: 'ffn-down' };
    cases.push(['bitnet shifted-down', v1s], ['bitnet shifted-down groups=4', { ...v1s, groups: 4 }]);
    for (const [quant, cfg] of cases) {
      const r = train(b, cfg, opts(150), data);
      const first = r.history[0]!.loss;
      const last = r.history[r.history.length - 1]!.loss;
      // Uniform guessing is ln 32 = 3.47 nats; the 40-token motif is fully predictable after 1 token of context.
      assert.ok(first > 3, `${quant}: initial loss ${first}`);
      assert.ok(last < 0.5, `${quant}: loss after 150 steps ${last} (from ${first})`);
      assert.ok(r.final.valLoss < 0.5, `${quant}: validation loss ${r.final.valLoss}`);
    }
  });

  test('same seed gives the same run; 1 and 2 threads give bit-identical weights', async () => {
    const [b1, b2] = [await be(1), await be(2)];
    const r1 = train(b1, CFG, opts(6), data);
    const r2 = train(b2, CFG, opts(6), data);
    assertBitIdentical(r1.model.params as Float32Array, r2.model.params as Float32Array, 'params');
    assert.deepEqual(r1.history.map((h) => h.loss), r2.history.map((h) => h.loss));
  });

  test('interrupt + resume from a checkpoint gives the same final weights as an uninterrupted run', async () => {
    const b = await be(2);
    const dirA = mkdtempSync(join(tmpdir(), 'bitnet-a-'));
    const dirB = mkdtempSync(join(tmpdir(), 'bitnet-b-'));
    try {
      const o = opts(12, { ckptEvery: 4, keepCheckpoints: 2, evalEvery: 6 });
      const full = train(b, CFG, o, data, { store: runDirStore(dirA) });
      train(b, CFG, o, data, { store: runDirStore(dirB), stopAfter: 6 }); // "killed" after step 6 (last checkpoint: step 4)
      const resumed = train(b, CFG, o, data, { store: runDirStore(dirB), resume: true });
      assertBitIdentical(full.model.params as Float32Array, resumed.model.params as Float32Array, 'params');
      assert.deepEqual(readdirSync(dirB).filter((f) => f.startsWith('ckpt-')), ['ckpt-00000008.safetensors', 'ckpt-00000012.safetensors']);
      const steps = readFileSync(join(dirB, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step as number);
      assert.deepEqual(steps, [...Array(12).keys()].map((i) => i + 1));
    } finally {
      rmSync(dirA, { recursive: true, force: true });
      rmSync(dirB, { recursive: true, force: true });
    }
  });

  test('BitNet v2 recipe: continue an a8 run at a4 from its checkpoint, reusing the AdamW state', async () => {
    const b = await be(2);
    const dir = mkdtempSync(join(tmpdir(), 'bitnet-v2-'));
    try {
      const cfg8 = { ...CFG, quant: 'v2-a8' as const };
      const a8 = train(b, cfg8, opts(40, { ckptEvery: 40 }), data, { store: runDirStore(dir) });
      const a4 = train(b, { ...cfg8, quant: 'v2-a4' }, opts(5), data, { initFrom: readCheckpoint(join(dir, 'ckpt-00000040.safetensors')) });
      assert.equal(a4.optimizer.step, 45, 'AdamW step count continues');
      const last8 = a8.history[a8.history.length - 1]!.loss;
      assert.ok(a4.history[0]!.loss < last8 + 0.5, `a4 starts near the a8 loss (${a4.history[0]!.loss} vs ${last8}), not from scratch`);
      assert.throws(() => train(b, { ...cfg8, dim: 64, ffnDim: 128 }, opts(2), data, { initFrom: readCheckpoint(join(dir, 'ckpt-00000040.safetensors')) }), /only config.quant and config.v1ShiftedActs may change/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('v1ShiftedActs round-trips: config.json, checkpoint, resume, model file; initFrom may switch it on', async () => {
    const b = await be(1);
    const dir = mkdtempSync(join(tmpdir(), 'bitnet-v1s-'));
    try {
      const v1: ModelConfig = { ...CFG, quant: 'bitnet', subln: false, ffn: 'mlp-relu' };
      const cfg: ModelConfig = { ...v1, v1ShiftedActs: 'ffn-down' };
      const o = opts(6, { ckptEvery: 3, evalEvery: 3 });
      const full = train(b, cfg, o, data);
      train(b, cfg, o, data, { store: runDirStore(dir), stopAfter: 4 });
      const json = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model: ModelConfig };
      assert.equal(json.model.v1ShiftedActs, 'ffn-down', 'config.json');
      const ck = readCheckpoint(join(dir, 'ckpt-00000003.safetensors'));
      assert.equal(ck.config.v1ShiftedActs, 'ffn-down', 'checkpoint metadata');
      const resumed = train(b, cfg, o, data, { store: runDirStore(dir), resume: true });
      assertBitIdentical(resumed.model.params as Float32Array, full.model.params as Float32Array, 'resumed = uninterrupted');
      assert.throws(() => train(b, v1, o, data, { store: runDirStore(dir), resume: true }), /config differs/);
      // model file: config in the metadata, same logits as the live model's engine
      const { modelFileContentsV1, sourceFromModelFile, modelFileBytes, loadModelImage } = await import('../../src/infer/model_file.js');
      const { modelImageOfBytes } = await import('../../src/load/loaded_model.js');
      const { bufferSource } = await import('../../src/io/gguf.js');
      const { sourceFromTransformer, sourceFromCheckpoint } = await import('../../src/weights/source.js');
      const { serializeHeader, parseSafetensors, bytesOf } = await import('../../src/io/safetensors.js');
      const { PackedModel } = await import('../../src/infer/packed_model.js');
      const { InferenceSession } = await import('../../src/infer/session.js');
      const { tensors, metadata } = modelFileContentsV1(sourceFromTransformer(full.model), undefined);
      const parts = tensors.map(([, t]) => bytesOf(t.data));
      const head = serializeHeader(tensors.map(([n, t], i) => [n, { dtype: t.dtype, shape: t.shape, byteLength: parts[i]!.byteLength }]), metadata);
      const file = new Uint8Array([...head, ...parts.flatMap((p) => [...p])]);
      const { source } = sourceFromModelFile(parseSafetensors(file), 'mem');
      assert.equal(source.config.v1ShiftedActs, 'ffn-down', 'model file metadata');
      const toks = Int32Array.from({ length: 12 }, (_, i) => (i * 7) % CFG.vocabSize);
      const run = (src: typeof source) => new InferenceSession(PackedModel.load(b, src, { head: 'f32' }), { ctx: 16 }).forwardAll(toks);
      const live = run(sourceFromTransformer(full.model));
      assertBitIdentical(run(source), live, 'model file (version 1) logits');
      const image = modelFileBytes(PackedModel.load(b, sourceFromTransformer(full.model), { head: 'f32' }), undefined);
      const img = modelImageOfBytes(image, 'mem')!;
      assert.equal(img.config.v1ShiftedActs, 'ffn-down', 'model file (version 2) metadata');
      assertBitIdentical(new InferenceSession(loadModelImage(b, img, bufferSource(image, 'mem')), { ctx: 16 }).forwardAll(toks), live, 'model file (version 2) logits');
      assertBitIdentical(run(sourceFromCheckpoint(readCheckpoint(join(dir, 'ckpt-00000006.safetensors')))), live, 'checkpoint logits');
      // initFrom: a plain v1 checkpoint continues with the shifted input (a quantizer choice, not a shape)
      const plainDir = join(dir, 'plain');
      train(b, v1, opts(3, { ckptEvery: 3 }), data, { store: runDirStore(plainDir) });
      const cont = train(b, cfg, opts(2), data, { initFrom: readCheckpoint(join(plainDir, 'ckpt-00000003.safetensors')) });
      assert.equal(cont.model.config.v1ShiftedActs, 'ffn-down');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('schedules: warmup, cosine end point, two-stage weight decay', () => {
    const s = { kind: 'cosine' as const, lr: 1, minLr: 0.1, warmup: 10, steps: 110, weightDecay: 0.1 };
    assert.equal(scheduleAt(s, 0).lr, 0.1);
    assert.equal(scheduleAt(s, 9).lr, 1);
    assert.ok(Math.abs(scheduleAt(s, 110).lr - 0.1) < 1e-12);
    const t = { ...s, kind: 'two-stage' as const, lr2: 0.4 };
    assert.ok(scheduleAt(t, 30).weightDecay > 0);
    assert.equal(scheduleAt(t, 80).weightDecay, 0);
    assert.ok(scheduleAt(t, 56).lr <= 0.4 + 1e-12, 'stage 2 starts at the lower peak');
  });

  test('bad options are rejected with the field named', async () => {
    const b = await be(1);
    assert.throws(() => train(b, CFG, opts(5, { seqLen: 99 }), data), /train\.seqLen/);
    assert.throws(() => train(b, CFG, opts(5, { batchSize: 0 }), data), /train\.batchSize/);
  });
});
