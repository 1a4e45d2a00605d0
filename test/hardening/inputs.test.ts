/**
 * Hostile inputs (the hardening issue): every case must end in a typed error (or a clean answer), fast,
 * with nothing allocated from an untrusted count first.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ArgumentError, BitnetError, FormatError } from '../../src/errors.js';
import { syntheticSource } from '../../src/weights/synthetic.js';
import { configFromHF } from '../../src/interop/hf.js';
import { loadGguf, writeGguf } from '../../src/interop/gguf_model.js';
import { bufferSource, parseGguf } from '../../src/io/gguf.js';
import { parseSafetensors, serializeHeader } from '../../src/io/safetensors.js';
import { CONFIG_LIMITS, validateConfig, type ModelConfig } from '../../src/model/config.js';
import { loadTokenizer, tokenizerJsonText } from '../../src/tokenizer/io.js';
import { tokenizerFromJSON } from '../../src/tokenizer/hf.js';
import { fuzzConfig, fuzzTokenizer } from '../../scripts/fuzz/seeds.js';

const BASE: ModelConfig = { vocabSize: 300, dim: 64, nLayers: 2, nHeads: 4, nKvHeads: 2, ffnDim: 128, maxSeqLen: 64, ropeTheta: 10000, normEps: 1e-5, ffn: 'relu2glu', subln: true, tieEmbeddings: true, quant: 'b158', groups: 1 };
const tmp = mkdtempSync(join(tmpdir(), 'bitnet-hostile-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Asserts `f` throws an instance of `cls` whose message matches `re`, within `ms`. */
function throwsFast(f: () => unknown, cls: typeof BitnetError, re: RegExp, ms = 1000): void {
  const t0 = performance.now();
  assert.throws(f, (e: unknown) => e instanceof cls && re.test((e as Error).message), re.source);
  assert.ok(performance.now() - t0 < ms, `took ${(performance.now() - t0).toFixed(0)} ms`);
}

describe('validateConfig bounds and types every field', () => {
  test('huge or non-integer counts name the field', () => {
    for (const v of [2 ** 31, 1e308, CONFIG_LIMITS.nLayers + 1, 1.5, -1, NaN, Infinity]) throwsFast(() => validateConfig({ ...BASE, nLayers: v }), ArgumentError, /config\.nLayers must be an integer in 1\.\.1024/);
    throwsFast(() => validateConfig({ ...BASE, vocabSize: 2 ** 24 + 1 }), ArgumentError, /config\.vocabSize/);
    throwsFast(() => validateConfig({ ...BASE, maxSeqLen: 2 ** 21 }), ArgumentError, /config\.maxSeqLen/);
    throwsFast(() => validateConfig({ ...BASE, dim: 65536 * 2 }), ArgumentError, /config\.dim/);
    throwsFast(() => validateConfig({ ...BASE, nLayers: '2' as unknown as number }), ArgumentError, /config\.nLayers/);
  });
  test('booleans, numbers and enums are type-checked', () => {
    throwsFast(() => validateConfig({ ...BASE, normEps: true as unknown as number }), ArgumentError, /config\.normEps/);
    throwsFast(() => validateConfig({ ...BASE, normEps: 1e-320 }), ArgumentError, /config\.normEps/);
    throwsFast(() => validateConfig({ ...BASE, ropeTheta: 1e-320 }), ArgumentError, /config\.ropeTheta/);
    throwsFast(() => validateConfig({ ...BASE, subln: 'yes' as unknown as boolean }), ArgumentError, /config\.subln must be true or false/);
    throwsFast(() => validateConfig({ ...BASE, tieEmbeddings: 1 as unknown as boolean }), ArgumentError, /config\.tieEmbeddings/);
    throwsFast(() => validateConfig({ ...BASE, ffn: ['swiglu'] as unknown as 'swiglu' }), ArgumentError, /config\.ffn/);
    for (const c of [null, [], 'x', 5]) throwsFast(() => validateConfig(c as unknown as ModelConfig), ArgumentError, /config must be an object/);
    assert.doesNotThrow(() => validateConfig({ ...BASE }));
  });
  test('a config.json with 2^31 layers or a non-boolean tie flag is a FormatError naming the key', () => {
    const cfg = { model_type: 'bitnet', hidden_size: 64, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 128, vocab_size: 300, num_hidden_layers: 2 };
    throwsFast(() => configFromHF({ ...cfg, num_hidden_layers: 2 ** 31 }, () => true), FormatError, /nLayers/);
    throwsFast(() => configFromHF({ ...cfg, num_hidden_layers: 2.5 }, () => true), FormatError, /'num_hidden_layers' must be an integer/);
    throwsFast(() => configFromHF({ ...cfg, tie_word_embeddings: 'yes' }, () => true), FormatError, /'tie_word_embeddings' must be true or false/);
    throwsFast(() => configFromHF({ ...cfg, architectures: 'BitNet' }, () => true), FormatError, /'architectures'/);
    throwsFast(() => configFromHF({ ...cfg, rope_scaling: 3 }, () => true), FormatError, /'rope_scaling'/);
    assert.equal(configFromHF(cfg, () => false).config.nLayers, 2);
  });
});

