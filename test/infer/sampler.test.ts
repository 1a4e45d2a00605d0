import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ArgumentError } from '../../src/errors.js';
import { DEFAULT_SAMPLER, Sampler } from '../../src/infer/sampler.js';

const logits = Float32Array.from([0.1, 2.0, -1, 1.9, 0.5]);

describe('sampler', () => {
  test('temperature 0 is argmax', () => {
    assert.equal(new Sampler(5, { ...DEFAULT_SAMPLER, temperature: 0 }).sample(logits), 1);
  });
  test('same seed → same draws; different seeds differ somewhere', () => {
    const draw = (seed: number) => {
      const s = new Sampler(5, { ...DEFAULT_SAMPLER, temperature: 1.5, topK: 0, topP: 1, seed });
      return Array.from({ length: 50 }, () => s.sample(logits));
    };
    assert.deepEqual(draw(3), draw(3));
    assert.notDeepEqual(draw(3), draw(4));
  });
  test('top-k = 2 only ever yields the two best tokens; top-p tiny yields the best', () => {
    const s = new Sampler(5, { ...DEFAULT_SAMPLER, temperature: 5, topK: 2, topP: 1 });
    for (let i = 0; i < 200; i++) assert.ok([1, 3].includes(s.sample(logits)));
    const p = new Sampler(5, { ...DEFAULT_SAMPLER, temperature: 1, topK: 0, topP: 0.01 });
    for (let i = 0; i < 50; i++) assert.equal(p.sample(logits), 1);
  });
  test('min-p drops tokens far below the best', () => {
    const s = new Sampler(5, { ...DEFAULT_SAMPLER, temperature: 1, topK: 0, topP: 1, minP: 0.5 });
    for (let i = 0; i < 200; i++) assert.ok([1, 3].includes(s.sample(logits)));
  });
  test('repetition penalty steers greedy decoding away from seen tokens', () => {
    const s = new Sampler(5, { ...DEFAULT_SAMPLER, temperature: 0, repetitionPenalty: 2 });
    assert.equal(s.sample(logits, [1]), 3);
  });
  test('bad options are rejected', () => {
    assert.throws(() => new Sampler(5, { ...DEFAULT_SAMPLER, temperature: -1 }), ArgumentError);
    assert.throws(() => new Sampler(5, { ...DEFAULT_SAMPLER, topP: 0 }), ArgumentError);
  });
});
