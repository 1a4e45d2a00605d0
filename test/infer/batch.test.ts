/**
 * InferenceBatch (continuous batching) against lone InferenceSessions, on the WASM backend:
 *  - four sequences of different prompt and decode lengths join at different steps (their prompts in
 *    chunks riding along with the others' decode tokens), leave at different steps, and a freed slot is
 *    reused by a fifth sequence; every logits row the batch returns is bit-identical to a lone session
 *    decoding the same sequence token by token — for every quant mode / activation prep (int8, int4 +
 *    Hadamard, v1 zero-point codes, dense f32), both heads (f32 GEMM, 7-bit), both caches, relaxed SIMD
 *    on and off, 1 and 2 threads;
 *  - a slot truncated to a shared prefix continues exactly like a session that ran the whole sequence;
 *  - batchBytes = what the batch allocates; typed errors leave every slot as it was.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ArgumentError, ShapeError } from '../../src/errors.js';
import { createBackend, type Backend } from '../../src/kernels/backend.js';
import { validateConfig, type FfnKind, type ModelConfig, type QuantMode } from '../../src/model/config.js';
import { PackedModel, type HeadType } from '../../src/infer/packed_model.js';
import { InferenceSession, type KvCacheType } from '../../src/infer/session.js';
import { batchBytes, InferenceBatch, type BatchEntry } from '../../src/infer/batch.js';
import { syntheticSource } from '../../src/weights/synthetic.js';
import { Rng } from '../../src/tensor/rng.js';
import { assertBitIdentical } from '../helpers/check.js';

function cfg(quant: QuantMode, ffn: FfnKind, shifted = false): ModelConfig {
  return validateConfig({
    vocabSize: 300, dim: 64, nLayers: 2, nHeads: 4, nKvHeads: 2, ffnDim: 128, maxSeqLen: 128, ropeTheta: 10000, normEps: 1e-5,
    ffn, subln: true, tieEmbeddings: false, quant, groups: 1, ...(shifted ? { v1ShiftedActs: 'ffn-down' as const } : {}),
  });
}

function tokens(n: number, V: number, seed: number): number[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => r.int(V));
}

/** A sequence of the scenario: joins at step `join`, prompt then `decode` more tokens (fixed ids). */
interface Seq { join: number; prompt: number[]; decode: number[] }

/**
 * Run the scenario through a batch (slots 3, chunk 8: prompts take several steps; a finished sequence's
 * slot goes to the next waiting one) and return, per sequence, the logits rows in order.
 */
function runBatch(pm: PackedModel, seqs: Seq[], kv: KvCacheType): Float32Array[][] {
  const b = new InferenceBatch(pm, { slots: 3, ctx: 96, chunk: 8, kv });
  const out: Float32Array[][] = seqs.map(() => []);
  const slotOf = new Map<number, number>(); // sequence → slot
  const fed = seqs.map(() => 0); // tokens fed so far (prompt, then decode)
  const free = [0, 1, 2];
  for (let step = 0; slotOf.size > 0 || seqs.some((_, i) => fed[i] === 0); step++) {
    for (let i = 0; i < seqs.length; i++) {
      if (fed[i] === 0 && !slotOf.has(i) && seqs[i]!.join <= step && free.length > 0) {
        const s = free.shift()!;
        b.reset(s);
        slotOf.set(i, s);
      }
    }
    const entries: BatchEntry[] = [];
    const who: number[] = [];
    for (const [i, s] of slotOf) {
      const q = seqs[i]!, all = [...q.prompt, ...q.decode];
      const n = fed[i]! < q.prompt.length ? Math.min(b.chunk, q.prompt.length - fed[i]!) : 1;
      const toks = all.slice(fed[i], fed[i]! + n);
      entries.push({ slot: s, tokens: toks, logits: fed[i]! + n >= q.prompt.length });
      who.push(i);
      fed[i]! += n;
    }
    if (entries.length === 0) continue;
    const logits = b.step(entries);
    entries.forEach((e, k) => {
      const i = who[k]!;
      if (logits[k] !== undefined) out[i]!.push(logits[k]!.slice());
      else assert.equal(e.logits, false);
      const q = seqs[i]!;
      if (fed[i] === q.prompt.length + q.decode.length) {
        slotOf.delete(i);
        free.push(e.slot);
      }
    });
  }
  return out;
}

