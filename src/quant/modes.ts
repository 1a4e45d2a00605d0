/**
 * The quantization modes: one table, QUANT_VARIANTS, read by training (src/nn/bitlinear.ts,
 * src/model/transformer.ts), the engine (src/infer/layout.ts → packed_model.ts → forward.ts), config
 * validation (src/model/config.ts), energy and PTQ (src/science/) and export (src/interop/). Nothing else
 * branches on a mode's name. Adding a variant = one row here (+ the kernels of any new quantizer or format).
 *
 * A row gives, for each of the four BitLinear inputs of a layer (LinearSite: q/k/v, o_proj, gate/up,
 * down_proj), the pre-transform and the activation quantizer, plus the weight quantizer of every
 * projection. The rest follows from three small tables below it:
 *   WEIGHT_QUANTS  weight quantizer → bits, alphabet, the packed formats that store it
 *   ACT_QUANTS     training activation quantizer (fake-quant kernel) → the inference codes
 *   ACT_CODES      inference codes → bits, the per-token quantizer kernel, the matmul slot of a format
 * and the packed format and kernel of a site come from packedFormat/siteKernel (FORMAT_TRAITS, formats.ts).
 *
 *   variant          weights            attn (q/k/v)    o_proj            gate/up         down_proj            paper
 *   fp               none (f32)         none            none              none            none                 —
 *   bitnet           sign ±1 → 'b1'     LN, i8 tensor   LN, i8 tensor     LN, i8 tensor   LN, i8 tensor        docs/spec.md §1.1
 *   bitnet/ffn-down  sign ±1 → 'b1'     LN, i8 tensor   LN, i8 tensor     LN, i8 tensor   LN, u7 zero-point    docs/spec.md §1.1 Eq.6
 *   b158             ternary → 'i2r4'   i8 token        i8 token          i8 token        i8 token             docs/spec.md §2
 *   v2-a8            ternary → 'i2r4'   i8 token        Hadamard, i8      i8 token        Hadamard, i8         docs/spec.md §4.2
 *   v2-a4            ternary → 'i2r4'   i8 token        Hadamard, i4      i8 token        Hadamard, i4         docs/spec.md §4.2
 * (training quantizes v1 activations per tensor, inference per token: docs/spec.md §1.1, §3.8.)
 * Column `foreign`: what other tools call the row (src/interop/): fp ↔ Hugging Face 'llama'; b158 ↔ Hugging Face
 * 'bitnet' and llama.cpp's GGUF 'bitnet'; the others have no foreign equivalent and are refused by the exporters.
 *
 * Keys: a config's `quant` names a row; `quant/v1ShiftedActs` names a row that refines it
 * ('bitnet/ffn-down': BitNet v1's zero-point quantizer on down_proj's input, config.v1ShiftedActs; the
 * placement is argued in src/model/config.ts). QuantMode (the values of config.quant) are the keys without '/'.
 */
import { ArgumentError } from '../errors.js';
import { FORMAT_TRAITS, type FormatName, type PackedMatmulKernel } from './formats.js';

/** The BitLinear inputs of a Transformer layer: q/k/v ('attn'), o_proj ('o'), gate/up ('ffn'), down_proj ('down'). */
export type LinearSite = 'attn' | 'o' | 'ffn' | 'down';
export const LINEAR_SITES: readonly LinearSite[] = ['attn', 'o', 'ffn', 'down'];

/** Weight quantizers (training fake-quant and the codes the engine packs). */
export type WeightQuant = 'none' | 'ternary' | 'sign';
/** Training activation quantizers: absmax int8 per token / per tensor, absmean int4 per token, v1 zero-point [0, 127] per tensor. */
export type ActQuant = 'none' | 'i8-token' | 'i8-tensor' | 'i4-token' | 'u7-shifted-tensor';
/** Inference activation codes, always per token: int8 absmax, int4 absmean, BitNet v1 zero-point u7 (x ≈ q/s + η). */
export type ActCodes = 'none' | 'i8' | 'i4' | 'u7';
/** Transform of a BitLinear input before quantization: LayerNorm without affine (v1), online Hadamard (v2 H-BitLinear). */
export type PreTransform = 'none' | 'layernorm' | 'hadamard';

export interface WeightQuantTraits {
  /** Bits per weight of the alphabet (1.58 = log2 3); the latent f32 for 'none'. */
  readonly bits: number;
  readonly values: 'ternary' | 'binary' | undefined;
  /** Packed formats that store it, the default first ('i2' is interleaved to 'i2r4' by the engine on request). */
  readonly formats: readonly FormatName[];
  /** The rule (docs/spec.md). */
  readonly rule: string;
}

