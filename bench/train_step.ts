/**
 * Training throughput: tokens/s and effective GFLOP/s (6·N_params·tokens plus attention,
 * the nanoGPT/PaLM estimate) for presets tiny and small, fp vs b158, 1 and 2 threads,
 * on synthetic tokens (speed does not depend on the data).
 */
import { createBackend } from '../src/kernels/backend.js';
import { makeConfig, paramCount } from '../src/model/config.js';
import { Transformer } from '../src/model/transformer.js';
import { AdamW, DEFAULT_ADAMW } from '../src/train/adamw.js';
import { Rng } from '../src/tensor/rng.js';
import { stats, timeIt, type Reporter } from './harness.js';

export async function benchTrain(rep: Reporter, opts: { reps: number; threads: number[]; quick: boolean }): Promise<void> {
  const presets: Array<[string, number, number]> = opts.quick ? [['tiny', 8, 128]] : [['tiny', 8, 128], ['small', 8, 256]];
  for (const threads of opts.threads) {
    const be = await createBackend({ backend: 'wasm', threads });
    for (const [preset, B, T] of presets) {
      for (const quant of ['fp', 'b158'] as const) {
        const cfg = makeConfig(preset, { quant });
        const mark = be.arena.mark();
        const model = new Transformer(be, cfg);
        model.init(1);
        const opt = new AdamW(be, be.arena, model.numParams, model.decaySize, DEFAULT_ADAMW);
        const rng = new Rng(3);
        const x = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
        const y = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
        const step = () => {
          model.zeroGrad();
          model.forward(x, y, B, T);
          model.backward();
          opt.clip(model.grads);
          opt.update(model.params, model.grads, 1e-3, 0.1);
        };
        const s = stats(timeIt(step, opts.reps, 1));
        const n = paramCount(cfg).total;
        const flops = 6 * n * B * T + 12 * cfg.nLayers * cfg.dim * T * B * T; // + attention (fwd+bwd)
        rep.add({
          suite: 'train', name: `${preset} ${quant}`, shape: `B=${B} T=${T}`, backend: 'wasm', threads: be.threads, ...s,
          metrics: { tokensPerSec: (B * T) / (s.medianMs / 1000), effGFLOPs: flops / s.medianMs / 1e6, paramsM: n / 1e6 },
        });
        be.arena.release(mark);
      }
    }
    await be.dispose();
  }
}
