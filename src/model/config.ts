/**
 * Model configuration: one typed object, one table of presets (gpt-fast style),
 * validated with errors that name the offending field.
 *
 * quant (the BitLinear variant used by every projection except embeddings/LM head) and v1ShiftedActs
 * select a row of the quantization table, QUANT_VARIANTS in src/quant/modes.ts (fp, bitnet = v1,
 * bitnet/ffn-down = v1 with BitNet v1's zero-point quantizer on down_proj's input, b158, v2-a8, v2-a4);
 * validation below reads its rules from the row. The placement of the zero-point input is argued at the
 * v1ShiftedActs field.
 */
import { ArgumentError } from '../errors.js';
import { findVariant, modesWith, QUANT_MODES, QUANT_VARIANTS, usesHadamard, V1_SHIFTED_ACTS, type QuantMode, type V1ShiftedActs } from '../quant/modes.js';

export { QUANT_MODES, V1_SHIFTED_ACTS, type QuantMode, type V1ShiftedActs };

/** FFN: gated (SwiGLU, ReLU²-GLU as in 2B4T, bilinear = identity gate) or a plain 2-layer MLP (v1). */
export type FfnKind = 'swiglu' | 'relu2glu' | 'bilinear' | 'mlp-relu' | 'mlp-gelu';
export const FFN_KINDS: readonly FfnKind[] = ['swiglu', 'relu2glu', 'bilinear', 'mlp-relu', 'mlp-gelu'];

export interface ModelConfig {
  /** V */
  vocabSize: number;
  /** C: model width */
  dim: number;
  /** L */
  nLayers: number;
  /** H: query heads */
  nHeads: number;
  /** KVH: key/value heads (GQA when < nHeads) */
  nKvHeads: number;
  /** F: FFN width */
  ffnDim: number;
  /** maximum T */
  maxSeqLen: number;
  ropeTheta: number;
  normEps: number;
  ffn: FfnKind;
  /** RMSNorm before o_proj and down_proj (2B4T attn_sub_norm / ffn_sub_norm). */
  subln: boolean;
  /** LM head = embeddingᵀ. */
  tieEmbeddings: boolean;
  quant: QuantMode;
  /** BitNet v1 group quantization: G groups of weight rows / activation columns (1 = none). */
  groups: number;
  /**
   * BitNet v1 (quant 'bitnet') only: activations "before the non-linear functions" scaled into
   * [0, Q] by subtracting the minimum, x̃ = Clip((x − η)·Q/γ', 0, Q), η = min x, γ' = max x − η
   * (2310.11453 Eq.6; docs/spec.md §1.1). Absent = 'none', so configs and checkpoints written before the
   * field existed keep their meaning (and their bytes).
   *
   * Placement ('ffn-down'). A BitLinear quantizes its *input* and keeps its output in high precision
   * (y = W̃·Quant(LN(x))·βγ/Q_b, Eq.11), so the tensor that literally enters the ReLU/GELU — the
   * up/gate projection's output — is never quantized. The only quantized activation next to a
   * non-linearity is the input of down_proj, which comes *out* of it: one-signed (ReLU) or skewed
   * (GELU, GLU products), so after the LayerNorm inside BitLinear it is still asymmetric
   * (min ≈ −mean/std, a long positive tail) and absmax wastes most of [−127, 127]; a zero point
   * uses the whole range. Attention inputs and the q/k/v, gate/up inputs (LN of the residual stream)
   * keep absmax.
   *
   * Q = 127 with codes in [0, 127] (7-bit unsigned, fits int8 and the int8 × packed kernels), the
   * same 127 as the absmax int8 path; per tensor (per group with config.groups, Eq.14) in training,
   * per token at inference, as the other v1 activations. Backward: straight-through (identity).
   */
  v1ShiftedActs?: V1ShiftedActs;
}

const BASE: Omit<ModelConfig, 'vocabSize' | 'dim' | 'nLayers' | 'nHeads' | 'nKvHeads' | 'ffnDim' | 'maxSeqLen'> = {
  ropeTheta: 10000,
  normEps: 1e-5,
  ffn: 'relu2glu',
  subln: true,
  tieEmbeddings: true,
  quant: 'b158',
  groups: 1,
};

/**
 * Presets. `tiny` and `small` train on 2 CPU cores; the rest are the published shapes
 * (for benchmarks with synthetic weights and for loading checkpoints).
 */
