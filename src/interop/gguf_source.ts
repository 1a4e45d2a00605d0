/**
 * GGUF models ↔ WeightSource in any engine (no `node:` imports; the Node file wrappers are in
 * src/interop/gguf_model.ts), llama.cpp's `bitnet` architecture (docs/spec.md §6.2–6.4).
 *
 * Tensor names (ggml dims are the PyTorch shape reversed):
 *   token_embd ↔ embed_tokens   output ↔ lm_head (untied only)   output_norm ↔ norm
 *   blk.N.attn_norm ↔ input_layernorm    blk.N.attn_{q,k,v,output} ↔ {q,k,v,o}_proj    blk.N.attn_sub_norm
 *   blk.N.ffn_norm ↔ post_attention_layernorm    blk.N.ffn_{gate,up,down} ↔ {gate,up,down}_proj    blk.N.ffn_sub_norm
 * Keys (prefix `bitnet.`): context_length, embedding_length, block_count, feed_forward_length,
 * attention.head_count(_kv), attention.layer_norm_rms_epsilon, rope.dimension_count, rope.freq_base,
 * vocab_size, hidden_activation ("relu2" | "silu"; llama.cpp builds without the key, or without relu2
 * support, run SiLU: docs/spec.md §6.2). bitnet.cpp's `bitnet-b1.58` / `bitnet-25` (2B4T, ReLU²) arch names are read too,
 * as is its I2_S type and optional per-tensor `<name>.scale` tensors.
 *
 * Reading: `ggufModelFrom(src)` (any ByteSource: a file in Node, a Blob in a page's worker) validates the header (src/io/gguf.ts) and that every tensor the config needs
 * exists with the right shape and a decodable type, then reads tensors one at a time. TQ1_0/TQ2_0/I2_S
 * tensors whose non-zero blocks share one scale come out of `quantized()` losslessly.
 * Writing: `ggufFileChunks(source, {type})` yields the file tensor by tensor (`writeGguf(path, …)` writes them). Ternary weights map losslessly into
 * TQ blocks (the absmax of a block of β·q is β); β is stored as f16 per block. Without a tokenizer, a
 * synthetic byte-level vocabulary of the model's size is written (256 byte tokens, `<tN>` fillers, BOS/EOS),
 * which llama.cpp accepts.
 */
import { FormatError } from '../errors.js';
import type { QuantizedTensor, WeightSource } from '../weights/source.js';
import { ggufChunks, ggufTensorBytes, gv, metaArray, metaNumber, metaString, parseGguf, type ByteSource, type GgufFile, type GgufTensorInfo, type GgufTensorSpec, type GgufValue } from '../io/gguf.js';
import { decodeGgml, decodeTernary, encodeGgml, encodeTernaryTQ, ggmlRowBytes, ggmlType, type GgmlType } from '../io/gguf_quant.js';
import { i2sToI2R4, tq1ToI2R4, tq2ToI2R4 } from '../quant/repack.js';
import { exportable, foreignOf, modeOfForeign } from '../quant/modes.js';
import { validateConfig, type ModelConfig } from '../model/config.js';
import { paramTable } from '../model/transformer.js';
import { BYTE_TO_CHAR, GPT2_PATTERN, LLAMA3_PATTERN } from '../tokenizer/bytes.js';
import { tokenizerFromJSON } from '../tokenizer/hf.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { ternaryOf } from './hf_source.js';

// ---- names -------------------------------------------------------------------------------------

const LAYER_MAP: Record<string, string> = {
  input_layernorm: 'attn_norm', q_proj: 'attn_q', k_proj: 'attn_k', v_proj: 'attn_v', o_proj: 'attn_output',
  attn_sub_norm: 'attn_sub_norm', post_attention_layernorm: 'ffn_norm', gate_proj: 'ffn_gate', up_proj: 'ffn_up',
  down_proj: 'ffn_down', ffn_sub_norm: 'ffn_sub_norm',
};

/** GGUF tensor name of one of our parameters. */
export function ggufName(name: string): string {
  if (name === 'embed_tokens') return 'token_embd.weight';
  if (name === 'lm_head') return 'output.weight';
  if (name === 'norm') return 'output_norm.weight';
  const m = /^layers\.(\d+)\.(.+)$/.exec(name);
  const g = m ? LAYER_MAP[m[2]!] : undefined;
  if (m === null || g === undefined) throw new FormatError(`ggufName: unknown parameter '${name}'`);
  return `blk.${m[1]}.${g}.weight`;
}

