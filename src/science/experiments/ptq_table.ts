/**
 * `bitnet experiment ptq-table`: the shape of BitNet Table 3 (docs/spec.md §1.6) at CPU scale.
 * Trained from scratch with the same shape, data, steps and seed: FP, BitNet (v1, W1A8), b1.58,
 * v2-a8, v2-a4; then the FP model quantized after training with every PTQ method. Each row: held-out
 * perplexity and bits per byte (sliding window), the offline zero-shot accuracies (acc_norm for the
 * choice tasks), projection-weight memory and matmul energy per token.
 */
import type { ModelConfig, QuantMode } from '../../model/config.js';
import { QUANT_VARIANTS } from '../../quant/modes.js';
import type { Transformer } from '../../model/transformer.js';
import type { TaskResult } from '../../eval/tasks.js';
import { DEFAULT_ENERGY, trainedFormat, type EnergyOptions } from '../energy.js';
import { cloneModel, DEFAULT_PTQ, PTQ_METHODS, ptqFormat, quantizeModel, type PtqOptions } from '../ptq.js';
import { allSites, siteLinears } from '../sites.js';
import { buildOfflineTasks, calibrationBatches, costOf, energyAssumptions, evaluateModel, shapeConfig, trainModel, writeReport, type Cost, type EvalOptions, type ExperimentArch, type ExperimentEnv, type ModelEval, type TrainSpec } from './common.js';
import { barChartSvg, mdTable } from './plots.js';

export interface PtqTablePreset {
  /** Architecture overrides for every trained model (`bitnet experiment --heads …`; default: shapeConfig's choices). */
  arch?: ExperimentArch;
  description: string;
  shape: { dim: number; nLayers: number; ffnDim: number; maxSeqLen: number };
  train: Omit<TrainSpec, 'lr'>;
  /** Peak learning rate per mode (BitNet wants a larger LR than FP, 2310.11453 §2.2). */
  lr: { fp: number; quantized: number };
  trained: QuantMode[];
  ptq: string[];
  calib: { batches: number; batch: number };
  eval: EvalOptions;
}