export const WEIGHT_QUANTS = {
  none: { bits: 32, values: undefined, formats: [], rule: 'W (nn.Linear)' },
  ternary: { bits: 1.58, values: 'ternary', formats: ['i2', 'i1.6'], rule: 'absmean: q = clamp(round(W/β), −1, 1), β = mean|W| (docs/spec.md §2)' },
  sign: { bits: 1, values: 'binary', formats: ['b1'], rule: 'centred sign: q = Sign(W − α), α = mean W, β = mean|W| (docs/spec.md §1.1)' },
} as const satisfies Record<WeightQuant, WeightQuantTraits>;

/** Names of the per-token activation quantizer kernels (src/kernels/ref/quant.ts). */
export type ActQuantizerKernel = 'quantizeAbsmaxI8PerToken' | 'quantizeAbsmeanI4PerToken' | 'quantizeShiftedU7PerToken';
/** Names of the training fake-quant kernels (src/kernels/ref/quant.ts). */
export type FakeQuantKernel = 'fakeQuantAbsmaxI8PerToken' | 'fakeQuantAbsmaxI8PerTensor' | 'fakeQuantAbsmeanI4PerToken' | 'fakeQuantShiftedU7PerTensor';

export interface ActQuantTraits {
  readonly bits: number;
  readonly scale: 'none' | 'absmax' | 'absmean' | 'zero-point';
  readonly per: 'token' | 'tensor' | undefined;
  /** The training kernel (groups > 1: per group, src/nn/bitlinear.ts). */
  readonly fakeQuant: FakeQuantKernel | undefined;
  /** What the engine quantizes the same input to (per token). */
  readonly infer: ActCodes;
}

export const ACT_QUANTS = {
  none: { bits: 32, scale: 'none', per: undefined, fakeQuant: undefined, infer: 'none' },
  'i8-token': { bits: 8, scale: 'absmax', per: 'token', fakeQuant: 'fakeQuantAbsmaxI8PerToken', infer: 'i8' },
  'i8-tensor': { bits: 8, scale: 'absmax', per: 'tensor', fakeQuant: 'fakeQuantAbsmaxI8PerTensor', infer: 'i8' },
  'i4-token': { bits: 4, scale: 'absmean', per: 'token', fakeQuant: 'fakeQuantAbsmeanI4PerToken', infer: 'i4' },
  'u7-shifted-tensor': { bits: 7, scale: 'zero-point', per: 'tensor', fakeQuant: 'fakeQuantShiftedU7PerTensor', infer: 'u7' },
} as const satisfies Record<ActQuant, ActQuantTraits>;

export interface ActCodesTraits {
  readonly bits: number;
  /** Per-token quantizer kernel (u7 also writes the zero points η). */
  readonly quantizer: ActQuantizerKernel | undefined;
  /** Codes carry a zero point η: the engine adds η·β·rowsum(W̃) per output (layout: a `.shift` array). */
  readonly zeroPoint: boolean;
  /** Which kernel slot of a packed format multiplies these codes (u7 codes ∈ [0, 127] are int8 bytes). */
  readonly matmul: 'matmul' | 'matmulI4' | undefined;
}

export const ACT_CODES = {
  none: { bits: 32, quantizer: undefined, zeroPoint: false, matmul: undefined },
  i8: { bits: 8, quantizer: 'quantizeAbsmaxI8PerToken', zeroPoint: false, matmul: 'matmul' },
  i4: { bits: 4, quantizer: 'quantizeAbsmeanI4PerToken', zeroPoint: false, matmul: 'matmulI4' },
  u7: { bits: 7, quantizer: 'quantizeShiftedU7PerToken', zeroPoint: true, matmul: 'matmul' },
} as const satisfies Record<ActCodes, ActCodesTraits>;

/** How one BitLinear input is prepared: pre-transform, then the activation quantizer. */
export interface InputRule {
  readonly pre: PreTransform;
  readonly act: ActQuant;
}

export interface QuantVariantTraits {
  /** Row label of reports (the PTQ table's "… from scratch"). */
  readonly label: string;
  /** Where the equations are (docs/spec.md). */
  readonly spec: string;
  readonly weight: WeightQuant;
  readonly sites: Readonly<Record<LinearSite, InputRule>>;
  /** config.subln of models built for this variant (v1 normalises inside BitLinear instead). */
  readonly subln: boolean;
  /** BitNet v1 group quantization (config.groups > 1) defined for it. */
  readonly groups: boolean;
  /**
   * The foreign architecture that expresses this row, per interchange format (src/interop/): a Hugging Face
   * `model_type` ('bitnet': packed ternary + weight_scale; 'llama': float weights) and llama.cpp's GGUF
   * `general.architecture`; absent: the row does not export there (and nothing imports as it).
   */
  readonly foreign: { readonly hf?: ForeignArch; readonly gguf?: ForeignArch };
}