const isLinear = (name: string): boolean => /_proj$/.test(name);

export const BITNET_ARCHS = ['bitnet', 'bitnet-b1.58', 'bitnet-25'] as const;

// ---- config ------------------------------------------------------------------------------------

/** ModelConfig from GGUF metadata (and the tensor list, for the vocabulary size and tied head). */
export function configFromGguf(f: GgufFile): ModelConfig {
  const m = f.metadata;
  const arch = metaString(m, 'general.architecture');
  if (arch === undefined) throw new FormatError(`gguf ${f.where}: missing general.architecture`);
  if (!(BITNET_ARCHS as readonly string[]).includes(arch)) throw new FormatError(`gguf ${f.where}: architecture '${arch}' is not supported (${BITNET_ARCHS.join(', ')})`);
  const need = (k: string): number => {
    const v = metaNumber(m, `${arch}.${k}`);
    if (v === undefined) throw new FormatError(`gguf ${f.where}: missing ${arch}.${k}`);
    return v;
  };
  const byName = new Map(f.tensors.map((t) => [t.name, t]));
  const embd = byName.get('token_embd.weight');
  if (embd === undefined) throw new FormatError(`gguf ${f.where}: missing tensor 'token_embd.weight'`);
  const tokens = metaArray(m, 'tokenizer.ggml.tokens');
  const vocab = metaNumber(m, `${arch}.vocab_size`) ?? embd.dims[1] ?? tokens?.items.length;
  const dim = need('embedding_length');
  const nHeads = need('attention.head_count');
  const rot = metaNumber(m, `${arch}.rope.dimension_count`);
  if (rot !== undefined && rot !== dim / nHeads) throw new FormatError(`gguf ${f.where}: ${arch}.rope.dimension_count ${rot} ≠ head size ${dim / nHeads} (partial RoPE is not supported)`);
  const act = metaString(m, `${arch}.hidden_activation`) ?? (arch === 'bitnet-25' ? 'relu2' : 'silu');
  const ffn = act === 'relu2' ? 'relu2glu' : act === 'silu' || act === 'swiglu' ? 'swiglu' : undefined;
  if (ffn === undefined) throw new FormatError(`gguf ${f.where}: ${arch}.hidden_activation '${act}' is not supported (relu2, silu)`);
  try {
    return validateConfig({
      vocabSize: vocab ?? 0,
      dim,
      nLayers: need('block_count'),
      nHeads,
      nKvHeads: metaNumber(m, `${arch}.attention.head_count_kv`) ?? nHeads,
      ffnDim: need('feed_forward_length'),
      maxSeqLen: need('context_length'),
      ropeTheta: shortestF32(metaNumber(m, `${arch}.rope.freq_base`) ?? 10000),
      normEps: shortestF32(need('attention.layer_norm_rms_epsilon')),
      ffn,
      subln: true,
      tieEmbeddings: !byName.has('output.weight'),
      quant: modeOfForeign('gguf', 'bitnet'),
      groups: 1,
    });
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(`gguf ${f.where}: ${(e as Error).message}`);
  }
}

/** The shortest decimal that rounds to the same f32 (f32 keys like 1e-5 come back as 1e-5, not 9.99999974e-6). */
export function shortestF32(x: number): number {
  for (let p = 1; p <= 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === Math.fround(x)) return y;
  }
  return x;
}

// ---- reading -----------------------------------------------------------------------------------

export interface GgufModel {
  file: GgufFile;
  source: WeightSource;
  /** A tokenizer rebuilt from the GGUF vocabulary (byte-level BPE files), when possible. */
  tokenizer?: Tokenizer;
  chatTemplate?: string;
  close(): void;
}