/** Presets. `default` fits in ~15 min on 2 shared cores; `small` and `medium` are documented larger runs. */
export const PTQ_TABLE_PRESETS: Record<string, PtqTablePreset> = {
  /** Seconds: a plumbing check (tests), not a result. */
  smoke: {
    description: 'plumbing check: 1 layer × 64 wide, 10 steps',
    shape: { dim: 64, nLayers: 1, ffnDim: 128, maxSeqLen: 64 },
    train: { steps: 10, batch: 4, seq: 64, seed: 1337, evalEvery: 5 },
    lr: { fp: 2e-3, quantized: 4e-3 },
    trained: ['fp', 'b158'],
    ptq: ['absmax-w8a8', 'smoothquant-w4a4', 'gptq-w3a16', 'quip-w2a16'],
    calib: { batches: 2, batch: 4 },
    eval: { pplTokens: 512, taskItems: 6, seed: 1234, batch: 8, window: 64 },
  },
  default: {
    description: '2 layers × 128 wide (FFN 256, pow2 for v2), 800 steps × 8 × 128 tokens per model (measured: 22 min of training for the 5 models on 2 busy cores)',
    shape: { dim: 128, nLayers: 2, ffnDim: 256, maxSeqLen: 128 },
    train: { steps: 800, batch: 8, seq: 128, seed: 1337 },
    lr: { fp: 2e-3, quantized: 4e-3 },
    trained: ['fp', 'bitnet', 'b158', 'v2-a8', 'v2-a4'],
    ptq: Object.keys(PTQ_METHODS),
    calib: { batches: 16, batch: 8 },
    eval: { pplTokens: 16384, taskItems: 100, seed: 1234, batch: 8, window: 128 },
  },
  converged: {
    description: "2 layers × 256 wide (FFN 512), 16 × 128 tokens per step (1000 steps = one epoch of the bundled corpus), validation every 100 steps so the report shows how far the FP baseline has flattened; FP, BitNet v1 and b1.58 trained (the paper's Table 3 rows); `--steps N` trains several epochs",
    shape: { dim: 256, nLayers: 2, ffnDim: 512, maxSeqLen: 128 },
    train: { steps: 1000, batch: 16, seq: 128, seed: 1337, evalEvery: 100, evalBatches: 16 },
    lr: { fp: 2e-3, quantized: 4e-3 },
    trained: ['fp', 'bitnet', 'b158'],
    ptq: Object.keys(PTQ_METHODS),
    calib: { batches: 16, batch: 8 },
    eval: { pplTokens: 65536, taskItems: 200, seed: 1234, batch: 8, window: 128 },
  },
  small: {
    description: '4 layers × 256 wide (FFN 512), 2000 steps × 16 × 256 tokens per model (estimated 2–3 h on 2 cores, not measured)',
    shape: { dim: 256, nLayers: 4, ffnDim: 512, maxSeqLen: 256 },
    train: { steps: 2000, batch: 16, seq: 256, seed: 1337 },
    lr: { fp: 1.5e-3, quantized: 3e-3 },
    trained: ['fp', 'bitnet', 'b158', 'v2-a8', 'v2-a4'],
    ptq: Object.keys(PTQ_METHODS),
    calib: { batches: 32, batch: 8 },
    eval: { pplTokens: 65536, taskItems: 400, seed: 1234, batch: 8, window: 256 },
  },
  medium: {
    description: '6 layers × 512 wide (FFN 1024), 5000 steps × 16 × 256 tokens per model (estimated: a day on 2 cores, not measured)',
    shape: { dim: 512, nLayers: 6, ffnDim: 1024, maxSeqLen: 256 },
    train: { steps: 5000, batch: 16, seq: 256, seed: 1337 },
    lr: { fp: 1e-3, quantized: 2e-3 },
    trained: ['fp', 'bitnet', 'b158', 'v2-a8', 'v2-a4'],
    ptq: Object.keys(PTQ_METHODS),
    calib: { batches: 64, batch: 8 },
    eval: { pplTokens: 262144, taskItems: 1000, seed: 1234, batch: 8, window: 256 },
  },
};

export interface PtqRow {
  label: string;
  /** 'reference': the FP model with every projection zeroed (ablation). */
  kind: 'trained' | 'ptq' | 'reference';
  method: string;
  wBits: number;
  aBits: number;
  eval: ModelEval;
  cost: Cost;
  notes?: string[];
}

export interface PtqTableResult {
  preset: string;
  config: ModelConfig;
  rows: PtqRow[];
  energy: EnergyOptions;
  trainSeconds: Record<string, number>;
  /** Validation loss (nats/token, training split's held-out batches) during training, per trained mode: [step, loss]. */
  valCurves: Record<string, Array<[number, number]>>;
  evalSplit: string;
  /** Tokens in the corpus's training split (to state how many epochs the training budget is). */
  trainTokens: number;
}

const trainedLabel = (quant: QuantMode): string => `${QUANT_VARIANTS[quant].label} from scratch`;

