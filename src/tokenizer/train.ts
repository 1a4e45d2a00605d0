/**
 * Byte-level BPE training (Sennrich et al. 2016, GPT-2 byte-level variant).
 *
 * Algorithm:
 *   1. Pre-tokenize every text (special-token strings are cut out first and never learned) and count
 *      word frequencies: the corpus becomes a multiset of distinct words {w: f(w)}.
 *   2. Each word is a sequence of byte ids (0…255). Pair counts c(a,b) = Σ_w f(w)·#occurrences of (a,b) in w,
 *      plus an index pair → words containing it.
 *   3. Repeat until the vocabulary is full: take the pair with the highest count — ties broken by the smallest
 *      (left id, right id), lexicographically — stop if its count < minFrequency; create the token
 *      z = string(a) + string(b) (reusing the id if that byte string already exists, as HF does), replace
 *      every non-overlapping occurrence of (a,b), left to right, in the words that contain it, and update only
 *      the pair counts of those words (incremental, never a full recount). The max is kept in a lazy
 *      max-heap: stale entries are discarded when popped.
 * Deterministic: the result depends only on the texts (their concatenated content and document boundaries)
 * and the options, never on Map iteration order or timing.
 */
import { ArgumentError } from '../errors.js';
import { BpeTokenizer } from './bpe.js';
import { BYTE_TO_CHAR, compilePattern, utf8 } from './bytes.js';
import { DEFAULT_SPECIAL_TOKENS } from './types.js';

/** Options of `trainBpe`. */
export interface TrainBpeOptions {
  /** Total number of ids, including the 256 byte tokens and the special tokens (an upper bound: training
   *  stops earlier when no pair reaches minFrequency). */
  vocabSize: number;
  /** Special tokens, appended after the learned tokens; [0] is BOS, [1] EOS. Default DEFAULT_SPECIAL_TOKENS. */
  specialTokens?: readonly string[];
  /** A pair is merged only if it occurs at least this often (default 2). */
  minFrequency?: number;
  /** Pre-tokenizer: preset name ('gpt2' default, 'llama3') or a regex source. */
  pattern?: string;
}

const KEY = 1 << 21;

/** A max-heap of (count, pair key): higher count first, then smaller key (= smaller (left, right)). */
class PairHeap {
  private c: number[] = [];
  private k: number[] = [];
  get size(): number { return this.c.length; }
  private before(i: number, j: number): boolean {
    const ci = this.c[i]!, cj = this.c[j]!;
    return ci > cj || (ci === cj && this.k[i]! < this.k[j]!);
  }
  private swap(i: number, j: number): void {
    const c = this.c[i]!, k = this.k[i]!;
    this.c[i] = this.c[j]!; this.k[i] = this.k[j]!; this.c[j] = c; this.k[j] = k;
  }
  push(count: number, key: number): void {
    this.c.push(count); this.k.push(key);
    for (let i = this.c.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p); i = p;
    }
  }
  /** Remove the top; returns [count, key]. */
  pop(): [number, number] {
    const top: [number, number] = [this.c[0]!, this.k[0]!];
    const lc = this.c.pop()!, lk = this.k.pop()!;
    const n = this.c.length;
    if (n > 0) {
      this.c[0] = lc; this.k[0] = lk;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < n && this.before(l, m)) m = l;
        if (r < n && this.before(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m); i = m;
      }
    }
    return top;
  }
}

/**
 * Count pre-token frequencies over `texts` (special-token strings removed). Returns words in first-seen
 * order with their counts. Exposed for tests and for corpus statistics.
 */
export function countWords(texts: Iterable<string>, pattern = 'gpt2', specialTokens: readonly string[] = DEFAULT_SPECIAL_TOKENS): Map<string, number> {
  const re = compilePattern(pattern);
  const counts = new Map<string, number>();
  const specials = specialTokens.filter((s) => s.length > 0);
  for (const text of texts) {
    let sections = [text];
    for (const s of specials) sections = sections.flatMap((t) => t.split(s));
    for (const t of sections) {
      re.lastIndex = 0;
      for (let m = re.exec(t); m !== null; m = re.exec(t)) {
        const w = m[0];
        if (w.length === 0) { re.lastIndex++; continue; }
        counts.set(w, (counts.get(w) ?? 0) + 1);
      }
    }
  }
  return counts;
}

/**
 * Train a byte-level BPE tokenizer on `texts` (each element one document; an array or any iterable,
 * e.g. a generator streaming files). See the module comment for the algorithm and the tie rule.
 * Id layout of the result: 0…255 = bytes (id = byte value), then learned tokens in merge order, then
 * the special tokens.
 */