/** Architectures of other tools a row maps to (see QuantVariantTraits.foreign). */
export type ForeignArch = 'bitnet' | 'llama';
export type ForeignFormat = 'hf' | 'gguf';

const FP: InputRule = { pre: 'none', act: 'none' };
const LN_I8T: InputRule = { pre: 'layernorm', act: 'i8-tensor' };
const LN_U7: InputRule = { pre: 'layernorm', act: 'u7-shifted-tensor' };
const I8: InputRule = { pre: 'none', act: 'i8-token' };
const H_I8: InputRule = { pre: 'hadamard', act: 'i8-token' };
const H_I4: InputRule = { pre: 'hadamard', act: 'i4-token' };

/** The table (see the file comment). Row order = the order of QUANT_MODES. */
export const QUANT_VARIANTS = {
  fp: { label: 'FP (fp16)', spec: '', weight: 'none', sites: { attn: FP, o: FP, ffn: FP, down: FP }, subln: true, groups: false, foreign: { hf: 'llama' } },
  bitnet: { label: 'BitNet v1 W1A8', spec: 'docs/spec.md §1.1', weight: 'sign', sites: { attn: LN_I8T, o: LN_I8T, ffn: LN_I8T, down: LN_I8T }, subln: false, groups: true, foreign: {} },
  'bitnet/ffn-down': { label: 'BitNet v1 W1A8, zero-point down_proj input', spec: 'docs/spec.md §1.1', weight: 'sign', sites: { attn: LN_I8T, o: LN_I8T, ffn: LN_I8T, down: LN_U7 }, subln: false, groups: true, foreign: {} },
  b158: { label: 'BitNet b1.58 W1.58A8', spec: 'docs/spec.md §2', weight: 'ternary', sites: { attn: I8, o: I8, ffn: I8, down: I8 }, subln: true, groups: false, foreign: { hf: 'bitnet', gguf: 'bitnet' } },
  'v2-a8': { label: 'BitNet v2 W1.58A8', spec: 'docs/spec.md §4.2', weight: 'ternary', sites: { attn: I8, o: H_I8, ffn: I8, down: H_I8 }, subln: true, groups: false, foreign: {} },
  'v2-a4': { label: 'BitNet v2 W1.58A4', spec: 'docs/spec.md §4.2', weight: 'ternary', sites: { attn: I8, o: H_I4, ffn: I8, down: H_I4 }, subln: true, groups: false, foreign: {} },
} as const satisfies Record<string, QuantVariantTraits>;

export type QuantVariant = keyof typeof QUANT_VARIANTS;
/** config.quant: the BitLinear variant of every projection except the embedding and the LM head. */
export type QuantMode = Exclude<QuantVariant, `${string}/${string}`>;
export const QUANT_MODES: readonly QuantMode[] = (Object.keys(QUANT_VARIANTS) as QuantVariant[]).filter((k): k is QuantMode => !k.includes('/'));

/**
 * config.v1ShiftedActs: where BitNet v1 uses the shifted [0, Q] activation quantizer (docs/spec.md §1.1 Eq.6)
 * instead of absmax — none (absmax everywhere; absent = none) or ffn-down (down_proj's input). A value other
 * than 'none' selects the row `${quant}/${value}`.
 */
export type V1ShiftedActs = 'none' | 'ffn-down';
export const V1_SHIFTED_ACTS: readonly V1ShiftedActs[] = ['none', 'ffn-down'];

/** What selects a row: config.quant and config.v1ShiftedActs. */
export interface QuantChoice {
  quant: QuantMode;
  v1ShiftedActs?: V1ShiftedActs;
}

/** The row key of a choice (not checked to exist; see quantVariant). */
export function variantKey(c: QuantChoice): string {
  return c.v1ShiftedActs === undefined || c.v1ShiftedActs === 'none' ? c.quant : `${c.quant}/${c.v1ShiftedActs}`;
}

/** The row of a choice, or undefined when the table has none (e.g. v1ShiftedActs with a mode other than bitnet). */
export function findVariant(c: QuantChoice): QuantVariantTraits | undefined {
  const k = variantKey(c);
  return Object.prototype.hasOwnProperty.call(QUANT_VARIANTS, k) ? QUANT_VARIANTS[k as QuantVariant] : undefined;
}

/** The row of a (validated) choice; ArgumentError when there is none. */
export function quantVariant(c: QuantChoice): QuantVariantTraits {
  const v = findVariant(c);
  if (v === undefined) throw new ArgumentError(`no quantization variant '${variantKey(c)}' (known: ${Object.keys(QUANT_VARIANTS).join(', ')})`);
  return v;
}

/** Modes that have a row refined by `option` (e.g. 'ffn-down' → ['bitnet']). */
export function modesWith(option: Exclude<V1ShiftedActs, 'none'>): QuantMode[] {
  return QUANT_MODES.filter((m) => findVariant({ quant: m, v1ShiftedActs: option }) !== undefined);
}