/** The same sequences, each alone: token by token through a fresh session (logits from the last prompt token on). */
function runAlone(pm: PackedModel, seqs: Seq[], kv: KvCacheType): Float32Array[][] {
  return seqs.map((q) => {
    const s = new InferenceSession(pm, { ctx: 96, kv });
    const rows: Float32Array[] = [];
    const all = [...q.prompt, ...q.decode];
    all.forEach((t, i) => {
      const l = s.decode(t);
      if (i >= q.prompt.length - 1) rows.push(l.slice());
    });
    return rows;
  });
}

const SEQS = (V: number): Seq[] => [
  { join: 0, prompt: tokens(5, V, 1), decode: tokens(12, V, 2) },
  { join: 2, prompt: tokens(21, V, 3), decode: tokens(6, V, 4) }, // three chunks of 8, 8, 5
  { join: 3, prompt: tokens(1, V, 5), decode: tokens(20, V, 6) }, // waits for a free slot
  { join: 4, prompt: tokens(8, V, 7), decode: tokens(3, V, 8) }, // waits, one full chunk
  { join: 5, prompt: tokens(13, V, 9), decode: tokens(0, V, 10) }, // prompt only
];

describe('InferenceBatch ≡ lone sessions, bit for bit', () => {
  const backends = new Map<string, Backend>();
  before(async () => {
    backends.set('relaxed 1t', await createBackend({ backend: 'wasm', threads: 1 }));
    backends.set('relaxed 2t', await createBackend({ backend: 'wasm', threads: 2 }));
    backends.set('simd128 1t', await createBackend({ backend: 'wasm', threads: 1, relaxed: false }));
  });
  after(async () => {
    for (const be of backends.values()) await be.dispose();
  });

  const CASES: Array<{ quant: QuantMode; ffn: FfnKind; shifted?: boolean; head: HeadType; kv: KvCacheType; be: string }> = [
    { quant: 'b158', ffn: 'relu2glu', head: 'f32', kv: 'f16', be: 'relaxed 1t' },
    { quant: 'b158', ffn: 'relu2glu', head: 'q7', kv: 'f16', be: 'relaxed 2t' },
    { quant: 'b158', ffn: 'swiglu', head: 'q7', kv: 'f32', be: 'simd128 1t' },
    { quant: 'b158', ffn: 'relu2glu', head: 'q4g', kv: 'f16', be: 'relaxed 1t' },
    { quant: 'v2-a4', ffn: 'bilinear', head: 'f32', kv: 'f16', be: 'relaxed 2t' },
    { quant: 'bitnet', ffn: 'mlp-relu', shifted: true, head: 'q7', kv: 'f16', be: 'relaxed 1t' },
    { quant: 'fp', ffn: 'swiglu', head: 'f32', kv: 'f32', be: 'relaxed 2t' },
  ];
  for (const k of CASES) {
    test(`${k.quant} ${k.ffn}${k.shifted ? ' (v1 zero-point)' : ''}, head ${k.head}, kv ${k.kv}, ${k.be}`, () => {
      const c = cfg(k.quant, k.ffn, k.shifted);
      const pm = PackedModel.load(backends.get(k.be)!, syntheticSource(c, 4), { head: k.head });
      const seqs = SEQS(c.vocabSize);
      const got = runBatch(pm, seqs, k.kv), want = runAlone(pm, seqs, k.kv);
      let rows = 0;
      seqs.forEach((q, i) => {
        assert.equal(got[i]!.length, q.decode.length + 1, `sequence ${i}: logits rows`);
        got[i]!.forEach((l, t) => assertBitIdentical(l, want[i]![t]!, `sequence ${i}, row ${t}`));
        rows += got[i]!.length;
      });
      // The rows are not trivially equal: different sequences give different logits.
      assert.notDeepEqual(got[0]![0], got[1]![0]);
      assert.equal(rows, 5 + 41);
    });
  }
});

