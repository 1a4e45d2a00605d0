import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ArgumentError, ShapeError } from '../../src/errors.js';
import { createBackend, refBackend, type Backend } from '../../src/kernels/backend.js';
import { type ModelConfig, makeConfig, validateConfig } from '../../src/model/config.js';
import { Transformer } from '../../src/model/transformer.js';
import { Rng } from '../../src/tensor/rng.js';

const TINY: ModelConfig = validateConfig({
  vocabSize: 11, dim: 8, nLayers: 2, nHeads: 2, nKvHeads: 1, ffnDim: 12, maxSeqLen: 8,
  ropeTheta: 10000, normEps: 1e-5, ffn: 'swiglu', subln: true, tieEmbeddings: true, quant: 'fp', groups: 1,
});

function tokens(rng: Rng, n: number, V: number): Int32Array {
  return Int32Array.from({ length: n }, () => rng.int(V));
}

/**
 * Finite differences of the mean loss w.r.t. every parameter group (a sample of coordinates
 * in each tensor), in float64 on the reference backend, full-precision mode (quantizers are
 * not differentiable; the STE is tested separately).
 */
function gradcheckModel(cfg: ModelConfig, B: number, T: number): void {
  const be = refBackend();
  const m = new Transformer(be, cfg, 'f64');
  m.init(3);
  // perturb norm weights away from 1 so their gradients are generic
  const rng = new Rng(5);
  for (const info of m.table) if (!info.decay) for (let i = 0; i < info.size; i++) m.param(info.name).p[i] = 1 + 0.3 * rng.normal();
  const x = tokens(rng, B * T, cfg.vocabSize);
  const y = tokens(rng, B * T, cfg.vocabSize);
  y[1] = -1; // an ignored position
  m.zeroGrad();
  m.forward(x, y, B, T);
  m.backward();
  const eps = 1e-5;
  for (const info of m.table) {
    const { p, g } = m.param(info.name);
    const idx = new Rng(info.offset).shuffle([...Array(info.size).keys()]).slice(0, 6);
    for (const i of idx) {
      const o = p[i]!;
      p[i] = o + eps;
      const lp = m.forward(x, y, B, T);
      p[i] = o - eps;
      const lm = m.forward(x, y, B, T);
      p[i] = o;
      const fd = (lp - lm) / (2 * eps);
      assert.ok(Math.abs(fd - g[i]!) <= 1e-7 + 1e-5 * Math.abs(fd), `${cfg.ffn}/${cfg.subln ? 'subln' : 'nosub'}/${cfg.tieEmbeddings ? 'tied' : 'untied'} d/d${info.name}[${i}]: analytic ${g[i]} vs fd ${fd}`);
    }
  }
}

describe('transformer', () => {
  test('backward matches finite differences (f64) for every FFN kind, with/without SubLN, tied/untied', () => {
    for (const ffn of ['swiglu', 'relu2glu', 'bilinear', 'mlp-gelu'] as const) gradcheckModel({ ...TINY, ffn }, 2, 5);
    gradcheckModel({ ...TINY, subln: false, tieEmbeddings: false, nKvHeads: 2 }, 1, 3);
    gradcheckModel({ ...TINY, ffn: 'mlp-relu', subln: false }, 2, 4);
  });

  test('λ-warmup: at λ = 0 a b1.58 model computes exactly its full-precision twin; at λ = 1 it does not', () => {
    const be = refBackend();
    const fp = new Transformer(be, { ...TINY, quant: 'fp' }, 'f64');
    const bq = new Transformer(be, { ...TINY, quant: 'b158' }, 'f64');
    fp.init(4);
    bq.params.set(fp.params);
    const rng = new Rng(8);
    const x = tokens(rng, 10, TINY.vocabSize), y = tokens(rng, 10, TINY.vocabSize);
    const lf = fp.forward(x, y, 2, 5);
    bq.allocate(2, 5);
    bq.lambda = 0;
    assert.equal(bq.forward(x, y, 2, 5), lf);
    bq.lambda = 1;
    assert.notEqual(bq.forward(x, y, 2, 5), lf);
  });

  test('config validation names the field', () => {
    assert.throws(() => validateConfig({ ...TINY, dim: 9 }), /config\.dim/);
    assert.throws(() => validateConfig({ ...TINY, nKvHeads: 3 }), /config\.nHeads/);
    assert.throws(() => validateConfig({ ...TINY, quant: 'v2-a4' as const, ffnDim: 12 }), /power-of-two/);
    assert.throws(() => validateConfig({ ...TINY, vocabSize: 0 }), /config\.vocabSize/);
    assert.throws(() => validateConfig({ ...TINY, quant: 'int3' as 'fp' }), /config\.quant/);
    assert.throws(() => makeConfig('huge'), ArgumentError);
  });

  test('bad inputs: token outside the vocabulary, sequence too long', () => {
    const m = new Transformer(refBackend(), TINY, 'f64');
    m.init(1);
    assert.throws(() => m.forward(Int32Array.from([1, 99]), Int32Array.from([1, 2]), 1, 2), /outside the vocabulary/);
    assert.throws(() => m.forward(new Int32Array(9), new Int32Array(9), 1, 9), ShapeError);
  });

  describe('on the wasm backend', () => {
    let be: Backend;
    after(async () => be?.dispose());
    test('forward/backward agree with the reference backend (f32) in every quant mode', async () => {
      be = await createBackend({ backend: 'wasm' });
      const ref = refBackend();
      for (const quant of ['fp', 'b158', 'bitnet', 'v2-a8', 'v2-a4'] as const) {
        const cfg: ModelConfig = { ...TINY, dim: 16, ffnDim: 32, quant, subln: quant !== 'bitnet' };
        const a = new Transformer(ref, cfg, 'f32');
        const b = new Transformer(be, cfg, 'f32');
        a.init(9);
        b.init(9);
        const rng = new Rng(2);
        const x = tokens(rng, 12, cfg.vocabSize), y = tokens(rng, 12, cfg.vocabSize);
        a.zeroGrad();
        b.zeroGrad();
        const la = a.forward(x, y, 2, 6);
        const lb = b.forward(x, y, 2, 6);
        // f32 kernels with different summation orders; quantizer thresholds can flip in rare ties, so compare loosely.
        assert.ok(Math.abs(la - lb) < 2e-3, `${quant}: loss ref ${la} vs wasm ${lb}`);
        a.backward();
        b.backward();
        let num = 0, den = 0;
        for (let i = 0; i < a.grads.length; i++) {
          num += (a.grads[i]! - b.grads[i]!) ** 2;
          den += a.grads[i]! ** 2;
        }
        assert.ok(Math.sqrt(num / den) < 2e-2, `${quant}: relative gradient difference ${Math.sqrt(num / den)}`);
      }
    });
  });
});
