/**
 * `bitnet train`: train a BitNet (or FP) LM on a corpus, into a run directory with the
 * resolved config, metrics.jsonl, atomically written checkpoints (newest N kept), a
 * loss-curve SVG, and the final validation loss and bits per byte. `--resume` continues
 * exactly from the newest checkpoint.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { createBackend, type Backend } from '../../kernels/backend.js';
import { ArgumentError } from '../../errors.js';
import { makeConfig, paramCount, PRESETS, QUANT_MODES, V1_SHIFTED_ACTS, type ModelConfig, type QuantMode, type V1ShiftedActs } from '../../model/config.js';
import { modesWith, QUANT_VARIANTS } from '../../quant/modes.js';
import { defaultTrainOptions, train, type StepLog, type TrainOptions, type TrainResult } from '../../train/loop.js';
import { prepareRun, type PreparedRun } from '../../train/prepare_run.js';
import { readCheckpoint, runDirStore } from '../../train/run_dir.js';
import { SCHEDULES } from '../../train/schedule.js';
import { lossCurveSvg } from '../../train/plot.js';
import { ARCHITECTURE_OPTIONS, architectureFlags } from '../architecture.js';
import { SHARED_OPTIONS, checkInputPath, checkOutputDir, choiceFlag, intFlag, numFlag, UsageError, type Command } from '../args.js';

export const TRAIN_OPTIONS = {
  preset: { type: 'string', default: 'tiny' },
  quant: { type: 'string', default: 'b158' },
  /** BitNet v1 zero-point activations: none | ffn-down (config.v1ShiftedActs; --quant bitnet only). */
  'v1-shifted-acts': { type: 'string' },
  data: { type: 'string', default: 'sotu' },
  vocab: { type: 'string', default: '4096' },
  steps: { type: 'string', default: '300' },
  batch: { type: 'string', default: '8' },
  seq: { type: 'string' },
  accum: { type: 'string', default: '1' },
  lr: { type: 'string' },
  'min-lr': { type: 'string' },
  warmup: { type: 'string' },
  schedule: { type: 'string', default: 'cosine' },
  'weight-decay': { type: 'string', default: '0.1' },
  'lambda-ramp': { type: 'string', default: '0' },
  seed: { type: 'string', default: '1337' },
  threads: SHARED_OPTIONS.threads,
  out: { type: 'string', short: 'o' },
  resume: { type: 'boolean', default: false },
  'init-from': { type: 'string' },
  'ckpt-every': { type: 'string' },
  keep: { type: 'string', default: '2' },
  'eval-every': { type: 'string' },
  'eval-batches': { type: 'string', default: '8' },
  'cache-dir': { type: 'string', default: '.bitnet-cache' },
  ...ARCHITECTURE_OPTIONS,
} as const;

/** Default peak LR: BitNet wants larger LRs than FP (2310.11453 §2.2). */
export function defaultLr(quant: string): number {
  return quant === 'fp' ? 2e-3 : 4e-3;
}

/** --quant and --v1-shifted-acts, checked together (before any data is prepared). */
function quantFlags(v: Record<string, unknown>): { quant: QuantMode; shifted: V1ShiftedActs | undefined } {
  const quant = choiceFlag(v, 'quant', QUANT_MODES)!;
  const shifted = choiceFlag(v, 'v1-shifted-acts', V1_SHIFTED_ACTS);
  if (shifted === 'ffn-down' && !modesWith(shifted).includes(quant)) throw new UsageError(`--v1-shifted-acts ${shifted} is BitNet v1's zero-point activation quantizer; it needs --quant ${modesWith(shifted).join(' or ')}, got --quant ${quant}`);
  return { quant, shifted };
}

export function resolveTrain(v: Record<string, unknown>, vocabSize: number): { config: ModelConfig; opts: TrainOptions } {
  const { quant, shifted } = quantFlags(v);
  const preset = choiceFlag(v, 'preset', Object.keys(PRESETS))!;
  // Only a non-default value enters the config, so runs without the flag keep their config bytes (resume compares them).
  let config: ModelConfig;
  try {
    config = makeConfig(preset, { quant, vocabSize, subln: QUANT_VARIANTS[quant].subln, ...(shifted === 'ffn-down' ? { v1ShiftedActs: shifted } : {}), ...architectureFlags(v) });
  } catch (e) {
    if (e instanceof UsageError || !(e instanceof ArgumentError)) throw e;
    throw new UsageError(`--preset ${preset} with the architecture flags: ${e.message}`);
  }
  const steps = intFlag(v, 'steps')!;
  const o = defaultTrainOptions(steps);
  const lr = numFlag(v, 'lr', 0) ?? defaultLr(quant);
  const opts: TrainOptions = {
    ...o,
    batchSize: intFlag(v, 'batch')!,
    seqLen: intFlag(v, 'seq') ?? config.maxSeqLen,
    gradAccum: intFlag(v, 'accum')!,
    seed: intFlag(v, 'seed', 0)!,
    lambdaRamp: intFlag(v, 'lambda-ramp', 0)!,
    ckptEvery: intFlag(v, 'ckpt-every') ?? o.ckptEvery,
    keepCheckpoints: intFlag(v, 'keep')!,
    evalEvery: intFlag(v, 'eval-every') ?? o.evalEvery,
    evalBatches: intFlag(v, 'eval-batches')!,
    schedule: {
      kind: choiceFlag(v, 'schedule', SCHEDULES)!, lr, minLr: numFlag(v, 'min-lr', 0) ?? lr / 10,
      warmup: intFlag(v, 'warmup', 0) ?? o.schedule.warmup, steps, weightDecay: numFlag(v, 'weight-decay', 0)!,
    },
  };
  return { config, opts };
}

