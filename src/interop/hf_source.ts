/**
 * Hugging Face checkpoints in any engine (no `node:` imports; the Node folder wrappers `loadHF(dir)` and
 * `exportHF(dir, …)` are in src/interop/hf.ts): import as a WeightSource, and the contents of an export.
 *
 * Import (`hfModelFrom(files)`, files = a FileSet: a folder on disk, or the files a page was given): config.json + *.safetensors (one file, or shards listed in
 * model.safetensors.index.json) [+ tokenizer.json, tokenizer_config.json]. Recognised layouts:
 *  - `model_type: bitnet` (transformers BitNetForCausalLM, microsoft/bitnet-b1.58-2B-4T; docs/spec.md §3.1–3.7):
 *    packed `uint8 [out/4, in]` weights + `weight_scale` (β = ws for `linear_class: autobitlinear`,
 *    1/ws for `bitlinear`, the HF default), or full-precision master weights (the -bf16 variant), which
 *    `dense()` returns for the engine to quantize at load. Sub-norms `attn_sub_norm` / `ffn_sub_norm`,
 *    `hidden_act` relu2 (ReLU²-GLU) or silu (SwiGLU).
 *  - `model_type: llama` with `architectures: [BitnetForCausalLM]` (1bitLLM): full-precision latent weights,
 *    SwiGLU, sub-norms named `self_attn.inner_attn_ln` / `mlp.ffn_layernorm`. A plain Llama (no sub-norms,
 *    not Bitnet*) imports as an `fp` model.
 *  Tensors are read one at a time; packed tensors come out of `quantized()` as ternary q and β.
 *  Unknown architectures, missing tensors and shape/dtype mismatches raise FormatError naming the tensor.
 *
 * Export (`hfExportContents(source)`, written by `exportHF(dir, source)`): b1.58 models as `model_type: bitnet` with packed weights, `weight_scale`
 * (autobitlinear: ws = β) and `quantization_config {quant_method: bitnet, linear_class: autobitlinear,
 * quantization_mode: offline}`, i.e. the layout transformers' BitNet classes load; `fp` models (no sub-norms,
 * SwiGLU) as plain Llama. The safetensors tensors are produced one at a time.
 */
import { ArgumentError, FormatError } from '../errors.js';
import type { QuantizedTensor, WeightSource } from '../weights/source.js';
import { readText, type FileSet } from '../io/blob_source.js';
import { jsonType, parseJsonObject } from '../io/json.js';
import { floatToBf16 } from '../io/gguf_quant.js';
import { bytesOf, safetensorsReader, ST_ITEMSIZE, toFloat32, type StDType, type StEntry, type StTensor } from '../io/safetensors.js';
import { hfToI2R4 } from '../quant/repack.js';
import { exportable, foreignOf, modeOfForeign, QUANT_VARIANTS } from '../quant/modes.js';
import { quantizeTernaryAbsmean } from '../kernels/ref/quant.js';
import { validateConfig, type FfnKind, type ModelConfig } from '../model/config.js';
import { paramTable } from '../model/transformer.js';
import { checkTokenizerConfig, tokenizerFromText } from '../tokenizer/hf.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { betaFromWeightScale, packHfTernary, unpackHfTernary, weightScaleFromBeta, type HfLinearClass } from './hf_pack.js';

type Json = Record<string, unknown>;
const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

// ---- names -------------------------------------------------------------------------------------

const ATTN = new Set(['q_proj', 'k_proj', 'v_proj', 'o_proj']);
const MLP = new Set(['gate_proj', 'up_proj', 'down_proj']);