export function runPtqTable(env: ExperimentEnv, presetName: string, p: PtqTablePreset, ptqOpts: Partial<PtqOptions> = {}, energy: EnergyOptions = DEFAULT_ENERGY): PtqTableResult {
  const vocabSize = env.prep.tokenizer.vocabSize;
  const tasks = buildOfflineTasks(env, p.eval.taskItems, p.eval.seed, p.eval.window);
  env.log(`offline tasks from the ${env.evalSplit} split: ${tasks.map((t) => `${t.name} ${t.kind === 'text' ? t.texts.length : t.items.length}`).join(', ')}`);
  const rows: PtqRow[] = [];
  const trainSeconds: Record<string, number> = {};
  const valCurves: Record<string, Array<[number, number]>> = {};
  let fpModel: Transformer | undefined;
  let fpConfig: ModelConfig | undefined;
  for (const quant of p.trained) {
    const config = shapeConfig({ ...p.shape, vocabSize }, quant, p.arch);
    env.log(`training ${quant} (${(costOf(config, trainedFormat(quant)).params / 1e6).toFixed(2)}M params)…`);
    const t = trainModel(env, config, { ...p.train, lr: quant === 'fp' ? p.lr.fp : p.lr.quantized }, quant);
    trainSeconds[quant] = t.seconds;
    valCurves[quant] = t.history.filter((h) => h.valLoss !== undefined).map((h) => [h.step, h.valLoss!]);
    if (t.model === undefined) {
      env.log(`  ${quant} diverged at step ${t.divergedAt}; no row`);
      continue;
    }
    const f = trainedFormat(quant);
    const ev = evaluateModel(env, t.model, tasks, p.eval);
    env.log(`  ${quant}: held-out ppl ${ev.ppl.toFixed(2)}, bpb ${ev.bpb.toFixed(3)} (${t.seconds.toFixed(0)} s train, ${ev.seconds.toFixed(0)} s eval)`);
    rows.push({ label: trainedLabel(quant), kind: 'trained', method: quant, wBits: f.wBits, aBits: f.aBits, eval: ev, cost: costOf(config, f, energy) });
    if (quant === 'fp') (fpModel = t.model), (fpConfig = config);
  }
  if (fpModel !== undefined && fpConfig !== undefined && p.ptq.length > 0) {
    const calib = calibrationBatches(env, p.calib.batches, p.calib.batch, p.train.seq);
    const o = { ...DEFAULT_PTQ, ...ptqOpts, seed: p.train.seed };
    for (const method of p.ptq) {
      const spec = PTQ_METHODS[method]!;
      const t0 = performance.now();
      const { model, notes } = quantizeModel(fpModel, method, calib, o);
      const qs = (performance.now() - t0) / 1000;
      const ev = evaluateModel(env, model, tasks, p.eval);
      env.log(`  FP + ${spec.label}: ppl ${ev.ppl.toFixed(2)}, bpb ${ev.bpb.toFixed(3)} (${qs.toFixed(1)} s quantize, ${ev.seconds.toFixed(0)} s eval)`);
      rows.push({ label: `FP + ${spec.label}`, kind: 'ptq', method, wBits: spec.wBits, aBits: spec.aBits, eval: ev, cost: costOf(fpConfig, ptqFormat(method, fpConfig, o), energy), ...(notes.length ? { notes } : {}) });
    }
  }
  if (fpModel !== undefined && fpConfig !== undefined) {
    // Ablation: no information through the projections (attention and FFN outputs are 0; with tied embeddings the model then predicts its input token). Shows how much the layers matter, so small PTQ deltas are not an artefact of unused layers.
    const zero = cloneModel(fpModel);
    for (const site of allSites(fpConfig)) for (const n of siteLinears(fpConfig, site)) zero.param(n).p.fill(0);
    const ev = evaluateModel(env, zero, tasks, p.eval);
    env.log(`  FP with projections zeroed: ppl ${ev.ppl.toFixed(2)}, bpb ${ev.bpb.toFixed(3)}`);
    rows.push({ label: 'FP, projections zeroed (ablation)', kind: 'reference', method: 'zero', wBits: 0, aBits: 16, eval: ev, cost: { ...costOf(fpConfig, trainedFormat('fp'), energy), weightBytes: 0, energyJ: 0 } });
  }
  return { preset: presetName, evalSplit: env.evalSplit, config: fpConfig ?? shapeConfig({ ...p.shape, vocabSize }, 'fp', p.arch), rows, energy, trainSeconds, valCurves, trainTokens: env.prep.counts.train };
}

const bpbOf = (x: PtqRow) => x.eval.bpb;

function taskCell(t: TaskResult | undefined): string {
  if (t === undefined) return '–';
  return ((t.kind === 'choice' ? t.accNorm! : t.acc!) * 100).toFixed(1);
}

