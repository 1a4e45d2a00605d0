import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FormatError } from '../../src/errors.js';
import { sourceFromTransformer } from '../../src/weights/source.js';
import { floatToHalf, halfToFloat } from '../../src/io/gguf_quant.js';
import { metaArray, metaNumber, metaString } from '../../src/io/gguf.js';
import { loadGguf, writeGguf } from '../../src/interop/gguf_model.js';
import { exportHF, loadHF } from '../../src/interop/hf.js';
import { syntheticSource } from '../../src/weights/synthetic.js';
import { refBackend } from '../../src/kernels/backend.js';
import { makeConfig } from '../../src/model/config.js';
import { Transformer } from '../../src/model/transformer.js';
import { trainBpe } from '../../src/tokenizer/train.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'gguf-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const config = makeConfig('tiny', { dim: 256, ffnDim: 512, nHeads: 4, nKvHeads: 2, vocabSize: 400, maxSeqLen: 64 });

describe('GGUF bitnet models', () => {
  for (const type of ['tq2_0', 'tq1_0'] as const) {
    test(`${type}: ternary weights round-trip losslessly (β as f16), config and synthetic vocabulary`, () => {
      const src = syntheticSource(config, 4);
      const path = join(tmp(), `m-${type}.gguf`);
      writeGguf(path, src, { type });
      assert.deepEqual(readdirSync(join(path, '..')), [`m-${type}.gguf`]); // no temp file left
      const g = loadGguf(path);
      try {
        assert.deepEqual(g.source.config, config);
        const md = g.file.metadata;
        assert.equal(metaString(md, 'general.architecture'), 'bitnet');
        assert.equal(metaString(md, 'bitnet.hidden_activation'), 'relu2');
        assert.equal(metaNumber(md, 'general.file_type'), type === 'tq2_0' ? 37 : 36);
        assert.equal(metaArray(md, 'tokenizer.ggml.tokens')!.items.length, 400);
        assert.deepEqual(g.file.tensors.find((t) => t.name === 'blk.0.ffn_down.weight')!.dims, [512, 256]); // reversed
        for (const name of ['layers.0.q_proj', 'layers.1.down_proj', 'layers.1.gate_proj']) {
          const want = src.quantized!(name)!;
          const got = g.source.quantized!(name)!;
          assert.deepEqual(got.q, want.q, name);
          assert.equal(got.scale, halfToFloat(floatToHalf(want.scale)), name);
        }
        assert.deepEqual(g.source.dense('layers.0.attn_sub_norm'), src.dense('layers.0.attn_sub_norm'));
        const emb = g.source.dense('embed_tokens');
        const want = src.dense('embed_tokens');
        for (let i = 0; i < 1000; i++) assert.equal(emb[i], halfToFloat(floatToHalf(want[i]!)));
        // size: 14 linear tensors' bytes at 66 (54) bytes per 256 weights dominate
        assert.ok(statSync(path).size > 0);
        assert.ok(g.tokenizer !== undefined);
        assert.deepEqual(g.tokenizer.encode('hi é'), [...new TextEncoder().encode('hi é')]); // byte tokens 0..255
      } finally {
        g.close();
      }
    });
  }

  test('a real tokenizer travels through GGUF and back (byte-level BPE, LLaMA-3 pre-tokenizer, specials, non-ASCII)', () => {
    const text = ['the cat sat on the mat, the end.', 'naïve café — 東京 🙂 the the the', "it's 2024: numbers 12345"];
    const tok = trainBpe(text, { vocabSize: 300, pattern: 'llama3' });
    const m = new Transformer(refBackend(), { ...config, vocabSize: 320 });
    m.init(1);
    const path = join(tmp(), 'tok.gguf');
    writeGguf(path, sourceFromTransformer(m), { tokenizer: tok, type: 'tq2_0', chatTemplate: 'T' });
    const g = loadGguf(path);
    try {
      assert.equal(metaString(g.file.metadata, 'tokenizer.ggml.pre'), 'llama-bpe');
      assert.equal(g.chatTemplate, 'T');
      const sample = '<|begin_of_text|>naïve café the mat 東京 🙂<|end_of_text|>';
      assert.deepEqual(g.tokenizer!.encode(sample), tok.encode(sample));
      assert.equal(g.tokenizer!.decode(tok.encode(sample)), sample);
      assert.equal(g.tokenizer!.bosId, tok.bosId);
      // GGUF → HF directory → GGUF gives the same file (weights, metadata, tokenizer)
      const dir = join(tmp(), 'hf');
      exportHF(dir, g.source, { tokenizer: g.tokenizer!, chatTemplate: 'T' });
      const h = loadHF(dir);
      const path2 = join(tmp(), 'again.gguf');
      writeGguf(path2, h.source, { tokenizer: h.tokenizer!, type: 'tq2_0', chatTemplate: 'T' });
      const g2 = loadGguf(path2);
      g2.close();
      assert.deepEqual([...g2.file.metadata.keys()], [...g.file.metadata.keys()]);
      assert.equal(statSync(path2).size, statSync(path).size);
    } finally {
      g.close();
    }
  });

  test('layouts llama.cpp cannot run are refused with FormatError', () => {
    const p = join(tmp(), 'x.gguf');
    assert.throws(() => writeGguf(p, syntheticSource(makeConfig('tiny'), 1), { type: 'tq2_0' }), /not a multiple of the TQ2_0 block/);
    assert.throws(() => writeGguf(p, syntheticSource({ ...config, tieEmbeddings: false }, 1)), /separate lm_head/);
    assert.throws(() => writeGguf(p, syntheticSource({ ...config, subln: false }, 1)), FormatError);
    writeGguf(p, syntheticSource(makeConfig('tiny'), 1), { type: 'f16' }); // f16 has no block constraint
    const g = loadGguf(p);
    g.close();
    assert.equal(g.source.config.dim, 128);
  });
});
