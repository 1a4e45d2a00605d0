import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { PTQ_TABLE_PRESETS, presetProse } from '../../src/science/experiments/ptq_table.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const sample = readFileSync(new URL('../../../data/fixtures/sotu_sample.txt', import.meta.url), 'utf8');

describe('bitnet experiment (smoke presets on a small corpus)', () => {
  let root = '';
  const run = (...args: string[]) => spawnSync(process.execPath, [main, 'experiment', ...args, '--data', join(root, 'corpus'), '--vocab', '300', '--cache-dir', join(root, 'cache'), '--threads', '1', '--eval-split', 'val'], { encoding: 'utf8', timeout: 120_000 });
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'bitnet-exp-'));
    mkdirSync(join(root, 'corpus'));
    // 30 documents, each the sample rotated by a different offset (long enough for every offline task).
    for (let i = 0; i < 30; i++) {
      const k = Math.floor((i * sample.length) / 30);
      writeFileSync(join(root, 'corpus', `doc${String(i).padStart(2, '0')}.txt`), sample.slice(k) + ' ' + sample.slice(0, k));
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('ptq-table writes report.md, results.json and plots, with a row per trained model and PTQ method', () => {
    const out = join(root, 'ptq');
    const r = run('ptq-table', '--preset', 'smoke', '-o', out);
    assert.equal(r.status, 0, r.stderr);
    for (const f of ['report.md', 'results.json', 'bpb.svg', 'energy.svg', 'memory.svg']) assert.ok(existsSync(join(out, f)), f);
    const j = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { rows: Array<{ label: string; eval: { bpb: number; tasks: unknown[] }; cost: { energyJ: number } }> };
    assert.deepEqual(j.rows.map((x) => x.label), ['FP (fp16) from scratch', 'BitNet b1.58 W1.58A8 from scratch', 'FP + Absmax W8A8', 'FP + SmoothQuant W4A4', 'FP + GPTQ W3A16', 'FP + QuIP W2A16', 'FP, projections zeroed (ablation)']);
    for (const x of j.rows) assert.ok(x.eval.bpb > 0 && Number.isFinite(x.eval.bpb) && x.eval.tasks.length === 4 && (x.cost.energyJ > 0) === !x.label.includes('ablation'), x.label);
    assert.ok(j.rows[1]!.cost.energyJ < j.rows[2]!.cost.energyJ && j.rows[2]!.cost.energyJ < j.rows[0]!.cost.energyJ, 'energy: b1.58 < W8A8 < FP');
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    assert.match(md, /\| model \| W\/A bits \| PPL \| bpb \| lambada-lite \| ending-4way \| ending-2way \| minimal-pairs \|/);
    assert.equal(r.stdout.trim(), md.trim());
    // the validation curve (every 5 steps of 10) for each trained model, in the JSON and as a table
    const curves = (JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { valCurves: Record<string, Array<[number, number]>> }).valCurves;
    assert.deepEqual(Object.keys(curves), ['fp', 'b158']);
    for (const c of Object.values(curves)) assert.deepEqual(c.map(([s, v]) => [s, Number.isFinite(v) && v > 0]), [[5, true], [10, true]]);
    assert.match(md, /Validation loss during training[^\n]*\n\n\| step \| fp \| b158 \|/);
    // the report states the training budget that ran (so a `--steps` override is not described by the preset's prose)
    assert.match(md, /Training: 10 steps × 4 × 64 tokens = 2\.6k tokens per model, 0\.\d\d epochs of the training split's [\d.]+[kM] tokens, validation every 5 steps\./);
  });
  test('lr-stability and scaling write their reports', () => {
    const lr = run('lr-stability', '--preset', 'smoke', '-o', join(root, 'lr'));
    assert.equal(lr.status, 0, lr.stderr);
    assert.match(readFileSync(join(root, 'lr', 'report.md'), 'utf8'), /\| fp \| 0\.05 \| (converged|\*\*diverged)/);
    const sc = run('scaling', '--preset', 'smoke', '-o', join(root, 'sc'));
    assert.equal(sc.status, 0, sc.stderr);
    const j = JSON.parse(readFileSync(join(root, 'sc', 'results.json'), 'utf8')) as { points: unknown[]; fits: Record<string, unknown> };
    assert.equal(j.points.length, 8);
    assert.deepEqual(Object.keys(j.fits), ['fp', 'b158']);
    for (const f of ['loss-vs-params.svg', 'loss-vs-energy.svg']) assert.ok(readFileSync(join(root, 'sc', f), 'utf8').startsWith('<svg'));
  });
  test('architecture flags reach every trained model and the report', () => {
    const out = join(root, 'lr-arch');
    const r = run('lr-stability', '--preset', 'smoke', '--steps', '2', '--dim', '48', '--layers', '2', '--heads', '4', '--kv-heads', '2', '--ffn', 'swiglu', '--no-tie', '-o', out);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { presetSpec: { shape: { dim: number; nLayers: number; ffnDim: number }; arch: Record<string, unknown> } };
    assert.deepEqual([j.presetSpec.shape.dim, j.presetSpec.shape.nLayers, j.presetSpec.shape.ffnDim], [48, 2, 128]);
    assert.deepEqual(j.presetSpec.arch, { nHeads: 4, nKvHeads: 2, ffn: 'swiglu', tieEmbeddings: false });
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /Model: 2 layers × 48 wide, FFN 128, context 64, architecture flags \{"nHeads":4,"nKvHeads":2,"ffn":"swiglu","tieEmbeddings":false\}/);
  });
  test('eval scores a trained run on the held-out split, offline tasks and zero-shot fixtures, after PTQ', () => {
    const common = ['--data', join(root, 'corpus'), '--vocab', '300', '--cache-dir', join(root, 'cache'), '--threads', '1'];
    const runDir = join(root, 'run');
    const t = spawnSync(process.execPath, [main, 'train', ...common, '--quant', 'fp', '--steps', '3', '--batch', '2', '--seq', '32', '-o', runDir], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(t.status, 0, t.stderr);
    const fixtures = fileURLToPath(new URL('../../../test/fixtures/zeroshot/', import.meta.url));
    const ev = (...a: string[]) => spawnSync(process.execPath, [main, 'eval', runDir, ...common, '--eval-split', 'val', '--items', '4', '--ppl-tokens', '256', ...a], { encoding: 'utf8', timeout: 120_000 });
    const r = ev('--tasks', 'offline,hellaswag,piqa,lambada,wikitext', '--data-dir', fixtures, '--ptq', 'absmax-w8a8');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /fp \+ Absmax W8A8/);
    for (const name of ['held-out val', 'ending-4way', 'minimal-pairs', 'hellaswag', 'piqa', 'lambada', 'wikitext']) assert.match(r.stdout, new RegExp(`\\| ${name}`), name);
    const missing = ev('--tasks', 'boolq', '--data-dir', join(root, 'no-evals'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /file not found: .*no-evals\/boolq\/dev\.jsonl/);
  });
  test('bad names and flags exit 2 with a message', () => {
    for (const [args, re] of [[['nope'], /name an experiment/], [['ptq-table', '--preset', 'huge'], /--preset must be one of/], [['ptq-table', '--ptq', 'gptq-w5a16'], /unknown method/]] as const) {
      const r = run(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });
});

test('ptq-table report: flags that replace the preset\'s shape or architecture are named instead of the preset\'s own sizes', () => {
  const base = PTQ_TABLE_PRESETS.converged!;
  assert.equal(presetProse('converged', { ...base }), base.description);
  const prose = presetProse('converged', { ...base, shape: { ...base.shape, dim: 128, ffnDim: 256 }, arch: { nHeads: 4, nKvHeads: 4 } });
  assert.match(prose, /^the flags replaced the preset's shape \{"dim":128,"nLayers":2,"ffnDim":256,"maxSeqLen":128\}, architecture \{"nHeads":4,"nKvHeads":4\}; the preset as published: 2 layers × 256 wide/);
});
