/**
 * `bitnet experiment scaling`: BitNet 2310.11453 §3.3 (Eq. 19, Fig. 3) at CPU scale — train FP and
 * BitNet b1.58 models of increasing width on the same number of tokens, fit L(N) = aN^b + c
 * (N = projection parameters, the non-embedding count) on all but the largest size, predict the
 * largest, and show loss against matmul energy per token (the "inference-optimal" view, Fig. 3 right).
 */
import type { QuantMode } from '../../model/config.js';
import { perplexity } from '../../eval/perplexity.js';
import { DEFAULT_ENERGY, trainedFormat, type EnergyOptions } from '../energy.js';
import { fitScalingLaw, predictScaling, type ScalingFit } from '../scaling.js';
import { costOf, shapeConfig, trainModel, writeReport, type ExperimentArch, type ExperimentEnv } from './common.js';
import { linePlotSvg, mdTable } from './plots.js';

export interface ScalingPreset {
  /** Architecture overrides for every trained model (`bitnet experiment --heads …`; default: shapeConfig's choices). */
  arch?: ExperimentArch;
  description: string;
  widths: number[];
  /** The last `heldOut` widths are predicted, not fitted. */
  heldOut: number;
  nLayers: number;
  ffnMult: number;
  maxSeqLen: number;
  modes: QuantMode[];
  steps: number;
  batch: number;
  seq: number;
  lr: { fp: number; quantized: number };
  seed: number;
  pplTokens: number;
}

export const SCALING_PRESETS: Record<string, ScalingPreset> = {
  smoke: { description: 'plumbing check', widths: [32, 48, 64, 96], heldOut: 1, nLayers: 1, ffnMult: 2, maxSeqLen: 64, modes: ['fp', 'b158'], steps: 8, batch: 4, seq: 64, lr: { fp: 2e-3, quantized: 4e-3 }, seed: 1337, pplTokens: 512 },
  default: { description: '6 widths 32…192 (2 layers, FFN 2×), 200 steps × 8 × 128 tokens each, FP and b1.58 (~10 min on 2 cores)', widths: [32, 48, 64, 96, 128, 192], heldOut: 1, nLayers: 2, ffnMult: 2, maxSeqLen: 128, modes: ['fp', 'b158'], steps: 200, batch: 8, seq: 128, lr: { fp: 2e-3, quantized: 4e-3 }, seed: 1337, pplTokens: 8192 },
  large: { description: '7 widths 64…512 (4 layers), 2000 steps × 16 × 256 tokens each (a day on 2 cores)', widths: [64, 96, 128, 192, 256, 384, 512], heldOut: 1, nLayers: 4, ffnMult: 2, maxSeqLen: 256, modes: ['fp', 'b158'], steps: 2000, batch: 16, seq: 256, lr: { fp: 1.5e-3, quantized: 3e-3 }, seed: 1337, pplTokens: 65536 },
};

export interface ScalingPoint { mode: QuantMode; width: number; N: number; loss: number; bpb: number; energyJ: number; heldOut: boolean; diverged: boolean }
export interface ScalingResult { preset: string; points: ScalingPoint[]; fits: Record<string, { fit: ScalingFit; predictions: Array<{ N: number; predicted: number; err: number; actual: number }> } | { error: string }>; energy: EnergyOptions }

export function runScaling(env: ExperimentEnv, presetName: string, p: ScalingPreset, energy: EnergyOptions = DEFAULT_ENERGY): ScalingResult {
  const V = env.prep.tokenizer.vocabSize;
  const points: ScalingPoint[] = [];
  p.widths.forEach((width, i) => {
    for (const mode of p.modes) {
      const config = shapeConfig({ dim: width, nLayers: p.nLayers, ffnDim: p.ffnMult * width, maxSeqLen: p.maxSeqLen, vocabSize: V }, mode, p.arch);
      const cost = costOf(config, trainedFormat(mode), energy);
      const t = trainModel(env, config, { steps: p.steps, batch: p.batch, seq: p.seq, lr: mode === 'fp' ? p.lr.fp : p.lr.quantized, seed: p.seed }, `${mode} width ${width}`);
      const r = t.model ? perplexity(t.model, env.prep.tokenizer, env.heldOut, { window: p.seq, maxTokens: p.pplTokens }) : undefined;
      points.push({ mode, width, N: cost.linearParams, loss: r?.loss ?? NaN, bpb: r?.bpb ?? NaN, energyJ: cost.energyJ, heldOut: i >= p.widths.length - p.heldOut, diverged: t.model === undefined });
      env.log(`  ${mode} width ${width}: N = ${cost.linearParams}, held-out loss ${r?.loss.toFixed(4) ?? 'diverged'}`);
    }
  });
  const fits: ScalingResult['fits'] = {};
  for (const mode of p.modes) {
    const fitPts = points.filter((x) => x.mode === mode && !x.heldOut && !x.diverged);
    try {
      const fit = fitScalingLaw(fitPts.map((x) => x.N), fitPts.map((x) => x.loss));
      const predictions = points.filter((x) => x.mode === mode && x.heldOut).map((x) => { const pr = predictScaling(fit, x.N); return { N: x.N, predicted: pr.loss, err: pr.err, actual: x.loss }; });
      fits[mode] = { fit, predictions };
    } catch (e) {
      fits[mode] = { error: (e as Error).message };
    }
  }
  return { preset: presetName, points, fits, energy };
}