/** HF tensor names (first = the name we write) for one of our parameter names. */
export function hfNames(name: string): string[] {
  if (name === 'embed_tokens') return ['model.embed_tokens.weight'];
  if (name === 'lm_head') return ['lm_head.weight'];
  if (name === 'norm') return ['model.norm.weight'];
  const m = /^layers\.(\d+)\.(.+)$/.exec(name);
  if (m === null) throw new ArgumentError(`hfNames: unknown parameter '${name}'`);
  const p = `model.layers.${m[1]}.`;
  const x = m[2]!;
  if (ATTN.has(x)) return [`${p}self_attn.${x}.weight`];
  if (MLP.has(x)) return [`${p}mlp.${x}.weight`];
  if (x === 'input_layernorm' || x === 'post_attention_layernorm') return [`${p}${x}.weight`];
  if (x === 'attn_sub_norm') return [`${p}self_attn.attn_sub_norm.weight`, `${p}self_attn.inner_attn_ln.weight`];
  if (x === 'ffn_sub_norm') return [`${p}mlp.ffn_sub_norm.weight`, `${p}mlp.ffn_layernorm.weight`];
  throw new ArgumentError(`hfNames: unknown parameter '${name}'`);
}

const isLinear = (name: string): boolean => /_proj$/.test(name);

// ---- config ------------------------------------------------------------------------------------

function num(cfg: Json, key: string, def?: number): number {
  const v = cfg[key] ?? def;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FormatError(`config.json: '${key}' must be a finite number, got ${show(cfg[key])}`);
  return v;
}

/** An integer key (the range is validateConfig's; the error names the config.json key). */
function int(cfg: Json, key: string, def?: number): number {
  const v = num(cfg, key, def);
  if (!Number.isSafeInteger(v)) throw new FormatError(`config.json: '${key}' must be an integer, got ${v}`);
  return v;
}

/** An optional boolean key. */
function bool(cfg: Json, key: string): boolean | undefined {
  const v = cfg[key];
  if (v != null && typeof v !== 'boolean') throw new FormatError(`config.json: '${key}' must be true or false, got ${show(v)}`);
  return v ?? undefined;
}

/** A short description of a JSON value for messages (never the whole of a large value). */
function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'object' && v !== null) return jsonType(v);
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

function ffnOf(act: unknown): FfnKind {
  if (act === 'relu2') return 'relu2glu';
  if (act === 'silu' || act === 'swish') return 'swiglu';
  if (act === 'linear') return 'bilinear';
  throw new FormatError(`config.json: hidden_act ${show(act)} is not supported (relu2, silu, linear)`);
}

export interface HfLayout {
  config: ModelConfig;
  linearClass: HfLinearClass;
  modelType: string;
}

/**
 * Map a config.json to our ModelConfig. `has(name)` tells whether a tensor exists (to detect sub-norm
 * naming and an untied LM head).
 */
