/** `bitnet train` architecture flags on top of a preset: each sets one config field; bad combinations are usage errors naming the field. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError } from '../../src/errors.js';
import { resolveTrain } from '../../src/cli/commands/train.js';

const base = { preset: 'tiny', quant: 'b158', steps: '10', batch: '2', accum: '1', seed: '1', keep: '2', 'eval-batches': '1', 'weight-decay': '0.1', 'lambda-ramp': '0', schedule: 'cosine', vocab: '300' };

test('architecture flags override the preset, field by field', () => {
  const { config, opts } = resolveTrain({ ...base, dim: '96', layers: '3', heads: '6', 'kv-heads': '2', 'ffn-dim': '200', ffn: 'swiglu', ctx: '48', 'no-tie': true, 'no-subln': true }, 300);
  assert.deepEqual([config.dim, config.nLayers, config.nHeads, config.nKvHeads, config.ffnDim, config.ffn, config.maxSeqLen, config.tieEmbeddings, config.subln], [96, 3, 6, 2, 200, 'swiglu', 48, false, false]);
  assert.equal(opts.seqLen, 48, 'the sequence length follows --ctx');
  const plain = resolveTrain(base, 300).config;
  assert.equal(resolveTrain({ ...base, tie: true, subln: true }, 300).config.subln, true);
  assert.notEqual(plain.dim, 96, 'without flags the preset stands');
});

test('bad architecture flags are usage errors naming the field, before any work', () => {
  assert.throws(() => resolveTrain({ ...base, dim: '100', heads: '3' }, 300), (e: Error) => e instanceof ArgumentError && /architecture flags.*nHeads|dim/.test(e.message));
  assert.throws(() => resolveTrain({ ...base, tie: true, 'no-tie': true }, 300), (e: Error) => e instanceof ArgumentError && /--tie and --no-tie/.test(e.message));
  assert.throws(() => resolveTrain({ ...base, ffn: 'gelu-ish' }, 300), (e: Error) => e instanceof ArgumentError && /--ffn/.test(e.message));
  assert.throws(() => resolveTrain({ ...base, layers: '0' }, 300), (e: Error) => e instanceof ArgumentError && /--layers/.test(e.message));
});
