import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { DataError, FormatError } from '../../src/errors.js';
import { parseCsv, parseWinogrande, parseWscJsonl } from '../../src/eval/formats.js';
import { readFileSync } from 'node:fs';
import { loadZeroShot, ZERO_SHOT_SETS } from '../../src/eval/loaders.js';
import { Scorer } from '../../src/eval/loglikelihood.js';
import { perplexity, slidingWindows } from '../../src/eval/perplexity.js';
import { offlineTasks, runTask, sentences, type Task } from '../../src/eval/tasks.js';
import { refBackend } from '../../src/kernels/backend.js';
import { validateConfig } from '../../src/model/config.js';
import { Transformer } from '../../src/model/transformer.js';
import { byteTokenizer } from '../../src/tokenizer/bpe.js';

const DIR = fileURLToPath(new URL('../../../test/fixtures/zeroshot/', import.meta.url));

describe('zero-shot loaders (fixtures in the original formats)', () => {
  const expect: Record<string, { n: number; labels: number[]; options: number }> = {
    hellaswag: { n: 2, labels: [3, 0], options: 4 },
    winogrande: { n: 3, labels: [1, 0, 0], options: 2 },
    wsc273: { n: 2, labels: [0, 0], options: 2 },
    storycloze: { n: 2, labels: [0, 0], options: 2 },
    piqa: { n: 2, labels: [0, 0], options: 2 },
    'arc-easy': { n: 2, labels: [0, 1], options: 4 },
    'arc-challenge': { n: 1, labels: [2], options: 4 },
    openbookqa: { n: 1, labels: [1], options: 4 },
    boolq: { n: 2, labels: [0, 1], options: 2 },
  };
  for (const [name, e] of Object.entries(expect)) {
    test(`${name}`, () => {
      const t = loadZeroShot(name, DIR);
      assert.equal(t.kind, 'choice');
      if (t.kind !== 'choice') return;
      assert.equal(t.items.length, e.n);
      assert.deepEqual(t.items.map((i) => i.label), e.labels);
      assert.equal(t.items[0]!.options.length, e.options);
      for (const it of t.items) for (const o of it.options) assert.ok(o.continuation.length > 0 && !o.continuation.includes('undefined') && !o.context.includes('undefined'));
    });
  }
  test('prompts follow the harness conventions', () => {
    const hs = loadZeroShot('hellaswag', DIR) as Extract<Task, { kind: 'choice' }>;
    assert.equal(hs.items[0]!.options[3]!.context, 'Roof shingle removal: A man is sitting on a roof. He');
    assert.equal(hs.items[0]!.options[3]!.continuation, ' starts pulling up roofing on a roof.');
    // the harness strips before deleting [step], so a space remains after the delimiter (kept for comparability)
    assert.equal(hs.items[1]!.options[0]!.continuation, '  Lighter shades work best.', '[step] removed');
    assert.equal(hs.items[1]!.options[0]!.context, 'Personal Care and Style: How to dye your hair. Pick a color. Choose a shade close to your own');
    const wg = loadZeroShot('winogrande', DIR) as Extract<Task, { kind: 'choice' }>;
    assert.deepEqual(wg.items[0]!.options, [
      { context: "Ian volunteered to eat Dennis's menudo after already having a bowl because Ian", continuation: ' despised eating intestine.' },
      { context: "Ian volunteered to eat Dennis's menudo after already having a bowl because Dennis", continuation: ' despised eating intestine.' },
    ]);
    const wsc = loadZeroShot('wsc273', DIR) as Extract<Task, { kind: 'choice' }>;
    assert.deepEqual(wsc.items[0]!.options.map((o) => o.context), [
      'The city councilmen refused the demonstrators a permit because the city councilmen',
      'The city councilmen refused the demonstrators a permit because the demonstrators',
    ]);
    assert.equal(wsc.items[0]!.options[0]!.continuation, ' feared violence.');
    const sc = loadZeroShot('storycloze', DIR) as Extract<Task, { kind: 'choice' }>;
    assert.ok(sc.items[1]!.options[0]!.context.includes('bake a batch of "brownies".'), 'CSV quotes');
    const arc = loadZeroShot('arc-easy', DIR) as Extract<Task, { kind: 'choice' }>;
    assert.equal(arc.items[1]!.options[1]!.context, 'Question: Which object is a conductor of electricity?\nAnswer:');
    assert.equal(arc.items[1]!.options.length, 3);
    const bq = loadZeroShot('boolq', DIR) as Extract<Task, { kind: 'choice' }>;
    assert.deepEqual(bq.items[1]!.options.map((o) => o.continuation), [' no', ' yes']);
    const lam = loadZeroShot('lambada', DIR);
    assert.equal(lam.kind, 'cloze');
    if (lam.kind === 'cloze') {
      assert.equal(lam.items.length, 2);
      assert.equal(lam.items[0]!.target, ' signs');
      assert.equal(lam.items[1]!.target, ' dock');
    }
    const wt = loadZeroShot('wikitext', DIR);
    assert.equal(wt.kind, 'text');
    if (wt.kind === 'text') {
      assert.equal(wt.texts.length, 2, 'split at top-level headings only');
      assert.ok(wt.texts[0]!.startsWith('= Robert Boulter =') && wt.texts[0]!.includes('= = Career = ='));
    }
  });
  test('WSC273 as jsonl parses to the same items as the XML', () => {
    const j = parseWscJsonl(readFileSync(`${DIR}/wsc273/wsc273.jsonl`, 'utf8'));
    const x = loadZeroShot('wsc273', DIR);
    assert.ok(j.kind === 'choice' && x.kind === 'choice');
    assert.deepEqual(j.items[0], x.items[0]);
  });
  test('a missing file names the exact path and where to get it; bad content names file and line', () => {
    assert.throws(() => loadZeroShot('hellaswag', '/nonexistent/evals'), (e: Error) => e instanceof DataError && e.message.includes('/nonexistent/evals/hellaswag/hellaswag_val.jsonl') && e.message.includes('download'));
    assert.throws(() => loadZeroShot('nope', DIR), DataError);
    assert.throws(() => parseWinogrande('{"sentence": "no blank", "option1": "a", "option2": "b", "answer": "1"}\n', undefined, 'dev.jsonl'), (e: Error) => e instanceof FormatError && e.message.startsWith('dev.jsonl:1'));
    assert.throws(() => parseWinogrande('{"sentence": "a _ b"\n'), FormatError);
    assert.equal(Object.keys(ZERO_SHOT_SETS).length, 11);
  });
  test('CSV: quoted fields, doubled quotes, commas and CRLF', () => {
    assert.deepEqual(parseCsv('a,"b,c","d ""e"""\r\n1,2,3\n'), [['a', 'b,c', 'd "e"'], ['1', '2', '3']]);
  });
});

