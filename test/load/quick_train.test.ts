/**
 * quickTrain (src/load/quick_train.ts), the recipe the demo page's Train section runs: the same text,
 * options and backend give the same model file bytes — twice, and on 1 or 2 kernel threads; the loss goes
 * down; the bytes load (loadModelFromBytes) and generate; Stop ends the run early with a loadable model;
 * bad input is an ArgumentError. test/web/train.test.ts checks the page's bytes against these.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { ArgumentError } from '../../src/errors.js';
import { generate } from '../../src/infer/generate.js';
import { createBackend, type Backend } from '../../src/kernels/backend.js';
import { loadModelFromBytes } from '../../src/load/loaded_model.js';
import { quickTrain, SAMPLE_TEXT } from '../../src/load/quick_train.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('quickTrain', () => {
  const backends: Backend[] = [];
  after(async () => Promise.all(backends.map((b) => b.dispose())));
  const be = async (threads: number) => {
    const b = await createBackend({ backend: 'wasm', threads });
    backends.push(b);
    return b;
  };

  test('same seed → same model file bytes, twice and on 2 threads; another seed differs; loss decreases; the file loads and generates', async () => {
    const opts = { steps: 30, seed: 7 };
    const logs: number[] = [];
    const a = quickTrain(await be(1), SAMPLE_TEXT, opts, { onLog: (l) => logs.push(l.loss) });
    const b = quickTrain(await be(1), SAMPLE_TEXT, opts);
    const c = quickTrain(await be(2), SAMPLE_TEXT, opts);
    const other = quickTrain(await be(1), SAMPLE_TEXT, { ...opts, seed: 8 });
    assert.equal(logs.length, 30);
    assert.equal(a.stepsDone, 30);
    assert.equal(a.config.vocabSize, 258);
    assert.equal(a.config.quant, 'b158');
    assert.equal(sha(b.bytes), sha(a.bytes));
    assert.equal(sha(c.bytes), sha(a.bytes), '2 threads must give the 1-thread bytes');
    assert.notEqual(sha(other.bytes), sha(a.bytes));
    const first = logs.slice(0, 3).reduce((s, x) => s + x, 0) / 3, last = logs.slice(-3).reduce((s, x) => s + x, 0) / 3;
    assert.ok(first > 5 && last < first - 1.5, `loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
    assert.ok(a.result.final.valLoss < first, `val loss ${a.result.final.valLoss}`);

    const m = await loadModelFromBytes(a.bytes, { threads: 1, requireTokenizer: true });
    try {
      assert.equal(m.model.config.quant, 'b158');
      const r = await generate(m.session(), m.tokenizer!, 'Four score', { maxTokens: 24, temperature: 0 });
      assert.equal(r.tokens.length, 24);
      assert.ok(r.tokens.every((t) => t >= 0 && t < 258));
    } finally {
      await m.dispose();
    }
  });

  test("quant 'fp' trains the full-precision twin and packs; shouldStop ends the run at that step", async () => {
    const b = await be(1);
    const fp = quickTrain(b, SAMPLE_TEXT, { steps: 3, quant: 'fp' });
    assert.equal(fp.config.quant, 'fp');
    const stopped = quickTrain(b, SAMPLE_TEXT, { steps: 50 }, { shouldStop: () => true });
    assert.equal(stopped.stepsDone, 1);
    assert.ok(Number.isFinite(stopped.result.final.valLoss));
    const m = await loadModelFromBytes(stopped.bytes, { threads: 1 });
    await m.dispose();
  });

  test('bad options and a too-short text are ArgumentErrors', async () => {
    const b = await be(1);
    assert.throws(() => quickTrain(b, 'too short', { steps: 5 }), (e: unknown) => e instanceof ArgumentError && /the text is 9 tokens .* at least 130/.test(e.message));
    assert.throws(() => quickTrain(b, SAMPLE_TEXT, { steps: 0 }), ArgumentError);
    assert.throws(() => quickTrain(b, SAMPLE_TEXT, { steps: 5, quant: 'int3' as never }), /unknown quant 'int3'/);
    assert.throws(() => quickTrain(b, SAMPLE_TEXT, { steps: 5, seed: -1 }), /seed must be/);
  });
});
