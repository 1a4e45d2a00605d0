/**
 * `npm run bench [-- suite ...] [--reps N] [--quick]`
 * Suites: membw, gemm, gemv, head4, headppl, lut, train, decode, kv, load, web, webgguf, wllama, serve, spec (default: all).
 * spec: prompt-lookup speculative decoding vs plain (bundled model: a repeat task and free generation;
 *   --preset P synthetic GGUF, default b1.58-large, skipped with --quick) at --threads T (default 2). JSON lines on stdout, then a table.
 * serve: `--duration S` (default 30, 10 with --quick), `--clients N` (default 4), `--soak` (10 minutes);
 *   with `--streams 1,4,8`: batching scale on `--preset P` (default b1.58-large) at `--threads T` (default 2),
 *   `--duration S` per stream count (default 20, 3 with --quick; --quick also shortens the answers).
 * wllama: our page vs wllama (llama.cpp in WebAssembly) in the same Chromium on the same TQ2_0 GGUF (bench/wllama.ts;
 *   wllama installed outside the repo, skipped otherwise), `--reps N` capped at 3 (1 with --quick).
 * webgguf: `--gguf FILE` (default: the synthetic 2B4T-shape GGUF of bench/load.ts), `--threads T` (default 2).
 * `--out FILE` also appends the JSON lines to FILE (e.g. bench/results/run.jsonl).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { benchGemm } from './gemm.js';
import { benchGemv } from './gemv.js';
import { benchHead4 } from './head4.js';
import { benchHeadPpl } from './head_ppl.js';
import { benchLoad } from './load.js';
import { benchWeb, benchWebGguf } from './web.js';
import { benchWllama } from './wllama.js';
import { benchLut } from './lut.js';
import { benchDecode } from './decode.js';
import { benchKv } from './kv.js';
import { benchTrain } from './train_step.js';
import { env, Reporter } from './harness.js';
import { benchMembw } from './membw.js';
import { benchServe, benchServeScale } from './serve.js';
import { benchSpec } from './spec.js';

const SUITES = ['membw', 'gemm', 'gemv', 'head4', 'headppl', 'lut', 'train', 'decode', 'kv', 'load', 'web', 'webgguf', 'wllama', 'serve', 'spec'] as const;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    reps: { type: 'string', default: '5' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    duration: { type: 'string' },
    clients: { type: 'string', default: '4' },
    soak: { type: 'boolean', default: false },
    streams: { type: 'string' },
    preset: { type: 'string', default: 'b1.58-large' },
    threads: { type: 'string', default: '2' },
    gguf: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(`usage: npm run bench -- [${SUITES.join('|')} ...] [--reps N] [--quick] [--out FILE] [--duration S] [--clients N] [--soak] [--streams 1,4,8 --preset P --threads T] [--gguf FILE]`);
  process.exit(0);
}
const unknown = positionals.filter((p) => !(SUITES as readonly string[]).includes(p));
if (unknown.length > 0) {
  console.error(`bench: unknown suite(s) ${unknown.join(', ')}; choose from ${SUITES.join(', ')}`);
  process.exit(2);
}
const reps = Math.max(5, Number(values.reps));
const suites = positionals.length > 0 ? positionals : [...SUITES];
const threads = [1, 2];
const rep = new Reporter();
console.error(`bench: node ${env.node}, ${env.cpu} ×${env.cpus}, reps ${reps}`);
let membw = new Map<number, number>();
// GEMV and decode report their fraction of the read bandwidth: measure it in the same run.
if ((suites.includes('gemv') || suites.includes('head4') || suites.includes('decode')) && !suites.includes('membw')) suites.unshift('membw');
for (const s of suites) {
  if (s === 'membw') membw = await benchMembw(rep, { reps, threads, mib: values.quick ? 64 : 256 });
  if (s === 'gemv') await benchGemv(rep, { reps, threads, membw, quick: values.quick });
  if (s === 'head4') await benchHead4(rep, { reps, threads, membw, quick: values.quick });
  if (s === 'headppl') await benchHeadPpl(rep, { quick: values.quick });
  if (s === 'load') await benchLoad(rep, { reps: Math.min(reps, 5), quick: values.quick });
  if (s === 'web') await benchWeb(rep, { quick: values.quick, threads });
  if (s === 'webgguf') await benchWebGguf(rep, { threads: Number(values.threads), ...(values.gguf !== undefined ? { gguf: values.gguf } : {}) });
  if (s === 'wllama') await benchWllama(rep, { quick: values.quick, threads, reps: values.quick ? 1 : Math.min(3, Number(values.reps)) });
  if (s === 'lut') await benchLut(rep, { reps, quick: values.quick });
  if (s === 'decode') await benchDecode(rep, { reps, threads, quick: values.quick, membw });
  if (s === 'kv') await benchKv(rep, { reps, threads, quick: values.quick });
  if (s === 'train') await benchTrain(rep, { reps, threads, quick: values.quick });
  if (s === 'serve' && values.streams !== undefined) {
    const streams = values.streams.split(',').map(Number);
    if (streams.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--streams: positive integers, comma-separated, got ${values.streams}`);
    const durationS = Number(values.duration ?? (values.quick ? 3 : 20));
    await benchServeScale(rep, { preset: values.preset, streams, threads: Number(values.threads), durationS, maxTokens: values.quick ? 16 : 128, promptTokens: 16 });
  } else if (s === 'serve') {
    const durationS = values.soak ? 600 : Number(values.duration ?? (values.quick ? 10 : 30));
    await benchServe(rep, { durationS, clients: Math.max(1, Number(values.clients)), slots: 2, threads: 1, maxTokens: 64 });
  }
  if (s === 'spec') await benchSpec(rep, { reps, threads: Number(values.threads), quick: values.quick, preset: values.preset });
  if (s === 'gemm') await benchGemm(rep, { reps, threads, sizes: values.quick ? [512] : [512, 1024, 2048] });
}
console.log('\n' + rep.table());
if (values.out) mkdirSync(dirname(values.out), { recursive: true });
if (values.out) appendFileSync(values.out, rep.results.map((r) => JSON.stringify({ ...r, ...env, date: new Date().toISOString() })).join('\n') + '\n');
