import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Tokenizer as HfLib } from '@huggingface/tokenizers';
import { ArgumentError } from '../src/errors.js';
import { BpeTokenizer, byteTokenizer } from '../src/tokenizer/bpe.js';
import { BYTE_TO_CHAR, CHAR_TO_BYTE, LLAMA3_PATTERN } from '../src/tokenizer/bytes.js';
import { HfTokenizer, bpeFromJSON } from '../src/tokenizer/hf.js';
import { loadTokenizer, saveTokenizer, tokenizerHash, tokenizerJsonText } from '../src/tokenizer/io.js';
import { trainBpe } from '../src/tokenizer/train.js';

/** Walk up from this file to the repo root (works from test/ and dist/test/). */
function repoFile(rel: string): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, d = dirname(d)) if (existsSync(join(d, rel))) return join(d, rel);
  throw new Error(`${rel} not found`);
}
const SAMPLE = readFileSync(repoFile('data/fixtures/sotu_sample.txt'), 'utf8');
const TRICKY = [
  '', ' ', '  ', 'a', 'Hello, world!', 'tabs\tand\nnewlines\r\n\n   trailing   ', '    leading spaces',
  "It's we'll they'd I'M YOU'RE don't", 'numbers 1234567 3.14159 1,000,000 2021', 'naïve café résumé Ünïcödé',
  '日本語のテキスト、中文文本', 'emoji 😀👍🏽 👨‍👩‍👧‍👦 flags 🇺🇸', 'Ελληνικά και русский текст', 'math ∑∫√∞ ≠ ≤',
  'mixed\u00a0nbsp\u2003emspace', 'zero\u200bwidth', 'a'.repeat(300), ' '.repeat(200) + 'x', '!!!???...---',
  'x'.repeat(70) + ' ' + 'ab'.repeat(60),
];

const tok = trainBpe([SAMPLE], { vocabSize: 600 });

describe('byte-level tables', () => {
  test('GPT-2 byte→unicode table is a bijection onto printable chars', () => {
    assert.equal(new Set(BYTE_TO_CHAR).size, 256);
    BYTE_TO_CHAR.forEach((c, b) => assert.equal(CHAR_TO_BYTE[c.charCodeAt(0)], b));
    assert.equal(BYTE_TO_CHAR[32], 'Ġ');
    assert.equal(BYTE_TO_CHAR[10], 'Ċ');
    assert.equal(BYTE_TO_CHAR[65], 'A');
  });
});

describe('BPE tokenizer', () => {
  test('round trip: decode(encode(s)) == s', () => {
    for (const s of [...TRICKY, SAMPLE]) assert.equal(tok.decode(tok.encode(s)), s, JSON.stringify(s.slice(0, 40)));
    assert.deepEqual(tok.encode(''), []);
    assert.equal(tok.decode([]), '');
  });

  test('vocab size respected, ids in range, layout bytes → merges → specials', () => {
    assert.equal(tok.vocabSize, 600);
    assert.equal(tok.numMerges, 600 - 256 - 2);
    assert.equal(tok.bosId, 598);
    assert.equal(tok.eosId, 599);
    assert.equal(tok.idToToken(32), 'Ġ');
    const ids = tok.encode(SAMPLE + TRICKY.join(' '));
    assert.ok(ids.every((i) => Number.isInteger(i) && i >= 0 && i < 600));
    assert.ok(tok.encode(SAMPLE).length < new TextEncoder().encode(SAMPLE).length / 2.5, 'BPE compresses its training text');
  });

  test('specials encode to single ids and decode verbatim', () => {
    const s = '<|begin_of_text|>Hello<|end_of_text|><|end_of_text|> x<|begin_of_text|';
    const ids = tok.encode(s);
    assert.equal(ids[0], tok.bosId);
    assert.equal(ids.filter((i) => i === tok.eosId).length, 2);
    assert.equal(ids.filter((i) => i === tok.bosId).length, 1, 'an incomplete special is ordinary text');
    assert.equal(tok.decode(ids), s);
    assert.equal(tok.tokenToId('<|end_of_text|>'), tok.eosId);
    assert.equal(tok.idToToken(tok.bosId), '<|begin_of_text|>');
  });

  test('training is deterministic: byte-identical tokenizer.json', () => {
    const again = trainBpe([SAMPLE], { vocabSize: 600 });
    assert.equal(tokenizerJsonText(again), tokenizerJsonText(tok));
    assert.equal(tokenizerHash(again), tokenizerHash(tok));
    const other = trainBpe([SAMPLE.slice(0, 3000)], { vocabSize: 600 });
    assert.notEqual(tokenizerHash(other), tokenizerHash(tok));
  });

  test('the most frequent pair is merged first; minFrequency stops training', () => {
    const t = trainBpe(['aaab aaab aaab', 'xy'], { vocabSize: 1000, specialTokens: [] });
    assert.ok(t.vocabSize < 1000, 'stops when no pair reaches minFrequency 2');
    assert.equal(t.idToToken(256), 'aa');
    assert.equal(t.decode(t.encode('aaab xy')), 'aaab xy');
    assert.throws(() => trainBpe(['x'], { vocabSize: 100 }), ArgumentError);
  });

  test('byte fallback: id = byte, specials after 255', () => {
    const b = byteTokenizer();
    assert.equal(b.vocabSize, 258);
    assert.deepEqual(b.encode('A é'), [65, 32, 0xc3, 0xa9]);
    assert.deepEqual(b.encode('<|begin_of_text|>z'), [256, 122]);
    for (const s of TRICKY) assert.equal(b.decode(b.encode(s)), s);
    assert.equal(b.eosId, 257);
  });

  test('long pre-tokens (heap merge path) agree with the short path', () => {
    const t = trainBpe(['abababab cdcdcd ' + 'ab'.repeat(40)], { vocabSize: 280, specialTokens: [] });
    const long = 'ab'.repeat(100) + 'a';
    assert.equal(t.decode(t.encode(long)), long);
    // Pre-tokens > 48 bytes take the heap path; the library is the reference for both paths.
    const hf = new HfLib(t.toJSON(), { clean_up_tokenization_spaces: false });
    for (let n = 40; n < 60; n++) {
      const s = 'ab'.repeat(n) + ' ' + 'cd'.repeat(n >> 1) + 'c';
      assert.deepEqual(t.encode(s), hf.encode(s, { add_special_tokens: false }).ids, `n=${n}`);
    }
    assert.ok(t.encode(long).length <= 101);
  });
});

