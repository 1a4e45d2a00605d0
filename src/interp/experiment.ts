/**
 * The interpretability experiments (Node: write figures and summaries).
 *
 *   runMnistExperiment  {fp, b1.58} × {bilinear, ReLU MLP} × seeds on MNIST: accuracy, truncation
 *                       curves, effective rank, seed consistency, eigenvector images, HOSVD, adversarial masks
 *   runToyExperiment    Boolean toy tasks: interaction heatmaps vs the known patterns
 *
 * Everything a figure shows is also in summary.json; summary.md is the readable version.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../kernels/backend.js';
import { atomicWriteFile } from '../io/files.js';
import { hosvd, projectThroughEmbedding, topSigned } from './bilinear.js';
import { symEig, row } from './eigen.js';
import { adversarialMasks, decomposeClassifier, inputEigenvector, seedConsistency, truncationCurve, type ClassifierDecomposition } from './analysis.js';
import { heatmapsSvg, linePlotSvg, tileGrid, type Series, type Tile } from './figures.js';
import { BilinearClassifier, type InterpArch, type InterpQuant } from './model.js';
import { encodePng } from './png.js';
import { BOOL_OPS, idealToyMatrix, trainToy, type BoolOp, type ToyOptions } from './toy.js';
import { evaluateClassifier, fitClassifier, type Dataset, type FitOptions } from './train.js';

export interface MnistExperimentOptions {
  out: string;
  train: Dataset;
  test: Dataset;
  dataName: string;
  embed: number;
  hidden: number;
  seeds: number[];
  fit: Omit<FitOptions, 'seed' | 'onEpoch'>;
  quants: InterpQuant[];
  archs: InterpArch[];
  /** Largest k of the truncation curve. */
  kMax: number;
  log: (m: string) => void;
}

interface RunRecord {
  quant: InterpQuant;
  arch: InterpArch;
  seed: number;
  accuracy: number;
  trainLoss: number[];
  seconds: number;
  /** bilinear only: */
  eigenAccuracy?: number;
  truncation?: { k: number[]; accuracy: number[] };
  effRankMean?: number;
  effRankPerClass?: number[];
  /** (L1/L2)² of the top-5 positive input-space eigenvectors (effective pixel count), mean over classes. */
  effPixels?: number;
  ternary?: Record<string, { beta: number; zeros: number }>;
}

/** Eigenvectors per class stacked for the pseudoinverse masks (the paper uses 10; fewer keep the keys well conditioned). */
const MASK_RANKS = [1, 3, 10];

const writeText = (p: string, s: string) => atomicWriteFile(p, s);
const writePng = (p: string, tiles: Array<Array<Tile | undefined>>, scale = 3) => atomicWriteFile(p, encodePng(tileGrid(tiles, scale)));
const img = (v: ArrayLike<number>): Tile => ({ data: v, w: 28, h: 28 });
/** Eigenvector signs are arbitrary: show each with a non-negative pixel sum so seeds and models compare by eye. */
const eigImg = (v: Float64Array): Tile => {
  const s = v.reduce((a, b) => a + b, 0);
  return img(s < 0 ? v.map((x) => -x) : v);
};

function effPixelCount(dec: ClassifierDecomposition): number {
  let s = 0, n = 0;
  for (let c = 0; c < dec.O; c++) for (const i of topSigned(dec.eig[c]!, 5).pos) {
    const v = inputEigenvector(dec, c, i);
    let l1 = 0, l2 = 0;
    for (const x of v) {
      l1 += Math.abs(x);
      l2 += x * x;
    }
    s += (l1 * l1) / l2;
    n++;
  }
  return n ? s / n : 0;
}