export const PRESETS: Record<string, ModelConfig> = {
  /** ~0.5M params without the embedding; minutes on 2 cores. */
  tiny: { ...BASE, vocabSize: 4096, dim: 128, nLayers: 2, nHeads: 4, nKvHeads: 2, ffnDim: 384, maxSeqLen: 128 },
  /** ~10M params; context 256. */
  small: { ...BASE, vocabSize: 4096, dim: 384, nLayers: 6, nHeads: 6, nKvHeads: 2, ffnDim: 1024, maxSeqLen: 256 },
  /** 1bitLLM/bitnet_b1_58-large (SwiGLU, MHA, tied, vocab 32002). */
  'b1.58-large': { ...BASE, vocabSize: 32002, dim: 1536, nLayers: 24, nHeads: 16, nKvHeads: 16, ffnDim: 4096, maxSeqLen: 2048, ffn: 'swiglu' },
  /** microsoft/bitnet-b1.58-2B-4T (ReLU², GQA 20/5, θ = 500000). */
  '2b4t': { ...BASE, vocabSize: 128256, dim: 2560, nLayers: 30, nHeads: 20, nKvHeads: 5, ffnDim: 6912, maxSeqLen: 4096, ropeTheta: 500000 },
};

/** Resolve a preset plus overrides into a validated config. */
export function makeConfig(preset: string, overrides: Partial<ModelConfig> = {}): ModelConfig {
  const base = PRESETS[preset];
  if (base === undefined) throw new ArgumentError(`unknown preset '${preset}' (choose from ${Object.keys(PRESETS).join(', ')})`);
  return validateConfig({ ...base, ...overrides });
}

function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/**
 * Bounds of the integer fields (inclusive). A config may come from an untrusted file (GGUF metadata,
 * config.json, a model file's metadata), and loaders build per-layer tables from it before any tensor
 * is checked, so every field is bounded here, before anything is allocated. The bounds are far above
 * any published model (2B4T: V 128256, C 2560, L 30, F 6912, T 4096; Llama-3-405B: C 16384, L 126,
 * F 53248) and far below what would exhaust memory through tables alone.
 */
export const CONFIG_LIMITS = {
  vocabSize: 1 << 24,
  dim: 1 << 16,
  nLayers: 1024,
  nHeads: 1 << 12,
  nKvHeads: 1 << 12,
  ffnDim: 1 << 18,
  maxSeqLen: 1 << 20,
  groups: 1 << 12,
} as const;
/** One weight matrix (V × C embedding, C × F FFN) holds at most this many elements (a typed array's reach). */
export const MAX_MATRIX_ELEMENTS = 2 ** 32;

/**
 * Check every field (type, range, and the relations between fields); the error (ArgumentError) names the
 * field and the rule. `c` may be anything (parsed JSON): nothing is read from it before its type is checked.
 */
