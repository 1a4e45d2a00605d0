/**
 * Training throughput: tokens/s and effective GFLOP/s (6·N_params·tokens plus attention,
 * the nanoGPT/PaLM estimate) for presets tiny and small, fp vs b158, 1 and 2 threads,
 * on synthetic tokens (speed does not depend on the data). Then the same-run PyTorch CPU peer
 * (bench/train_torch.py, Debian's system python3 with python3-torch + libopenblas0-pthread) on one
 * model both can express — dim 256, 6 layers, 8 heads (MHA), ReLU²-GLU 688, vocab 4096, tied, no SubLN,
 * seq 256, batch 8, AdamW — fp and b1.58 at 2 threads, with the ratio (ours also as b1.58 with the integer
 * forward off, the f32 fake-quant product, to show what it buys); without torch it says so.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
  await benchTrainPeer(rep, opts);
}

/** The issue's common model (both engines can express it). */
const PEER = { dim: 256, layers: 6, heads: 8, ffn: 688, vocab: 4096, seq: 256, batch: 8 };

async function benchTrainPeer(rep: Reporter, opts: { reps: number; quick: boolean }): Promise<void> {
  const threads = 2, steps = opts.quick ? 3 : 6;
  const cfgOf = (quant: 'fp' | 'b158') => makeConfig('tiny', { quant, dim: PEER.dim, nLayers: PEER.layers, nHeads: PEER.heads, nKvHeads: PEER.heads, ffnDim: PEER.ffn, ffn: 'relu2glu', vocabSize: PEER.vocab, maxSeqLen: PEER.seq, tieEmbeddings: true, subln: false });
  const ours: Record<string, number> = {};
  const be = await createBackend({ backend: 'wasm', threads });
  // 'b158-f32fwd': the same b1.58 model with the integer forward off (src/nn/bitlinear.ts), to show its share
  for (const run of ['fp', 'b158', 'b158-f32fwd'] as const) {
    const quant = run === 'fp' ? 'fp' : 'b158';
    const cfg = cfgOf(quant);
    const mark = be.arena.mark();
    const model = new Transformer(be, cfg);
    model.init(1);
    model.integerForward = run !== 'b158-f32fwd';
    const opt = new AdamW(be, be.arena, model.numParams, model.decaySize, DEFAULT_ADAMW);
    const rng = new Rng(3);
    const B = PEER.batch, T = PEER.seq;
    const x = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
    const y = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
    const s = stats(timeIt(() => {
      model.zeroGrad();
      model.forward(x, y, B, T);
      model.backward();
      opt.clip(model.grads);
      opt.update(model.params, model.grads, 1e-3, 0.1);
    }, steps, 2));
    ours[run] = (B * T) / (s.medianMs / 1000);
    be.arena.release(mark);
  }
  await be.dispose();
  const script = fileURLToPath(new URL('../../bench/train_torch.py', import.meta.url));
  const r = spawnSync('/usr/bin/python3', [script, JSON.stringify({ ...PEER, threads, steps })], { encoding: 'utf8', maxBuffer: 1 << 20 });
  let peer: Record<string, number | string> | undefined;
  if (r.status === 0) peer = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number | string>;
  else console.error(`bench train: no PyTorch peer (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}); install Debian's python3-torch and libopenblas0-pthread`);
  for (const run of ['fp', 'b158', 'b158-f32fwd'] as const) {
    const quant = run === 'fp' ? 'fp' : 'b158';
    const metrics: Record<string, number> = { tokensPerSec: ours[run]! };
    if (peer) {
      metrics.torch_tokensPerSec = peer[quant] as number;
      metrics.vs_torch = ours[run]! / (peer[quant] as number);
    }
    rep.add({ suite: 'train', name: `peer model ${run}${peer ? ` vs torch ${peer.torch} (${peer.blas})` : ''}`, shape: `d${PEER.dim} L${PEER.layers} B=${PEER.batch} T=${PEER.seq}`, backend: 'wasm', threads,
      medianMs: (PEER.batch * PEER.seq * 1000) / ours[run]!, minMs: NaN, p90Ms: NaN, metrics });
  }
}