export function ptqTableReport(r: PtqTableResult, p: PtqTablePreset, command: string): { md: string; json: string; svgs: Record<string, string> } {
  const taskNames = r.rows[0]?.eval.tasks.map((t) => t.name) ?? [];
  const fp = r.rows.find((x) => x.method === 'fp');
  const head = ['model', 'W/A bits', 'PPL', 'bpb', ...taskNames, 'avg', 'weights KiB', 'energy nJ/tok', fp ? 'FP energy ÷ this' : ''].filter((h) => h !== '');
  const rows = r.rows.map((x) => {
    const accs = x.eval.tasks.map((t) => (t.kind === 'choice' ? t.accNorm! : t.acc!));
    const avg = accs.length ? (accs.reduce((a, b) => a + b, 0) / accs.length) * 100 : NaN;
    return [
      x.label, x.kind === 'reference' ? '–' : `${x.wBits}/${x.aBits}`, x.eval.ppl < 1e4 ? x.eval.ppl.toFixed(2) : x.eval.ppl.toExponential(1), x.eval.bpb.toFixed(3),
      ...x.eval.tasks.map(taskCell), avg.toFixed(1), (x.cost.weightBytes / 1024).toFixed(1), (x.cost.energyJ * 1e9).toFixed(3),
      ...(fp ? [x.cost.energyJ > 0 ? `${(fp.cost.energyJ / x.cost.energyJ).toFixed(1)}×` : '–'] : []),
    ];
  });
  const chance = r.rows[0]?.eval.tasks.map((t) => (t.chance !== undefined ? `${t.name} ${(t.chance * 100).toFixed(0)} %` : `${t.name} (greedy last word)`)).join(', ') ?? '';
  const c = r.config;
  const notes = r.rows.flatMap((x) => (x.notes ?? []).map((n) => `- ${x.label}: ${n}`));
  const md = `# PTQ table (BitNet Table 3 shape) — preset \`${r.preset}\`

Command: \`${command}\`

Model: ${c.nLayers} layers × ${c.dim} wide, FFN ${c.ffnDim} (${c.ffn}), ${c.nHeads} heads (${c.nKvHeads} KV), ${c.tieEmbeddings ? 'tied' : 'separate'} embeddings, ${c.subln ? 'SubLN' : 'no SubLN'} (FP row), vocab ${c.vocabSize}, context ${c.maxSeqLen}; ${presetProse(r.preset, p)}.
Training: ${trainingBudget(p.train, r.trainTokens)}.
Same shape, data order, steps and seed for every trained row; peak LR ${p.lr.fp} (FP) / ${p.lr.quantized} (BitNet), cosine to LR/10.
PTQ rows quantize the trained FP model; calibration: ${p.calib.batches} × ${p.calib.batch} training sequences of ${p.train.seq} tokens.

Held-out evaluation on the corpus's \`${r.evalSplit}\` split: PPL and bits/byte by sliding window (window ${p.eval.window}, stride ${p.eval.window / 2}, ${r.rows[0]?.eval.tokens ?? 0} tokens);
offline tasks (${p.eval.taskItems} items each, accuracy in %; choice tasks use length-normalised acc_norm; chance: ${chance}).

${mdTable(head, rows)}

${energyAssumptions(r.energy)}
${notes.length ? `\nNotes:\n${notes.join('\n')}\n` : ''}
Training time (s): ${Object.entries(r.trainSeconds).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}.
${valCurveSection(r.valCurves)}`;
  const json = JSON.stringify({ preset: r.preset, evalSplit: r.evalSplit, trainTokens: r.trainTokens, presetSpec: p, config: r.config, energy: r.energy, trainSeconds: r.trainSeconds, valCurves: r.valCurves, rows: r.rows }, null, 2) + '\n';
  const bars = (f: (x: PtqRow) => number) => r.rows.filter((x) => x.kind !== 'reference').map((x) => ({ label: x.label.replace(' from scratch', ''), value: f(x), group: x.kind === 'trained' ? 0 : x.kind === 'ptq' ? 1 : 2 }));
  return {
    md, json,
    svgs: {
      'bpb.svg': barChartSvg({ title: 'Held-out bits per byte (lower is better)', xLabel: 'bits per byte', bars: bars(bpbOf) }),
      'energy.svg': barChartSvg({ title: 'Matmul energy per token', xLabel: 'nJ / token', bars: bars((x) => x.cost.energyJ * 1e9), logX: true }),
      'memory.svg': barChartSvg({ title: 'Projection weight memory', xLabel: 'KiB', bars: bars((x) => x.cost.weightBytes / 1024) }),
    },
  };
}