export function configFromHF(cfg: Json, has: (hfName: string) => boolean): HfLayout {
  const modelType = cfg.model_type;
  if (cfg.architectures != null && !(Array.isArray(cfg.architectures) && cfg.architectures.every((a) => typeof a === 'string'))) {
    throw new FormatError(`config.json: 'architectures' must be a list of strings, got ${show(cfg.architectures)}`);
  }
  const archs = (cfg.architectures ?? []) as string[];
  const bitnetArch = archs.some((a) => /^bitnet/i.test(a));
  let quant: ModelConfig['quant'];
  let subln: boolean;
  if (modelType === 'bitnet') {
    quant = modeOfForeign('hf', 'bitnet');
    subln = true;
  } else if (modelType === 'llama') {
    quant = modeOfForeign('hf', bitnetArch ? 'bitnet' : 'llama');
    subln = has('model.layers.0.self_attn.inner_attn_ln.weight') || has('model.layers.0.self_attn.attn_sub_norm.weight');
  } else {
    throw new FormatError(`config.json: model_type ${show(modelType)} (architectures ${show(archs.join(', '))}) is not supported (bitnet, llama)`);
  }
  const dim = int(cfg, 'hidden_size');
  const nHeads = int(cfg, 'num_attention_heads');
  if (cfg.head_dim != null && cfg.head_dim !== dim / nHeads) throw new FormatError(`config.json: head_dim ${show(cfg.head_dim)} ≠ hidden_size / num_attention_heads (${dim / nHeads}) is not supported`);
  if (bool(cfg, 'attention_bias') === true || bool(cfg, 'mlp_bias') === true) throw new FormatError('config.json: attention_bias / mlp_bias are not supported (this model has no biases)');
  const rs = cfg.rope_scaling;
  if (rs != null && !isObj(rs)) throw new FormatError(`config.json: 'rope_scaling' must be an object or null, got ${show(rs)}`);
  if (isObj(rs)) {
    const type = rs.rope_type ?? rs.type;
    if (!(type === 'default' || (type === 'linear' && (rs.factor ?? 1) === 1))) throw new FormatError(`config.json: rope_scaling ${show(JSON.stringify(rs))} is not supported (plain RoPE only)`);
  }
  const qc = isObj(cfg.quantization_config) ? cfg.quantization_config : {};
  if (cfg.quantization_config != null && qc.quant_method !== 'bitnet') throw new FormatError(`config.json: quantization_config.quant_method ${show(qc.quant_method)} is not supported (bitnet)`);
  const lc = qc.linear_class ?? 'bitlinear';
  if (lc !== 'bitlinear' && lc !== 'autobitlinear') throw new FormatError(`config.json: quantization_config.linear_class ${show(lc)} is not supported`);
  const tie = bool(cfg, 'tie_word_embeddings') === true || !has('lm_head.weight');
  let config: ModelConfig;
  try {
    config = validateConfig({
      vocabSize: int(cfg, 'vocab_size'),
      dim,
      nLayers: int(cfg, 'num_hidden_layers'),
      nHeads,
      nKvHeads: int(cfg, 'num_key_value_heads', nHeads),
      ffnDim: int(cfg, 'intermediate_size'),
      maxSeqLen: int(cfg, 'max_position_embeddings', 2048),
      ropeTheta: num(cfg, 'rope_theta', modelType === 'bitnet' ? 500000 : 10000),
      normEps: num(cfg, 'rms_norm_eps', 1e-5),
      ffn: ffnOf(cfg.hidden_act ?? 'silu'),
      subln,
      tieEmbeddings: tie,
      quant,
      groups: 1,
    });
  } catch (e) {
    if (e instanceof ArgumentError) throw new FormatError(`config.json: ${e.message}`);
    throw e;
  }
  return { config, linearClass: lc, modelType };
}

// ---- shards ------------------------------------------------------------------------------------

interface ShardTensor extends StEntry {
  /** The shard's name in the file set. */
  file: string;
}

/** `name` inside the set's folder, for messages. */
function pathIn(files: FileSet, name: string): string {
  return files.where.endsWith('/') ? files.where + name : `${files.where}/${name}`;
}

function readJson(files: FileSet, name: string): Json | undefined {
  const text = readText(files, name);
  return text === undefined ? undefined : parseJsonObject(text, pathIn(files, name));
}

/** Index every tensor of the set's safetensors files (headers only). */
function indexShards(files: FileSet): Map<string, ShardTensor> {
  const dir = files.where;
  const idxName = 'model.safetensors.index.json';
  const idxPath = pathIn(files, idxName);
  const idx = readJson(files, idxName);
  let shards: string[];
  if (idx !== undefined) {
    if (!isObj(idx.weight_map)) throw new FormatError(`${idxPath}: missing weight_map`);
    const names = Object.values(idx.weight_map);
    if (!names.every((f) => typeof f === 'string')) throw new FormatError(`${idxPath}: weight_map values must be shard file names (strings)`);
    shards = [...new Set(names as string[])];
    for (const f of shards) if (f.includes('/') || f.includes('\\') || f.startsWith('.')) throw new FormatError(`${idxPath}: shard name '${f}' must be a plain file name`);
  } else {
    shards = files.names.filter((f) => f.endsWith('.safetensors'));
  }
  if (shards.length === 0) throw new FormatError(`${dir}: no *.safetensors files`);
  const out = new Map<string, ShardTensor>();
  for (const f of shards) {
    const src = files.open(f);
    if (src === undefined) throw new FormatError(`${dir}: shard '${f}' listed in the index is missing`);
    const r = safetensorsReader(src);
    r.close();
    for (const [name, e] of r.entries) {
      if (out.has(name)) throw new FormatError(`${dir}: tensor '${name}' appears in two shards`);
      out.set(name, { ...e, file: f });
    }
  }
  return out;
}

