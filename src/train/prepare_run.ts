/**
 * From a corpus name to a ready DataSource: load the corpus (bundled SOTU or a directory),
 * train a byte-level BPE on its train split (cached by corpus + vocab size), tokenize
 * every split once into token files (cached), and wrap them for the trainer.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpus, splitCorpus } from '../data/corpus.js';
import { prepareTokens } from '../data/prepare.js';
import { arraySource } from '../data/sampler.js';
import { readTokenFile } from '../data/tokfile.js';
import { createHash } from 'node:crypto';
import { loadTokenizer, saveTokenizer } from '../tokenizer/io.js';
import { trainBpe } from '../tokenizer/train.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { tokenDataSource } from './data_source.js';
import type { DataSource } from './loop.js';

export interface PreparedRun {
  tokenizer: Tokenizer;
  tokenizerPath: string;
  data: DataSource;
  counts: { train: number; val: number; test: number };
}

export function prepareRun(opts: { data: string; vocabSize: number; cacheDir: string; seed: number; log?: (m: string) => void }): PreparedRun {
  const log = opts.log ?? (() => undefined);
  const corpus = loadCorpus(opts.data);
  const docs = splitCorpus(corpus);
  mkdirSync(opts.cacheDir, { recursive: true });
  const h = createHash('sha256');
  for (const d of docs.train) h.update(d.name).update('\0').update(d.text).update('\0');
  const tokPath = join(opts.cacheDir, `tokenizer-${h.digest('hex').slice(0, 12)}-v${opts.vocabSize}.json`);
  let tokenizer: Tokenizer;
  if (existsSync(tokPath)) tokenizer = loadTokenizer(tokPath);
  else {
    const t0 = performance.now();
    tokenizer = trainBpe(docs.train.map((d) => d.text), { vocabSize: opts.vocabSize });
    saveTokenizer(tokenizer, tokPath);
    log(`trained a ${tokenizer.vocabSize}-token BPE on ${docs.train.length} documents in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const prep = prepareTokens(corpus, tokenizer, opts.cacheDir, log);
  const train = readTokenFile(prep.files.train).tokens;
  const val = readTokenFile(prep.files.val).tokens;
  const vh = prep.headers.val;
  return {
    tokenizer,
    tokenizerPath: tokPath,
    data: tokenDataSource(arraySource(train), arraySource(val), vh.textBytes / vh.count, opts.seed),
    counts: { train: prep.headers.train.count, val: vh.count, test: prep.headers.test.count },
  };
}
