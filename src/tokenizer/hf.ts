/**
 * Hugging Face tokenizer.json interop.
 *
 * - `bpeFromJSON`: recognise a tokenizer.json our fast encoder reproduces exactly (byte-level BPE, no
 *   normalizer, ByteLevel pre-tokenizer with the GPT-2 regex or Split(GPT-2 / LLaMA-3 regex)+ByteLevel,
 *   ByteLevel decoder, plain added tokens) and build a `BpeTokenizer` from it; anything else → undefined.
 * - `HfTokenizer`: any tokenizer.json, through @huggingface/tokenizers (pure JS), behind our interface.
 *   `encode` never adds BOS/EOS (add_special_tokens: false) and `decode` never "cleans up" spaces, so both
 *   wrappers agree on the same file.
 * - `tokenizerFromJSON`: the first if it applies, else the second.
 *
 * The library is imported dynamically, and a failed import is not fatal: a browser module worker cannot
 * resolve the bare specifier (import maps do not apply inside workers), and it needs no library for the
 * tokenizers `bpeFromJSON` takes. Such a context can hand the module in: `setHfTokenizersLibrary(await import(url))`.
 */
import type * as HfLib from '@huggingface/tokenizers';
import { ArgumentError, FormatError } from '../errors.js';
import { BpeTokenizer } from './bpe.js';
import { BYTE_TO_CHAR, GPT2_PATTERN, LLAMA3_PATTERN } from './bytes.js';
import type { Tokenizer } from './types.js';

type Json = Record<string, unknown>;
type HfLibTokenizer = HfLib.Tokenizer;

let hfLib: typeof HfLib | undefined = await import('@huggingface/tokenizers').catch(() => undefined);

/** Use this @huggingface/tokenizers module (where the bare specifier does not resolve, e.g. a browser worker). */
export function setHfTokenizersLibrary(lib: typeof HfLib): void {
  hfLib = lib;
}
const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Candidate BOS / EOS token strings, in preference order, when tokenizer_config.json does not say. */
const BOS_NAMES = ['<|begin_of_text|>', '<s>', '<|startoftext|>', '<|im_start|>', '<|endoftext|>'];
const EOS_NAMES = ['<|end_of_text|>', '</s>', '<|endoftext|>', '<|eot_id|>', '<|im_end|>'];

/** The content of a tokenizer_config.json entry like `bos_token` (a string or an {content} object). */
function tokenName(x: unknown): string | undefined {
  if (typeof x === 'string') return x;
  if (isObj(x) && typeof x.content === 'string') return x.content;
  return undefined;
}

/** Choose BOS/EOS among `specials`: tokenizer_config.json first, then well-known names, then order. */
export function pickBosEos(specials: readonly string[], config: Json = {}): { bos?: string; eos?: string } {
  const has = (s: string | undefined): s is string => s !== undefined && specials.includes(s);
  const cb = tokenName(config.bos_token), ce = tokenName(config.eos_token);
  const bos = has(cb) ? cb : BOS_NAMES.find((n) => specials.includes(n)) ?? specials[0];
  const eos = has(ce) ? ce : EOS_NAMES.find((n) => specials.includes(n) && n !== bos) ?? specials[1] ?? bos;
  return { ...(bos !== undefined ? { bos } : {}), ...(eos !== undefined ? { eos } : {}) };
}

/** The pre-tokenizer pattern if `pt` is one our encoder reproduces exactly, else undefined. */
function patternOf(pt: unknown): string | undefined {
  if (!isObj(pt)) return undefined;
  const byteLevelOk = (b: Json, regex: boolean): boolean =>
    b.type === 'ByteLevel' && (b.add_prefix_space ?? false) === false && (b.use_regex ?? true) === regex;
  if (byteLevelOk(pt, true)) return 'gpt2';
  if (pt.type !== 'Sequence' || !Array.isArray(pt.pretokenizers) || pt.pretokenizers.length !== 2) return undefined;
  const [split, bl] = pt.pretokenizers as unknown[];
  if (!isObj(split) || !isObj(bl) || !byteLevelOk(bl, false)) return undefined;
  if (split.type !== 'Split' || split.behavior !== 'Isolated' || split.invert !== false || !isObj(split.pattern)) return undefined;
  const re = split.pattern.Regex;
  if (re === GPT2_PATTERN) return 'gpt2';
  if (re === LLAMA3_PATTERN) return 'llama3';
  return undefined;
}

/**
 * A `BpeTokenizer` equivalent to the tokenizer.json object `json` (same ids as @huggingface/tokenizers),
 * or undefined when the file uses features our encoder does not implement (then use `HfTokenizer`).
 * `config` is the optional tokenizer_config.json (for bos_token / eos_token).
 */