function readShard(files: FileSet, t: ShardTensor): StTensor {
  const src = files.open(t.file);
  if (src === undefined) throw new FormatError(`${files.where}: shard '${t.file}' is missing`);
  try {
    const bytes = src.read(t.start, t.end - t.start);
    return { dtype: t.dtype, shape: t.shape, bytes: bytes.byteOffset % 8 === 0 ? bytes : bytes.slice() };
  } finally {
    src.close?.();
  }
}

// ---- import ------------------------------------------------------------------------------------

export interface HfModel {
  source: WeightSource;
  layout: HfLayout;
  /** tokenizer.json, when present. */
  tokenizer?: Tokenizer;
  /** tokenizer_config.json's chat_template (the default one when it is a list). */
  chatTemplate?: string;
  /** Parsed config.json. */
  hfConfig: Json;
}

const FLOATS = new Set<StDType>(['F32', 'F16', 'BF16', 'F64']);

/**
 * A Hugging Face model from its files (validates every tensor's presence, dtype and shape up front; reads
 * tensors when asked).
 */
export function hfModelFrom(files: FileSet): HfModel {
  const dir = files.where;
  const hfConfig = readJson(files, 'config.json');
  if (hfConfig === undefined) throw new FormatError(`${dir}: no config.json`);
  const shards = indexShards(files);
  const layout = configFromHF(hfConfig, (n) => shards.has(n));
  const c = layout.config;
  const where = dir;
  const resolved = new Map<string, { t: ShardTensor; hfName: string; packed?: { scale: ShardTensor } }>();
  for (const p of paramTable(c)) {
    const cands = hfNames(p.name);
    const hfName = cands.find((n) => shards.has(n));
    if (hfName === undefined) throw new FormatError(`${where}: missing tensor '${cands[0]}' (parameter ${p.name})`);
    const t = shards.get(hfName)!;
    const shape = JSON.stringify(t.shape);
    if (isLinear(p.name) && t.dtype === 'U8') {
      if (QUANT_VARIANTS[c.quant].weight === 'none') throw new FormatError(`${where}: '${hfName}' is packed ternary but the config describes a full-precision model`);
      const [N, K] = p.shape as [number, number];
      if (t.shape.length !== 2 || t.shape[0]! * 4 !== N || t.shape[1] !== K) throw new FormatError(`${where}: packed tensor '${hfName}' has shape ${shape}, expected [${N / 4}, ${K}] for (${N}, ${K}) weights`);
      const sName = hfName.replace(/\.weight$/, '.weight_scale');
      const s = shards.get(sName);
      if (s === undefined) throw new FormatError(`${where}: packed tensor '${hfName}' has no '${sName}'`);
      if (!FLOATS.has(s.dtype) || s.shape.reduce((a, b) => a * b, 1) !== 1) throw new FormatError(`${where}: '${sName}' must be one float, got ${s.dtype}${JSON.stringify(s.shape)}`);
      resolved.set(p.name, { t, hfName, packed: { scale: s } });
    } else {
      if (!FLOATS.has(t.dtype)) throw new FormatError(`${where}: tensor '${hfName}' has dtype ${t.dtype}, expected a float type`);
      if (shape !== JSON.stringify(p.shape)) throw new FormatError(`${where}: tensor '${hfName}' has shape ${shape}, expected ${JSON.stringify(p.shape)}`);
      resolved.set(p.name, { t, hfName });
    }
  }
  const get = (name: string) => {
    const r = resolved.get(name);
    if (r === undefined) throw new FormatError(`${where}: unknown tensor '${name}' for this config`);
    return r;
  };
  const quantized = (name: string): QuantizedTensor | undefined => {
    const r = get(name);
    if (r.packed === undefined) return undefined;
    const ws = toFloat32(readShard(files, r.packed.scale), r.packed.scale.name)[0]!;
    const scale = betaFromWeightScale(ws, layout.linearClass, `${where}: '${r.packed.scale.name}'`);
    const q = unpackHfTernary(readShard(files, r.t).bytes, r.t.shape[0]!, r.t.shape[1]!, `${where}: '${r.hfName}'`);
    return { q, scale };
  };
  const source: WeightSource = {
    config: c,
    where,
    dense(name) {
      const r = get(name);
      if (r.packed !== undefined) {
        const { q, scale } = quantized(name)!;
        const out = new Float32Array(q.length);
        for (let i = 0; i < q.length; i++) out[i] = q[i]! * scale;
        return out;
      }
      return toFloat32(readShard(files, r.t), r.hfName);
    },
    quantized,
    intoI2R4(name, dst, r0, n, K, beta) {
      const r = get(name);
      if (r.packed === undefined || r.t.shape[0]! * 4 !== n || r.t.shape[1] !== K) return false;
      const ws = toFloat32(readShard(files, r.packed.scale), r.packed.scale.name)[0]!;
      hfToI2R4(dst, readShard(files, r.t).bytes, r0, n, K, `${where}: '${r.hfName}'`);
      beta.fill(betaFromWeightScale(ws, layout.linearClass, `${where}: '${r.packed.scale.name}'`), r0, r0 + n);
      return true;
    },
    denseRows(name, r0, r1) {
      const r = get(name);
      const [rows, K] = r.t.shape as [number, number];
      if (r.packed !== undefined || r.t.shape.length !== 2 || r0 < 0 || r1 > rows || r0 > r1) throw new FormatError(`${where}: rows [${r0}, ${r1}) of '${r.hfName}' cannot be read row-wise`);
      const item = ST_ITEMSIZE[r.t.dtype];
      const part: ShardTensor = { ...r.t, start: r.t.start + r0 * K * item, end: r.t.start + r1 * K * item, shape: [r1 - r0, K] };
      return toFloat32(readShard(files, part), r.hfName);
    },
  };
  const model: HfModel = { source, layout, hfConfig };
  const tcText = readText(files, 'tokenizer_config.json');
  const tcPath = pathIn(files, 'tokenizer_config.json');
  const tokJson = readText(files, 'tokenizer.json');
  if (tokJson !== undefined) model.tokenizer = tokenizerFromText(tokJson, tcText, pathIn(files, 'tokenizer.json'), tcPath);
  if (tcText !== undefined) {
    const tpl = chatTemplateOf(checkTokenizerConfig(parseJsonObject(tcText, tcPath), tcPath));
    if (tpl !== undefined) model.chatTemplate = tpl;
  }
  return model;
}

