import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { refBackend } from '../../src/kernels/backend.js';
import { makeConfig } from '../../src/model/config.js';
import { Transformer } from '../../src/model/transformer.js';
import { byteTokenizer } from '../../src/tokenizer/bpe.js';
import { ffnBilinearWeights, ffnInputTokens, decomposeForTokens, hosvdTokens, tokenDirection } from '../../src/interp/lm.js';
import { ArgumentError } from '../../src/errors.js';
import { hadamardForward } from '../../src/kernels/ref/hadamard.js';
import { fakeQuantTernary } from '../../src/kernels/ref/quant.js';

const be = refBackend();
const tok = byteTokenizer();

function tiny(quant: 'fp' | 'b158', subln: boolean, ffn: 'bilinear' | 'swiglu' = 'bilinear'): Transformer {
  const m = new Transformer(be, makeConfig('tiny', { vocabSize: tok.vocabSize, dim: 16, nLayers: 1, nHeads: 2, nKvHeads: 1, ffnDim: 12, maxSeqLen: 8, quant, subln, ffn }), 'f64');
  m.init(5);
  return m;
}

describe('bilinear-FFN language-model decomposition', () => {
  test('effective weights: fp = the parameters; b1.58 = ternary × β; SubLN gain folds into P', () => {
    const fp = tiny('fp', false);
    const w = ffnBilinearWeights(fp, 0);
    assert.deepEqual(Array.from(w.W), Array.from(fp.param('layers.0.gate_proj').p));
    assert.deepEqual(Array.from(w.V), Array.from(fp.param('layers.0.up_proj').p));
    assert.equal(w.D, 16);
    assert.equal(w.H, 12);
    const q = ffnBilinearWeights(tiny('b158', false), 0);
    for (const a of [q.W, q.V, q.P]) assert.ok(new Set(Array.from(a, Math.abs)).size <= 2);
    const s = tiny('fp', true);
    s.param('layers.0.ffn_sub_norm').p.fill(2);
    const ws = ffnBilinearWeights(s, 0);
    const down = s.param('layers.0.down_proj').p;
    assert.ok(Array.from(ws.P).every((v, i) => v === 2 * down[i]!));
  });

  test('BitNet v2: the online Hadamard before down_proj folds into P (P_eff g = W̃_down (H g))', () => {
    const m = new Transformer(be, makeConfig('tiny', { vocabSize: tok.vocabSize, dim: 16, nLayers: 1, nHeads: 2, nKvHeads: 1, ffnDim: 16, maxSeqLen: 8, quant: 'v2-a8', subln: false, ffn: 'bilinear' }), 'f64');
    m.init(2);
    const w = ffnBilinearWeights(m, 0);
    const down = Float64Array.from(m.param('layers.0.down_proj').p);
    const dq = new Float64Array(down.length);
    fakeQuantTernary(dq, down, down.length);
    const g = Float64Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));
    const hg = new Float64Array(16);
    hadamardForward(hg, g, 1, 16);
    for (let o = 0; o < 16; o++) {
      let a = 0, b = 0;
      for (let k = 0; k < 16; k++) {
        a += w.P[o * 16 + k]! * g[k]!;
        b += dq[o * 16 + k]! * hg[k]!;
      }
      assert.ok(Math.abs(a - b) < 1e-12, `row ${o}: ${a} vs ${b}`);
    }
  });

  test('token directions, token readouts and reports have the right shapes; non-bilinear FFNs are refused', () => {
    const m = tiny('fp', false);
    assert.equal(tokenDirection(m, 65).length, 16);
    assert.equal(ffnInputTokens(m, 0).length, tok.vocabSize * 16);
    const r = decomposeForTokens(m, 0, [65, 66], tok, 3);
    assert.equal(r.length, 2);
    assert.equal(r[0]!.token, JSON.stringify('A'));
    assert.ok(r[0]!.positive.every((v) => v > 0) && r[0]!.negative.every((v) => v < 0));
    assert.equal(r[0]!.vectors[0]!.plus.length, 3);
    const h = hosvdTokens(m, 0, tok, 2, 3);
    assert.equal(h.sigma.length, 2);
    assert.ok(h.sigma[0]! >= h.sigma[1]!);
    assert.throws(() => ffnBilinearWeights(tiny('fp', false, 'swiglu'), 0), ArgumentError);
    assert.throws(() => ffnBilinearWeights(m, 3), /layer 3/);
  });
});
