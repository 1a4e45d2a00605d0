import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { refBackend } from '../../src/kernels/backend.js';
import { decomposeClassifier, embedRows, seedConsistency, truncatedLogits, truncationCurve, adversarialMasks, inputEigenvector } from '../../src/interp/analysis.js';
import { BilinearClassifier, type ClassifierConfig } from '../../src/interp/model.js';
import { accuracyOf, evaluateClassifier, fitClassifier, splitDataset, type Dataset } from '../../src/interp/train.js';
import { Rng } from '../../src/tensor/rng.js';
import { assertAllClose, gradcheck, randn } from '../helpers/check.js';
import { ArgumentError } from '../../src/errors.js';

const be = refBackend();

function model(c: Partial<ClassifierConfig>, M = 6, seed = 1): BilinearClassifier {
  const m = new BilinearClassifier(be, { nIn: 7, embed: 5, hidden: 4, nOut: 3, arch: 'bilinear', quant: 'fp', loss: 'ce', ...c }, M, 'f64');
  m.init(seed);
  return m;
}

/** A toy 2-D-ish dataset: class = which of nOut blobs. */
function blobs(n: number, nIn: number, nOut: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const centres = randn(rng, nOut * nIn, 2);
  const x = new Float32Array(n * nIn), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % nOut;
    y[i] = c;
    for (let j = 0; j < nIn; j++) x[i * nIn + j] = centres[c * nIn + j]! + rng.normal(0, 0.3);
  }
  return { x, y, n, nIn, nClasses: nOut };
}