describe('tokenizer files', () => {
  const tok = fuzzTokenizer();
  const good = () => JSON.parse(tokenizerJsonText(tok)) as { model: { vocab: Record<string, number> }; added_tokens: Array<{ id: number }> };
  test('one huge id in the vocabulary or the added tokens fails at once, before any table is built', () => {
    for (const id of [1e8, 2 ** 31 - 1, 2 ** 24, -1, 1.5]) {
      const j = good();
      j.model.vocab[Object.keys(j.model.vocab)[3]!] = id;
      throwsFast(() => tokenizerFromJSON(j), FormatError, /model\.vocab\[.*\] must be an integer id/);
      const k = good();
      k.added_tokens[0]!.id = id;
      throwsFast(() => tokenizerFromJSON(k), FormatError, /added_tokens\[0\]\.id must be an integer id/);
    }
    // Also through a library-built tokenizer (a normalizer sends it to @huggingface/tokenizers).
    const h = { ...good(), normalizer: { type: 'NFC' } };
    h.added_tokens[1]!.id = 2 ** 31 - 1;
    throwsFast(() => tokenizerFromJSON(h), FormatError, /added_tokens\[1\]\.id/);
  });
  test('tokenizer_config.json of the wrong type is a FormatError naming the file or field', () => {
    const dir = join(tmp, 'tok');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'tokenizer.json'), tokenizerJsonText(tok));
    for (const [text, re] of [['null', /must be a JSON object, got null/], ['[1]', /got an array/], ['{"bos_token": 5}', /'bos_token' must be a string/], ['{"additional_special_tokens": "x"}', /additional_special_tokens/], ['{"chat_template": 1}', /chat_template/], ['{', /not valid JSON/]] as const) {
      writeFileSync(join(dir, 'tokenizer_config.json'), text);
      throwsFast(() => loadTokenizer(dir), FormatError, re);
    }
    writeFileSync(join(dir, 'tokenizer_config.json'), '{"bos_token": {"content": "<|begin_of_text|>"}}');
    assert.equal(loadTokenizer(dir).vocabSize, tok.vocabSize);
  });
  test('JSON nested 100000 deep is a FormatError, not a stack overflow', () => {
    const deep = '['.repeat(100000) + ']'.repeat(100000);
    const j = good() as unknown as Record<string, unknown>;
    j.normalizer = JSON.parse(deep);
    throwsFast(() => tokenizerFromJSON(j), FormatError, /nested deeper/);
    const header = new TextEncoder().encode(`{"a":${'{"b":'.repeat(5000)}1${'}'.repeat(5000)}}`);
    const file = new Uint8Array(8 + header.length);
    new DataView(file.buffer).setBigUint64(0, BigInt(header.length), true);
    file.set(header, 8);
    throwsFast(() => parseSafetensors(file), FormatError, /nested deeper/);
    assert.ok(serializeHeader([]).length > 0);
  });
});

describe('GGUF data alignment', () => {
  const tok = fuzzTokenizer();
  const path = join(tmp, 'm.gguf');
  writeGguf(path, syntheticSource(fuzzConfig(tok.vocabSize), 3), { type: 'tq2_0', tokenizer: tok });
  const bytes = new Uint8Array(readFileSync(path));
  const f = parseGguf(bufferSource(bytes));
  // The header ends with the last tensor info's u64 offset; the zero padding follows it.
  const headerEnd = (() => {
    const last = new Uint8Array(8);
    new DataView(last.buffer).setBigUint64(0, BigInt(f.tensors[f.tensors.length - 1]!.offset), true);
    for (let e = f.dataOffset; e >= f.dataOffset - f.alignment; e--) if (last.every((b, i) => bytes[e - 8 + i] === b)) return e;
    throw new Error('header end not found');
  })();

  test('the valid file loads', () => {
    assert.equal(f.alignment, 32);
    loadGguf(path).close();
  });
  test('data written without the padding (shifted against the declared alignment) is refused', () => {
    assert.ok(f.dataOffset > headerEnd, 'this seed has padding before its data');
    const noPad = new Uint8Array(bytes.length - (f.dataOffset - headerEnd) + 64); // the writer's tail would be shorter; pad the end so no tensor runs out
    noPad.set(bytes.subarray(0, headerEnd));
    noPad.set(bytes.subarray(f.dataOffset), headerEnd);
    throwsFast(() => parseGguf(bufferSource(noPad)), FormatError, /padding before the data section .* is not zero|follow the last tensor/);
  });
  test('trailing bytes beyond one alignment mean the data does not start where the alignment says', () => {
    const extra = new Uint8Array(bytes.length + 32);
    extra.set(bytes);
    throwsFast(() => parseGguf(bufferSource(extra)), FormatError, /follow the last tensor/);
    const some = new Uint8Array(bytes.length + 31);
    some.set(bytes);
    assert.equal(parseGguf(bufferSource(some)).tensors.length, f.tensors.length);
  });
  test('general.alignment must be a power of two in 8..65536', () => {
    for (const a of [0, 7, 24, 4, 2 ** 20]) {
      const { header, offsets } = withAlignment(a);
      assert.ok(offsets.length > 0);
      throwsFast(() => parseGguf(bufferSource(header)), FormatError, /general\.alignment must be a u32 power of two in 8\.\.65536/);
    }
  });

  /** The header of a file declaring `a` (written with 32, the u32 patched). */
  function withAlignment(a: number): { header: Uint8Array; offsets: number[] } {
    const key = new TextEncoder().encode('general.alignment');
    const kv = new Uint8Array(8 + key.length + 4 + 4);
    const dv = new DataView(kv.buffer);
    dv.setBigUint64(0, BigInt(key.length), true);
    kv.set(key, 8);
    dv.setUint32(8 + key.length, 4, true); // u32
    dv.setUint32(12 + key.length, a, true);
    // Insert the kv right after the fixed header (24 bytes) and bump metadata_kv_count.
    const out = new Uint8Array(bytes.length + kv.length);
    out.set(bytes.subarray(0, 24));
    out.set(kv, 24);
    out.set(bytes.subarray(24), 24 + kv.length);
    const odv = new DataView(out.buffer);
    odv.setBigUint64(16, odv.getBigUint64(16, true) + 1n, true);
    return { header: out, offsets: f.tensors.map((t) => t.offset) };
  }
});