/** A GGUF model from any ByteSource: header parsed and checked against the config; tensors read on demand. `close` is what the model's close() calls. */
export function ggufModelFrom(src: ByteSource, close: () => void = () => {}): GgufModel {
  const file = parseGguf(src);
  const config = configFromGguf(file);
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  const where = src.where;
  const infos = new Map<string, { t: GgufTensorInfo; scale?: GgufTensorInfo }>();
  for (const p of paramTable(config)) {
    const g = ggufName(p.name);
    const t = byName.get(g);
    if (t === undefined) throw new FormatError(`gguf ${where}: missing tensor '${g}' (parameter ${p.name})`);
    if (JSON.stringify(t.shape) !== JSON.stringify(p.shape)) throw new FormatError(`gguf ${where}: tensor '${g}' has shape ${JSON.stringify(t.shape)} (ggml dims ${JSON.stringify(t.dims)}), expected ${JSON.stringify(p.shape)}`);
    if (!t.type.decodable) throw new FormatError(`gguf ${where}: tensor '${g}' has type ${t.type.name}, which this library cannot decode (F32, F16, BF16, Q8_0, TQ1_0, TQ2_0, I2_S)`);
    const s = byName.get(g.replace(/\.weight$/, '.scale'));
    if (s !== undefined && (s.numel !== 1 || !['F32', 'F16', 'BF16'].includes(s.type.name))) throw new FormatError(`gguf ${where}: scale tensor '${s.name}' must be one float`);
    infos.set(p.name, s ? { t, scale: s } : { t });
  }
  const get = (name: string) => {
    const r = infos.get(name);
    if (r === undefined) throw new FormatError(`gguf ${where}: unknown tensor '${name}' for this config`);
    return r;
  };
  // One reusable read buffer for the loader's hot paths (row slices of the embedding, linear tensors):
  // no fresh zero-filled allocation, page faults and garbage per read. A view into it is valid until the next read.
  let scratch = new Uint8Array(0);
  const readScratch = (offset: number, length: number): Uint8Array => {
    const into = (src as { readInto?: (dst: Uint8Array, offset: number) => void }).readInto;
    if (into === undefined) return src.read(offset, length);
    if (scratch.length < length) scratch = new Uint8Array(Math.max(length, Math.min(2 * scratch.length, 1 << 28)));
    const v = scratch.subarray(0, length);
    into(v, offset);
    return v;
  };
  const extraScale = (r: { scale?: GgufTensorInfo }): number => (r.scale ? decodeGgml(r.scale.type, ggufTensorBytes(src, r.scale), 1, r.scale.name)[0]! : 1);
  const source: WeightSource = {
    config,
    where,
    denseRows(name, r0, r1) {
      const r = get(name);
      const K = r.t.shape[r.t.shape.length - 1]!;
      const rb = ggmlRowBytes(r.t.type, K);
      const rows = r.t.numel / K;
      if (rb === undefined || r.t.shape.length !== 2 || r0 < 0 || r1 > rows || r0 > r1) throw new FormatError(`gguf ${where}: rows [${r0}, ${r1}) of '${r.t.name}' (${r.t.type.name}, shape ${JSON.stringify(r.t.shape)}) cannot be read row-wise`);
      const x = decodeGgml(r.t.type, readScratch(r.t.fileOffset + r0 * rb, (r1 - r0) * rb), (r1 - r0) * K, `gguf ${where}: '${r.t.name}'`);
      const s = extraScale(r);
      if (s !== 1) for (let i = 0; i < x.length; i++) x[i]! *= s;
      return x;
    },
    halfRows(name, r0, r1) {
      const r = get(name);
      if (r.t.type.name !== 'F16' || r.t.shape.length !== 2 || r.scale !== undefined) return undefined;
      const K = r.t.shape[1]!;
      if (r0 < 0 || r1 > r.t.shape[0]! || r0 > r1) throw new FormatError(`gguf ${where}: rows [${r0}, ${r1}) of '${r.t.name}' are outside its ${r.t.shape[0]} rows`);
      const b = readScratch(r.t.fileOffset + r0 * K * 2, (r1 - r0) * K * 2);
      return b.byteOffset % 2 === 0 ? new Uint16Array(b.buffer, b.byteOffset, (r1 - r0) * K) : new Uint16Array(b.slice().buffer);
    },
    intoI2R4(name, dst, r0, n, K, beta) {
      if (!isLinear(name)) return false;
      const r = get(name);
      const tn = r.t.type.name;
      if (r.t.numel !== n * K || (tn !== 'TQ2_0' && tn !== 'TQ1_0' && tn !== 'I2_S')) return false;
      const bytes = readScratch(r.t.fileOffset, r.t.nbytes);
      if (tn === 'TQ2_0' || tn === 'TQ1_0') {
        if (!(tn === 'TQ2_0' ? tq2ToI2R4 : tq1ToI2R4)(dst, bytes, r0, n, K, beta, `gguf ${where}: '${r.t.name}'`)) return false;
      } else {
        if (!i2sToI2R4(dst, bytes.subarray(0, (n * K) / 4), r0, n, K, `gguf ${where}: '${r.t.name}'`)) return false;
        beta.fill(new DataView(bytes.buffer, bytes.byteOffset + (n * K) / 4, 4).getFloat32(0, true), r0, r0 + n);
      }
      const s = extraScale(r);
      if (s !== 1) for (let i = r0; i < r0 + n; i++) beta[i] = beta[i]! * s;
      return true;
    },
    dense(name) {
      const r = get(name);
      const x = decodeGgml(r.t.type, ggufTensorBytes(src, r.t), r.t.numel, `gguf ${where}: '${r.t.name}'`);
      const s = extraScale(r);
      if (s !== 1) for (let i = 0; i < x.length; i++) x[i]! *= s;
      return x;
    },
    quantized(name): QuantizedTensor | undefined {
      if (!isLinear(name)) return undefined;
      const r = get(name);
      const tn = r.t.type.name;
      if (tn === 'F32' || tn === 'F16' || tn === 'BF16' || tn === 'Q8_0') {
        // Float tensors of a ternary model hold β·q (our writer and llama.cpp's converter both do): read
        // them back as q and β. Only genuine master weights (magnitudes not all equal) are re-quantized.
        const w = decodeGgml(r.t.type, ggufTensorBytes(src, r.t), r.t.numel, `gguf ${where}: '${r.t.name}'`);
        const t = ternaryValued(w);
        return t === undefined ? undefined : { q: t.q, scale: t.scale * extraScale(r) };
      }
      if (tn !== 'TQ1_0' && tn !== 'TQ2_0' && tn !== 'I2_S') return undefined;
      const { q, scales, block } = decodeTernary(r.t.type, ggufTensorBytes(src, r.t), r.t.numel, `gguf ${where}: '${r.t.name}'`);
      // One β per tensor only if every block holding a non-zero weight has the same scale.
      let beta: number | undefined;
      for (let b = 0; b < scales.length; b++) {
        let any = false;
        for (let i = b * block; i < (b + 1) * block && !any; i++) any = q[i] !== 0;
        if (!any) continue;
        if (beta === undefined) beta = scales[b]!;
        else if (scales[b] !== beta) return undefined;
      }
      return { q, scale: (beta ?? 0) * extraScale(r) };
    },
  };
  const model: GgufModel = { file, source, close };
  const tk = tokenizerFromGguf(file.metadata);
  if (tk !== undefined) model.tokenizer = tk;
  const tpl = metaString(file.metadata, 'tokenizer.chat_template');
  if (tpl !== undefined) model.chatTemplate = tpl;
  return model;
}