/** The training budget in words: steps × batch × sequence, tokens per model and epochs of the training split. */
export function trainingBudget(t: Omit<TrainSpec, 'lr'>, trainTokens: number): string {
  const tokens = t.steps * t.batch * t.seq;
  const epochs = trainTokens > 0 ? tokens / trainTokens : 0;
  const m = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : `${n}`);
  return `${t.steps} steps × ${t.batch} × ${t.seq} tokens = ${m(tokens)} tokens per model, ${epochs.toFixed(2)} epochs of the training split's ${m(trainTokens)} tokens${t.evalEvery !== undefined ? `, validation every ${t.evalEvery} steps` : ''}`;
}

/**
 * The validation curves as a table (step × trained mode) and, for FP, whether it had flattened: the change of
 * its validation loss over the last quarter of training (a converged baseline is what makes PTQ losses meaningful).
 */
function valCurveSection(curves: Record<string, Array<[number, number]>>): string {
  const modes = Object.keys(curves).filter((m) => curves[m]!.length > 1);
  if (modes.length === 0) return '';
  const steps = [...new Set(modes.flatMap((m) => curves[m]!.map(([s]) => s)))].sort((a, b) => a - b);
  const rows = steps.map((s) => [String(s), ...modes.map((m) => curves[m]!.find(([x]) => x === s)?.[1].toFixed(4) ?? '–')]);
  let verdict = '';
  const fp = curves.fp;
  if (fp !== undefined && fp.length >= 4) {
    const last = fp[fp.length - 1]!, q = fp.find(([s]) => s >= 0.75 * last[0]) ?? fp[fp.length - 2]!;
    const min = Math.min(...fp.map(([, v]) => v));
    verdict = `\nFP validation loss over the last quarter of training (step ${q[0]} → ${last[0]}): ${q[1].toFixed(4)} → ${last[1].toFixed(4)} (${(((last[1] - q[1]) / q[1]) * 100).toFixed(2)} %); lowest ${min.toFixed(4)}.\n`;
  }
  return `\nValidation loss during training (nats/token, held-out batches of the training corpus's validation split):\n\n${mdTable(['step', ...modes], rows)}\n${verdict}`;
}

export function writePtqTable(dir: string, r: PtqTableResult, p: PtqTablePreset, command: string): string {
  const rep = ptqTableReport(r, p, command);
  writeReport(dir, { 'report.md': rep.md, 'results.json': rep.json, ...rep.svgs });
  return rep.md;
}

/**
 * The preset's prose for the report. Its description names the preset's own sizes; when the command's flags replaced
 * the shape or the architecture (the Model line states what ran), the report says so instead of repeating stale sizes.
 */
export function presetProse(name: string, p: PtqTablePreset): string {
  const base = PTQ_TABLE_PRESETS[name];
  const shapeChanged = base === undefined || JSON.stringify(base.shape) !== JSON.stringify(p.shape);
  if (!shapeChanged && p.arch === undefined) return p.description;
  const flags = [
    ...(shapeChanged ? [`shape ${JSON.stringify(p.shape)}`] : []),
    ...(p.arch !== undefined ? [`architecture ${JSON.stringify(p.arch)}`] : []),
  ].join(', ');
  return `the flags replaced the preset's ${flags}; the preset as published: ${p.description}`;
}
