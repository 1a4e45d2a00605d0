/**
 * `bitnet experiment NAME`: the BitNet papers' comparisons at CPU scale (src/science/experiments):
 *   ptq-table      FP / BitNet / b1.58 / v2 trained from scratch vs FP + post-training quantization
 *   lr-stability   the large-learning-rate test (BitNet converges where FP diverges)
 *   scaling        L(N) = aN^b + c over model sizes for FP and b1.58, and loss vs energy
 * Each writes report.md, results.json and SVG plots into --out (default runs/experiments/NAME).
 */
import { join } from 'node:path';
import { createBackend } from '../../kernels/backend.js';
import type { EnergyOptions } from '../../science/energy.js';
import { prepareEnv } from '../../science/experiments/common.js';
import { LR_STABILITY_PRESETS, runLrStability, writeLrStability } from '../../science/experiments/lr_stability.js';
import { PTQ_TABLE_PRESETS, runPtqTable, writePtqTable } from '../../science/experiments/ptq_table.js';
import { runScaling, SCALING_PRESETS, writeScaling } from '../../science/experiments/scaling.js';
import { PTQ_METHODS } from '../../science/ptq.js';
import { ArgumentError } from '../../errors.js';
import { QUANT_MODES, type ModelConfig, type QuantMode } from '../../model/config.js';
import { shapeConfig, type ExperimentArch } from '../../science/experiments/common.js';
import { ARCHITECTURE_OPTIONS, architectureFlags } from '../architecture.js';
import { SHARED_OPTIONS, checkOutputDir, choiceFlag, intFlag, numFlag, UsageError, type Command } from '../args.js';

const EXPERIMENTS = ['ptq-table', 'lr-stability', 'scaling'] as const;

/** Every flag of `bitnet experiment`, checked (before any data is prepared: main.ts calls validate first). */
function experimentArgs(v: Record<string, unknown>, positionals: string[]) {
  const name = positionals[0];
  if (name === undefined || !(EXPERIMENTS as readonly string[]).includes(name)) throw new UsageError(`name an experiment: ${EXPERIMENTS.join(', ')}${name ? ` (got '${name}')` : ''}`);
  const presetName = v.preset as string;
  const presets: Record<string, object> = name === 'ptq-table' ? PTQ_TABLE_PRESETS : name === 'scaling' ? SCALING_PRESETS : LR_STABILITY_PRESETS;
  if (presets[presetName] === undefined) throw new UsageError(`--preset must be one of ${Object.keys(presets).join(', ')} for ${name}, got '${presetName}'`);
  const energy: EnergyOptions = {
    node: choiceFlag(v, 'node', ['7nm', '45nm'] as const)!,
    fpPrecision: 'fp16',
    rescalePrecision: choiceFlag(v, 'rescale-precision', ['fp16', 'fp32', 'int8'] as const)!,
  };
  choiceFlag(v, 'eval-split', ['val', 'test'] as const);
  const steps = intFlag(v, 'steps', 1);
  let ptq: string[] | undefined;
  if (v.ptq !== undefined) {
    ptq = (v.ptq as string).split(',').filter((s) => s.length > 0);
    for (const m of ptq) if (PTQ_METHODS[m] === undefined) throw new UsageError(`--ptq: unknown method '${m}' (choose from ${Object.keys(PTQ_METHODS).join(', ')})`);
  }
  let trained: QuantMode[] | undefined;
  if (v.trained !== undefined) {
    if (name !== 'ptq-table') throw new UsageError(`--trained applies to ptq-table (${name} has its own modes)`);
    trained = (v.trained as string).split(',').filter((s) => s.length > 0) as QuantMode[];
    for (const m of trained) if (!QUANT_MODES.includes(m)) throw new UsageError(`--trained: unknown mode '${m}' (choose from ${QUANT_MODES.join(', ')})`);
    if (!trained.includes('fp')) throw new UsageError('--trained must include fp (the PTQ rows quantize the trained FP model)');
  }
  const gs = intFlag(v, 'group-size', 0);
  const ao = choiceFlag(v, 'act-order', ['true', 'false'] as const);
  const alpha = numFlag(v, 'alpha', 0);
  if (alpha !== undefined && alpha > 1) throw new UsageError(`--alpha must be in [0, 1], got ${alpha}`);
  const ptqOpts = {
    ...(alpha !== undefined ? { alpha } : {}),
    gptq: { groupSize: gs ?? 0, blockSize: 128, damp: 0.01, actOrder: ao === undefined ? true : ao === 'true' },
  };
  if (v.out !== undefined) checkOutputDir(String(v.out), '--out');
  const arch = experimentArch(name, presetName, v, trained);
  return { name, presetName, energy, steps, ptq, ptqOpts, arch, trained };
}

type Shape = { dim: number; nLayers: number; ffnDim: number; maxSeqLen: number };

/**
 * The architecture flags as an experiment's overrides: sizes (--dim --layers --ffn-dim --ctx) replace the
 * preset's shape (ptq-table, lr-stability; scaling varies the size itself, so there they are usage errors),
 * the rest (--heads --kv-heads --ffn --tie/--no-tie --subln/--no-subln) apply to every trained model. Every
 * model the experiment will train is built here once, so a bad combination fails before any data is prepared.
 */