export async function runMnistExperiment(be: Backend, o: MnistExperimentOptions): Promise<{ records: RunRecord[]; summaryPath: string }> {
  mkdirSync(o.out, { recursive: true });
  const records: RunRecord[] = [];
  const decs = new Map<string, ClassifierDecomposition[]>();
  const models = new Map<string, BilinearClassifier>();
  const figures: string[] = [];
  for (const quant of o.quants) for (const arch of o.archs) for (const seed of o.seeds) {
    const t0 = performance.now();
    const model = new BilinearClassifier(be, { nIn: o.train.nIn, embed: o.embed, hidden: o.hidden, nOut: o.train.nClasses, arch, quant, loss: 'ce' }, Math.max(256, o.fit.batch));
    model.init(seed);
    const trainLoss = fitClassifier(model, o.train, { ...o.fit, seed });
    const { accuracy } = evaluateClassifier(model, o.test);
    const rec: RunRecord = { quant, arch, seed, accuracy, trainLoss, seconds: 0 };
    if (arch === 'bilinear') {
      const w = model.effectiveWeights();
      const dec = decomposeClassifier(w.E, w.layer, o.train.nIn);
      const tc = truncationCurve(dec, o.test.x, o.test.y, o.kMax);
      rec.eigenAccuracy = tc.full;
      rec.truncation = { k: tc.k, accuracy: tc.accuracy };
      rec.effRankPerClass = dec.effRank;
      rec.effRankMean = dec.effRank.reduce((a, b) => a + b, 0) / dec.effRank.length;
      rec.effPixels = effPixelCount(dec);
      if (quant === 'b158') rec.ternary = model.ternaryStats();
      const key = `${quant}/${arch}`;
      decs.set(key, [...(decs.get(key) ?? []), dec]);
      if (seed === o.seeds[0]) models.set(quant, model);
    }
    rec.seconds = (performance.now() - t0) / 1000;
    records.push(rec);
    o.log(`${quant.padEnd(4)} ${arch.padEnd(8)} seed ${seed}: test accuracy ${(accuracy * 100).toFixed(2)} %${rec.eigenAccuracy !== undefined ? `, eigen-form ${(rec.eigenAccuracy * 100).toFixed(2)} %, effective rank ${rec.effRankMean!.toFixed(1)}` : ''} (${rec.seconds.toFixed(1)} s)`);
  }

  // Eigenvector images: per quant, rows = classes, columns = top-4 positive | top-4 negative (first seed).
  const bil = o.quants.filter((q) => decs.has(`${q}/bilinear`));
  for (const q of bil) {
    const dec = decs.get(`${q}/bilinear`)![0]!;
    const tiles = Array.from({ length: dec.O }, (_, c) => {
      const { pos, neg } = topSigned(dec.eig[c]!, 4);
      const cells: Array<Tile | undefined> = [];
      for (let t = 0; t < 4; t++) cells.push(pos[t] !== undefined ? eigImg(inputEigenvector(dec, c, pos[t]!)) : undefined);
      cells.push(undefined);
      for (let t = 0; t < 4; t++) cells.push(neg[t] !== undefined ? eigImg(inputEigenvector(dec, c, neg[t]!)) : undefined);
      return cells;
    });
    const p = join(o.out, `eigenvectors_${q}.png`);
    writePng(p, tiles);
    figures.push(p);
  }
  if (bil.length > 0) {
    // Side by side: top positive eigenvector per class, one row per quant (and per seed).
    const rows: Array<Array<Tile | undefined>> = [];
    for (const q of bil) for (const dec of decs.get(`${q}/bilinear`)!) rows.push(Array.from({ length: dec.O }, (_, c) => eigImg(inputEigenvector(dec, c, 0))));
    const p = join(o.out, 'top_eigenvector_by_class.png');
    writePng(p, rows);
    figures.push(p);
  }

  // Spectra: eigenvalues of class 5 (top 20 ±), normalised by the largest |λ|, per quant (first seed).
  const spectra: Series[] = [];
  for (const q of bil) {
    const dec = decs.get(`${q}/bilinear`)![0]!;
    const c = Math.min(5, dec.O - 1);
    const vals = dec.eig[c]!.values;
    const mx = Math.max(...Array.from(vals, Math.abs));
    const { pos, neg } = topSigned(dec.eig[c]!, 20);
    spectra.push({ label: `${q} λ⁺ (digit ${c})`, x: pos.map((_, i) => i + 1), y: pos.map((i) => vals[i]! / mx) });
    spectra.push({ label: `${q} λ⁻ (digit ${c})`, x: neg.map((_, i) => i + 1), y: neg.map((i) => vals[i]! / mx), dashed: true });
  }
  if (spectra.length) {
    const p = join(o.out, 'spectrum_digit5.svg');
    writeText(p, linePlotSvg(spectra, { title: `Eigenvalues of Q(digit 5), top 20 positive / negative (${o.dataName})`, xlabel: 'rank', ylabel: 'λ / max|λ|' }));
    figures.push(p);
  }

  // Truncation curves.
  const trunc: Series[] = [];
  for (const r of records) if (r.truncation) trunc.push({ label: `${r.quant} seed ${r.seed}`, x: r.truncation.k, y: r.truncation.accuracy, dashed: r.quant === 'b158' });
  if (trunc.length) {
    const p = join(o.out, 'truncation.svg');
    writeText(p, linePlotSvg(trunc, { title: `Accuracy keeping the top-k eigenvectors per class (${o.dataName})`, xlabel: 'k (eigenvectors per class, by |λ|)', ylabel: 'test accuracy', yMin: 0, yMax: 1 }));
    figures.push(p);
  }

  // Seed consistency (first two seeds).
  const consistency: Record<string, { byRank: number[]; bestMatch: number[] }> = {};
  const cons: Series[] = [];
  for (const q of bil) {
    const ds = decs.get(`${q}/bilinear`)!;
    if (ds.length < 2) continue;
    const sc = seedConsistency(ds[0]!, ds[1]!, 10);
    consistency[q] = sc;
    cons.push({ label: `${q} i-th vs i-th`, x: sc.byRank.map((_, i) => i + 1), y: sc.byRank }, { label: `${q} best match`, x: sc.bestMatch.map((_, i) => i + 1), y: sc.bestMatch, dashed: true });
  }
  if (cons.length) {
    const p = join(o.out, 'consistency.svg');
    writeText(p, linePlotSvg(cons, { title: `|cos| of top positive eigenvectors across seeds ${o.seeds[0]} and ${o.seeds[1]}`, xlabel: 'eigenvector rank', ylabel: 'mean |cos| over classes', yMin: 0, yMax: 1 }));
    figures.push(p);
  }

  // HOSVD: top-2 components per quant, output direction and top ± eigenvectors of the component's matrix.
  const hos: Record<string, { sigma: number[]; outputDirs: number[][] }> = {};
  for (const q of bil) {
    const m = models.get(q)!;
    const w = m.effectiveWeights();
    const h = hosvd(w.layer, 3);
    hos[q] = { sigma: Array.from(h.sigma), outputDirs: [0, 1, 2].map((k) => Array.from(h.outputDirs.subarray(k * w.layer.O, (k + 1) * w.layer.O))) };
    const tiles = [0, 1].map((k) => {
      const e = symEig(h.matrices[k]!, w.layer.D);
      const { pos, neg } = topSigned(e, 3);
      const proj = (i: number) => eigImg(w.E ? projectThroughEmbedding(w.E, row(e.vectors, i, w.layer.D), w.layer.D, o.train.nIn) : Float64Array.from(row(e.vectors, i, w.layer.D)));
      return [...pos.map(proj), undefined, ...neg.map(proj)];
    });
    const p = join(o.out, `hosvd_${q}.png`);
    writePng(p, tiles);
    figures.push(p);
  }

  // Adversarial masks (first seed): pseudoinverse of the top-r positive eigenvectors of every class, r ∈ MASK_RANKS.
  const maskRes: Record<string, ReturnType<typeof adversarialMasks>> = {};
  const maskSeries: Series[] = [];
  const maskTiles: Array<Array<Tile | undefined>> = [];
  const nEval = Math.min(o.test.n, 1000);
  const xs = o.test.x.subarray(0, nEval * o.test.nIn), ys = o.test.y.subarray(0, nEval);
  const strengths = [0, 2, 4, 8, 12];
  for (const q of bil) {
    const m = models.get(q)!;
    const dec = decs.get(`${q}/bilinear`)![0]!;
    const predict = (x: Float32Array, n: number) => evaluateClassifier(m, { x, y: new Int32Array(n), n, nIn: o.test.nIn, nClasses: o.test.nClasses }).logits;
    for (const r of MASK_RANKS) {
      const res = adversarialMasks(dec, xs, ys, predict, strengths, r, o.seeds[0]!);
      maskRes[`${q}, top-${r}`] = res;
      maskSeries.push({ label: `${q} top-${r} key`, x: strengths, y: res.targetRate, dashed: r !== 1 });
      if (r === 1) maskSeries.push({ label: `${q} permuted`, x: strengths, y: res.targetRateBaseline, dashed: true });
      if (r === 1 || r === MASK_RANKS[MASK_RANKS.length - 1]) maskTiles.push(res.masks.map(img));
    }
  }
  if (maskSeries.length) {
    let p = join(o.out, 'adversarial_masks.svg');
    writeText(p, linePlotSvg(maskSeries, { title: 'Weight-only adversarial masks: test images classified as the target', xlabel: 'mask L2 norm (a digit image has norm ≈ 9)', ylabel: 'rate (mean over 10 targets)', yMin: 0, yMax: 1, width: 720 }));
    figures.push(p);
    p = join(o.out, 'adversarial_masks.png');
    writePng(p, maskTiles);
    figures.push(p);
  }

  const summary = {
    data: o.dataName, trainSize: o.train.n, testSize: o.test.n, embed: o.embed, hidden: o.hidden, seeds: o.seeds, fit: o.fit,
    records, consistency, hosvd: hos,
    adversarial: Object.fromEntries(Object.entries(maskRes).map(([q, r]) => [q, { keyGain: r.keyGain, strength: r.strength, targetRate: r.targetRate, targetRateBaseline: r.targetRateBaseline, accuracy: r.accuracy, accuracyBaseline: r.accuracyBaseline }])),
    figures,
  };
  const summaryPath = join(o.out, 'summary.json');
  writeText(summaryPath, JSON.stringify(summary, null, 2) + '\n');
  writeText(join(o.out, 'summary.md'), mnistMarkdown(summary, records, consistency, maskRes, hos));
  return { records, summaryPath };
}