/** The chat template of a tokenizer_config.json: a string, or the `default` entry of a named list. */
export function chatTemplateOf(tc: Json): string | undefined {
  const t = tc.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t.filter(isObj);
    const d = named.find((x) => x.name === 'default') ?? named[0];
    if (d !== undefined && typeof d.template === 'string') return d.template;
  }
  return undefined;
}

// ---- export ------------------------------------------------------------------------------------

export interface ExportHFOptions {
  tokenizer?: Tokenizer;
  chatTemplate?: string;
  /** dtype of embeddings, norms and weight_scale (default F32: lossless for models trained here). */
  dtype?: 'F32' | 'BF16';
  /** weight_scale convention (default autobitlinear: ws = β, as the official 2B4T checkpoint). */
  linearClass?: HfLinearClass;
  onProgress?: (done: number, total: number, name: string) => void;
}

/**
 * tokenizer.json as exported: the engine feeds every sequence as [BOS] + tokens (models trained here saw
 * exactly that, src/infer/generate.ts), so the exported tokenizer says so too — a TemplateProcessing
 * post-processor that prepends BOS — and transformers users encode the same sequence. A tokenizer that
 * already carries a post-processor keeps it.
 */
export function withBosPostProcessor(tok: Tokenizer): Json {
  const json = JSON.parse(JSON.stringify(tok.toJSON())) as Json;
  if (tok.bosId < 0 || (json.post_processor !== null && json.post_processor !== undefined)) return json;
  const bos = tok.idToToken(tok.bosId)!;
  json.post_processor = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: bos, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { [bos]: { id: bos, ids: [tok.bosId], tokens: [bos] } },
  };
  return json;
}

