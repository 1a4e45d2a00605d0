/**
 * Shared pieces of the experiments (Node): the prepared corpus (the same cached tokenizer and token
 * files as `bitnet train` / `bitnet demo`), the held-out documents the offline tasks are built from,
 * training one model in memory, evaluating a model (held-out sliding-window perplexity / bpb and the
 * offline zero-shot tasks), energy and memory per format, and writing a report directory.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpus, splitCorpus } from '../../data/corpus.js';
import { ArgumentError, NumericsError } from '../../errors.js';
import { Scorer } from '../../eval/loglikelihood.js';
import { perplexity } from '../../eval/perplexity.js';
import { offlineTasks, runTask, type Task, type TaskResult } from '../../eval/tasks.js';
import { atomicWriteFile } from '../../io/files.js';
import type { Backend } from '../../kernels/backend.js';
import { paramCount, validateConfig, type ModelConfig, type QuantMode } from '../../model/config.js';
import { QUANT_VARIANTS } from '../../quant/modes.js';
import type { Transformer } from '../../model/transformer.js';
import type { AdamWConfig } from '../../train/adamw.js';
import { defaultTrainOptions, train, type StepLog, type TrainOptions } from '../../train/loop.js';
import { prepareRun, type PreparedRun } from '../../train/prepare_run.js';
import { DEFAULT_ENERGY, formatEnergyPerToken, formatWeightBytes, type EnergyOptions, type MatmulFormat } from '../energy.js';
import type { CalibBatch } from '../ptq.js';

export interface ExperimentEnv {
  be: Backend;
  prep: PreparedRun;
  /** Held-out documents (texts) of the evaluation split. */
  heldOut: string[];
  evalSplit: 'val' | 'test';
  log: (m: string) => void;
}

export interface EnvOptions { data: string; vocab: number; cacheDir: string; seed: number; evalSplit: 'val' | 'test'; log: (m: string) => void }

export function prepareEnv(be: Backend, o: EnvOptions): ExperimentEnv {
  const prep = prepareRun({ data: o.data, vocabSize: o.vocab, cacheDir: o.cacheDir, seed: o.seed, log: o.log });
  const docs = splitCorpus(loadCorpus(o.data))[o.evalSplit];
  if (docs.length < 2) throw new ArgumentError(`the ${o.evalSplit} split has ${docs.length} documents; the offline tasks need at least 2`);
  return { be, prep, heldOut: docs.map((d) => d.text), evalSplit: o.evalSplit, log: o.log };
}

/** Architecture choices an experiment may override on top of its preset (`bitnet experiment --heads …`). */
export type ExperimentArch = Partial<Pick<ModelConfig, 'nHeads' | 'nKvHeads' | 'ffn' | 'tieEmbeddings' | 'subln'>>;

/**
 * The model shape of an experiment: width, depth, FFN width; by default heads of 32 channels (MHA), a
 * ReLU²-GLU FFN, tied embeddings and SubLN except for BitNet v1 (which normalises inside BitLinear, as
 * `bitnet train`); `arch` overrides those choices for every mode alike.
 */
export function shapeConfig(base: { dim: number; nLayers: number; ffnDim: number; maxSeqLen: number; vocabSize: number }, quant: QuantMode, arch: ExperimentArch = {}): ModelConfig {
  const nHeads = arch.nHeads ?? Math.max(1, Math.round(base.dim / 32));
  return validateConfig({
    ...base, nHeads, nKvHeads: arch.nKvHeads ?? nHeads, ropeTheta: 10000, normEps: 1e-5, ffn: arch.ffn ?? 'relu2glu',
    subln: arch.subln ?? QUANT_VARIANTS[quant].subln, tieEmbeddings: arch.tieEmbeddings ?? true, quant, groups: 1,
  });
}

export interface TrainSpec {
  steps: number; batch: number; seq: number; lr: number; seed: number; warmup?: number;
  /** Validation loss every this many steps (and at the end; default: only at the end): the curve that shows convergence. */
  evalEvery?: number;
  /** Validation batches per evaluation (default 4). */
  evalBatches?: number;
  /** Optimizer overrides (default: the trainer's AdamW, β2 0.95, global-norm clipping at 1.0). */
  adamw?: Partial<AdamWConfig>;
  /** Default: the trainer's 0.1. */
  weightDecay?: number;
}

export interface TrainedModel {
  model: Transformer | undefined;
  history: StepLog[];
  /** Step at which training produced a non-finite gradient, if it did. */
  divergedAt?: number;
  seconds: number;
}