function experimentArch(name: string, presetName: string, v: Record<string, unknown>, trained?: QuantMode[]): { shape: Partial<Shape>; arch: ExperimentArch } {
  const o = architectureFlags(v);
  const shape: Partial<Shape> = {};
  for (const k of ['dim', 'nLayers', 'ffnDim', 'maxSeqLen'] as const) if (o[k] !== undefined) shape[k] = o[k];
  const arch: ExperimentArch = {};
  for (const k of ['nHeads', 'nKvHeads', 'ffn', 'tieEmbeddings', 'subln'] as const) if (o[k] !== undefined) (arch as Record<string, unknown>)[k] = o[k];
  const vocabSize = intFlag(v, 'vocab', 258)!;
  const check = (base: Shape, modes: readonly ModelConfig['quant'][], seq: number) => {
    if (seq > base.maxSeqLen) throw new UsageError(`--ctx ${base.maxSeqLen} is shorter than the ${name} preset's training sequences (${seq} tokens)`);
    for (const quant of modes) {
      try {
        shapeConfig({ ...base, vocabSize }, quant, arch);
      } catch (e) {
        if (!(e instanceof ArgumentError) || e instanceof UsageError) throw e;
        throw new UsageError(`${name} --preset ${presetName} with the architecture flags (${quant}): ${e.message}`);
      }
    }
  };
  if (name === 'scaling') {
    const sizes = Object.keys(shape);
    if (sizes.length > 0) throw new UsageError(`scaling varies the model size itself; --dim, --layers, --ffn-dim and --ctx apply to ptq-table and lr-stability`);
    const p = SCALING_PRESETS[presetName]!;
    for (const width of p.widths) check({ dim: width, nLayers: p.nLayers, ffnDim: p.ffnMult * width, maxSeqLen: p.maxSeqLen }, p.modes, p.seq);
  } else if (name === 'ptq-table') {
    const p = PTQ_TABLE_PRESETS[presetName]!;
    check({ ...p.shape, ...shape }, trained ?? p.trained, p.train.seq);
  } else {
    const p = LR_STABILITY_PRESETS[presetName]!;
    check({ ...p.shape, ...shape }, p.modes, p.seq);
  }
  return { shape, arch };
}

export const experimentCommand: Command = {
  summary: 'run an experiment (ptq-table | lr-stability | scaling) and write a markdown/JSON/SVG report',
  usage: 'bitnet experiment ptq-table|lr-stability|scaling [--preset NAME]',
  maxPositionals: 1,
  options: {
    preset: { type: 'string', default: 'default' },
    data: { type: 'string', default: 'sotu' },
    vocab: { type: 'string', default: '4096' },
    'cache-dir': { type: 'string', default: '.bitnet-cache' },
    'eval-split': { type: 'string', default: 'test' },
    ptq: { type: 'string' },
    trained: { type: 'string' },
    alpha: { type: 'string' },
    'group-size': { type: 'string' },
    'act-order': { type: 'string' },
    'rescale-precision': { type: 'string', default: 'fp16' },
    node: { type: 'string', default: '7nm' },
    steps: { type: 'string' },
    threads: SHARED_OPTIONS.threads,
    out: { type: 'string', short: 'o' },
    ...ARCHITECTURE_OPTIONS,
  },
  validate(v, positionals) {
    experimentArgs(v, positionals);
  },
  async run(v, positionals) {
    const { name, presetName, energy, steps, ptq, ptqOpts, arch, trained } = experimentArgs(v, positionals);
    const withArch = <P extends { arch?: ExperimentArch }>(p: P): P => (Object.keys(arch.arch).length > 0 ? { ...p, arch: arch.arch } : p);
    const threads = intFlag(v, 'threads');
    const out = (v.out as string | undefined) ?? join('runs', 'experiments', name);
    const command = `bitnet experiment ${[name, ...process.argv.slice(4)].join(' ')}`;
    const be = await createBackend(threads !== undefined ? { threads } : {});
    try {
      const log = (m: string) => console.error(m);
      const env = prepareEnv(be, { data: v.data as string, vocab: intFlag(v, 'vocab', 258)!, cacheDir: v['cache-dir'] as string, seed: 0, evalSplit: choiceFlag(v, 'eval-split', ['val', 'test'] as const)!, log });
      log(`experiment ${name}, preset ${presetName}: backend ${be.name} × ${be.threads} threads; ${env.prep.counts.train} training tokens; report → ${out}/`);
      let md: string;
      if (name === 'ptq-table') {
        const p = withArch({ ...PTQ_TABLE_PRESETS[presetName]! });
        p.shape = { ...p.shape, ...arch.shape };
        if (steps !== undefined) p.train = { ...p.train, steps };
        if (ptq !== undefined) p.ptq = ptq;
        if (trained !== undefined) p.trained = trained;
        md = writePtqTable(out, runPtqTable(env, presetName, p, ptqOpts, energy), p, command);
      } else if (name === 'lr-stability') {
        const p = withArch({ ...LR_STABILITY_PRESETS[presetName]! });
        p.shape = { ...p.shape, ...arch.shape };
        if (steps !== undefined) p.steps = steps;
        md = writeLrStability(out, runLrStability(env, presetName, p), p, command);
      } else {
        const p = withArch({ ...SCALING_PRESETS[presetName]! });
        if (steps !== undefined) p.steps = steps;
        md = writeScaling(out, runScaling(env, presetName, p, energy), p, command);
      }
      console.log(md);
    } finally {
      await be.dispose();
    }
  },
};