/**
 * q and β when every non-zero value of w has the same magnitude β (a ternary weight stored as floats),
 * else undefined. An all-zero tensor is q = 0, β = 0.
 */
export function ternaryValued(w: Float32Array): { q: Int8Array; scale: number } | undefined {
  let m = 0;
  for (let i = 0; i < w.length && m === 0; i++) m = Math.abs(w[i]!);
  if (!Number.isFinite(m)) return undefined;
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const x = w[i]!;
    if (x === m) q[i] = 1;
    else if (x === -m) q[i] = -1;
    else if (x !== 0) return undefined;
  }
  return { q, scale: m };
}

// ---- tokenizer metadata ------------------------------------------------------------------------

type Json = Record<string, unknown>;
const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** llama.cpp token types (docs/spec.md §6.4). */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, user: 4, unused: 5, byte: 6 } as const;

/** A byte-level BPE tokenizer.json rebuilt from `tokenizer.ggml.*` (model gpt2); undefined for other models. */
export function tokenizerFromGguf(m: Map<string, GgufValue>): Tokenizer | undefined {
  if (metaString(m, 'tokenizer.ggml.model') !== 'gpt2') return undefined;
  const tokens = metaArray(m, 'tokenizer.ggml.tokens', 'string')?.items as string[] | undefined;
  const merges = metaArray(m, 'tokenizer.ggml.merges', 'string')?.items as string[] | undefined;
  const types = metaArray(m, 'tokenizer.ggml.token_type')?.items;
  if (tokens === undefined || merges === undefined) return undefined;
  const vocab: Record<string, number> = {};
  const added: Json[] = [];
  tokens.forEach((t, id) => {
    const ty = Number(types?.[id] ?? 1);
    if (ty === TOKEN_TYPE.control || ty === TOKEN_TYPE.user) added.push({ id, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: ty === TOKEN_TYPE.control });
    if (!(t in vocab)) vocab[t] = id;
  });
  const pre = metaString(m, 'tokenizer.ggml.pre') ?? 'default';
  const llama3 = ['llama-bpe', 'llama3', 'llama-v3', 'falcon3'].includes(pre);
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: !llama3 };
  const json = {
    version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: null,
    pre_tokenizer: llama3 ? { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false }, byteLevel] } : byteLevel,
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: llama3, vocab, merges },
  };
  const cfg: Json = {};
  const bos = metaNumber(m, 'tokenizer.ggml.bos_token_id');
  const eos = metaNumber(m, 'tokenizer.ggml.eos_token_id');
  if (bos !== undefined && tokens[bos] !== undefined) cfg.bos_token = tokens[bos];
  if (eos !== undefined && tokens[eos] !== undefined) cfg.eos_token = tokens[eos];
  try {
    return tokenizerFromJSON(json, cfg);
  } catch {
    return undefined; // the weights are still usable; the caller can supply a tokenizer.json
  }
}