const pct = (v: number | undefined) => (v === undefined ? '—' : `${(v * 100).toFixed(2)}`);
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);

function mnistMarkdown(s: { data: string; trainSize: number; testSize: number; embed: number; hidden: number; figures: string[] }, records: RunRecord[], consistency: Record<string, { byRank: number[]; bestMatch: number[] }>,
                       masks: Record<string, { keyGain: number[]; strength: number[]; targetRate: number[]; targetRateBaseline: number[]; accuracy: number[] }>, hos: Record<string, { sigma: number[]; outputDirs: number[][] }>): string {
  const L: string[] = [];
  L.push(`# Bilinear interpretability: ${s.data}`, '', `Model: ${784} → embed ${s.embed} → ${s.hidden} hidden → 10; ${s.trainSize} train / ${s.testSize} test images.`, '');
  L.push('| weights | layer | seed | test acc % | eigen-form acc % | acc % top-1 | top-3 | top-10 | eff. rank (mean over classes) | eff. pixels (top-5 eigvecs) | s |', '|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of records) {
    const t = r.truncation;
    L.push(`| ${r.quant} | ${r.arch} | ${r.seed} | ${pct(r.accuracy)} | ${pct(r.eigenAccuracy)} | ${pct(t?.accuracy[1])} | ${pct(t?.accuracy[3])} | ${pct(t?.accuracy[10])} | ${r.effRankMean?.toFixed(1) ?? 'n/a'} | ${r.effPixels?.toFixed(0) ?? 'n/a'} | ${r.seconds.toFixed(0)} |`);
  }
  L.push('', 'ReLU MLP rows: no weight-only decomposition exists (the network is piecewise linear; its input Hessian is 0 almost everywhere), so only accuracy is reported.', '');
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) groups.set(`${r.quant}/${r.arch}`, [...(groups.get(`${r.quant}/${r.arch}`) ?? []), r]);
  L.push('Mean over seeds:', '', '| weights/layer | test acc % | eff. rank |', '|---|---|---|');
  for (const [k, rs] of groups) L.push(`| ${k} | ${pct(mean(rs.map((r) => r.accuracy)))} | ${rs[0]!.effRankMean !== undefined ? mean(rs.map((r) => r.effRankMean!)).toFixed(1) : 'n/a'} |`);
  for (const r of records) if (r.ternary) L.push('', `Ternary statistics (${r.quant} seed ${r.seed}): ${Object.entries(r.ternary).map(([n, t]) => `${n}: β = ${t.beta.toPrecision(3)}, ${(t.zeros * 100).toFixed(1)} % zeros`).join('; ')}`);
  if (Object.keys(consistency).length) {
    L.push('', '## Seed consistency (|cos| of top positive eigenvectors, mean over classes)', '', '| weights | rank 1 | rank 2 | rank 3 | rank 5 | best match rank 1 |', '|---|---|---|---|---|---|');
    for (const [q, c] of Object.entries(consistency)) L.push(`| ${q} | ${c.byRank[0]!.toFixed(3)} | ${c.byRank[1]!.toFixed(3)} | ${c.byRank[2]!.toFixed(3)} | ${c.byRank[4]!.toFixed(3)} | ${c.bestMatch[0]!.toFixed(3)} |`);
  }
  if (Object.keys(hos).length) {
    L.push('', '## HOSVD of the output-flattened tensor', '');
    for (const [q, h] of Object.entries(hos)) L.push(`- ${q}: σ = ${h.sigma.map((v) => v.toPrecision(3)).join(', ')}; first output direction over digits 0–9: [${h.outputDirs[0]!.map((v) => v.toFixed(2)).join(', ')}]; second: [${h.outputDirs[1]!.map((v) => v.toFixed(2)).join(', ')}]`);
  }
  if (Object.keys(masks).length) {
    L.push('', '## Adversarial masks (weights only; first 1000 test images)', '', 'Key gain = |v·mask| of the unit mask (1/‖key‖): the more eigenvectors are stacked, the worse conditioned the pseudoinverse.', '',
      '| weights, eigenvectors stacked per class | key gain (mean) | mask norm | classified as target % (key) | (permuted key) | accuracy % (key) |', '|---|---|---|---|---|---|');
    for (const [q, m] of Object.entries(masks)) m.strength.forEach((e, i) => L.push(`| ${q} | ${mean(m.keyGain).toFixed(3)} | ${e} | ${pct(m.targetRate[i])} | ${pct(m.targetRateBaseline[i])} | ${pct(m.accuracy[i])} |`));
  }
  L.push('', '## Figures', '', ...s.figures.map((f) => `- ${f}`), '');
  return L.join('\n');
}