/** Ternary form of a linear weight: the source's stored form, else the training quantizer (docs/spec.md §0.1). */
export function ternaryOf(source: WeightSource, name: string): QuantizedTensor {
  const q0 = source.quantized?.(name);
  if (q0 !== undefined) return q0;
  const w = source.dense(name);
  const q = new Int8Array(w.length);
  const scale = quantizeTernaryAbsmean(q, w, w.length);
  return { q, scale };
}

function floatBytes(x: Float32Array, dtype: 'F32' | 'BF16'): Uint8Array {
  if (dtype === 'F32') return bytesOf(x);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = floatToBf16(x[i]!);
  return bytesOf(out);
}

/** The config.json we write for `c`. */
export function hfConfigOf(c: ModelConfig, opts: { dtype: 'F32' | 'BF16'; linearClass: HfLinearClass; bos?: number; eos?: number }): Json {
  const act = c.ffn === 'relu2glu' ? 'relu2' : c.ffn === 'swiglu' ? 'silu' : c.ffn === 'bilinear' ? 'linear' : undefined;
  if (act === undefined) throw new FormatError(`exportHF: ffn '${c.ffn}' has no Hugging Face BitNet/Llama equivalent (gated FFNs only)`);
  const common: Json = {
    hidden_size: c.dim, intermediate_size: c.ffnDim, num_hidden_layers: c.nLayers, num_attention_heads: c.nHeads,
    num_key_value_heads: c.nKvHeads, head_dim: c.dim / c.nHeads, vocab_size: c.vocabSize, max_position_embeddings: c.maxSeqLen,
    rope_theta: c.ropeTheta, rms_norm_eps: c.normEps, hidden_act: act, tie_word_embeddings: c.tieEmbeddings,
    attention_bias: false, attention_dropout: 0, initializer_range: 0.02, use_cache: true,
    torch_dtype: opts.dtype === 'F32' ? 'float32' : 'bfloat16',
    ...(opts.bos !== undefined && opts.bos >= 0 ? { bos_token_id: opts.bos } : {}),
    ...(opts.eos !== undefined && opts.eos >= 0 ? { eos_token_id: opts.eos } : {}),
  };
  const arch = foreignOf(c.quant, 'hf');
  if (arch === 'bitnet') {
    if (!c.subln) throw new FormatError('exportHF: transformers BitNet always has sub-norms (attn_sub_norm, ffn_sub_norm); this b1.58 model has none');
    if (c.groups !== 1) throw new FormatError('exportHF: group quantization has no Hugging Face equivalent');
    return {
      architectures: ['BitNetForCausalLM'], model_type: 'bitnet', ...common,
      quantization_config: { quant_method: 'bitnet', linear_class: opts.linearClass, quantization_mode: 'offline' },
    };
  }
  if (arch === 'llama') {
    if (c.subln || c.ffn !== 'swiglu') throw new FormatError('exportHF: a full-precision model exports as Llama, which needs ffn swiglu and no sub-norms');
    return { architectures: ['LlamaForCausalLM'], model_type: 'llama', ...common };
  }
  throw new FormatError(`exportHF: quant mode '${c.quant}' has no Hugging Face equivalent (${exportable('hf')})`);
}