export function trainBpe(texts: Iterable<string>, opts: TrainBpeOptions): BpeTokenizer {
  const specials = [...(opts.specialTokens ?? DEFAULT_SPECIAL_TOKENS)];
  const minFreq = opts.minFrequency ?? 2;
  const pattern = opts.pattern ?? 'gpt2';
  if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < 256 + specials.length || opts.vocabSize >= KEY)
    throw new ArgumentError(`trainBpe: vocabSize must be an integer in [${256 + specials.length}, ${KEY}) (256 bytes + ${specials.length} specials), got ${opts.vocabSize}`);
  if (!Number.isInteger(minFreq) || minFreq < 1) throw new ArgumentError(`trainBpe: minFrequency must be a positive integer, got ${minFreq}`);
  if (new Set(specials).size !== specials.length) throw new ArgumentError('trainBpe: duplicate special tokens');
  const maxTokens = opts.vocabSize - specials.length;

  // 1. word counts → words as byte-id sequences
  const counts = countWords(texts, pattern, specials);
  const nw = counts.size;
  const words: Int32Array[] = new Array(nw);
  const lens = new Int32Array(nw);
  const freq = new Float64Array(nw);
  let wi = 0;
  for (const [w, f] of counts) {
    const b = utf8(w);
    words[wi] = Int32Array.from(b);
    lens[wi] = b.length;
    freq[wi] = f;
    wi++;
  }

  // 2. initial pair counts and where-index
  const pairCount = new Map<number, number>();
  const where = new Map<number, number[]>();
  for (let w = 0; w < nw; w++) {
    const s = words[w]!, f = freq[w]!;
    for (let i = 0; i + 1 < lens[w]!; i++) {
      const k = s[i]! * KEY + s[i + 1]!;
      pairCount.set(k, (pairCount.get(k) ?? 0) + f);
      const lst = where.get(k);
      if (lst === undefined) where.set(k, [w]);
      else if (lst[lst.length - 1] !== w) lst.push(w);
    }
  }
  const heap = new PairHeap();
  for (const [k, c] of pairCount) heap.push(c, k);

  // 3. merge loop
  const tokens: string[] = BYTE_TO_CHAR.slice();
  const tokId = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const merges: [string, string][] = [];
  const stamp = new Int32Array(nw).fill(-1);
  const delta = new Map<number, number>();
  while (tokens.length < maxTokens && heap.size > 0) {
    const [count, key] = heap.pop();
    if (pairCount.get(key) !== count) continue; // stale entry
    if (count < minFreq) break;
    const a = Math.floor(key / KEY), b = key - a * KEY;
    const str = tokens[a]! + tokens[b]!;
    let z = tokId.get(str);
    if (z === undefined) { z = tokens.length; tokens.push(str); tokId.set(str, z); }
    merges.push([tokens[a]!, tokens[b]!]);
    const m = merges.length;
    delta.clear();
    const add = (k: number, d: number): void => { delta.set(k, (delta.get(k) ?? 0) + d); };
    for (const w of where.get(key)!) {
      if (stamp[w] === m) continue;
      stamp[w] = m;
      const s = words[w]!, n = lens[w]!, f = freq[w]!;
      let found = false;
      for (let i = 0; i + 1 < n; i++) if (s[i] === a && s[i + 1] === b) { found = true; break; }
      if (!found) continue; // stale where-entry
      for (let i = 0; i + 1 < n; i++) add(s[i]! * KEY + s[i + 1]!, -f);
      let j = 0;
      for (let i = 0; i < n;) {
        if (i + 1 < n && s[i] === a && s[i + 1] === b) { s[j++] = z; i += 2; } else s[j++] = s[i++]!;
      }
      lens[w] = j;
      for (let i = 0; i + 1 < j; i++) {
        const k = s[i]! * KEY + s[i + 1]!;
        add(k, f);
        if (s[i] === z || s[i + 1] === z) {
          const lst = where.get(k);
          if (lst === undefined) where.set(k, [w]);
          else if (lst[lst.length - 1] !== w) lst.push(w);
        }
      }
    }
    where.delete(key);
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const c = (pairCount.get(k) ?? 0) + d;
      if (c <= 0) { pairCount.delete(k); continue; }
      pairCount.set(k, c);
      heap.push(c, k);
    }
  }
  return new BpeTokenizer({
    tokens, merges, pattern,
    specials: specials.map((content, i) => ({ content, id: tokens.length + i })),
  });
}