export function writeScaling(dir: string, r: ScalingResult, p: ScalingPreset, command: string): string {
  const rows = r.points.map((x) => [x.mode, String(x.width), x.N.toLocaleString('en-US'), x.diverged ? 'diverged' : x.loss.toFixed(4), x.diverged ? '–' : x.bpb.toFixed(4), (x.energyJ * 1e9).toFixed(3), x.heldOut ? 'held out' : 'fit']);
  const fitRows = Object.entries(r.fits).map(([mode, f]) => 'error' in f
    ? [mode, f.error, '', '', '', '']
    : [mode, `${f.fit.a.toExponential(3)} ± ${f.fit.aErr.toExponential(1)}`, `${f.fit.b.toFixed(4)} ± ${f.fit.bErr.toFixed(4)}`, `${f.fit.c.toFixed(4)} ± ${f.fit.cErr.toFixed(4)}`, f.fit.rmse.toExponential(2),
      f.predictions.map((q) => `N=${q.N.toLocaleString('en-US')}: predicted ${q.predicted.toFixed(4)} ± ${q.err.toFixed(4)}, measured ${q.actual.toFixed(4)}`).join('; ')]);
  const md = `# Scaling law — preset \`${r.preset}\`

Command: \`${command}\`

${p.description}. Loss = held-out cross-entropy (nats/token, sliding window, ${p.pplTokens} tokens); N = projection (non-embedding) parameters; all sizes see the same ${p.steps * p.batch * p.seq} training tokens.
Fit L(N) = a·N^b + c (Levenberg–Marquardt; ± = asymptotic standard errors from σ²(JᵀJ)⁻¹, which are wide with 3 parameters on ${p.widths.length - p.heldOut} points) on all but the largest ${p.heldOut} size(s), which are predicted.

${mdTable(['mode', 'width', 'N', 'loss', 'bpb', 'energy nJ/tok', 'role'], rows)}

${mdTable(['mode', 'a', 'b', 'c', 'rmse', 'held-out prediction'], fitRows)}

Plots: \`loss-vs-params.svg\` (points, fits dashed), \`loss-vs-energy.svg\` (energy: BitNet Eqs. 16–18, ${r.energy.node}, rescales in ${r.energy.rescalePrecision}).
`;
  const series = p.modes.flatMap((mode) => {
    const pts = r.points.filter((x) => x.mode === mode && !x.diverged);
    const f = r.fits[mode];
    const s = [{ label: mode, points: pts.map((x) => [x.N, x.loss] as [number, number]) }];
    if (f && !('error' in f) && pts.length > 1) {
      const lo = Math.min(...pts.map((x) => x.N)), hi = Math.max(...pts.map((x) => x.N));
      s.push({ label: `${mode} fit`, points: Array.from({ length: 40 }, (_, i) => { const N = lo * (hi / lo) ** (i / 39); return [N, predictScaling(f.fit, N).loss] as [number, number]; }), dashed: true } as never);
    }
    return s;
  });
  const svgs = {
    'loss-vs-params.svg': linePlotSvg({ title: 'Held-out loss vs projection parameters', xLabel: 'N (non-embedding parameters)', yLabel: 'loss (nats/token)', logX: true, series }),
    'loss-vs-energy.svg': linePlotSvg({ title: 'Held-out loss vs matmul energy per token', xLabel: 'energy per token (J)', yLabel: 'loss (nats/token)', logX: true, series: p.modes.map((mode) => ({ label: mode, points: r.points.filter((x) => x.mode === mode && !x.diverged).map((x) => [x.energyJ, x.loss] as [number, number]) })) }),
  };
  writeReport(dir, { 'report.md': md, 'results.json': JSON.stringify({ ...r, presetSpec: p }, null, 2) + '\n', ...svgs });
  return md;
}