export function validateConfig(c: ModelConfig): ModelConfig {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new ArgumentError(`config must be an object, got ${c === null ? 'null' : Array.isArray(c) ? 'an array' : typeof c}`);
  const show = (v: unknown): string => (typeof v === 'string' ? `'${v.slice(0, 40)}'` : typeof v === 'object' && v !== null ? (Array.isArray(v) ? 'an array' : 'an object') : String(v));
  for (const k of Object.keys(CONFIG_LIMITS) as Array<keyof typeof CONFIG_LIMITS>) {
    const v: unknown = c[k];
    const max = CONFIG_LIMITS[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new ArgumentError(`config.${k} must be an integer in 1..${max}, got ${show(v)}`);
  }
  // RoPE angles are pos·θ^(−2i/HS): θ < 1 grows them without bound (θ = 1e-320 → Inf → NaN logits).
  // RMSNorm divides by √(mean x² + ε): a subnormal ε gives Inf on a zero row.
  const finiteIn = (k: 'ropeTheta' | 'normEps', lo: number, hi: number) => {
    const v: unknown = c[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v >= hi) throw new ArgumentError(`config.${k} must be a finite number in [${lo}, ${hi}), got ${show(v)}`);
  };
  finiteIn('ropeTheta', 1, 1e12);
  finiteIn('normEps', 1e-12, 1);
  for (const k of ['subln', 'tieEmbeddings'] as const) {
    if (typeof c[k] !== 'boolean') throw new ArgumentError(`config.${k} must be true or false, got ${show(c[k])}`);
  }
  if (typeof c.ffn !== 'string' || !FFN_KINDS.includes(c.ffn)) throw new ArgumentError(`config.ffn must be one of ${FFN_KINDS.join(', ')}, got ${show(c.ffn)}`);
  if (typeof c.quant !== 'string' || !QUANT_MODES.includes(c.quant)) throw new ArgumentError(`config.quant must be one of ${QUANT_MODES.join(', ')}, got ${show(c.quant)}`);
  if (c.v1ShiftedActs !== undefined && (typeof c.v1ShiftedActs !== 'string' || !V1_SHIFTED_ACTS.includes(c.v1ShiftedActs))) {
    throw new ArgumentError(`config.v1ShiftedActs must be one of ${V1_SHIFTED_ACTS.join(', ')}, got ${show(c.v1ShiftedActs)}`);
  }
  if (c.dim % c.nHeads !== 0) throw new ArgumentError(`config.dim (${c.dim}) must be divisible by config.nHeads (${c.nHeads})`);
  if ((c.dim / c.nHeads) % 2 !== 0) throw new ArgumentError(`config.dim / config.nHeads (head size ${c.dim / c.nHeads}) must be even for RoPE`);
  if (c.nHeads % c.nKvHeads !== 0) throw new ArgumentError(`config.nHeads (${c.nHeads}) must be divisible by config.nKvHeads (${c.nKvHeads})`);
  if (c.vocabSize * c.dim > MAX_MATRIX_ELEMENTS) throw new ArgumentError(`config.vocabSize × config.dim (${c.vocabSize} × ${c.dim}) exceeds ${MAX_MATRIX_ELEMENTS} elements in one matrix`);
  if (c.ffnDim * c.dim > MAX_MATRIX_ELEMENTS) throw new ArgumentError(`config.ffnDim × config.dim (${c.ffnDim} × ${c.dim}) exceeds ${MAX_MATRIX_ELEMENTS} elements in one matrix`);
  const row = QUANT_VARIANTS[c.quant];
  if (usesHadamard(row) && !(isPow2(c.dim) && isPow2(c.ffnDim))) {
    throw new ArgumentError(`config.quant '${c.quant}' needs power-of-two config.dim and config.ffnDim for the Hadamard transform, got ${c.dim} and ${c.ffnDim}`);
  }
  const names = (ms: QuantMode[]) => ms.map((m) => `'${m}'`).join(' or ');
  if (c.groups > 1 && !row.groups) throw new ArgumentError(`config.groups > 1 is BitNet v1 group quantization; it needs config.quant ${names(QUANT_MODES.filter((m) => QUANT_VARIANTS[m].groups))}, got '${c.quant}'`);
  if (shiftedDownActs(c) && findVariant(c) === undefined) {
    throw new ArgumentError(`config.v1ShiftedActs '${c.v1ShiftedActs}' is BitNet v1's zero-point activation quantizer; it needs config.quant ${names(modesWith('ffn-down'))}, got '${c.quant}'`);
  }
  if (c.groups > 1 && (c.dim % c.groups !== 0 || c.ffnDim % c.groups !== 0)) {
    throw new ArgumentError(`config.groups (${c.groups}) must divide config.dim (${c.dim}) and config.ffnDim (${c.ffnDim})`);
  }
  return c;
}

/** Whether down_proj's input uses the shifted [0, 127] quantizer (config.v1ShiftedActs 'ffn-down'). */
export function shiftedDownActs(c: Pick<ModelConfig, 'v1ShiftedActs'>): boolean {
  return c.v1ShiftedActs === 'ffn-down';
}

/** Gated FFNs (act(gate) ⊙ up: SwiGLU, ReLU²-GLU, bilinear) have a gate_proj; plain MLPs (act(up)) do not. */
export function isGatedFfn(c: Pick<ModelConfig, 'ffn'>): boolean {
  return c.ffn === 'swiglu' || c.ffn === 'relu2glu' || c.ffn === 'bilinear';
}

/** Parameter count: total, and the part that BitLinear quantizes. */
export function paramCount(c: ModelConfig): { total: number; linear: number; embedding: number } {
  const hs = c.dim / c.nHeads;
  const kv = c.nKvHeads * hs;
  const gated = isGatedFfn(c);
  const attn = c.dim * c.dim * 2 + c.dim * kv * 2;
  const ffn = c.dim * c.ffnDim * (gated ? 3 : 2);
  const norms = c.dim * 2 + (c.subln ? c.dim + c.ffnDim : 0);
  const linear = c.nLayers * (attn + ffn);
  const embedding = c.vocabSize * c.dim * (c.tieEmbeddings ? 1 : 2);
  return { total: linear + embedding + c.nLayers * norms + c.dim, linear, embedding };
}