export interface ToyExperimentOptions {
  out: string;
  ops: BoolOp[];
  toy: Omit<ToyOptions, 'op'>;
  log: (m: string) => void;
}

/** Train one bilinear layer per op; heatmaps of each output's interaction matrix, and the max deviation from the ideal pattern. */
export function runToyExperiment(be: Backend, o: ToyExperimentOptions): { results: Array<{ op: BoolOp; loss: number; maxDeviation: number | undefined }>; summaryPath: string } {
  mkdirSync(o.out, { recursive: true });
  const results: Array<{ op: BoolOp; loss: number; maxDeviation: number | undefined }> = [];
  const figures: string[] = [];
  const labels = Array.from({ length: o.toy.nInputs }, (_, i) => `x${i}`);
  for (const op of o.ops) {
    if (!BOOL_OPS.includes(op)) continue;
    const r = trainToy(be, { ...o.toy, op });
    let dev: number | undefined = 0;
    r.pairs.forEach(([i, j], k) => {
      const ideal = idealToyMatrix(op, o.toy.nInputs, i, j);
      if (!ideal || dev === undefined) {
        dev = undefined;
        return;
      }
      for (let t = 0; t < ideal.length; t++) dev = Math.max(dev, Math.abs(ideal[t]! - r.matrices[k]![t]!));
    });
    results.push({ op, loss: r.loss, maxDeviation: dev });
    const p = join(o.out, `toy_${op}.svg`);
    writeText(p, heatmapsSvg(r.matrices.map((m, k) => ({ title: `${op}(x${r.pairs[k]![0]}, x${r.pairs[k]![1]})`, data: m, n: o.toy.nInputs })), labels));
    figures.push(p);
    o.log(`toy ${op}: final MSE ${r.loss.toExponential(2)}${dev !== undefined ? `, max |Q − Q_ideal| ${(dev as number).toFixed(3)}` : ' (no bias-free ideal)'}`);
  }
  const summaryPath = join(o.out, 'toy_summary.json');
  writeText(summaryPath, JSON.stringify({ options: o.toy, results, figures }, null, 2) + '\n');
  return { results, summaryPath };
}