/** `tokenizer.ggml.*` keys for a tokenizer, padded with filler tokens to the model's vocabulary size. */
export function tokenizerMetadata(tok: Tokenizer, vocabSize: number): Array<[string, GgufValue]> {
  if (tok.vocabSize > vocabSize) throw new FormatError(`writeGguf: the tokenizer has ${tok.vocabSize} ids, the model only ${vocabSize}`);
  const json = tok.toJSON() as Json;
  const model = isObj(json.model) ? json.model : {};
  const pt = JSON.stringify(json.pre_tokenizer ?? null);
  const byteLevel = (isObj(json.decoder) && json.decoder.type === 'ByteLevel') || pt.includes('"ByteLevel"');
  const specials = new Map<number, boolean>();
  for (const a of Array.isArray(json.added_tokens) ? json.added_tokens : []) if (isObj(a) && typeof a.id === 'number') specials.set(a.id, a.special === true);
  const tokens: string[] = [];
  const types: number[] = [];
  for (let id = 0; id < vocabSize; id++) {
    const t = id < tok.vocabSize ? tok.idToToken(id) : undefined;
    tokens.push(t ?? `<t${id}>`);
    const sp = specials.get(id);
    types.push(t === undefined ? TOKEN_TYPE.unused : sp === true ? TOKEN_TYPE.control : sp === false ? TOKEN_TYPE.user : !byteLevel && /^<0x[0-9A-Fa-f]{2}>$/.test(t) ? TOKEN_TYPE.byte : t === model.unk_token ? TOKEN_TYPE.unknown : TOKEN_TYPE.normal);
  }
  const merges = (Array.isArray(model.merges) ? model.merges : []).map((x) => (Array.isArray(x) ? x.join(' ') : String(x)));
  const out: Array<[string, GgufValue]> = [];
  if (byteLevel) {
    const pre = pt.includes(JSON.stringify(LLAMA3_PATTERN).slice(1, -1)) ? 'llama-bpe' : pt.includes(JSON.stringify(GPT2_PATTERN).slice(1, -1)) || pt.includes('"use_regex":true') ? 'gpt-2' : 'default';
    out.push(['tokenizer.ggml.model', gv.str('gpt2')], ['tokenizer.ggml.pre', gv.str(pre)]);
  } else {
    // SentencePiece-style BPE (1bitLLM / Llama-2): llama.cpp's 'llama' model ranks pieces by score.
    out.push(['tokenizer.ggml.model', gv.str('llama')], ['tokenizer.ggml.pre', gv.str('default')]);
    out.push(['tokenizer.ggml.scores', gv.arr('f32', tokens.map((_, i) => -i))]);
  }
  out.push(['tokenizer.ggml.tokens', gv.arr('string', tokens)], ['tokenizer.ggml.token_type', gv.arr('i32', types)]);
  if (byteLevel) out.push(['tokenizer.ggml.merges', gv.arr('string', merges)]);
  if (tok.bosId >= 0) out.push(['tokenizer.ggml.bos_token_id', gv.u32(tok.bosId)]);
  if (tok.eosId >= 0) out.push(['tokenizer.ggml.eos_token_id', gv.u32(tok.eosId)]);
  // The engine prepends BOS to every sequence (and models trained here saw [BOS] + text): say so.
  out.push(['tokenizer.ggml.add_bos_token', gv.bool(tok.bosId >= 0)]);
  return out;
}

