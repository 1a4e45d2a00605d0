import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FormatError } from '../../src/errors.js';
import { sourceFromTransformer } from '../../src/weights/source.js';
import { writeSafetensorsStream, openSafetensors } from '../../src/io/safetensors_stream.js';
import { bytesOf } from '../../src/io/safetensors.js';
import { floatToBf16 } from '../../src/io/gguf_quant.js';
import { exportHF, loadHF } from '../../src/interop/hf.js';
import { betaFromWeightScale, packHfTernary, unpackHfTernary } from '../../src/interop/hf_pack.js';
import { refBackend } from '../../src/kernels/backend.js';
import { quantizeTernaryAbsmean } from '../../src/kernels/ref/quant.js';
import { makeConfig } from '../../src/model/config.js';
import { Transformer, paramTable } from '../../src/model/transformer.js';
import { Rng } from '../../src/tensor/rng.js';
import { byteTokenizer } from '../../src/tokenizer/bpe.js';
import { assertAllClose } from '../helpers/check.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'hf-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('HF packed ternary layout (docs/spec.md §3.6)', () => {
  test('hand-made vector: row r = i·(R/4) + p lives in bits 2i..2i+1 of packed row p', () => {
    // R = 8, C = 1. Rows −1, 0, 1, 0, 1, −1, 0, 1 → codes 0, 1, 2, 1, 2, 0, 1, 2.
    const q = Int8Array.from([-1, 0, 1, 0, 1, -1, 0, 1]);
    const p = packHfTernary(q, 8, 1);
    // packed row 0 holds rows 0, 2, 4, 6 (i = 0..3): codes 0, 2, 2, 1 → 0 | 2<<2 | 2<<4 | 1<<6 = 104.
    // packed row 1 holds rows 1, 3, 5, 7: codes 1, 1, 0, 2 → 1 | 1<<2 | 0<<4 | 2<<6 = 133.
    assert.deepEqual([...p], [104, 133]);
    assert.deepEqual(unpackHfTernary(p, 2, 1), q);
  });
  test('random round trip; code 3 and bad shapes are FormatErrors', () => {
    const rng = new Rng(5);
    const q = Int8Array.from({ length: 12 * 7 }, () => (rng.nextU32() % 3) - 1);
    assert.deepEqual(unpackHfTernary(packHfTernary(q, 12, 7), 3, 7), q);
    assert.throws(() => unpackHfTernary(Uint8Array.of(0b11), 1, 1, 'w'), /w: invalid packed code 3/);
    assert.throws(() => packHfTernary(new Int8Array(6), 6, 1), FormatError);
  });
  test('weight_scale: multiply for autobitlinear, divide for bitlinear (docs/spec.md §3.7)', () => {
    assert.equal(betaFromWeightScale(1.555, 'autobitlinear'), 1.555);
    assert.equal(betaFromWeightScale(4, 'bitlinear'), 0.25);
    assert.throws(() => betaFromWeightScale(0, 'bitlinear'), FormatError);
  });
});

function tinyModel(): Transformer {
  const c = makeConfig('tiny', { vocabSize: 300, maxSeqLen: 32 });
  const m = new Transformer(refBackend(), c);
  m.init(3);
  const rng = new Rng(9);
  for (const p of m.table) if (!p.decay) for (let i = 0; i < p.size; i++) m.param(p.name).p[i] = 1 + 0.1 * rng.normal(); // non-trivial norms
  return m;
}

/** 1bitLLM (llama-layout) tensor names. */
function oneBitLlmName(name: string): string {
  if (name === 'embed_tokens') return 'model.embed_tokens.weight';
  if (name === 'lm_head') return 'lm_head.weight';
  if (name === 'norm') return 'model.norm.weight';
  const [, l, x] = /^layers\.(\d+)\.(.+)$/.exec(name)!;
  const sub: Record<string, string> = {
    q_proj: 'self_attn.q_proj', k_proj: 'self_attn.k_proj', v_proj: 'self_attn.v_proj', o_proj: 'self_attn.o_proj', attn_sub_norm: 'self_attn.inner_attn_ln',
    gate_proj: 'mlp.gate_proj', up_proj: 'mlp.up_proj', down_proj: 'mlp.down_proj', ffn_sub_norm: 'mlp.ffn_layernorm',
    input_layernorm: 'input_layernorm', post_attention_layernorm: 'post_attention_layernorm',
  };
  return `model.layers.${l}.${sub[x!]!}.weight`;
}