/** The mode a foreign architecture imports as (the one row whose `foreign[format]` names it); ArgumentError when none does. */
export function modeOfForeign(format: ForeignFormat, arch: ForeignArch): QuantMode {
  const m = QUANT_MODES.find((q) => foreignOf(q, format) === arch);
  if (m === undefined) throw new ArgumentError(`no quantization mode imports from ${format} '${arch}'`);
  return m;
}

/** The foreign architecture mode `mode` exports to in `format`, or undefined; `exportable` lists the modes that do (for errors). */
export function foreignOf(mode: QuantMode, format: ForeignFormat): ForeignArch | undefined {
  return (QUANT_VARIANTS[mode].foreign as QuantVariantTraits['foreign'])[format];
}

export function exportable(format: ForeignFormat): string {
  return QUANT_MODES.filter((m) => foreignOf(m, format) !== undefined).map((m) => `${m} → ${foreignOf(m, format)}`).join(', ');
}

/** True when some site of the row reads its input through the Hadamard transform (power-of-two widths needed). */
export function usesHadamard(v: QuantVariantTraits): boolean {
  return LINEAR_SITES.some((s) => v.sites[s].pre === 'hadamard');
}

/** Fewest activation bits over the row's sites (the A of WxAy: v2-a4 → 4). */
export function actBits(v: QuantVariantTraits): number {
  return Math.min(...LINEAR_SITES.map((s) => ACT_CODES[ACT_QUANTS[v.sites[s].act].infer].bits));
}

/**
 * The input rule of a standalone BitLinear (src/nn/bitlinear.ts) of mode `mode`: the mode's plain rule;
 * `hadamard` asks for its Hadamard rule (the v2 rows' H-BitLinear quantizer; other modes keep their
 * quantizer and add the transform); `shifted` for the row `${mode}/ffn-down`'s down_proj rule.
 */
export function bitLinearRule(mode: QuantMode, hadamard: boolean, shifted: boolean): { act: ActQuant; lnInside: boolean; hadamard: boolean } {
  const row = QUANT_VARIANTS[mode];
  if (row === undefined) throw new ArgumentError(`unknown quant mode '${String(mode)}' (known: ${QUANT_MODES.join(', ')})`);
  const lnInside = row.sites.attn.pre === 'layernorm';
  if (shifted) {
    const s = findVariant({ quant: mode, v1ShiftedActs: 'ffn-down' });
    if (s === undefined) throw new ArgumentError(`the shifted [0, 127] activation quantizer is BitNet v1's (mode ${modesWith('ffn-down').map((m) => `'${m}'`).join(', ')}), got mode '${mode}'`);
    return { act: s.sites.down.act, lnInside, hadamard };
  }
  const h = hadamard ? LINEAR_SITES.map((s) => row.sites[s]).find((r) => r.pre === 'hadamard') : undefined;
  return { act: (h ?? row.sites.attn).act, lnInside, hadamard };
}

/** The engine's choice of ternary packing (LoadOptions.format / interleave). */
export interface FormatChoice {
  format: 'i2' | 'i1.6';
  interleave: boolean;
}

/**
 * Packed format of a site's weights: 'f32' for unquantized weights; else the chosen format if the weight
 * quantizer stores in it and it has a kernel for the site's codes, otherwise the quantizer's first format
 * that has one ('i1.6' has no int4 kernel: v2-a4's Hadamard inputs use 'i2'); 'i2' becomes 'i2r4' with interleave.
 */
export function packedFormat(weight: WeightQuant, codes: ActCodes, choice: FormatChoice): FormatName | 'f32' {
  if (weight === 'none') return 'f32';
  const slot = ACT_CODES[codes].matmul;
  if (slot === undefined) throw new ArgumentError(`packed ${weight} weights need quantized activations, got codes '${codes}'`);
  const formats: readonly FormatName[] = WEIGHT_QUANTS[weight].formats;
  const ok = (f: FormatName) => FORMAT_TRAITS[f][slot] !== undefined;
  const fmt = formats.includes(choice.format) && ok(choice.format) ? choice.format : formats.find(ok);
  if (fmt === undefined) throw new ArgumentError(`no packed format of ${weight} weights has a kernel for ${codes} activations`);
  return fmt === 'i2' && choice.interleave ? 'i2r4' : fmt;
}

/** The packed matmul kernel for codes `codes` × weights in `format` (src/kernels/ref/ternary.ts). */
export function siteKernel(format: FormatName, codes: ActCodes): PackedMatmulKernel {
  const slot = ACT_CODES[codes].matmul;
  const k = slot === undefined ? undefined : FORMAT_TRAITS[format][slot];
  if (k === undefined) throw new ArgumentError(`format '${format}' has no kernel for ${codes} activations`);
  return k;
}
