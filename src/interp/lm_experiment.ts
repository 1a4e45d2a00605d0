/**
 * `bitnet interp lm`: train a tiny Transformer with a bilinear FFN on the bundled SOTU corpus
 * (fp and/or b1.58), then decompose its FFNs from the weights alone: eigen-spectra of Q for
 * chosen tokens' logit directions, the top tokens of the top eigenvectors, and an HOSVD over
 * the residual output (docs/data.md §3.3). Writes lm_summary.json, lm_summary.md and a spectrum SVG.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../kernels/backend.js';
import { atomicWriteFile } from '../io/files.js';
import { makeConfig, type QuantMode } from '../model/config.js';
import { defaultTrainOptions, train } from '../train/loop.js';
import type { PreparedRun } from '../train/prepare_run.js';
import { linePlotSvg, type Series } from './figures.js';
import { decomposeForTokens, hosvdTokens, type LmEigenReport, type LmHosvdReport } from './lm.js';

export interface LmExperimentOptions {
  out: string;
  prep: PreparedRun;
  quants: QuantMode[];
  steps: number;
  batch: number;
  seqLen: number;
  seed: number;
  /** Words whose (single-token) logit directions are decomposed. */
  words: string[];
  log: (m: string) => void;
}

interface LmRecord {
  quant: QuantMode;
  valLoss: number;
  valBpb: number;
  seconds: number;
  layers: Array<{ layer: number; tokens: LmEigenReport[]; hosvd: LmHosvdReport }>;
}

export function runLmExperiment(be: Backend, o: LmExperimentOptions): { records: LmRecord[]; summaryPath: string } {
  mkdirSync(o.out, { recursive: true });
  const tok = o.prep.tokenizer;
  const ids: number[] = [];
  for (const w of o.words) {
    const e = tok.encode(w);
    if (e.length === 1 && !ids.includes(e[0]!)) ids.push(e[0]!);
  }
  o.log(`decomposing along ${ids.length} single-token words: ${ids.map((i) => JSON.stringify(tok.decode([i]))).join(' ')}`);
  const records: LmRecord[] = [];
  for (const quant of o.quants) {
    // No SubLN: the FFN is then exactly bilinear in its (normalised) input (docs/data.md §3.4 caveat 2).
    const config = makeConfig('tiny', { quant, vocabSize: tok.vocabSize, ffn: 'bilinear', subln: false });
    const d = defaultTrainOptions(o.steps);
    const lr = quant === 'fp' ? 2e-3 : 4e-3;
    const opts = { ...d, batchSize: o.batch, seqLen: o.seqLen, seed: o.seed, evalEvery: o.steps, evalBatches: 8, ckptEvery: o.steps, schedule: { ...d.schedule, lr, minLr: lr / 10 } };
    const t0 = performance.now();
    const r = train(be, config, opts, o.prep.data);
    const seconds = (performance.now() - t0) / 1000;
    o.log(`${quant}: ${o.steps} steps in ${seconds.toFixed(0)} s, val loss ${r.final.valLoss.toFixed(3)}, ${r.final.valBpb.toFixed(3)} bits/byte`);
    const layers = Array.from({ length: config.nLayers }, (_, l) => ({ layer: l, tokens: decomposeForTokens(r.model, l, ids, tok), hosvd: hosvdTokens(r.model, l, tok) }));
    records.push({ quant, valLoss: r.final.valLoss, valBpb: r.final.valBpb, seconds, layers });
  }
  const figures: string[] = [];
  const series: Series[] = [];
  for (const r of records) for (const L of r.layers) {
    const t = L.tokens[0];
    if (!t) continue;
    const mx = Math.max(Math.abs(t.positive[0] ?? 0), Math.abs(t.negative[0] ?? 0)) || 1;
    series.push({ label: `${r.quant} L${L.layer} λ⁺ ${t.token}`, x: t.positive.map((_, i) => i + 1), y: t.positive.map((v) => v / mx) });
    series.push({ label: `${r.quant} L${L.layer} λ⁻`, x: t.negative.map((_, i) => i + 1), y: t.negative.map((v) => v / mx), dashed: true });
  }
  if (series.length) {
    const p = join(o.out, 'lm_spectrum.svg');
    atomicWriteFile(p, linePlotSvg(series, { title: 'Bilinear FFN: top eigenvalues of Q(logit direction)', xlabel: 'rank', ylabel: 'λ / max|λ|', width: 760 }));
    figures.push(p);
  }
  const summaryPath = join(o.out, 'lm_summary.json');
  atomicWriteFile(summaryPath, JSON.stringify({ steps: o.steps, batch: o.batch, seqLen: o.seqLen, seed: o.seed, records, figures }, null, 2) + '\n');
  atomicWriteFile(join(o.out, 'lm_summary.md'), lmMarkdown(records, figures));
  return { records, summaryPath };
}

function lmMarkdown(records: LmRecord[], figures: string[]): string {
  const L: string[] = ['# Bilinear-FFN language model (SOTU, tiny preset, no SubLN)', ''];
  L.push('| weights | val loss | val bits/byte | mean eff. rank of Q(token) per layer |', '|---|---|---|---|');
  for (const r of records) L.push(`| ${r.quant} | ${r.valLoss.toFixed(3)} | ${r.valBpb.toFixed(3)} | ${r.layers.map((l) => (l.tokens.reduce((s, t) => s + t.effRank, 0) / Math.max(1, l.tokens.length)).toFixed(1)).join(' / ')} |`);
  for (const r of records) for (const l of r.layers) {
    L.push('', `## ${r.quant}, layer ${l.layer}`, '', `HOSVD σ: ${l.hosvd.sigma.map((v) => v.toPrecision(3)).join(', ')}`, '');
    l.hosvd.components.forEach((c, i) => L.push(`- component ${i + 1}: output tokens + ${c.outputTokens.join(' ')} / − ${c.outputTokensNeg.join(' ')}; top eigenvector (λ ${c.lambda.map((v) => v.toPrecision(3)).join(' … ')}) reads ${c.plus.join(' ')} ⟷ ${c.minus.join(' ')}`));
    L.push('');
    for (const t of l.tokens) {
      L.push(`- logit ${t.token}: eff. rank ${t.effRank.toFixed(1)}; λ⁺ ${t.positive.slice(0, 3).map((v) => v.toPrecision(3)).join(', ')}; λ⁻ ${t.negative.slice(0, 3).map((v) => v.toPrecision(3)).join(', ')}`);
      for (const v of t.vectors) L.push(`  - λ = ${v.lambda.toPrecision(3)}: ${v.plus.join(' ')} ⟷ ${v.minus.join(' ')}`);
    }
  }
  L.push('', '## Figures', '', ...figures.map((f) => `- ${f}`), '');
  return L.join('\n');
}
