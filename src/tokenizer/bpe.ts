/**
 * Byte-level BPE tokenizer (GPT-2 / LLaMA-3 style) with its own fast encoder, and its Hugging Face
 * tokenizer.json form.
 *
 * Encoding of a text:
 *   1. split out special tokens (exact string match, longest first) → each becomes its single id;
 *   2. pre-tokenize every other section with the regex (GPT-2 by default, see bytes.ts);
 *   3. each pre-token → its UTF-8 bytes → ids of the 256 byte tokens → BPE merges: repeatedly merge the
 *      adjacent pair with the lowest merge rank, the leftmost one on ties (exactly the rule of
 *      @huggingface/tokenizers and of the Rust crate), until no adjacent pair is a merge.
 * Pre-token results are memoised (pre-tokens repeat heavily in prose), which makes bulk encoding fast.
 *
 * tokenizer.json written by `toJSON()`: model {type "BPE", vocab {token: id}, merges [[left, right]…],
 * ignore_merges false}; pre_tokenizer ByteLevel {add_prefix_space false, use_regex true} for the GPT-2
 * pattern, or Sequence[Split {Regex pattern, Isolated}, ByteLevel {use_regex false}] for any other pattern
 * (as LLaMA-3 does); decoder ByteLevel; added_tokens = the specials (special: true).
 */
import { ArgumentError } from '../errors.js';
import { BYTE_TO_CHAR, CHAR_TO_BYTE, GPT2_PATTERN, PRETOKENIZER_PRESETS, compilePattern, utf8 } from './bytes.js';
import type { Tokenizer } from './types.js';

/** What defines a byte-level BPE tokenizer; `tokens[id]` is the byte-level string of each non-special id. */
export interface BpeSpec {
  /** Byte-level token strings of the model vocabulary, index = id (must contain all 256 byte chars). */
  tokens: string[];
  /** Merges in rank order, as [left token, right token] strings. */
  merges: [string, string][];
  /** Special tokens and their ids (usually vocabulary-size-1…); the first is BOS, the second EOS by default. */
  specials: { content: string; id: number }[];
  /** Pre-tokenizer regex source or preset name ('gpt2', 'llama3'). */
  pattern: string;
  /** HF `ignore_merges`: a pre-token that is itself in the vocabulary is emitted as one id (LLaMA-3). */
  ignoreMerges?: boolean;
  /** Which special is BOS / EOS (defaults: specials[0], specials[1] ?? specials[0]). */
  bos?: string;
  eos?: string;
}

