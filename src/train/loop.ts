/**
 * The training loop (nanoGPT's train.py, one screen):
 *   for step: lr, wd ← schedule(step); λ ← ramp(step)
 *             zero grads; for each micro-batch: forward, backward   (gradient accumulation)
 *             check finite; clip; AdamW; log; eval; checkpoint
 * Data order and schedules are pure functions of the step, so resuming from a
 * checkpoint continues exactly as if the run had never stopped.
 */
import { ArgumentError } from '../errors.js';
import type { Backend } from '../kernels/backend.js';
import type { ModelConfig } from '../model/config.js';
import { Transformer } from '../model/transformer.js';
import { AdamW, DEFAULT_ADAMW, type AdamWConfig } from './adamw.js';
import { restoreCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { lambdaAt, scheduleAt, validateSchedule, type ScheduleConfig } from './schedule.js';

/** Where batches come from: pure functions of (step, micro), so runs resume exactly. */
export interface DataSource {
  /** Training batch number `index` (= step · gradAccum + micro): inputs and next-token targets, (B, T) each. */
  trainBatch(index: number, B: number, T: number): { inputs: Int32Array; targets: Int32Array };
  /** Validation batches (B, T), the same every call. */
  valBatches(B: number, T: number, maxBatches: number): Iterable<{ inputs: Int32Array; targets: Int32Array }>;
  /** UTF-8 bytes per token of the validation text (for bits-per-byte). */
  valBytesPerToken: number;
}

export interface TrainOptions {
  steps: number;
  batchSize: number;
  seqLen: number;
  gradAccum: number;
  seed: number;
  schedule: ScheduleConfig;
  adamw: AdamWConfig;
  /** Steps over which λ of warmup quantization ramps 0 → 1 (0: quantize fully from the start). */
  lambdaRamp: number;
  evalEvery: number;
  evalBatches: number;
  ckptEvery: number;
  keepCheckpoints: number;
  logEvery: number;
}

export function defaultTrainOptions(steps: number): TrainOptions {
  return {
    steps, batchSize: 8, seqLen: 128, gradAccum: 1, seed: 1337,
    schedule: { kind: 'cosine', lr: 3e-3, minLr: 3e-4, warmup: Math.min(50, Math.floor(steps / 10)), steps, weightDecay: 0.1 },
    adamw: { ...DEFAULT_ADAMW }, lambdaRamp: 0, evalEvery: Math.max(1, Math.floor(steps / 5)), evalBatches: 8,
    ckptEvery: Math.max(1, Math.floor(steps / 5)), keepCheckpoints: 2, logEvery: 1,
  };
}

export function validateTrainOptions(o: TrainOptions, model: ModelConfig): void {
  const pos = (k: keyof TrainOptions) => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ArgumentError(`train.${k} must be a positive integer, got ${String(v)}`);
  };
  for (const k of ['steps', 'batchSize', 'seqLen', 'gradAccum', 'evalEvery', 'evalBatches', 'ckptEvery', 'keepCheckpoints', 'logEvery'] as const) pos(k);
  if (o.seqLen > model.maxSeqLen) throw new ArgumentError(`train.seqLen (${o.seqLen}) exceeds the model's maxSeqLen (${model.maxSeqLen})`);
  if (!Number.isInteger(o.lambdaRamp) || o.lambdaRamp < 0) throw new ArgumentError(`train.lambdaRamp must be a non-negative integer, got ${o.lambdaRamp}`);
  validateSchedule(o.schedule);
}

export interface StepLog {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSec: number;
  elapsedSec: number;
  valLoss?: number;
  valBpb?: number;
}

export interface TrainResult {
  model: Transformer;
  optimizer: AdamW;
  history: StepLog[];
  final: { valLoss: number; valBpb: number };
}

/** Mean validation loss (nats/token) and bits per byte. */
export function evaluate(model: Transformer, data: DataSource, B: number, T: number, maxBatches: number): { valLoss: number; valBpb: number } {
  let sum = 0, n = 0;
  for (const { inputs, targets } of data.valBatches(B, T, maxBatches)) {
    let valid = 0;
    for (let i = 0; i < B * T; i++) if (targets[i]! >= 0) valid++;
    if (valid === 0) continue;
    sum += model.forward(inputs, targets, B, T) * valid;
    n += valid;
  }
  if (n === 0) throw new ArgumentError('evaluate: the validation split yields no batch of this size');
  const valLoss = sum / n;
  return { valLoss, valBpb: valLoss / Math.LN2 / data.valBytesPerToken };
}

/**
 * Where a run keeps its config, metrics and checkpoints. The loop itself does no I/O, so it
 * runs anywhere; src/train/run_dir.ts is the Node implementation (a run directory).
 */
export interface RunStore {
  /** The newest checkpoint, if any. */
  latest(): LoadedCheckpoint | undefined;
  /** A fresh run starts: record its configuration, clear old metrics. */
  begin(config: ModelConfig, opts: TrainOptions): void;
  /** On resume: drop metrics logged after `step` (they are recomputed identically). */
  truncateMetrics(step: number): void;
  appendMetrics(log: StepLog): void;
  saveCheckpoint(model: Transformer, opt: AdamW, step: number, extra: Record<string, unknown>, keep: number): void;
}