/** Train a model in memory (cosine schedule to lr/10, AdamW defaults of `bitnet train`). */
export function trainModel(env: ExperimentEnv, config: ModelConfig, t: TrainSpec, label: string): TrainedModel {
  const o = defaultTrainOptions(t.steps);
  const opts: TrainOptions = {
    ...o, batchSize: t.batch, seqLen: t.seq, seed: t.seed, evalEvery: t.evalEvery ?? t.steps, evalBatches: t.evalBatches ?? 4, ckptEvery: t.steps,
    schedule: { ...o.schedule, lr: t.lr, minLr: t.lr / 10, warmup: t.warmup ?? o.schedule.warmup, weightDecay: t.weightDecay ?? o.schedule.weightDecay },
    adamw: { ...o.adamw, ...t.adamw },
  };
  const history: StepLog[] = [];
  const t0 = performance.now();
  let lastLog = t0;
  const onLog = (l: StepLog) => {
    history.push(l);
    if (performance.now() - lastLog > 15000 || l.step === t.steps || l.valLoss !== undefined) {
      env.log(`  ${label}: step ${l.step}/${t.steps} loss ${l.loss.toFixed(3)}${l.valLoss !== undefined ? ` val ${l.valLoss.toFixed(3)}` : ''} (${Math.round(l.tokensPerSec)} tok/s)`);
      lastLog = performance.now();
    }
  };
  try {
    const r = train(env.be, config, opts, env.prep.data, { onLog });
    return { model: r.model, history, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    if (!(e instanceof NumericsError)) throw e;
    const m = /step (\d+)/.exec(e.message);
    env.log(`  ${label}: diverged (${e.message})`);
    return { model: undefined, history, divergedAt: m ? Number(m[1]) + 1 : history.length + 1, seconds: (performance.now() - t0) / 1000 };
  }
}

/** Calibration batches from the training split (indices past any training step, so fixed and disjoint from the run's order). */
export function calibrationBatches(env: ExperimentEnv, n: number, B: number, T: number): CalibBatch[] {
  return Array.from({ length: n }, (_, i) => ({ tokens: Int32Array.from(env.prep.data.trainBatch(1_000_000_000 + i, B, T).inputs), B, T }));
}

export interface EvalOptions { pplTokens: number; taskItems: number; seed: number; batch: number; window: number }

export interface ModelEval {
  ppl: number;
  bpb: number;
  loss: number;
  tokens: number;
  tasks: TaskResult[];
  seconds: number;
}

/** Held-out perplexity/bpb (sliding window, stride = window/2) and the offline tasks. */
export function evaluateModel(env: ExperimentEnv, model: Transformer, tasks: Task[], o: EvalOptions): ModelEval {
  const t0 = performance.now();
  const p = perplexity(model, env.prep.tokenizer, env.heldOut, { window: o.window, stride: o.window / 2, batchSize: o.batch, maxTokens: o.pplTokens });
  const scorer = new Scorer(model, env.prep.tokenizer, { batchSize: o.batch, maxLen: o.window });
  const res = tasks.map((t) => runTask(scorer, t));
  return { ppl: p.ppl, bpb: p.bpb, loss: p.loss, tokens: p.tokens, tasks: res, seconds: (performance.now() - t0) / 1000 };
}

/**
 * The offline tasks, with every scored sentence short enough to leave context in the window
 * (≤ window/2 tokens); tasks left without items are dropped (logged).
 */
export function buildOfflineTasks(env: ExperimentEnv, items: number, seed: number, window: number): Task[] {
  const tok = env.prep.tokenizer;
  const fits = (s: string) => tok.encode(s).length <= window / 2;
  const out: Task[] = [];
  for (const t of offlineTasks(env.heldOut, { items, seed, maxChars: 8 * window, fits })) {
    if (t.kind !== 'text' && t.items.length === 0) env.log(`offline task ${t.name}: no items fit the held-out documents and window; skipped`);
    else out.push(t);
  }
  return out;
}

export interface Cost { weightBytes: number; energyJ: number; params: number; linearParams: number }

export function costOf(config: ModelConfig, f: MatmulFormat, e: EnergyOptions = DEFAULT_ENERGY): Cost {
  const pc = paramCount(config);
  return { weightBytes: formatWeightBytes(config, f), energyJ: formatEnergyPerToken(config, f, e).joules, params: pc.total, linearParams: pc.linear };
}

/** Write files of a report directory atomically. */
export function writeReport(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) atomicWriteFile(join(dir, name), text);
}

export function energyAssumptions(e: EnergyOptions): string {
  return `Energy: matmul arithmetic of the projections per token (embedding/LM head excluded), BitNet Eqs. 16–18 with the Table 2 op energies at ${e.node}; ` +
    `FP = ${e.fpPrecision} mul + add per MAC; W8A8/W4A4 = int8 mul + add per MAC (Table 2 has no int4: int4 charged as int8, an upper bound) + (N + K) rescales; ` +
    `W1/W1.58 = int8 adds + (N + K) rescale multiplies in ${e.rescalePrecision} (the paper leaves this precision open); W·A16 weight-only formats run fp MACs on dequantized weights; ` +
    `QuIP adds its online input/output rotations (randomized Hadamard: N log₂N + K log₂K fp adds). Memory: projection weights only; ⌈bits⌉ per weight (1.58 → 2-bit i2) + fp16 scale per row (+ 8-bit zero point for GPTQ/QuIP/RTN min–max).`;
}