describe('InferenceBatch: prefix reuse, sizes, errors', () => {
  let be: Backend;
  let pm: PackedModel;
  before(async () => {
    be = await createBackend({ backend: 'wasm', threads: 1 });
    pm = PackedModel.load(be, syntheticSource(cfg('b158', 'relu2glu'), 2), { head: 'q7' });
  });
  after(() => be.dispose());

  test('a slot truncated to a shared prefix continues exactly as a session that ran the whole sequence', () => {
    const V = pm.config.vocabSize;
    const system = tokens(19, V, 11), turn1 = tokens(7, V, 12), turn2 = tokens(9, V, 13);
    const b = new InferenceBatch(pm, { slots: 2, ctx: 64, chunk: 8 });
    b.prefill(1, [...system, ...turn1]);
    b.truncate(1, system.length);
    assert.equal(b.pos(1), 19);
    const got = b.prefill(1, turn2).slice();
    const s = new InferenceSession(pm, { ctx: 64 });
    const want = s.prefill([...system, ...turn2]);
    assertBitIdentical(got, want, 'after the reused prefix');
    const other = b.prefill(0, turn2); // without the prefix: a different sequence
    assert.notDeepEqual(other, got);
  });

  test('batchBytes = what the batch allocates; caches scale with slots', () => {
    for (const kv of ['f16', 'f32'] as KvCacheType[]) {
      const before = be.arena.used;
      const b = new InferenceBatch(pm, { slots: 3, ctx: 40, chunk: 8, kv });
      const used = be.arena.used - before;
      const est = batchBytes(pm, { slots: 3, ctx: 40, chunk: 8, kv });
      assert.deepEqual(b.bytes, est);
      assert.equal(b.rows, 3 + 8);
      assert.ok(used <= est.kv + est.activations && used > est.kv + est.activations - 64, `${kv}: allocated ${used} B, estimated ${est.kv + est.activations} B`);
      assert.equal(batchBytes(pm, { slots: 6, ctx: 40, chunk: 8, kv }).kv, 2 * est.kv);
    }
  });

  test('typed errors; a refused step changes no slot', () => {
    const b = new InferenceBatch(pm, { slots: 2, ctx: 10, chunk: 4, rows: 5 });
    assert.throws(() => new InferenceBatch(pm, { slots: 0 }), ArgumentError);
    assert.throws(() => new InferenceBatch(pm, { slots: 2, rows: 1 }), ArgumentError);
    assert.throws(() => new InferenceBatch(pm, { slots: 1, kv: 'bf16' as KvCacheType }), ArgumentError);
    assert.throws(() => b.step([]), ArgumentError);
    assert.throws(() => b.step([{ slot: 2, tokens: [1] }]), ArgumentError);
    assert.throws(() => b.step([{ slot: 0, tokens: [1] }, { slot: 0, tokens: [2] }]), /twice/);
    assert.throws(() => b.step([{ slot: 0, tokens: [1, 2, 3, 4, 5] }]), /chunk/);
    assert.throws(() => b.step([{ slot: 0, tokens: [1, 2, 3, 4] }, { slot: 1, tokens: [1, 2] }]), /at most 5/);
    assert.throws(() => b.step([{ slot: 0, tokens: [1] }, { slot: 1, tokens: [1, 99999] }]), /outside the vocabulary/);
    assert.equal(b.pos(0), 0);
    assert.equal(b.pos(1), 0);
    b.prefill(0, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.throws(() => b.step([{ slot: 1, tokens: [1] }, { slot: 0, tokens: [1, 2] }]), ShapeError);
    assert.equal(b.pos(1), 0, 'the other entry did not run');
    b.step([{ slot: 0, tokens: [1] }]);
    assert.throws(() => b.step([{ slot: 0, tokens: [1] }]), ShapeError);
    assert.throws(() => b.truncate(0, 11), ArgumentError);
    b.truncate(0, 3);
    assert.equal(b.pos(0), 3);
  });
});