/**
 * A synthetic byte-level vocabulary of `vocabSize` ids for models without a tokenizer (benchmarks):
 * ids 0..255 are the 256 byte tokens, then fillers `<tN>` (plain ASCII, so llama.cpp's byte-level decoder
 * accepts them), and the last two ids are BOS `<|begin_of_text|>` and EOS `<|end_of_text|>` (control).
 */
export function syntheticVocabMetadata(vocabSize: number): Array<[string, GgufValue]> {
  if (vocabSize < 258) throw new FormatError(`writeGguf: a synthetic vocabulary needs ≥ 258 ids (256 bytes + BOS + EOS), the model has ${vocabSize}`);
  const tokens: string[] = [];
  const types: number[] = [];
  for (let id = 0; id < vocabSize; id++) {
    if (id < 256) tokens.push(BYTE_TO_CHAR[id]!);
    else if (id === vocabSize - 2) tokens.push('<|begin_of_text|>');
    else if (id === vocabSize - 1) tokens.push('<|end_of_text|>');
    else tokens.push(`<t${id}>`);
    types.push(id >= vocabSize - 2 ? TOKEN_TYPE.control : TOKEN_TYPE.normal);
  }
  return [
    ['tokenizer.ggml.model', gv.str('gpt2')], ['tokenizer.ggml.pre', gv.str('gpt-2')],
    ['tokenizer.ggml.tokens', gv.arr('string', tokens)], ['tokenizer.ggml.token_type', gv.arr('i32', types)],
    ['tokenizer.ggml.merges', gv.arr('string', [])],
    ['tokenizer.ggml.bos_token_id', gv.u32(vocabSize - 2)], ['tokenizer.ggml.eos_token_id', gv.u32(vocabSize - 1)],
    ['tokenizer.ggml.add_bos_token', gv.bool(true)],
  ];
}

// ---- writing -----------------------------------------------------------------------------------

export type GgufWeightType = 'tq1_0' | 'tq2_0' | 'f16' | 'bf16' | 'f32' | 'q8_0';
export const GGUF_WEIGHT_TYPES: readonly GgufWeightType[] = ['tq2_0', 'tq1_0', 'f16', 'bf16', 'f32', 'q8_0'];

/** llama.cpp LLAMA_FTYPE for `general.file_type`. */
const FILE_TYPE: Record<GgufWeightType, number> = { f32: 0, f16: 1, q8_0: 7, bf16: 32, tq1_0: 36, tq2_0: 37 };

export interface WriteGgufOptions {
  /** Type of the linear (BitLinear) weights; default tq2_0. */
  type?: GgufWeightType;
  /** Type of token_embd (and output); default f16. */
  embedType?: 'f16' | 'bf16' | 'f32' | 'q8_0';
  /** Vocabulary to embed; without one a synthetic vocabulary is written. */
  tokenizer?: Tokenizer;
  chatTemplate?: string;
  name?: string;
  onProgress?: (done: number, total: number, name: string) => void;
}

