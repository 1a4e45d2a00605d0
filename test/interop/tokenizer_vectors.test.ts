/**
 * tokenizer.json encode/decode against hand-made vectors: a byte-level BPE with the LLaMA-3 pre-tokenizer and
 * special tokens, and a SentencePiece-style BPE (▁ prefix, byte fallback) as used by 1bitLLM / Llama-2.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BYTE_TO_CHAR, LLAMA3_PATTERN } from '../../src/tokenizer/bytes.js';
import { HfTokenizer } from '../../src/tokenizer/hf.js';
import { tokenizerFromJSON } from '../../src/tokenizer/io.js';

const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });

function byteLevelJson(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  BYTE_TO_CHAR.forEach((c, b) => { vocab[c] = b; }); // id = byte value
  Object.assign(vocab, { he: 256, ll: 257, hell: 258, hello: 259, 'Ġhello': 260 });
  const bl = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };
  return {
    version: '1.0', truncation: null, padding: null, normalizer: null, post_processor: null,
    added_tokens: [special(261, '<|begin_of_text|>'), special(262, '<|end_of_text|>')],
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false }, bl] },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: ['h e', 'l l', 'he ll', 'hell o', 'Ġ hello'] },
  };
}

describe('tokenizer.json hand-made vectors', () => {
  const cases: Array<[string, number[]]> = [
    ['hello', [259]], // h e l l o → he, ll → hell → hello
    [' hello', [260]], // LLaMA-3 pre-token " hello" → Ġ hello → Ġhello
    ['hello hello', [259, 260]],
    ['hel', [256, 108]], // he + l (byte 0x6c)
    ['é', [0xc3, 0xa9]], // UTF-8 bytes of U+00E9
    ['<|begin_of_text|>hello<|end_of_text|>', [261, 259, 262]],
    ['12345', [49, 50, 51, 52, 53].slice(0, 3).concat([52, 53])], // LLaMA-3 splits digits in runs of ≤ 3: "123" "45"
    ['🙂', [0xf0, 0x9f, 0x99, 0x82]],
  ];
  test('byte-level BPE, LLaMA-3 pre-tokenizer, specials: our encoder and @huggingface/tokenizers agree with the vectors', () => {
    const json = byteLevelJson();
    const ours = tokenizerFromJSON(json, {});
    const lib = new HfTokenizer(json);
    assert.notEqual(ours.constructor.name, 'HfTokenizer'); // the fast path is exercised
    for (const [text, ids] of cases) {
      assert.deepEqual(ours.encode(text), ids, `ours: ${text}`);
      assert.deepEqual(lib.encode(text), ids, `lib: ${text}`);
      assert.equal(ours.decode(ids), text);
      assert.equal(lib.decode(ids), text);
    }
    assert.equal(ours.bosId, 261);
    assert.equal(ours.eosId, 262);
  });

  test('SentencePiece-style BPE with byte fallback (1bitLLM / Llama-2 tokenizer.json)', () => {
    const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
    for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
    Object.assign(vocab, { '▁': 259, h: 260, e: 261, l: 262, o: 263, '▁h': 264, ll: 265, '▁he': 266, '▁hell': 267, '▁hello': 268 });
    const json = {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [{ ...special(0, '<unk>') }, special(1, '<s>'), special(2, '</s>')],
      normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
      pre_tokenizer: null, post_processor: null,
      decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
      model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: ['▁ h', 'l l', '▁h e', '▁he ll', '▁hell o'] },
    };
    const tok = tokenizerFromJSON(json, { bos_token: '<s>', eos_token: '</s>' });
    assert.equal(tok.constructor.name, 'HfTokenizer');
    assert.deepEqual(tok.encode('hello'), [268]); // ▁hello
    assert.deepEqual(tok.encode('hé'), [264, 3 + 0xc3, 3 + 0xa9]); // ▁h, then é by byte fallback
    assert.deepEqual(tok.encode('hello hello'), [268, 268]);
    assert.equal(tok.decode([268, 268]), 'hello hello');
    assert.equal(tok.decode([264, 3 + 0xc3, 3 + 0xa9]), 'hé');
    assert.equal(tok.bosId, 1);
    assert.equal(tok.eosId, 2);
  });
});