/** Every train flag checked (config, options, paths) before the corpus is prepared. */
export function validateTrain(v: Record<string, unknown>): void {
  resolveTrain(v, intFlag(v, 'vocab', 258)!);
  if (v.out !== undefined) checkOutputDir(String(v.out), '--out');
  if (v['init-from'] !== undefined) checkInputPath(String(v['init-from']), '--init-from', 'file');
}

/** Train with a progress bar; returns the result. */
export function runTraining(be: Backend, prep: PreparedRun, config: ModelConfig, opts: TrainOptions, runDir: string | undefined, resume: boolean, label: string, initFrom?: string): TrainResult {
  const bar = new cliProgress.SingleBar(
    { format: `${label} |{bar}| {value}/{total} steps · loss {loss} · {tps} tok/s · ETA {eta_formatted}`, hideCursor: true, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 10000 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(opts.steps, 0, { loss: '—', tps: '—' });
  // The training loop is synchronous, so the bar's own timer never fires: render explicitly,
  // throttled (a line every 10 s when stderr is not a terminal).
  const every = process.stderr.isTTY ? 100 : 10_000;
  let last = 0;
  const onLog = (l: StepLog) => {
    bar.update(l.step, { loss: l.loss.toFixed(3), tps: Math.round(l.tokensPerSec) });
    const now = performance.now();
    if (now - last >= every || l.step === opts.steps) {
      bar.render();
      last = now;
    }
  };
  try {
    return train(be, config, opts, prep.data, {
      onLog,
      ...(runDir !== undefined ? { store: runDirStore(runDir), resume } : {}),
      ...(initFrom !== undefined ? { initFrom: readCheckpoint(initFrom) } : {}),
    });
  } finally {
    bar.stop();
  }
}

export const trainCommand: Command = {
  summary: 'train a BitNet / FP language model on a corpus (default: the bundled State of the Union addresses)',
  options: TRAIN_OPTIONS,
  validate: validateTrain,
  async run(v) {
    quantFlags(v);
    const vocab = intFlag(v, 'vocab', 258)!;
    const threads = intFlag(v, 'threads');
    const prep = prepareRun({ data: v.data as string, vocabSize: vocab, cacheDir: v['cache-dir'] as string, seed: intFlag(v, 'seed', 0)!, log: (m) => console.error(m) });
    const { config, opts } = resolveTrain(v, prep.tokenizer.vocabSize);
    const runDir = (v.out as string | undefined) ?? join('runs', `${v.preset as string}-${config.quant}`);
    const be = await createBackend(threads !== undefined ? { threads } : {});
    try {
      const pc = paramCount(config);
      console.error(`model ${v.preset as string}/${config.quant}${config.v1ShiftedActs ? ` (v1ShiftedActs ${config.v1ShiftedActs})` : ''}: ${(pc.total / 1e6).toFixed(2)}M params (${(pc.linear / 1e6).toFixed(2)}M in BitLinear), backend ${be.name} × ${be.threads} threads`);
      console.error(`data: ${prep.counts.train} train / ${prep.counts.val} val tokens; run dir ${runDir}`);
      const r = runTraining(be, prep, config, opts, runDir, v.resume as boolean, `${config.quant}`, v['init-from'] as string | undefined);
      writeFileSync(join(runDir, 'loss.svg'), lossCurveSvg([{ label: config.quant, history: r.history }]));
      writeFileSync(join(runDir, 'tokenizer.json'), JSON.stringify(prep.tokenizer.toJSON()));
      const summary = { valLoss: r.final.valLoss, valBpb: r.final.valBpb, steps: opts.steps, params: pc.total };
      writeFileSync(join(runDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
      console.log(`final validation loss ${r.final.valLoss.toFixed(4)} nats/token, ${r.final.valBpb.toFixed(4)} bits/byte`);
    } finally {
      await be.dispose();
    }
  },
};