/** What a Hugging Face export consists of: the safetensors tensors (bytes made one at a time, in order) and the small JSON files. */
export interface HfExportContents {
  specs: Array<{ name: string; dtype: StDType; shape: number[] }>;
  /** Bytes of tensor i; call in order 0, 1, … (a packed weight's scale comes from the weight before it). */
  tensor(i: number): Uint8Array;
  metadata: Record<string, string>;
  /** config.json, generation_config.json, and tokenizer.json + tokenizer_config.json when a tokenizer is given: name → text. */
  jsonFiles: Array<[name: string, text: string]>;
}

/** The contents of `source` as a Hugging Face model directory (see the module comment); `exportHF` writes them. */
export function hfExportContents(source: WeightSource, opts: ExportHFOptions = {}): HfExportContents {
  const c = source.config;
  const dtype = opts.dtype ?? 'F32';
  const linearClass = opts.linearClass ?? 'autobitlinear';
  const tok = opts.tokenizer;
  const hfConfig = hfConfigOf(c, { dtype, linearClass, ...(tok ? { bos: tok.bosId, eos: tok.eosId } : {}) });
  const packed = foreignOf(c.quant, 'hf') === 'bitnet';
  const table = paramTable(c);
  const specs: HfExportContents['specs'] = [];
  const jobs: Array<() => Uint8Array> = [];
  let pendingScale: number | undefined;
  for (const p of table) {
    const hfName = hfNames(p.name)[0]!;
    if (packed && isLinear(p.name)) {
      const [N, K] = p.shape as [number, number];
      if (N % 4 !== 0) throw new FormatError(`exportHF: '${p.name}' has ${N} output rows; HF packing needs a multiple of 4`);
      specs.push({ name: hfName, dtype: 'U8', shape: [N / 4, K] });
      jobs.push(() => {
        const { q, scale } = ternaryOf(source, p.name);
        pendingScale = weightScaleFromBeta(scale, linearClass);
        return packHfTernary(q, N, K);
      });
      specs.push({ name: hfName.replace(/\.weight$/, '.weight_scale'), dtype, shape: [1] });
      jobs.push(() => {
        if (pendingScale === undefined) throw new FormatError(`exportHF: internal order error at '${p.name}'`);
        const b = floatBytes(Float32Array.of(pendingScale), dtype);
        pendingScale = undefined;
        return b;
      });
    } else {
      specs.push({ name: hfName, dtype, shape: p.shape });
      jobs.push(() => floatBytes(source.dense(p.name), dtype));
    }
  }
  const jsonFiles: Array<[string, string]> = [['config.json', JSON.stringify(hfConfig, null, 2) + '\n']];
  const gen: Json = { _from_model_config: true };
  if (tok && tok.bosId >= 0) gen.bos_token_id = tok.bosId;
  if (tok && tok.eosId >= 0) gen.eos_token_id = tok.eosId;
  jsonFiles.push(['generation_config.json', JSON.stringify(gen, null, 2) + '\n']);
  if (tok) {
    jsonFiles.push(['tokenizer.json', JSON.stringify(withBosPostProcessor(tok), null, 2) + '\n']);
    const tc: Json = {
      tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false, model_max_length: c.maxSeqLen,
      add_bos_token: tok.bosId >= 0, add_eos_token: false,
      ...(tok.bosId >= 0 ? { bos_token: tok.idToToken(tok.bosId) } : {}),
      ...(tok.eosId >= 0 ? { eos_token: tok.idToToken(tok.eosId) } : {}),
      ...(opts.chatTemplate !== undefined ? { chat_template: opts.chatTemplate } : {}),
    };
    jsonFiles.push(['tokenizer_config.json', JSON.stringify(tc, null, 2) + '\n']);
  }
  return {
    specs,
    tensor: (i) => {
      const b = jobs[i]!();
      opts.onProgress?.(i + 1, specs.length, specs[i]!.name);
      return b;
    },
    metadata: { format: 'pt' },
    jsonFiles,
  };
}