const KEY = 1 << 21; // pair key = left * KEY + right (ids < 2^21)
const DEC = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** A byte-level BPE tokenizer; see the module comment for the encoding rule and the JSON form. */
export class BpeTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly pattern: string;
  private readonly spec: BpeSpec;
  private readonly idToTok: string[];
  private readonly tokToId = new Map<string, number>();
  private readonly byteId = new Int32Array(256);
  /** Bytes of every vocabulary token, concatenated: token id < tokens.length has bytes [byteOff[id], byteOff[id + 1]) (one buffer, not 10^5 small arrays); ids beyond are specials, rendered verbatim. */
  private readonly allBytes: Uint8Array;
  private readonly byteOff: Int32Array;
  private readonly rank = new Map<number, number>(); // pair key → merge rank
  private readonly result: Int32Array; // merge rank → id of the merged token
  private readonly re: RegExp;
  private readonly specialRe: RegExp | undefined;
  private readonly specialIds = new Map<string, number>();
  private readonly cache = new Map<string, Int32Array>();

  constructor(spec: BpeSpec) {
    this.spec = spec;
    this.pattern = spec.pattern;
    this.re = compilePattern(spec.pattern);
    let n = spec.tokens.length; // a loop, not Math.max(...ids): a spread of 10^5 ids overflows the stack
    for (const s of spec.specials) {
      if (!Number.isInteger(s.id) || s.id < 0) throw new ArgumentError(`BpeTokenizer: special token id ${s.id} is not a non-negative integer`);
      n = Math.max(n, s.id + 1);
    }
    if (n >= KEY) throw new ArgumentError(`BpeTokenizer: vocabulary of ${n} ids exceeds the limit ${KEY}`);
    this.vocabSize = n;
    this.idToTok = new Array<string>(n).fill('');
    let total = 0;
    for (const t of spec.tokens) total += t.length;
    this.allBytes = new Uint8Array(total);
    this.byteOff = new Int32Array(spec.tokens.length + 1);
    let at = 0;
    spec.tokens.forEach((t, id) => {
      if (this.tokToId.has(t)) throw new ArgumentError(`BpeTokenizer: token ${JSON.stringify(t)} appears twice`);
      this.tokToId.set(t, id);
      this.idToTok[id] = t;
      this.byteOff[id] = at;
      for (let i = 0; i < t.length; i++) {
        const c = t.charCodeAt(i);
        const b = c < 512 ? CHAR_TO_BYTE[c]! : -1;
        if (b < 0) throw new ArgumentError(`BpeTokenizer: token ${JSON.stringify(t)} is not a byte-level string`);
        this.allBytes[at++] = b;
      }
      this.byteOff[id + 1] = at;
    });
    for (let b = 0; b < 256; b++) {
      const id = this.tokToId.get(BYTE_TO_CHAR[b]!);
      if (id === undefined) throw new ArgumentError(`BpeTokenizer: byte token for 0x${b.toString(16)} is missing`);
      this.byteId[b] = id;
    }
    this.result = new Int32Array(spec.merges.length);
    spec.merges.forEach(([l, r], i) => {
      const a = this.tokToId.get(l), b = this.tokToId.get(r), z = this.tokToId.get(l + r);
      if (a === undefined || b === undefined || z === undefined) throw new ArgumentError(`BpeTokenizer: merge ${i} (${JSON.stringify(l)} ${JSON.stringify(r)}) uses tokens not in the vocabulary`);
      this.rank.set(a * KEY + b, i); // a repeated pair keeps its last rank, as @huggingface/tokenizers does
      this.result[i] = z;
    });
    for (const s of spec.specials) {
      if (s.content.length === 0) throw new ArgumentError('BpeTokenizer: empty special token');
      this.specialIds.set(s.content, s.id);
      this.idToTok[s.id] = s.content;
    }
    if (spec.specials.length > 0) {
      const alts = [...spec.specials].map((s) => s.content).sort((x, y) => y.length - x.length || (x < y ? -1 : 1));
      this.specialRe = new RegExp(alts.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
    }
    const bos = spec.bos ?? spec.specials[0]?.content, eos = spec.eos ?? spec.specials[1]?.content ?? bos;
    this.bosId = bos === undefined ? -1 : this.specialIds.get(bos) ?? -1;
    this.eosId = eos === undefined ? -1 : this.specialIds.get(eos) ?? -1;
  }

  /** Number of merges (ranks). */
  get numMerges(): number { return this.spec.merges.length; }

  /** Encode `text` (see the module comment); specials inside the text become their ids, nothing is added. */
  encode(text: string): number[] {
    const out: number[] = [];
    this.encodeInto(text, out);
    return out;
  }

  /** Like `encode`, appending to `out` (avoids concatenation in bulk encoding). */
  encodeInto(text: string, out: number[]): void {
    if (this.specialRe === undefined) { this.encodeOrdinary(text, out); return; }
    this.specialRe.lastIndex = 0;
    let last = 0;
    for (let m = this.specialRe.exec(text); m !== null; m = this.specialRe.exec(text)) {
      if (m.index > last) this.encodeOrdinary(text.slice(last, m.index), out);
      out.push(this.specialIds.get(m[0])!);
      last = m.index + m[0].length;
    }
    if (last < text.length) this.encodeOrdinary(last === 0 ? text : text.slice(last), out);
  }

  /** Encode text that contains no special tokens (pre-tokenize + BPE, memoised per pre-token). */
  private encodeOrdinary(text: string, out: number[]): void {
    const re = this.re;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const w = m[0];
      if (w.length === 0) { re.lastIndex++; continue; }
      let ids = this.cache.get(w);
      if (ids === undefined) {
        ids = this.bpeWord(w);
        if (w.length < 256) {
          if (this.cache.size >= 1 << 18) this.cache.clear();
          this.cache.set(w, ids);
        }
      }
      for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
    }
  }

  /** BPE of one pre-token: lowest rank first, leftmost on ties. */
  private bpeWord(w: string): Int32Array {
    const bytes = utf8(w);
    if (this.spec.ignoreMerges) {
      let s = '';
      for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]!]!;
      const id = this.tokToId.get(s);
      if (id !== undefined) return Int32Array.of(id);
    }
    const ids = new Int32Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) ids[i] = this.byteId[bytes[i]!]!;
    return ids.length > 48 ? this.mergeLong(ids) : this.mergeShort(ids);
  }

  /** O(L²) merge loop, fastest for short words. */
  private mergeShort(ids: Int32Array): Int32Array {
    let n = ids.length;
    const rank = this.rank;
    for (;;) {
      let best = -1, bestRank = 0x7fffffff;
      for (let i = 0; i + 1 < n; i++) {
        const r = rank.get(ids[i]! * KEY + ids[i + 1]!);
        if (r !== undefined && r < bestRank) { bestRank = r; best = i; }
      }
      if (best < 0) break;
      ids[best] = this.result[bestRank]!;
      ids.copyWithin(best + 1, best + 2, n);
      n--;
    }
    return ids.slice(0, n);
  }

  /** O(L log L) merge with a linked list and a lazy min-heap of (rank, position), for long pre-tokens. */
  private mergeLong(ids: Int32Array): Int32Array {
    const n = ids.length, rank = this.rank;
    const next = new Int32Array(n), prev = new Int32Array(n), ver = new Int32Array(n);
    for (let i = 0; i < n; i++) { next[i] = i + 1; prev[i] = i - 1; }
    next[n - 1] = -1;
    const heap: number[][] = []; // [rank, pos, verL, right, verR]
    const less = (a: number[], b: number[]): boolean => a[0]! < b[0]! || (a[0] === b[0] && a[1]! < b[1]!);
    const push = (e: number[]): void => {
      heap.push(e);
      for (let i = heap.length - 1; i > 0;) {
        const p = (i - 1) >> 1;
        if (!less(heap[i]!, heap[p]!)) break;
        [heap[i], heap[p]] = [heap[p]!, heap[i]!]; i = p;
      }
    };
    const pop = (): number[] => {
      const top = heap[0]!, last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        for (let i = 0; ;) {
          const l = 2 * i + 1, r = l + 1;
          let m = i;
          if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
          if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
          if (m === i) break;
          [heap[i], heap[m]] = [heap[m]!, heap[i]!]; i = m;
        }
      }
      return top;
    };
    const consider = (i: number): void => {
      const j = next[i]!;
      if (i < 0 || j < 0) return;
      const r = rank.get(ids[i]! * KEY + ids[j]!);
      if (r !== undefined) push([r, i, ver[i]!, j, ver[j]!]);
    };
    for (let i = 0; i + 1 < n; i++) consider(i);
    while (heap.length > 0) {
      const [r, i, vi, j, vj] = pop() as [number, number, number, number, number];
      if (ver[i] !== vi || ver[j] !== vj || next[i] !== j) continue;
      ids[i] = this.result[r]!;
      ver[i]!++; ver[j] = -1; // j is gone
      next[i] = next[j]!;
      if (next[i]! >= 0) prev[next[i]!] = i;
      if (prev[i]! >= 0) consider(prev[i]!); // (prev, i) entries were invalidated by ver[i]++
      consider(i);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) out.push(ids[i]!);
    return Int32Array.from(out);
  }

  /** Decode ids: byte runs are UTF-8 decoded (U+FFFD for invalid sequences), specials rendered verbatim. */
  decode(ids: ArrayLike<number>): string {
    let s = '';
    let buf = new Uint8Array(64), len = 0;
    const flush = (): void => { if (len > 0) { s += DEC.decode(buf.subarray(0, len)); len = 0; } };
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      if (!(Number.isInteger(id) && id >= 0 && id < this.byteOff.length - 1)) {
        const t = this.idToTok[id];
        if (t === undefined) throw new ArgumentError(`BpeTokenizer.decode: id ${id} is outside [0, ${this.vocabSize})`);
        flush(); s += t; continue;
      }
      const b = this.allBytes.subarray(this.byteOff[id]!, this.byteOff[id + 1]!);
      if (len + b.length > buf.length) { const nb = new Uint8Array(2 * (len + b.length)); nb.set(buf.subarray(0, len)); buf = nb; }
      buf.set(b, len); len += b.length;
    }
    flush();
    return s;
  }

  tokenToId(token: string): number | undefined {
    return this.specialIds.get(token) ?? this.tokToId.get(token);
  }

  idToToken(id: number): string | undefined {
    return Number.isInteger(id) && id >= 0 && id < this.vocabSize && this.idToTok[id] !== '' ? this.idToTok[id] : undefined;
  }

  /** The Hugging Face tokenizer.json object (see the module comment). Key order is fixed, so output is deterministic. */
  toJSON(): object {
    const vocab: Record<string, number> = {};
    this.spec.tokens.forEach((t, id) => { vocab[t] = id; });
    const src = PRETOKENIZER_PRESETS[this.pattern] ?? this.pattern;
    const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: src === GPT2_PATTERN };
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: this.spec.specials.map((s) => ({ id: s.id, content: s.content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: null,
      pre_tokenizer: src === GPT2_PATTERN ? byteLevel : {
        type: 'Sequence',
        pretokenizers: [{ type: 'Split', pattern: { Regex: src }, behavior: 'Isolated', invert: false }, byteLevel],
      },
      post_processor: null,
      decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
        fuse_unk: false, byte_fallback: false, ignore_merges: this.spec.ignoreMerges ?? false,
        vocab, merges: this.spec.merges.map(([l, r]) => [l, r]),
      },
    };
  }
}

/**
 * The byte-level fallback tokenizer: ids 0…255 are the bytes themselves, then the specials
 * (default BOS = 256, EOS = 257); no merges. Same interface and tokenizer.json form as a trained BPE.
 */
export function byteTokenizer(specialTokens: readonly string[] = ['<|begin_of_text|>', '<|end_of_text|>']): BpeTokenizer {
  return new BpeTokenizer({
    tokens: BYTE_TO_CHAR.slice(), merges: [], pattern: 'gpt2',
    specials: specialTokens.map((content, i) => ({ content, id: 256 + i })),
  });
}