/** Metadata and tensor list for `source` (no tensor data). */
export function ggufLayout(source: WeightSource, opts: WriteGgufOptions = {}): { metadata: Map<string, GgufValue>; specs: GgufTensorSpec[]; names: string[] } {
  const c = source.config;
  const type = opts.type ?? 'tq2_0';
  const embedType = opts.embedType ?? 'f16';
  if (foreignOf(c.quant, 'gguf') !== 'bitnet') throw new FormatError(`writeGguf: llama.cpp's bitnet architecture runs ${exportable('gguf')} models; this model is '${c.quant}'`);
  if (!c.subln) throw new FormatError('writeGguf: the bitnet architecture needs sub-norms (attn_sub_norm, ffn_sub_norm)');
  if (c.ffn !== 'relu2glu' && c.ffn !== 'swiglu') throw new FormatError(`writeGguf: ffn '${c.ffn}' is not supported by llama.cpp's bitnet graph (relu2glu, swiglu)`);
  if (!c.tieEmbeddings) throw new FormatError('writeGguf: llama.cpp\'s bitnet graph uses the tied embedding as LM head; this model has a separate lm_head');
  if (c.groups !== 1) throw new FormatError('writeGguf: group quantization has no GGUF equivalent');
  const arch = 'bitnet';
  const md: Array<[string, GgufValue]> = [
    ['general.architecture', gv.str(arch)],
    ['general.name', gv.str(opts.name ?? 'bitnet-ts model')],
    ['general.file_type', gv.u32(FILE_TYPE[type])],
    ['general.quantization_version', gv.u32(2)],
    [`${arch}.vocab_size`, gv.u32(c.vocabSize)],
    [`${arch}.context_length`, gv.u32(c.maxSeqLen)],
    [`${arch}.embedding_length`, gv.u32(c.dim)],
    [`${arch}.block_count`, gv.u32(c.nLayers)],
    [`${arch}.feed_forward_length`, gv.u32(c.ffnDim)],
    [`${arch}.attention.head_count`, gv.u32(c.nHeads)],
    [`${arch}.attention.head_count_kv`, gv.u32(c.nKvHeads)],
    [`${arch}.attention.layer_norm_rms_epsilon`, gv.f32(c.normEps)],
    [`${arch}.rope.dimension_count`, gv.u32(c.dim / c.nHeads)],
    [`${arch}.rope.freq_base`, gv.f32(c.ropeTheta)],
    [`${arch}.hidden_activation`, gv.str(c.ffn === 'relu2glu' ? 'relu2' : 'silu')],
    ...(opts.tokenizer ? tokenizerMetadata(opts.tokenizer, c.vocabSize) : syntheticVocabMetadata(c.vocabSize)),
  ];
  if (opts.chatTemplate !== undefined) md.push(['tokenizer.chat_template', gv.str(opts.chatTemplate)]);
  const metadata = new Map(md);
  const specs: GgufTensorSpec[] = [];
  const names: string[] = [];
  const order = [...paramTable(c)].sort((a, b) => rank(a.name) - rank(b.name));
  for (const p of order) {
    const t: GgmlType = ggmlType(isLinear(p.name) ? type : p.name === 'embed_tokens' || p.name === 'lm_head' ? embedType : 'f32')!;
    const dims = [...p.shape].reverse();
    if (dims[0]! % t.block !== 0) throw new FormatError(`writeGguf: '${p.name}' has rows of ${dims[0]} values, not a multiple of the ${t.name} block (${t.block}); choose --type f16`);
    specs.push({ name: ggufName(p.name), dims, type: t });
    names.push(p.name);
  }
  return { metadata, specs, names };
}

/** Global tensors first, then layer by layer (the order llama.cpp's converter uses). */
function rank(name: string): number {
  if (name === 'embed_tokens') return -3;
  if (name === 'norm') return -2;
  if (name === 'lm_head') return -1;
  const m = /^layers\.(\d+)\.(.+)$/.exec(name)!;
  return Number(m[1]) * 100 + Object.keys(LAYER_MAP).indexOf(m[2]!);
}

/** Bytes of one tensor in its GGUF type. */
function tensorData(source: WeightSource, name: string, t: GgmlType): Uint8Array {
  if (isLinear(name)) {
    const { q, scale } = ternaryOf(source, name);
    if (t.name === 'TQ1_0' || t.name === 'TQ2_0') return encodeTernaryTQ(t.name, q, scale);
    const w = new Float32Array(q.length);
    for (let i = 0; i < q.length; i++) w[i] = q[i]! * scale;
    return encodeGgml(t, w);
  }
  return encodeGgml(t, source.dense(name));
}

/** The bytes of `source` as a GGUF v3 file for llama.cpp (architecture `bitnet`), produced one tensor at a time. */
export function ggufFileChunks(source: WeightSource, opts: WriteGgufOptions = {}): Iterable<Uint8Array> {
  const { metadata, specs, names } = ggufLayout(source, opts);
  return ggufChunks(metadata, specs, (i) => {
    const b = tensorData(source, names[i]!, specs[i]!.type);
    opts.onProgress?.(i + 1, specs.length, specs[i]!.name);
    return b;
  });
}