describe('bilinear / ReLU classifier (BitLinear fp | b1.58)', () => {
  for (const [arch, loss, embed] of [['bilinear', 'ce', 5], ['bilinear', 'mse', 0], ['relu', 'ce', 5], ['relu', 'mse', 5]] as const) {
    test(`backward matches finite differences in float64: ${arch}, ${loss}, embed ${embed}`, () => {
      const m = model({ arch, loss, embed });
      const rng = new Rng(9);
      const M = 6;
      const x = randn(rng, M * 7);
      const targets = loss === 'ce' ? Int32Array.from({ length: M }, (_, i) => i % 3) : randn(rng, M * 3);
      const names = (['E', 'W', 'V', 'P'] as const).filter((k) => !(k === 'E' && embed === 0) && !(k === 'V' && arch === 'relu'));
      const inputs: Record<string, Float64Array> = { x };
      for (const k of names) inputs[k] = m.param(k).p as Float64Array;
      gradcheck({
        inputs,
        skip: ['x'],
        forward: (inp) => Float64Array.of(m.forward(inp.x!, M, targets)),
        backward: (dout) => {
          m.grads.fill(0);
          m.forward(x, M, targets);
          m.backward();
          return Object.fromEntries(names.map((k) => [k, (m.param(k).g as Float64Array).map((g) => g * dout[0]!)]));
        },
      });
    });
  }

  test('truncation with all eigenvectors reproduces the model\'s logits (fp, float64, 1e-9)', () => {
    const m = model({ embed: 5, nIn: 7 }, 10, 4);
    const x = randn(new Rng(2), 10 * 7);
    m.forward(x, 10);
    const w = m.effectiveWeights();
    const dec = decomposeClassifier(w.E, w.layer, 7);
    const [full, none] = truncatedLogits(dec, embedRows(dec, x, 10), 10, [dec.D, 0]);
    assertAllClose(full!, m.logits(), { atol: 1e-9, rtol: 1e-9 }, 'eigen logits');
    assert.ok(none!.every((v) => v === 0), 'k = 0 gives zero logits');
    // no-embedding variant (the layer reads x directly)
    const m2 = model({ embed: 0 }, 10, 5);
    m2.forward(x, 10);
    const w2 = m2.effectiveWeights();
    const d2 = decomposeClassifier(w2.E, w2.layer, 7);
    assertAllClose(truncatedLogits(d2, embedRows(d2, x, 10), 10, [7])[0]!, m2.logits(), { atol: 1e-9, rtol: 1e-9 });
  });

  test('b1.58: effective weights are ternary × β, training runs and beats chance; fp trains to high accuracy', () => {
    const data = blobs(300, 12, 4, 1);
    const { train, test: held } = splitDataset(data, 0.25, 0);
    for (const quant of ['fp', 'b158'] as const) {
      const m = new BilinearClassifier(be, { nIn: 12, embed: 8, hidden: 8, nOut: 4, arch: 'bilinear', quant, loss: 'ce' }, 32, 'f64');
      m.init(3);
      const hist = fitClassifier(m, train, { epochs: 8, batch: 32, lr: 1e-2, weightDecay: 0.01, noiseStd: 0.1, seed: 1 });
      assert.ok(hist[hist.length - 1]! < hist[0]!, `${quant}: loss did not fall (${hist.join(', ')})`);
      const acc = evaluateClassifier(m, held).accuracy;
      assert.ok(acc > 0.9, `${quant}: accuracy ${acc}`);
      const w = m.effectiveWeights();
      if (quant === 'b158') {
        for (const [name, a] of [['W', w.layer.W], ['V', w.layer.V], ['P', w.layer.P]] as const) {
          const distinct = new Set(Array.from(a, (v) => Math.abs(v)));
          assert.ok(distinct.size <= 2, `${name}: |values| ${[...distinct].join(', ')}`);
        }
        const st = m.ternaryStats();
        assert.ok(st.W!.zeros > 0 && st.W!.zeros < 1);
      }
      // eigen-form accuracy of the whole model equals its own for fp; for b1.58 it differs only by activation rounding
      const dec = decomposeClassifier(w.E, w.layer, 12);
      const tc = truncationCurve(dec, held.x, held.y, 3);
      if (quant === 'fp') assert.equal(tc.full, acc);
      else assert.ok(Math.abs(tc.full - acc) < 0.05, `b158 eigen-form ${tc.full} vs model ${acc}`);
      assert.equal(tc.k.length, 4);
    }
  });

  test('seed consistency of a model with itself is 1; adversarial keys are orthogonal to the other stacked eigenvectors', () => {
    const m = model({ nIn: 7, embed: 0, hidden: 6, nOut: 3 }, 8, 2);
    const w = m.effectiveWeights();
    const dec = decomposeClassifier(w.E, w.layer, 7);
    const sc = seedConsistency(dec, dec, 2);
    for (const v of [...sc.byRank, ...sc.bestMatch]) assert.ok(Math.abs(v - 1) < 1e-12);
    const data = blobs(12, 7, 3, 4);
    const r = adversarialMasks(dec, data.x, data.y, (x, n) => {
      const e = evaluateClassifier(m, { x, y: new Int32Array(n), n, nIn: 7, nClasses: 3 });
      return e.logits;
    }, [0, 1], 1, 0);
    // with one eigenvector per class the key of class t is orthogonal to the other classes' top eigenvectors
    for (let t = 0; t < 3; t++) for (let c = 0; c < 3; c++) {
      if (c === t) continue;
      const v = inputEigenvector(dec, c, 0);
      const d = v.reduce((s, a, i) => s + a * r.masks[t]![i]!, 0);
      assert.ok(Math.abs(d) < 1e-9, `key ${t} · v(class ${c}) = ${d}`);
    }
    // strength 0: masks do nothing, so both rates equal the clean misclassification-as-target rate
    assert.equal(r.targetRate[0], r.targetRateBaseline[0]);
    assert.equal(accuracyOf([1, 2, 3, 0], [2], 4), 1);
  });

  test('config and input errors are typed', () => {
    assert.throws(() => model({ hidden: 0 }), ArgumentError);
    assert.throws(() => model({ arch: 'gelu' as 'relu' }), ArgumentError);
    const m = model({ arch: 'relu' });
    assert.throws(() => m.effectiveWeights(), /only bilinear/);
    assert.throws(() => m.forward(new Float64Array(7), 7), /outside/);
  });
});
