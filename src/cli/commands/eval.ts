/**
 * `bitnet eval RUN_DIR`: evaluate the newest checkpoint of a `bitnet train` run (optionally after
 * post-training quantization with --ptq) on the held-out split (sliding-window perplexity / bpb and
 * the offline tasks) and on standard zero-shot sets read from --data-dir (DIR/<set>/<original file>).
 */
import { join } from 'node:path';
import { loadZeroShot, ZERO_SHOT_SETS } from '../../eval/loaders.js';
import { Scorer } from '../../eval/loglikelihood.js';
import { runTask, type Task } from '../../eval/tasks.js';
import { DataError } from '../../errors.js';
import { createBackend } from '../../kernels/backend.js';
import { Transformer } from '../../model/transformer.js';
import { buildOfflineTasks, calibrationBatches, prepareEnv } from '../../science/experiments/common.js';
import { mdTable } from '../../science/experiments/plots.js';
import { PTQ_METHODS, quantizeModel } from '../../science/ptq.js';
import { perplexity } from '../../eval/perplexity.js';
import { restoreCheckpoint } from '../../train/checkpoint.js';
import { listCheckpoints, readCheckpoint } from '../../train/run_dir.js';
import { SHARED_OPTIONS, choiceFlag, intFlag, UsageError, type Command } from '../args.js';

/** The run directory, tasks and PTQ method of `bitnet eval`, checked before any data is prepared. */
function evalArgs(v: Record<string, unknown>, positionals: string[]) {
  const dir = positionals[0];
  if (dir === undefined) throw new UsageError('name a run directory (written by `bitnet train`)');
  const ckpts = listCheckpoints(dir);
  if (ckpts.length === 0) throw new DataError(`${dir}: no ckpt-*.safetensors checkpoint found`);
  const names = (v.tasks as string).split(',').filter((s) => s.length > 0);
  for (const n of names) if (n !== 'offline' && ZERO_SHOT_SETS[n] === undefined) throw new UsageError(`--tasks: unknown task '${n}' (offline, ${Object.keys(ZERO_SHOT_SETS).join(', ')})`);
  const method = v.ptq as string | undefined;
  if (method !== undefined && PTQ_METHODS[method] === undefined) throw new UsageError(`--ptq: unknown method '${method}' (choose from ${Object.keys(PTQ_METHODS).join(', ')})`);
  choiceFlag(v, 'eval-split', ['val', 'test'] as const);
  return { dir, ckpts, names, method };
}

export const evalCommand: Command = {
  summary: 'evaluate a trained run (held-out ppl/bpb, offline tasks, zero-shot sets from --data-dir), optionally after --ptq',
  usage: 'bitnet eval RUN_DIR [--tasks offline,hellaswag,…] [--data-dir data/evals] [--ptq METHOD]',
  maxPositionals: 1,
  options: {
    tasks: { type: 'string', default: 'offline' },
    'data-dir': { type: 'string', default: join('data', 'evals') },
    ptq: { type: 'string' },
    data: { type: 'string', default: 'sotu' },
    vocab: { type: 'string', default: '4096' },
    'cache-dir': { type: 'string', default: '.bitnet-cache' },
    'eval-split': { type: 'string', default: 'test' },
    items: { type: 'string', default: '200' },
    'ppl-tokens': { type: 'string', default: '32768' },
    threads: SHARED_OPTIONS.threads,
  },
  validate(v, positionals) {
    evalArgs(v, positionals);
  },
  async run(v, positionals) {
    const { dir, ckpts, names, method } = evalArgs(v, positionals);
    const threads = intFlag(v, 'threads');
    const be = await createBackend(threads !== undefined ? { threads } : {});
    try {
      const log = (m: string) => console.error(m);
      const ck = readCheckpoint(ckpts[ckpts.length - 1]!);
      const env = prepareEnv(be, { data: v.data as string, vocab: intFlag(v, 'vocab', 258)!, cacheDir: v['cache-dir'] as string, seed: 0, evalSplit: choiceFlag(v, 'eval-split', ['val', 'test'] as const)!, log });
      if (env.prep.tokenizer.vocabSize !== ck.config.vocabSize) throw new DataError(`the checkpoint has vocabulary ${ck.config.vocabSize} but --data/--vocab give a ${env.prep.tokenizer.vocabSize}-token tokenizer; pass the --vocab the run was trained with`);
      let model = new Transformer(be, ck.config);
      restoreCheckpoint(ck, model);
      if (method !== undefined) model = quantizeModel(model, method, calibrationBatches(env, 16, 8, ck.config.maxSeqLen)).model;
      const window = ck.config.maxSeqLen;
      const tasks: Task[] = [];
      for (const n of names) {
        if (n === 'offline') tasks.push(...buildOfflineTasks(env, intFlag(v, 'items')!, 1234, window));
        else tasks.push(loadZeroShot(n, v['data-dir'] as string));
      }
      const p = perplexity(model, env.prep.tokenizer, env.heldOut, { window, maxTokens: intFlag(v, 'ppl-tokens')! });
      const scorer = new Scorer(model, env.prep.tokenizer, { maxLen: window });
      const rows = [[`held-out ${env.evalSplit} (sliding window)`, String(p.tokens), '', '', p.ppl.toFixed(3), p.bpb.toFixed(4)]];
      for (const t of tasks) {
        const r = runTask(scorer, t);
        rows.push([r.name, String(r.n), r.acc !== undefined ? (r.acc * 100).toFixed(1) : '', r.accNorm !== undefined ? (r.accNorm * 100).toFixed(1) : '', r.ppl !== undefined ? r.ppl.toFixed(3) : '', r.bpb !== undefined ? r.bpb.toFixed(4) : '']);
      }
      console.log(`${dir} (step ${ck.step}, ${ck.config.quant}${method ? ` + ${PTQ_METHODS[method]!.label}` : ''})\n`);
      console.log(mdTable(['task', 'n', 'acc %', 'acc_norm %', 'ppl', 'bpb'], rows));
    } finally {
      await be.dispose();
    }
  },
};
