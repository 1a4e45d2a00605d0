import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ArgumentError, ShapeError } from '../../src/errors.js';
import { createBackend, refBackend, type Backend } from '../../src/kernels/backend.js';
import { type ModelConfig, makeConfig, validateConfig } from '../../src/model/config.js';
import { Transformer } from '../../src/model/transformer.js';
import { Rng } from '../../src/tensor/rng.js';
import type { FloatArray } from '../../src/tensor/dtype.js';

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

/**
 * The straight-through surrogate of a quantized model: a backend whose fake quantizers (activations
 * per tensor — absmax and shifted — and the v1 sign weights) record their residual q(x) − x at the
 * base point ('record') and replay it as out = x + residual afterwards ('replay'). The replayed
 * model is smooth, equals the quantized one at the base point, and its exact gradient is by
 * definition what the STE backward computes — so it can be checked by finite differences.
 */
function steSurrogate(): { be: Backend; mode: 'record' | 'replay'; calls: Map<string, number>; begin(): void } {
  const base = refBackend();
  const st = { mode: 'record' as 'record' | 'replay', calls: new Map<string, number>(), begin() { i = 0; } };
  const saved: Array<{ res: Float64Array; ret: unknown }> = [];
  let i = 0;
  const wrap = <R,>(name: string, f: (out: FloatArray, x: FloatArray, n: number) => R) => (out: FloatArray, x: FloatArray, n: number): R => {
    st.calls.set(name, (st.calls.get(name) ?? 0) + 1);
    if (st.mode === 'record') {
      const ret = f(out, x, n);
      const res = new Float64Array(n);
      for (let k = 0; k < n; k++) res[k] = out[k]! - x[k]!;
      saved[i++] = { res, ret };
      return ret;
    }
    const { res, ret } = saved[i++]!;
    for (let k = 0; k < n; k++) out[k] = x[k]! + res[k]!;
    return ret as R;
  };
  const be: Backend = {
    ...base,
    fakeQuantAbsmaxI8PerTensor: wrap('absmax', base.fakeQuantAbsmaxI8PerTensor),
    fakeQuantShiftedU7PerTensor: wrap('shifted', base.fakeQuantShiftedU7PerTensor),
    fakeQuantSign: wrap('sign', base.fakeQuantSign),
  };
  return Object.assign(st, { be });
}

/** gradcheckModel for a quantized BitNet v1 model, through its straight-through surrogate (steSurrogate). */
function gradcheckSte(cfg: ModelConfig, B: number, T: number): Map<string, number> {
  const sur = steSurrogate();
  const m = new Transformer(sur.be, cfg, 'f64');
  m.init(3);
  const rng = new Rng(5);
  for (const info of m.table) {
    const { p } = m.param(info.name);
    // larger weights than the init so that the quantizers are far from the identity
    for (let i = 0; i < info.size; i++) p[i] = info.decay ? p[i]! * 10 : 1 + 0.3 * rng.normal();
  }
  const x = tokens(rng, B * T, cfg.vocabSize);
  const y = tokens(rng, B * T, cfg.vocabSize);
  m.zeroGrad();
  sur.begin();
  const l0 = m.forward(x, y, B, T);
  m.backward();
  sur.mode = 'replay';
  sur.begin();
  assert.equal(m.forward(x, y, B, T), l0, 'the surrogate equals the quantized model at the base point');
  const eps = 1e-5;
  for (const info of m.table) {
    const { p, g } = m.param(info.name);
    for (const i of new Rng(info.offset).shuffle([...Array(info.size).keys()]).slice(0, 5)) {
      const o = p[i]!;
      p[i] = o + eps;
      sur.begin();
      const lp = m.forward(x, y, B, T);
      p[i] = o - eps;
      sur.begin();
      const lm = m.forward(x, y, B, T);
      p[i] = o;
      const fd = (lp - lm) / (2 * eps);
      assert.ok(Math.abs(fd - g[i]!) <= 1e-7 + 1e-5 * Math.abs(fd), `${cfg.ffn}/${cfg.v1ShiftedActs ?? 'none'} d/d${info.name}[${i}]: STE ${g[i]} vs fd of the surrogate ${fd}`);
    }
  }
  return sur.calls;
}

