/**
 * `bitnet experiment lr-stability`: BitNet 2310.11453 §3.4 / Fig. 5 — with the same architecture,
 * data and schedule, raise the peak learning rate: the full-precision Transformer diverges (or stops
 * improving) where BitNet still converges. A run counts as diverged when a gradient becomes
 * non-finite, or when its final training loss (mean of the last 10 % of steps) is above the loss
 * of uniform prediction ln V or above its own minimum by more than 1 nat.
 */
import type { QuantMode } from '../../model/config.js';
import type { AdamWConfig } from '../../train/adamw.js';
import { lossCurveSvg } from '../../train/plot.js';
import type { StepLog } from '../../train/loop.js';
import { shapeConfig, trainModel, writeReport, type ExperimentArch, type ExperimentEnv } from './common.js';
import { mdTable } from './plots.js';
import { perplexity } from '../../eval/perplexity.js';

export interface LrStabilityPreset {
  /** Architecture overrides for every trained model (`bitnet experiment --heads …`; default: shapeConfig's choices). */
  arch?: ExperimentArch;
  description: string;
  shape: { dim: number; nLayers: number; ffnDim: number; maxSeqLen: number };
  modes: QuantMode[];
  lrs: number[];
  steps: number;
  batch: number;
  seq: number;
  seed: number;
  pplTokens: number;
  /** Optimizer: BitNet's Table 6 setting (Adam β = (0.9, 0.98), no gradient clipping, weight decay 0.01) or the trainer's defaults. */
  adamw: Partial<AdamWConfig>;
  weightDecay: number;
}

/** BitNet 2310.11453 Table 6: β = (0.9, 0.98), no gradient clipping, weight decay 0.01. */
const PAPER_OPT = { adamw: { beta1: 0.9, beta2: 0.98, gradClip: 0 }, weightDecay: 0.01 };
/** The trainer's defaults (`bitnet train`): β2 0.95, clipping at 1.0, weight decay 0.1. */
const TRAINER_OPT = { adamw: {}, weightDecay: 0.1 };

export const LR_STABILITY_PRESETS: Record<string, LrStabilityPreset> = {
  smoke: { description: 'plumbing check', shape: { dim: 64, nLayers: 1, ffnDim: 128, maxSeqLen: 64 }, modes: ['fp', 'b158'], lrs: [2e-3, 5e-2], steps: 10, batch: 4, seq: 64, seed: 1337, pplTokens: 512, ...PAPER_OPT },
  default: { description: "2 layers × 128 wide, 250 steps × 8 × 128 tokens per run, 3 LRs × {FP, BitNet v1, b1.58}, the paper's optimizer (Adam β2 0.98, no clipping, wd 0.01) (~8 min on 2 cores)", shape: { dim: 128, nLayers: 2, ffnDim: 256, maxSeqLen: 128 }, modes: ['fp', 'bitnet', 'b158'], lrs: [2e-3, 1.6e-2, 6.4e-2], steps: 250, batch: 8, seq: 128, seed: 1337, pplTokens: 8192, ...PAPER_OPT },
  clipped: { description: "as default with the trainer's optimizer (β2 0.95, global-norm clipping at 1.0, wd 0.1)", shape: { dim: 128, nLayers: 2, ffnDim: 256, maxSeqLen: 128 }, modes: ['fp', 'bitnet', 'b158'], lrs: [2e-3, 1.6e-2, 6.4e-2], steps: 250, batch: 8, seq: 128, seed: 1337, pplTokens: 8192, ...TRAINER_OPT },
  wide: { description: "4 layers × 256 wide, 1000 steps × 16 × 256, 5 LRs × 3 modes, the paper's optimizer (hours on 2 cores)", shape: { dim: 256, nLayers: 4, ffnDim: 512, maxSeqLen: 256 }, modes: ['fp', 'bitnet', 'b158'], lrs: [1e-3, 4e-3, 1.6e-2, 3.2e-2, 6.4e-2], steps: 1000, batch: 16, seq: 256, seed: 1337, pplTokens: 32768, ...PAPER_OPT },
};

export interface LrRun { mode: QuantMode; lr: number; diverged: boolean; reason: string; finalTrainLoss: number; minLoss: number; heldOutBpb: number; history: StepLog[]; seconds: number }