describe('Hugging Face BitNet export → import', () => {
  test('a tiny model exported by our writer loads back: exact ternary weights and β, exact norms, same logits', () => {
    const m = tinyModel();
    const dir = tmp();
    const tok = byteTokenizer();
    exportHF(dir, sourceFromTransformer(m), { tokenizer: tok, chatTemplate: '{{ messages }}' });
    const h = loadHF(dir);
    assert.deepEqual(h.source.config, m.config);
    assert.equal(h.layout.linearClass, 'autobitlinear');
    assert.equal(h.hfConfig.model_type, 'bitnet');
    assert.equal(h.hfConfig.hidden_act, 'relu2');
    assert.equal(h.chatTemplate, '{{ messages }}');
    assert.deepEqual(h.tokenizer!.encode('héllo <|end_of_text|>'), tok.encode('héllo <|end_of_text|>'));
    // Packed shapes follow the shape rule [out/4, in].
    const st = openSafetensors(join(dir, 'model.safetensors'));
    st.close();
    assert.deepEqual(st.entries.get('model.layers.0.mlp.down_proj.weight')!.shape, [128 / 4, 384]);
    assert.equal(st.entries.get('model.layers.0.mlp.down_proj.weight')!.dtype, 'U8');
    assert.deepEqual(st.entries.get('model.layers.0.mlp.down_proj.weight_scale')!.shape, [1]);
    for (const p of m.table) {
      const w = m.param(p.name).p as Float32Array;
      if (p.name.endsWith('_proj')) {
        const q = new Int8Array(p.size);
        const beta = quantizeTernaryAbsmean(q, w, p.size);
        const got = h.source.quantized!(p.name)!;
        assert.deepEqual(got.q, q, p.name);
        assert.equal(got.scale, beta, p.name);
      } else {
        assert.deepEqual(h.source.dense(p.name), w, p.name);
      }
    }
    // Logits: a model whose latent weights quantize to exactly the loaded (q, β) (W = q·β·n/nnz) computes the
    // same function as the native model.
    const m2 = new Transformer(refBackend(), h.source.config);
    for (const p of m2.table) {
      const dst = m2.param(p.name).p;
      const qt = h.source.quantized!(p.name);
      if (qt === undefined) dst.set(h.source.dense(p.name));
      else {
        let nnz = 0;
        for (const v of qt.q) nnz += v !== 0 ? 1 : 0;
        for (let i = 0; i < p.size; i++) dst[i] = qt.q[i]! * qt.scale * (p.size / nnz);
      }
    }
    const tokens = Int32Array.from([1, 50, 200, 7, 299, 3, 3, 120]);
    m.forward(tokens, null, 1, 8);
    m2.forward(tokens, null, 1, 8);
    assertAllClose(m2.logits().subarray(0, 8 * 300), m.logits().subarray(0, 8 * 300), { atol: 1e-4, rtol: 1e-4 }, 'logits');
  });

  test('bf16 export; bitlinear (divide) checkpoints; missing / misshapen tensors and unknown architectures', () => {
    const m = tinyModel();
    const dir = tmp();
    exportHF(dir, sourceFromTransformer(m), { dtype: 'BF16', linearClass: 'bitlinear' });
    const h = loadHF(dir);
    assert.equal(h.hfConfig.torch_dtype, 'bfloat16');
    const q = new Int8Array(128 * 128);
    const beta = quantizeTernaryAbsmean(q, m.param('layers.0.q_proj').p as Float32Array, q.length);
    const got = h.source.quantized!('layers.0.q_proj')!;
    assert.deepEqual(got.q, q);
    // stored ws = bf16(1/β), so β' = 1/ws within bf16 precision
    assert.ok(Math.abs(got.scale / beta - 1) < 2 ** -8, `${got.scale} vs ${beta}`);
    const norm = h.source.dense('norm');
    const want = m.param('norm').p;
    for (let i = 0; i < norm.length; i++) assert.ok(Math.abs(norm[i]! - want[i]!) <= Math.abs(want[i]!) * 2 ** -8);

    const cfg = JSON.parse(JSON.stringify(h.hfConfig));
    cfg.model_type = 'gpt_neox';
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    assert.throws(() => loadHF(dir), /model_type "gpt_neox"/);
  });

  test('1bitLLM-style llama checkpoint: inner_attn_ln / ffn_layernorm sub-norms, SwiGLU, f16/bf16 latent weights', () => {
    const c = makeConfig('tiny', { vocabSize: 260, ffn: 'swiglu', tieEmbeddings: false, ropeTheta: 10000 });
    const rng = new Rng(21);
    const values = new Map<string, Float32Array>();
    const specs: { name: string; dtype: 'F16' | 'BF16'; shape: number[] }[] = [];
    const data: Uint8Array[] = [];
    for (const p of paramTable(c)) {
      const w = rng.fillNormal(new Float32Array(p.size), 0, 0.05) as Float32Array;
      // store as bf16 so the expected f32 values are exact
      const bits = Uint16Array.from(w, (x) => floatToBf16(x));
      values.set(p.name, new Float32Array(Uint32Array.from(bits, (b) => b << 16).buffer));
      const full = oneBitLlmName(p.name);
      specs.push({ name: full, dtype: 'BF16', shape: p.shape });
      data.push(bytesOf(bits));
    }
    const dir = tmp();
    // two shards + index
    const half = Math.floor(specs.length / 2);
    writeSafetensorsStream(join(dir, 'model-00001-of-00002.safetensors'), specs.slice(0, half), (i) => data[i]!);
    writeSafetensorsStream(join(dir, 'model-00002-of-00002.safetensors'), specs.slice(half), (i) => data[half + i]!);
    const weightMap = Object.fromEntries(specs.map((s, i) => [s.name, i < half ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors']));
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({
      architectures: ['BitnetForCausalLM'], model_type: 'llama', hidden_size: 128, intermediate_size: 384, num_hidden_layers: 2,
      num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 260, max_position_embeddings: 128, rope_theta: 10000, rms_norm_eps: 1e-5,
      hidden_act: 'silu', tie_word_embeddings: false, input_bits: 8, weight_bits: 1,
    }));
    const h = loadHF(dir);
    assert.deepEqual(h.source.config, c);
    for (const [name, v] of values) {
      assert.deepEqual(h.source.dense(name), v, name);
      assert.equal(h.source.quantized!(name), undefined); // latent weights: the engine quantizes at load
    }
    // a missing tensor is named
    const idx = { metadata: {}, weight_map: { ...weightMap } };
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(idx));
    rmSync(join(dir, 'model-00002-of-00002.safetensors'));
    assert.throws(() => loadHF(dir), /shard 'model-00002-of-00002.safetensors' listed in the index is missing/);
  });
});