describe('transformer', () => {
  test('backward matches finite differences (f64) for every FFN kind, with/without SubLN, tied/untied', () => {
    for (const ffn of ['swiglu', 'relu2glu', 'bilinear', 'mlp-gelu'] as const) gradcheckModel({ ...TINY, ffn }, 2, 5);
    gradcheckModel({ ...TINY, subln: false, tieEmbeddings: false, nKvHeads: 2 }, 1, 3);
    gradcheckModel({ ...TINY, ffn: 'mlp-relu', subln: false }, 2, 4);
  });

  test('BitNet v1 (with and without the shifted down_proj input): the STE backward = finite differences of the straight-through surrogate (f64)', () => {
    const v1 = { ...TINY, quant: 'bitnet' as const, subln: false };
    const off = gradcheckSte({ ...v1, ffn: 'mlp-relu' }, 2, 4);
    assert.equal(off.get('shifted'), undefined, 'no shifted quantizer without the option');
    for (const ffn of ['mlp-relu', 'mlp-gelu', 'swiglu'] as const) {
      const calls = gradcheckSte({ ...v1, ffn, v1ShiftedActs: 'ffn-down', subln: ffn === 'swiglu' }, 2, 4);
      // per forward: one shifted input per layer (down_proj) and three absmax inputs (q|k|v, o, gate|up)
      assert.equal(calls.get('shifted')! * 3, calls.get('absmax'), `${ffn}: shifted on down_proj only`);
    }
  });

  test('v1ShiftedActs changes only the down_proj input: the loss moves, the other sites do not', () => {
    const be = refBackend();
    const cfg: ModelConfig = { ...TINY, quant: 'bitnet', subln: false, ffn: 'mlp-relu' };
    const a = new Transformer(be, cfg, 'f64');
    const b = new Transformer(be, { ...cfg, v1ShiftedActs: 'ffn-down' }, 'f64');
    const c = new Transformer(be, { ...cfg, v1ShiftedActs: 'none' }, 'f64');
    a.init(6);
    b.params.set(a.params);
    c.params.set(a.params);
    const rng = new Rng(9);
    const x = tokens(rng, 10, TINY.vocabSize), y = tokens(rng, 10, TINY.vocabSize);
    const seen: Record<string, FloatArray[]> = { a: [], b: [] };
    a.inputHook = (site, v) => void seen.a!.push(site.kind === 'down' ? new Float64Array(0) : v.slice());
    b.inputHook = (site, v) => void seen.b!.push(site.kind === 'down' ? new Float64Array(0) : v.slice());
    const la = a.forward(x, y, 2, 5), lb = b.forward(x, y, 2, 5);
    assert.equal(c.forward(x, y, 2, 5), la, "'none' = the field absent");
    assert.notEqual(lb, la);
    // layer 0's sites before down_proj read identical inputs
    for (let i = 0; i < 3; i++) assert.deepEqual(seen.b![i], seen.a![i], `site ${i}`);
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
    // BitNet v1's zero-point activations: bitnet only, and a known placement
    for (const quant of ['fp', 'b158', 'v2-a8'] as const) {
      const c = { ...TINY, quant, dim: 16, ffnDim: 32, v1ShiftedActs: 'ffn-down' as const };
      assert.throws(() => validateConfig(c), (e: Error) => e instanceof ArgumentError && /config\.v1ShiftedActs/.test(e.message) && /bitnet/.test(e.message), quant);
      assert.doesNotThrow(() => validateConfig({ ...c, v1ShiftedActs: 'none' }));
    }
    assert.throws(() => validateConfig({ ...TINY, quant: 'bitnet', v1ShiftedActs: 'all' as 'none' }), (e: Error) => e instanceof ArgumentError && /config\.v1ShiftedActs/.test(e.message));
    assert.throws(() => makeConfig('tiny', { v1ShiftedActs: 'ffn-down' }), /config\.v1ShiftedActs/); // the preset is b158
    assert.equal(makeConfig('tiny', { quant: 'bitnet', v1ShiftedActs: 'ffn-down' }).v1ShiftedActs, 'ffn-down');
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
      for (const [quant, shifted] of [['fp', false], ['b158', false], ['bitnet', false], ['bitnet', true], ['v2-a8', false], ['v2-a4', false]] as const) {
        const cfg: ModelConfig = { ...TINY, dim: 16, ffnDim: 32, quant, subln: quant !== 'bitnet', ...(shifted ? { v1ShiftedActs: 'ffn-down' as const } : {}) };
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