const CFG = validateConfig({
  vocabSize: 260, dim: 16, nLayers: 1, nHeads: 2, nKvHeads: 1, ffnDim: 32, maxSeqLen: 256,
  ropeTheta: 10000, normEps: 1e-5, ffn: 'swiglu', subln: true, tieEmbeddings: true, quant: 'fp', groups: 1,
});

function setup() {
  const m = new Transformer(refBackend(), CFG, 'f64');
  m.init(1);
  return { m, tok: byteTokenizer() };
}

describe('loglikelihood primitive', () => {
  test('equals minus the summed cross-entropy of the continuation from a plain forward pass', () => {
    const { m, tok } = setup();
    const ctx = 'ab c', cont = 'de';
    const ids = [tok.bosId, ...tok.encode(ctx), ...tok.encode(cont)];
    const T = ids.length - 1;
    const inp = Int32Array.from(ids.slice(0, -1));
    const tgt = Int32Array.from(ids.slice(1).map((t, i) => (i >= T - 2 ? t : -1)));
    const ce = m.forward(inp, tgt, 1, T) * 2;
    const r = new Scorer(m, tok).loglikelihood(ctx, cont);
    assert.ok(Math.abs(r.logprob + ce) < 1e-10, `${r.logprob} vs ${-ce}`);
    assert.equal(r.tokens, 2);
    assert.equal(r.bytes, 2);
  });
  test('batching with right padding and sorting does not change any result; greedy flag is consistent', () => {
    const { m, tok } = setup();
    const reqs = [{ context: 'x', continuation: 'hello' }, { context: 'a longer context here', continuation: ' z' }, { context: '', continuation: 'q' }];
    const one = reqs.map((r) => new Scorer(m, tok, { batchSize: 1 }).loglikelihood(r.context, r.continuation));
    const all = new Scorer(m, tok, { batchSize: 3 }).loglikelihoodBatch(reqs);
    for (let i = 0; i < reqs.length; i++) {
      assert.ok(Math.abs(one[i]!.logprob - all[i]!.logprob) < 1e-10);
      assert.equal(one[i]!.greedy, all[i]!.greedy);
    }
  });
  test('long contexts are cut from the left to the model window', () => {
    const { m, tok } = setup();
    const s = new Scorer(m, tok, { maxLen: 16 });
    const e = s.encode({ context: 'x'.repeat(40), continuation: 'yz' });
    assert.equal(e.ids.length, 17);
    assert.equal(e.contStart, 15);
    assert.ok(Number.isFinite(s.loglikelihood('x'.repeat(40), 'yz').logprob));
    assert.throws(() => s.loglikelihood('', 'y'.repeat(40)));
  });
});