export interface TrainRun {
  /** Config, metrics and checkpoints go here. Omit for in-memory training. */
  store?: RunStore;
  /** Continue from the store's newest checkpoint. */
  resume?: boolean;
  onLog?: (log: StepLog) => void;
  /** Stop after this many steps of this call (tests simulate interruption). */
  stopAfter?: number;
  /**
   * Asked after every step: true ends the run there (a page's Stop button; the model is as after that
   * step, and `final` is evaluated on it). The step count stays that of `opts.steps` for the schedules.
   */
  shouldStop?: () => boolean;
  dtype?: 'f32' | 'f64';
  /**
   * Start from this checkpoint's weights and AdamW state (moments and step count) instead of a
   * fresh init; the model config may differ only in its quantizers (`quant`, `v1ShiftedActs`) — BitNet
   * v2's recipe: train at a8, then continue at a4 reusing the optimizer state (2504.18415 §2). The new
   * run counts steps from 0.
   */
  initFrom?: LoadedCheckpoint;
}

export function train(be: Backend, config: ModelConfig, opts: TrainOptions, data: DataSource, run: TrainRun = {}): TrainResult {
  validateTrainOptions(opts, config);
  const model = new Transformer(be, config, run.dtype ?? 'f32');
  const opt = new AdamW(be, be.arena, model.numParams, model.decaySize, opts.adamw, run.dtype ?? 'f32');
  let start = 0;
  const store = run.store;
  const ck = run.resume ? store?.latest() : undefined;
  if (ck !== undefined) {
    if (JSON.stringify(ck.config) !== JSON.stringify(config)) throw new ArgumentError(`resume: the checkpoint's model config differs from the requested one`);
    restoreCheckpoint(ck, model, opt);
    start = ck.step;
    store!.truncateMetrics(start);
  } else {
    model.init(opts.seed);
    store?.begin(config, opts);
    if (run.initFrom !== undefined) {
      const { quant: _a, v1ShiftedActs: _c, ...was } = run.initFrom.config;
      const { quant: _b, v1ShiftedActs: _d, ...now } = config;
      if (JSON.stringify(was) !== JSON.stringify(now)) throw new ArgumentError('initFrom: the checkpoint has a different model shape; only config.quant and config.v1ShiftedActs may change');
      restoreCheckpoint(run.initFrom, model, opt);
    }
  }

  const { batchSize: B, seqLen: T, gradAccum } = opts;
  const history: StepLog[] = [];
  const t0 = performance.now();
  let tokens = 0;
  const end = run.stopAfter !== undefined ? Math.min(opts.steps, start + run.stopAfter) : opts.steps;
  let stopped = false;
  for (let step = start; step < end; step++) {
    const { lr, weightDecay } = scheduleAt(opts.schedule, step);
    if (opts.lambdaRamp > 0) model.lambda = lambdaAt(step, opts.lambdaRamp);
    model.zeroGrad();
    let loss = 0;
    for (let micro = 0; micro < gradAccum; micro++) {
      const { inputs, targets } = data.trainBatch(step * gradAccum + micro, B, T);
      loss += model.forward(inputs, targets, B, T) / gradAccum;
      model.backward();
    }
    if (gradAccum > 1) for (let i = 0; i < model.grads.length; i++) model.grads[i]! /= gradAccum;
    model.checkFinite(step, 'grads');
    const gradNorm = opt.clip(model.grads);
    opt.update(model.params, model.grads, lr, weightDecay);
    tokens += B * T * gradAccum;
    const elapsedSec = (performance.now() - t0) / 1000;
    const log: StepLog = { step: step + 1, loss, lr, gradNorm, tokensPerSec: tokens / elapsedSec, elapsedSec };
    if ((step + 1) % opts.evalEvery === 0 || step + 1 === opts.steps) Object.assign(log, evaluate(model, data, B, T, opts.evalBatches));
    if ((step + 1) % opts.logEvery === 0 || log.valLoss !== undefined) {
      history.push(log);
      run.onLog?.(log);
      store?.appendMetrics(log);
    }
    if (store !== undefined && ((step + 1) % opts.ckptEvery === 0 || step + 1 === opts.steps)) {
      store.saveCheckpoint(model, opt, step + 1, { seed: opts.seed }, opts.keepCheckpoints);
    }
    if (run.shouldStop?.() === true && step + 1 < end) {
      stopped = true;
      break;
    }
  }
  const lastVal = stopped ? undefined : [...history].reverse().find((h) => h.valLoss !== undefined);
  const final = lastVal?.valLoss !== undefined ? { valLoss: lastVal.valLoss, valBpb: lastVal.valBpb! } : evaluate(model, data, B, T, opts.evalBatches);
  return { model, optimizer: opt, history, final };
}