describe('Hugging Face tokenizer.json interop', () => {
  const varied = [SAMPLE, ...TRICKY, '<|begin_of_text|>In the year 1790<|end_of_text|>'].join('\n');

  test('@huggingface/tokenizers loads our tokenizer.json and gives identical ids', () => {
    const hf = new HfLib(tok.toJSON(), { clean_up_tokenization_spaces: false });
    for (const s of [varied, ...TRICKY.filter((x) => x.length > 0)]) {
      assert.deepEqual(tok.encode(s), hf.encode(s, { add_special_tokens: false }).ids, JSON.stringify(s.slice(0, 40)));
    }
    const ids = tok.encode(varied);
    assert.equal(hf.decode(ids, { clean_up_tokenization_spaces: false }), varied);
  });

  test('LLaMA-3 pre-tokenizer (Split + ByteLevel) also matches the library', () => {
    const t = trainBpe([SAMPLE], { vocabSize: 500, pattern: 'llama3' });
    const json = t.toJSON() as { pre_tokenizer: { type: string; pretokenizers: { pattern?: { Regex: string } }[] } };
    assert.equal(json.pre_tokenizer.type, 'Sequence');
    assert.equal(json.pre_tokenizer.pretokenizers[0]!.pattern!.Regex, LLAMA3_PATTERN);
    const hf = new HfLib(json, { clean_up_tokenization_spaces: false });
    assert.deepEqual(t.encode(varied), hf.encode(varied, { add_special_tokens: false }).ids);
    assert.equal(t.decode(t.encode(varied)), varied);
  });

  test('save (atomic) → load gives our fast encoder; unknown features fall back to the library', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bntok-'));
    try {
      const p = join(dir, 'tokenizer.json');
      saveTokenizer(tok, p);
      const back = loadTokenizer(dir);
      assert.ok(back instanceof BpeTokenizer);
      assert.equal(tokenizerJsonText(back), readFileSync(p, 'utf8'));
      assert.deepEqual(back.encode(varied), tok.encode(varied));
      assert.equal(back.bosId, tok.bosId);
      // A normalizer is not implemented by our encoder → HfTokenizer, same interface.
      const json = { ...(tok.toJSON() as Record<string, unknown>), normalizer: { type: 'Lowercase' } };
      assert.equal(bpeFromJSON(json), undefined);
      const hft = new HfTokenizer(json);
      assert.deepEqual(hft.encode('HELLO world'), tok.encode('hello world'));
      assert.equal(hft.decode(hft.encode('abc')), 'abc');
      assert.equal(hft.decode([]), '');
      assert.equal(hft.eosId, tok.eosId);
      assert.equal(hft.vocabSize, tok.vocabSize);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  test('bad arguments raise typed errors', () => {
    assert.throws(() => tok.decode([tok.vocabSize]), ArgumentError);
    assert.throws(() => loadTokenizer('/nonexistent/tokenizer.json'), ArgumentError);
  });
});