describe('sliding-window perplexity', () => {
  test('every token after BOS is scored exactly once, with enough context', () => {
    for (const [n, w, s] of [[50, 16, 8], [17, 16, 8], [5, 16, 8], [100, 10, 10], [33, 7, 3]] as const) {
      const seen = new Array(n).fill(0);
      for (const win of slidingWindows(n, w, s)) {
        assert.ok(win.end - 1 - win.start <= w);
        for (let p = win.scoreFrom; p < win.end; p++) seen[p]++;
        if (win.start > 0) assert.ok(win.scoreFrom - win.start >= w - s, 'context of at least window − stride');
      }
      assert.deepEqual(seen, [0, ...new Array(n - 1).fill(1)], `n=${n} w=${w} s=${s}`);
    }
  });
  test('stride = window gives the mean of independent windows; smaller strides only add context', () => {
    const { m, tok } = setup();
    const text = 'the quick brown fox jumps over the lazy dog';
    const full = perplexity(m, tok, [text], { window: 16, stride: 16 });
    const ids = [tok.bosId, ...tok.encode(text)];
    let nll = 0;
    for (const w of slidingWindows(ids.length, 16, 16)) {
      const T = w.end - 1 - w.start;
      nll += m.forward(Int32Array.from(ids.slice(w.start, w.end - 1)), Int32Array.from(ids.slice(w.start + 1, w.end)), 1, T) * T;
    }
    assert.ok(Math.abs(full.nll - nll) < 1e-9);
    assert.equal(full.tokens, ids.length - 1);
    assert.equal(full.bytes, text.length);
    assert.ok(Math.abs(full.bpb - nll / Math.LN2 / text.length) < 1e-12);
    const half = perplexity(m, tok, [text], { window: 16, stride: 8, batchSize: 3 });
    assert.equal(half.tokens, full.tokens);
  });
});

describe('offline tasks from held-out documents', () => {
  const docs = [
    'The Congress met in the winter of that year. The treasury was full and the army was small. We must guard the frontier. The farmers of the west asked for roads and canals. Our commerce with foreign nations increased greatly. The navy protected our ships at sea. Peace was preserved with every nation. The revenue exceeded the expenses of the government.',
    'I report to you on the state of the Union. Our economy is growing again. Millions of workers found new jobs this year. We invested in schools and in science. The deficit is falling. Our troops are coming home. We will not forget their service. Together we can build a stronger nation for our children and their children.',
    'Fellow citizens, the year has been one of progress. Railroads now reach the Pacific coast. Immigration brings new strength to the republic. The public debt has been reduced. Education is spreading to every state. The nation looks forward with confidence. We thank Providence for the blessings of peace and plenty in the land. The harvest was abundant and the harvest fed the nation.',
  ];
  test('deterministic, well-formed, and sized as asked', () => {
    const a = offlineTasks(docs, { items: 6, seed: 3 });
    assert.deepEqual(a, offlineTasks(docs, { items: 6, seed: 3 }));
    assert.notDeepEqual(a, offlineTasks(docs, { items: 6, seed: 4 }));
    assert.deepEqual(a.map((t) => t.name), ['lambada-lite', 'ending-4way', 'ending-2way', 'minimal-pairs']);
    for (const t of a) {
      if (t.kind === 'choice') {
        assert.ok(t.items.length > 0 && t.items.length <= 6, `${t.name}: ${t.items.length}`);
        for (const it of t.items) {
          assert.ok(it.label >= 0 && it.label < it.options.length);
          assert.equal(new Set(it.options.map((o) => o.continuation)).size, it.options.length, 'options differ');
          assert.equal(new Set(it.options.map((o) => o.context)).size, 1, 'same context');
        }
      }
    }
    const four = a[1]!;
    if (four.kind === 'choice') {
      for (const it of four.items) {
        const truth = it.options[it.label]!.continuation;
        const doc = docs.findIndex((d) => d.includes(truth.trim()));
        for (const [i, o] of it.options.entries()) {
          if (i === it.label) continue;
          assert.ok(!docs[doc]!.includes(o.continuation.trim()), 'distractors come from other documents');
          assert.ok(Math.abs(o.continuation.length - truth.length) <= 0.2 * (truth.length - 1) + 1, 'length within ±20 %');
          assert.notEqual(o.continuation.trim().split(' ')[0], truth.trim().split(' ')[0]);
        }
      }
    }
    const lam = a[0]!;
    assert.equal(lam.kind, 'cloze');
    if (lam.kind === 'cloze') {
      assert.ok(lam.items.length > 0);
      for (const it of lam.items) {
        const n = (it.context + it.target).split(' ').length;
        assert.ok(n >= 60 && n <= 120, `${n} words`);
        assert.ok(new RegExp(`\\b${it.target.trim()}\\b`, 'i').test(it.context), 'target occurs earlier');
      }
    }
    assert.ok(sentences('He said "Stop." Then he left. Mr. X? Yes!').length >= 3);
  });
  test('every task runs through the scorer; a random model is near chance and outputs are in range', () => {
    const { m, tok } = setup();
    const scorer = new Scorer(m, tok, { batchSize: 4 });
    for (const t of offlineTasks(docs, { items: 4, seed: 1 })) {
      const r = runTask(scorer, t);
      if (t.kind === 'cloze') assert.ok(r.ppl! > 1 && r.acc! >= 0 && r.acc! <= 1);
      else assert.ok(r.acc! >= 0 && r.acc! <= 1 && r.accNorm! >= 0 && r.accNorm! <= 1);
    }
    const wt = runTask(scorer, { name: 'wikitext', kind: 'text', texts: ['some text to score here'] });
    assert.ok(wt.bpb! > 0 && wt.ppl! > 1);
  });
});
