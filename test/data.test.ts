import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ArgumentError } from '../src/errors.js';
import {
  checkDisjoint, computeSotuSplit, hashSplitOf, loadDirCorpus, loadSotu, loadSplitRecord, sotuDir, sotuSplitOf,
  splitCorpus, splitNames, verifySplit, type Doc,
} from '../src/data/corpus.js';
import { DataError, FormatError } from '../src/data/errors.js';
import { findSharedShingles } from '../src/data/leakage.js';
import { prepareTokens } from '../src/data/prepare.js';
import { BatchSampler, arraySource, batchAt, bitsPerByte, evalBatches, numEvalWindows } from '../src/data/sampler.js';
import { TOKFILE_HEADER_BYTES, TokenFileReader, TokenFileWriter, readTokenFile } from '../src/data/tokfile.js';
import { byteTokenizer } from '../src/tokenizer/bpe.js';
import { trainBpe } from '../src/tokenizer/train.js';

function repoFile(rel: string): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, d = dirname(d)) if (existsSync(join(d, rel))) return join(d, rel);
  throw new Error(`${rel} not found`);
}
const SAMPLE = readFileSync(repoFile('data/fixtures/sotu_sample.txt'), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'bndata-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('SOTU corpus and split', () => {
  const files = readdirSync(sotuDir()).filter((f) => f.endsWith('.txt'));

  test('year rule gives 187 / 23 / 23 speeches and matches data/sotu_split.json', () => {
    assert.equal(files.length, 233);
    const rec = computeSotuSplit(files);
    assert.deepEqual(rec.counts, { train: 187, val: 23, test: 23 });
    assert.equal(sotuSplitOf('1793_george_washington_n.txt'), 'val');
    assert.equal(sotuSplitOf('2017_donald_j_trump_r.txt'), 'test');
    assert.equal(sotuSplitOf('2016_barack_obama_d.txt'), 'train');
    const recorded = loadSplitRecord();
    verifySplit(rec, recorded);
    checkDisjoint(recorded);
    assert.equal(new Set([...recorded.train, ...recorded.val, ...recorded.test]).size, 233);
  });

  test('drift and overlap are caught', () => {
    const rec = computeSotuSplit(files.slice(1));
    assert.throws(() => verifySplit(rec, loadSplitRecord()), DataError);
    assert.throws(() => checkDisjoint({ train: ['a', 'b'], val: ['b'], test: [] }), DataError);
    assert.throws(() => sotuSplitOf('readme.txt'), DataError);
  });

  test('loadSotu reads all speeches, split by document', () => {
    const c = loadSotu();
    const s = splitCorpus(c);
    assert.deepEqual([s.train.length, s.val.length, s.test.length], [187, 23, 23]);
    assert.ok(s.train.every((d) => sotuSplitOf(d.name) === 'train'));
    assert.ok(s.val[0]!.text.length > 1000);
  });
});

describe('user corpus directories', () => {
  test('.txt and .jsonl documents, hash split, deterministic order', () => {
    const dir = join(tmp, 'corpus');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'b.txt'), 'second file');
    writeFileSync(join(dir, 'sub', 'a.txt'), 'nested file');
    writeFileSync(join(dir, 'ignored.md'), 'not a corpus file');
    writeFileSync(join(dir, 'c.jsonl'), '{"text":"line one"}\n\n{"text":"line three","id":3}\n');
    const c = loadDirCorpus(dir);
    assert.deepEqual(c.docs.map((d) => d.name), ['b.txt', 'c.jsonl:1', 'c.jsonl:3', 'sub/a.txt']);
    assert.equal(c.docs[2]!.text, 'line three');
    assert.equal(c.splitOf('b.txt'), hashSplitOf('b.txt'));
    writeFileSync(join(dir, 'd.jsonl'), '{"text": 5}\n');
    assert.throws(() => loadDirCorpus(dir), FormatError);
    assert.throws(() => loadDirCorpus(join(tmp, 'nope')), DataError);
  });

  test('hash split has the 80/10/10 proportions', () => {
    const names = Array.from({ length: 5000 }, (_, i) => `doc_${i}.txt`);
    const s = splitNames(names, hashSplitOf);
    assert.ok(Math.abs(s.val.length / 5000 - 0.1) < 0.02 && Math.abs(s.test.length / 5000 - 0.1) < 0.02, `${s.val.length} ${s.test.length}`);
    checkDisjoint(s);
  });

  test('leakage check finds shared passages, and only those', () => {
    const shared = 'x'.repeat(10) + SAMPLE.slice(1000, 1400);
    const train: Doc[] = [{ name: 't', text: SAMPLE.slice(0, 3000) }];
    const held: Doc[] = [{ name: 'h', text: shared }, { name: 'h2', text: SAMPLE.slice(4000) }];
    const r = findSharedShingles(train, held, 200, 100);
    assert.ok(r.shared >= 1 && r.examples.every((e) => e.doc === 'h'));
    assert.equal(findSharedShingles(train, [{ name: 'h2', text: SAMPLE.slice(4000) }]).shared, 0);
  });
});

