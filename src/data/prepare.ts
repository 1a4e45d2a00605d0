/**
 * Tokenize a corpus once into per-split token files, cached (Node).
 *
 * Cache layout: `<cacheDir>/<key16>/{train,val,test}.bntk` + `manifest.json` (written last, atomically: its
 * presence marks a complete entry). key = SHA-256 over the tokenizer hash and, per split, each document's
 * name and text, so a different tokenizer, corpus, file list, file content or split gives a different entry.
 * Each document is stored as BOS, its tokens, EOS (a missing BOS/EOS id is skipped).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile, tokenizerHash } from '../tokenizer/io.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { utf8Length } from '../tokenizer/bytes.js';
import { SPLITS, splitCorpus, type Corpus, type Doc, type Split } from './corpus.js';
import { TokenFileReader, TokenFileWriter, type TokenFileHeader } from './tokfile.js';

/** Where the token files of a prepared corpus are, with their headers. */
export interface PreparedData {
  /** The cache entry directory. */
  dir: string;
  /** Cache key (hex SHA-256). */
  key: string;
  /** Path of each split's token file. */
  files: Record<Split, string>;
  /** Header of each split's token file (counts, text bytes → bits per byte). */
  headers: Record<Split, TokenFileHeader>;
  /** Whether the entry was already cached. */
  cached: boolean;
}

/** The cache key of (tokenizer, documents by split): hex SHA-256, see the module comment. */
export function cacheKey(tokHash: string, docs: Record<Split, readonly Doc[]>): string {
  const h = createHash('sha256').update(`bntk-v1\0${tokHash}\0`);
  for (const s of SPLITS) {
    h.update(`${s}\0${docs[s].length}\0`);
    for (const d of docs[s]) h.update(d.name).update('\0').update(d.text).update('\0');
  }
  return h.digest('hex');
}

/**
 * Encode `docs` (each as BOS + tokens + EOS) into a token file at `path`, atomically; returns its header.
 * textBytes counts the UTF-8 bytes of the document texts only.
 */
export function writeDocsTokenFile(path: string, tokenizer: Tokenizer, docs: readonly Doc[], tokHash = tokenizerHash(tokenizer)): TokenFileHeader {
  const w = new TokenFileWriter(path, tokenizer.vocabSize, tokenizer.bosId, tokenizer.eosId, tokHash);
  try {
    for (const d of docs) {
      const ids = tokenizer.encode(d.text);
      if (tokenizer.bosId >= 0) ids.unshift(tokenizer.bosId);
      if (tokenizer.eosId >= 0) ids.push(tokenizer.eosId);
      w.append(ids);
      w.textBytes += utf8Length(d.text);
      w.numDocs++;
    }
    return w.close();
  } catch (e) {
    w.abort();
    throw e;
  }
}

/** Tokenize every split of `corpus` with `tokenizer` into `cacheDir`, or reuse the cached entry. */
export function prepareTokens(corpus: Corpus, tokenizer: Tokenizer, cacheDir: string, log: (msg: string) => void = () => {}): PreparedData {
  const docs = splitCorpus(corpus);
  const tokHash = tokenizerHash(tokenizer);
  const key = cacheKey(tokHash, docs);
  const dir = join(cacheDir, key.slice(0, 16));
  const files = { train: join(dir, 'train.bntk'), val: join(dir, 'val.bntk'), test: join(dir, 'test.bntk') };
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) {
    try {
      const m = JSON.parse(readFileSync(manifest, 'utf8')) as { key?: string };
      if (m.key === key) {
        const headers = {} as Record<Split, TokenFileHeader>;
        for (const s of SPLITS) { const r = new TokenFileReader(files[s]); headers[s] = r.header; r.close(); }
        if (SPLITS.every((s) => headers[s].tokenizerHash === tokHash.slice(0, 32))) {
          log(`tokens: cached ${dir}`);
          return { dir, key, files, headers, cached: true };
        }
      }
    } catch { /* rebuild below */ }
  }
  mkdirSync(dir, { recursive: true });
  const headers = {} as Record<Split, TokenFileHeader>;
  for (const s of SPLITS) {
    const t0 = Date.now();
    headers[s] = writeDocsTokenFile(files[s], tokenizer, docs[s], tokHash);
    log(`tokens: ${s} ${docs[s].length} docs, ${headers[s].textBytes} bytes → ${headers[s].count} tokens (${Date.now() - t0} ms)`);
  }
  atomicWriteFile(manifest, JSON.stringify({
    key, corpus: corpus.name, tokenizerHash: tokHash,
    docs: { train: docs.train.map((d) => d.name), val: docs.val.map((d) => d.name), test: docs.test.map((d) => d.name) },
    headers,
  }, null, 1) + '\n');
  return { dir, key, files, headers, cached: false };
}