export function runLrStability(env: ExperimentEnv, presetName: string, p: LrStabilityPreset): { preset: string; runs: LrRun[]; vocab: number } {
  const V = env.prep.tokenizer.vocabSize;
  const runs: LrRun[] = [];
  for (const lr of p.lrs) {
    for (const mode of p.modes) {
      const config = shapeConfig({ ...p.shape, vocabSize: V }, mode, p.arch);
      const t = trainModel(env, config, { steps: p.steps, batch: p.batch, seq: p.seq, lr, seed: p.seed, adamw: p.adamw, weightDecay: p.weightDecay }, `${mode} lr ${lr}`);
      const h = t.history;
      const tail = h.slice(Math.floor(h.length * 0.9));
      const finalTrainLoss = tail.length ? tail.reduce((s, x) => s + x.loss, 0) / tail.length : NaN;
      const minLoss = Math.min(...h.map((x) => x.loss).filter(Number.isFinite));
      let reason = '';
      if (t.divergedAt !== undefined) reason = `non-finite gradient at step ${t.divergedAt}`;
      else if (!(finalTrainLoss <= Math.log(V))) reason = `final loss ${finalTrainLoss.toFixed(2)} > ln V = ${Math.log(V).toFixed(2)}`;
      else if (finalTrainLoss > minLoss + 1) reason = `final loss ${finalTrainLoss.toFixed(2)} > min ${minLoss.toFixed(2)} + 1`;
      const heldOutBpb = t.model ? perplexity(t.model, env.prep.tokenizer, env.heldOut, { window: p.seq, maxTokens: p.pplTokens }).bpb : NaN;
      env.log(`  ${mode} lr ${lr}: ${reason ? `DIVERGED (${reason})` : `converged, final loss ${finalTrainLoss.toFixed(3)}, held-out bpb ${heldOutBpb.toFixed(3)}`}`);
      runs.push({ mode, lr, diverged: reason !== '', reason, finalTrainLoss, minLoss, heldOutBpb, history: h, seconds: t.seconds });
    }
  }
  return { preset: presetName, runs, vocab: V };
}

export function writeLrStability(dir: string, r: { preset: string; runs: LrRun[]; vocab: number }, p: LrStabilityPreset, command: string): string {
  const lowest = Math.min(...r.runs.map((x) => x.lr));
  const base = (mode: string) => r.runs.find((x) => x.mode === mode && x.lr === lowest);
  const delta = (x: LrRun) => { const b = base(x.mode); return b && Number.isFinite(x.heldOutBpb) && Number.isFinite(b.heldOutBpb) ? (x.heldOutBpb - b.heldOutBpb >= 0 ? '+' : '') + (x.heldOutBpb - b.heldOutBpb).toFixed(3) : '–'; };
  const rows = r.runs.map((x) => [x.mode, String(x.lr), x.diverged ? `**diverged** (${x.reason})` : 'converged', Number.isFinite(x.finalTrainLoss) ? x.finalTrainLoss.toFixed(3) : '–', Number.isFinite(x.heldOutBpb) ? x.heldOutBpb.toFixed(3) : '–', delta(x), x.seconds.toFixed(0)]);
  const md = `# Large-learning-rate stability — preset \`${r.preset}\`

Command: \`${command}\`

Model: ${p.shape.nLayers} layers × ${p.shape.dim} wide, FFN ${p.shape.ffnDim}, context ${p.shape.maxSeqLen}${p.arch ? `, architecture flags ${JSON.stringify(p.arch)}` : ''}.

${p.description}. Same shape, data order, seed and cosine schedule (warmup ${Math.min(50, Math.floor(p.steps / 10))} steps, to LR/10) for every run; only the peak LR and the BitLinear mode change. Optimizer: AdamW β = (${p.adamw.beta1 ?? 0.9}, ${p.adamw.beta2 ?? 0.95}), ${p.adamw.gradClip === 0 ? 'no gradient clipping' : `global-norm clipping at ${p.adamw.gradClip ?? 1}`}, weight decay ${p.weightDecay}.
Diverged = a non-finite gradient, or a final training loss (mean of the last 10 % of steps) above ln V (uniform guessing, ${Math.log(r.vocab).toFixed(2)} nats) or more than 1 nat above the run's own minimum.

${mdTable(['mode', 'peak LR', 'outcome', 'final train loss', 'held-out bpb', `bpb vs LR ${lowest}`, 'seconds'], rows)}

Loss curves: one SVG per learning rate (\`loss-lr-*.svg\`).
`;
  const svgs: Record<string, string> = {};
  for (const lr of p.lrs) {
    const rs = r.runs.filter((x) => x.lr === lr && x.history.length > 0);
    if (rs.length) svgs[`loss-lr-${lr}.svg`] = lossCurveSvg(rs.map((x) => ({ label: `${x.mode} lr ${lr}`, history: x.history.filter((h) => Number.isFinite(h.loss)) })));
  }
  writeReport(dir, { 'report.md': md, 'results.json': JSON.stringify({ ...r, presetSpec: p }, null, 2) + '\n', ...svgs });
  return md;
}