describe('token files', () => {
  test('write → read identity (uint16 and uint32), random access reader', () => {
    for (const vocab of [300, 70000]) {
      const p = join(tmp, `t${vocab}.bntk`);
      const ids = Array.from({ length: 1000 }, (_, i) => (i * 7919) % vocab);
      const w = new TokenFileWriter(p, vocab, 1, 2, 'ab'.repeat(32));
      w.append(ids.slice(0, 400)); w.append(ids.slice(400)); w.textBytes = 12345; w.numDocs = 3;
      w.close();
      const { header, tokens } = readTokenFile(p);
      assert.equal(header.bytesPerToken, vocab <= 65536 ? 2 : 4);
      assert.deepEqual([header.count, header.textBytes, header.numDocs, header.bosId, header.eosId], [1000, 12345, 3, 1, 2]);
      assert.equal(header.tokenizerHash, 'ab'.repeat(16));
      assert.deepEqual(Array.from(tokens), ids);
      const r = new TokenFileReader(p);
      const out = new Int32Array(10);
      r.read(995, 5, out, 5);
      assert.deepEqual(Array.from(out.subarray(5)), ids.slice(995));
      assert.throws(() => r.read(996, 5, out), ArgumentError);
      r.close();
    }
    assert.deepEqual(readdirSync(tmp).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
  });

  test('corrupt or truncated files raise FormatError', () => {
    const p = join(tmp, 'ok.bntk');
    const w = new TokenFileWriter(p, 300, -1, -1, '');
    w.append([1, 2, 3]);
    w.close();
    const good = readFileSync(p);
    const bad = (name: string, bytes: Uint8Array): string => { const q = join(tmp, name); writeFileSync(q, bytes); return q; };
    assert.throws(() => readTokenFile(bad('short.bntk', good.subarray(0, 20))), FormatError);
    assert.throws(() => readTokenFile(bad('trunc.bntk', good.subarray(0, TOKFILE_HEADER_BYTES + 4))), FormatError);
    const flip = Uint8Array.from(good); flip[17]! ^= 1; // token count
    assert.throws(() => readTokenFile(bad('flip.bntk', flip)), /checksum/);
    const magic = Uint8Array.from(good); magic[0] = 0;
    assert.throws(() => readTokenFile(bad('magic.bntk', magic)), /magic/);
    assert.throws(() => new TokenFileWriter(join(tmp, 'x.bntk'), 300, 0, 0, '').append([300]), ArgumentError);
  });

  test('prepareTokens: BOS doc EOS per document, cached on the second call', () => {
    const dir = join(tmp, 'corpus2');
    mkdirSync(dir, { recursive: true });
    const paras = SAMPLE.split('\n\n');
    paras.forEach((t, i) => writeFileSync(join(dir, `p${i}.txt`), t));
    for (let i = 0; i < 40; i++) writeFileSync(join(dir, `q${i}.txt`), `document ${i}: ${paras[i % paras.length]!.slice(0, 200)}`);
    const corpus = loadDirCorpus(dir);
    const tok = trainBpe(corpus.docs.map((d) => d.text), { vocabSize: 400 });
    const logs: string[] = [];
    const a = prepareTokens(corpus, tok, join(tmp, 'cache'), (m) => logs.push(m));
    assert.equal(a.cached, false);
    const b = prepareTokens(corpus, tok, join(tmp, 'cache'));
    assert.equal(b.cached, true);
    assert.equal(b.key, a.key);
    const docs = splitCorpus(corpus);
    const { header, tokens } = readTokenFile(a.files.train);
    assert.equal(header.numDocs, docs.train.length);
    const text = tok.decode(tokens);
    assert.equal(text, docs.train.map((d) => `<|begin_of_text|>${d.text}<|end_of_text|>`).join(''));
    assert.equal(header.textBytes, docs.train.reduce((s, d) => s + Buffer.byteLength(d.text), 0));
    const c = prepareTokens(corpus, byteTokenizer(), join(tmp, 'cache'));
    assert.notEqual(c.key, a.key, 'another tokenizer → another cache entry');
  });
});

describe('batch sampler', () => {
  const toks = Uint16Array.from({ length: 5000 }, (_, i) => (i * 31) % 1000);
  const src = arraySource(toks);

  test('batchAt is a pure function of (seed, step); targets are inputs shifted by one', () => {
    const a = batchAt(src, 4, 16, 42, 7), b = batchAt(src, 4, 16, 42, 7), c = batchAt(src, 4, 16, 42, 8), d = batchAt(src, 4, 16, 43, 7);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.inputs, c.inputs);
    assert.notDeepEqual(a.inputs, d.inputs);
    const ramp = batchAt(arraySource(Int32Array.from({ length: 5000 }, (_, i) => i)), 4, 16, 42, 7);
    for (let r = 0; r < 4; r++) {
      const start = ramp.inputs[r * 16]!;
      assert.ok(start >= 0 && start + 16 < 5000);
      for (let t = 0; t < 16; t++) {
        assert.equal(ramp.inputs[r * 16 + t], start + t, 'a contiguous window');
        assert.equal(ramp.targets[r * 16 + t], start + t + 1, 'targets = inputs shifted by one');
      }
    }
    assert.throws(() => batchAt(arraySource([1, 2]), 1, 2, 0, 0), ArgumentError);
  });

  test('BatchSampler resumes exactly from saved state', () => {
    const s1 = new BatchSampler(src, 2, 8, 5);
    const seq = Array.from({ length: 6 }, () => s1.next());
    const s2 = new BatchSampler(src, 2, 8, 5);
    s2.setState(JSON.parse(JSON.stringify({ seed: 5, step: 3 })) as { seed: number; step: number });
    assert.deepEqual(s2.next(), seq[3]);
    assert.deepEqual(s1.getState(), { seed: 5, step: 6 });
  });

  test('evalBatches: sequential non-overlapping windows covering the split', () => {
    const small = arraySource(Int32Array.from({ length: 103 }, (_, i) => i));
    const W = numEvalWindows(small, 10);
    assert.equal(W, 10);
    const batches = [...evalBatches(small, 4, 10)];
    assert.deepEqual(batches.map((x) => x.rows), [4, 4, 2]);
    const seen: number[] = [];
    for (const bt of batches) for (let r = 0; r < bt.rows; r++) for (let t = 0; t < 10; t++) {
      assert.equal(bt.targets[r * 10 + t], bt.inputs[r * 10 + t]! + 1);
      seen.push(bt.targets[r * 10 + t]!);
    }
    assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => i + 1), 'each target predicted once, in order');
    assert.equal([...evalBatches(small, 4, 10, 3)].reduce((s, x) => s + x.rows, 0), 3);
    assert.ok(Math.abs(bitsPerByte(Math.LN2, 100, 400) - 0.25) < 1e-12);
  });
});
