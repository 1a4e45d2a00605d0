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
import { checkJsonDepth, jsonType, parseJsonObject } from '../io/json.js';
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
    let n = 0;
    let specials: string[];
    // The library may fail anywhere on a malformed file (a TypeError from a missing field, a RangeError
    // from a bad regex): building it and one encode/decode round trip run here, so such a file fails at
    // load with a FormatError instead of at the first request.
    try {
      this.tk = new hfLib.Tokenizer(json, { ...config, clean_up_tokenization_spaces: false });
      const vocab = this.tk.get_vocab(true);
      for (const id of vocab.values()) n = Math.max(n, id + 1);
      specials = [...this.tk.get_added_tokens_decoder().values()].map((t) => t.content);
      this.tk.decode(this.tk.encode('Hi, 1 ü', { add_special_tokens: false }).ids, { clean_up_tokenization_spaces: false });
    } catch (e) {
      throw new FormatError(`HfTokenizer: @huggingface/tokenizers rejected this tokenizer.json: ${(e as Error)?.message ?? String(e)}`);
    }
    if (n > MAX_TOKEN_ID + 1) throw new FormatError(`HfTokenizer: vocabulary of ${n} ids exceeds the limit ${MAX_TOKEN_ID + 1}`);
    this.vocabSize = n;
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

/** Token ids above this are refused (the largest vocabularies in use have ~2^18 ids). */
export const MAX_TOKEN_ID = (1 << 24) - 1;

/**
 * The ids of a tokenizer.json, checked before any tokenizer is built (both builders allocate tables as
 * long as the largest id): every `model.vocab` id and `added_tokens[].id` is an integer in
 * [0, min(MAX_TOKEN_ID, 2·entries + 256)], where entries counts the vocabulary and the added tokens —
 * real files number their tokens densely, so one huge id is corruption, not a vocabulary.
 */
export function checkTokenizerIds(json: Json, where = 'tokenizer.json'): void {
  const m = json.model;
  if (m !== undefined && !isObj(m)) throw new FormatError(`${where}: 'model' must be an object, got ${jsonType(m)}`);
  const vocab = m?.vocab;
  const added = json.added_tokens;
  if (added != null && !Array.isArray(added)) throw new FormatError(`${where}: 'added_tokens' must be an array, got ${jsonType(added)}`);
  const nVocab = isObj(vocab) ? Object.keys(vocab).length : Array.isArray(vocab) ? vocab.length : 0;
  const limit = Math.min(MAX_TOKEN_ID, 2 * (nVocab + (added?.length ?? 0)) + 256);
  const check = (id: unknown, what: string) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > limit) {
      throw new FormatError(`${where}: ${what} must be an integer id in 0..${limit} (${nVocab} vocabulary entries, ${added?.length ?? 0} added tokens), got ${typeof id === 'number' ? id : jsonType(id)}`);
    }
  };
  if (isObj(vocab)) for (const [t, id] of Object.entries(vocab)) check(id, `model.vocab[${JSON.stringify(t.slice(0, 40))}]`);
  (added ?? []).forEach((a: unknown, i: number) => {
    if (!isObj(a)) throw new FormatError(`${where}: added_tokens[${i}] must be an object, got ${jsonType(a)}`);
    if (typeof a.content !== 'string') throw new FormatError(`${where}: added_tokens[${i}].content must be a string, got ${jsonType(a.content)}`);
    check(a.id, `added_tokens[${i}].id`);
  });
}

/** tokenizer_config.json fields the tokenizer (or @huggingface/tokenizers) reads, with their allowed types. */
const CONFIG_TOKENS = ['bos_token', 'eos_token', 'unk_token', 'pad_token'];
const CONFIG_BOOLS = ['remove_space', 'do_lowercase_and_remove_accent', 'clean_up_tokenization_spaces', 'add_bos_token', 'add_eos_token'];

/** Check the types of the tokenizer_config.json fields that are read (FormatError naming the field). */
export function checkTokenizerConfig(config: unknown, where = 'tokenizer_config.json'): Json {
  if (!isObj(config)) throw new FormatError(`${where}: must be a JSON object, got ${jsonType(config)}`);
  for (const k of CONFIG_TOKENS) {
    const v = config[k];
    if (v != null && typeof v !== 'string' && !(isObj(v) && typeof v.content === 'string')) throw new FormatError(`${where}: '${k}' must be a string or {"content": string}, got ${jsonType(v)}`);
  }
  for (const k of CONFIG_BOOLS) {
    const v = config[k];
    if (v != null && typeof v !== 'boolean') throw new FormatError(`${where}: '${k}' must be true or false, got ${jsonType(v)}`);
  }
  const ast = config.additional_special_tokens;
  if (ast != null && !(Array.isArray(ast) && ast.every((x) => typeof x === 'string' || (isObj(x) && typeof x.content === 'string')))) {
    throw new FormatError(`${where}: 'additional_special_tokens' must be an array of strings, got ${jsonType(ast)}`);
  }
  const ct = config.chat_template;
  if (ct != null && typeof ct !== 'string' && !Array.isArray(ct)) throw new FormatError(`${where}: 'chat_template' must be a string or a list of {name, template}, got ${jsonType(ct)}`);
  const ml = config.model_max_length;
  if (ml != null && (typeof ml !== 'number' || !(ml > 0))) throw new FormatError(`${where}: 'model_max_length' must be a positive number, got ${jsonType(ml)}`);
  return config;
}

/**
 * Build the best tokenizer for a parsed tokenizer.json object (our encoder if exact, else the HF library).
 * Untrusted input is checked first (object, nesting depth, ids, tokenizer_config field types): FormatError.
 */
export function tokenizerFromJSON(json: unknown, config: Record<string, unknown> = {}): Tokenizer {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new FormatError(`tokenizer.json: not a JSON object (got ${jsonType(json)})`);
  checkJsonDepth(json, 'tokenizer.json');
  checkTokenizerIds(json as Json);
  checkTokenizerConfig(config);
  checkJsonDepth(config, 'tokenizer_config.json');
  return bpeFromJSON(json, config) ?? new HfTokenizer(json as Record<string, unknown>, config);
}

/**
 * A tokenizer from the text of tokenizer.json and (optionally) tokenizer_config.json, wherever the files
 * come from (Node: `loadTokenizer`, src/tokenizer/io.ts; a page: the picked files). `file` and
 * `configFile` name them in errors.
 */
export function tokenizerFromText(jsonText: string, configText: string | undefined, file = 'tokenizer.json', configFile = 'tokenizer_config.json'): Tokenizer {
  let json: unknown;
  try {
    json = JSON.parse(jsonText);
  } catch (e) {
    throw new FormatError(`loadTokenizer: ${file} is not valid JSON (${(e as Error).message})`);
  }
  const config = configText !== undefined ? checkTokenizerConfig(parseJsonObject(configText, configFile), configFile) : {};
  try {
    return tokenizerFromJSON(json, config);
  } catch (e) {
    throw e instanceof FormatError && !e.message.startsWith(file) ? new FormatError(`${file}: ${e.message}`) : e;
  }
}