export function bpeFromJSON(json: unknown, config: Json = {}): BpeTokenizer | undefined {
  if (!isObj(json) || !isObj(json.model)) return undefined;
  const m = json.model;
  if ((m.type ?? 'BPE') !== 'BPE' || !isObj(m.vocab) || !Array.isArray(m.merges)) return undefined;
  if (json.normalizer != null || m.byte_fallback === true || m.dropout != null) return undefined;
  if (m.continuing_subword_prefix != null || m.end_of_word_suffix != null) return undefined;
  if (!isObj(json.decoder) || json.decoder.type !== 'ByteLevel') return undefined;
  const pattern = patternOf(json.pre_tokenizer);
  if (pattern === undefined) return undefined;
  const entries = Object.entries(m.vocab);
  const tokens = new Array<string>(entries.length);
  for (const [t, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= entries.length || tokens[id] !== undefined) return undefined;
    tokens[id] = t;
  }
  const vocabSet = new Set(tokens);
  if (!BYTE_TO_CHAR.every((c) => vocabSet.has(c))) return undefined;
  const merges: [string, string][] = [];
  for (const x of m.merges as unknown[]) {
    const pair = typeof x === 'string' ? x.split(' ', 2) : x;
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') return undefined;
    merges.push([pair[0], pair[1]]);
  }
  const specials: { content: string; id: number }[] = [];
  for (const a of (Array.isArray(json.added_tokens) ? json.added_tokens : []) as unknown[]) {
    if (!isObj(a) || typeof a.content !== 'string' || typeof a.id !== 'number') return undefined;
    if (a.lstrip === true || a.rstrip === true || a.single_word === true || a.normalized === true) return undefined;
    if (a.id < tokens.length && tokens[a.id] !== a.content) return undefined;
    specials.push({ content: a.content, id: a.id });
  }
  const { bos, eos } = pickBosEos(specials.map((s) => s.content), config);
  try {
    return new BpeTokenizer({
      tokens, merges, pattern, specials,
      ignoreMerges: m.ignore_merges === true, ...(bos !== undefined ? { bos } : {}), ...(eos !== undefined ? { eos } : {}),
    });
  } catch (e) {
    if (e instanceof ArgumentError) return undefined;
    throw e;
  }
}

/** Any tokenizer.json through @huggingface/tokenizers, behind the `Tokenizer` interface. */
export class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  private readonly tk: HfLibTokenizer;
  private readonly json: Json;

  /** `json`: parsed tokenizer.json; `config`: parsed tokenizer_config.json (optional). */
  constructor(json: Json, config: Json = {}) {
    this.json = json;
    if (hfLib === undefined) throw new ArgumentError('HfTokenizer: this tokenizer.json needs @huggingface/tokenizers, which could not be imported here (in a browser worker, pass it to setHfTokenizersLibrary)');
    try {
      this.tk = new hfLib.Tokenizer(json, { ...config, clean_up_tokenization_spaces: false });
    } catch (e) {
      throw new ArgumentError(`HfTokenizer: @huggingface/tokenizers rejected this tokenizer.json: ${(e as Error).message}`);
    }
    const vocab = this.tk.get_vocab(true);
    let n = 0;
    for (const id of vocab.values()) n = Math.max(n, id + 1);
    this.vocabSize = n;
    const specials = [...this.tk.get_added_tokens_decoder().values()].map((t) => t.content);
    const { bos, eos } = pickBosEos(specials, config);
    this.bosId = bos === undefined ? -1 : this.tk.token_to_id(bos) ?? -1;
    this.eosId = eos === undefined ? -1 : this.tk.token_to_id(eos) ?? -1;
  }

  encode(text: string): number[] {
    return text.length === 0 ? [] : this.tk.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: ArrayLike<number>): string {
    return ids.length === 0 ? '' : this.tk.decode(Array.from(ids), { clean_up_tokenization_spaces: false });
  }

  tokenToId(token: string): number | undefined { return this.tk.token_to_id(token); }
  idToToken(id: number): string | undefined { return this.tk.id_to_token(id); }
  toJSON(): object { return this.json; }
}

/** Build the best tokenizer for a parsed tokenizer.json object (our encoder if exact, else the HF library). */
export function tokenizerFromJSON(json: unknown, config: Record<string, unknown> = {}): Tokenizer {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new FormatError('tokenizer.json: not a JSON object');
  return bpeFromJSON(json, config) ?? new HfTokenizer(json as Record<string, unknown>, config);
}
