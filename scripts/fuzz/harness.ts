/**
 * The fuzz harness: seeded mutants of every seed family (seeds.ts, mutate.ts) run in a pool of worker
 * processes (worker.ts) with a time limit per case; a worker that hangs is killed and replaced, one that
 * dies is a crash. Case i of family F is reproducible from (seed, F, i): its Rng is
 * `new Rng(seed).fork(`${F}:${i}`)`. Failing cases (untyped error, hang, crash, non-finite logits) are
 * written to `out/` as the mutated files plus case.json (family, index, seed, mutation, outcome, error).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/tensor/rng.js';
import { mutate, type Mutation } from './mutate.js';
import { FAMILIES, makeSeeds, type Family, type Seed } from './seeds.js';
import type { CaseResult, Outcome } from './worker.js';

export { FAMILIES, type Family };
export const OUTCOMES: readonly Outcome[] = ['typed', 'ok', 'untyped', 'nonfinite', 'hang', 'crash'];
export const FAILURES: readonly Outcome[] = ['untyped', 'nonfinite', 'hang', 'crash'];

export interface FuzzOptions {
  /** Mutants per family. */
  count: number;
  /** Wall-clock budget for all cases (cases not started by then are skipped). Default: none. */
  seconds?: number;
  families?: readonly Family[];
  seed?: number;
  /** Folder for failing cases (none written when undefined). */
  out?: string;
  /** Worker processes. Default: min(4, CPUs − 1), at least 1. */
  workers?: number;
  /** Per-case limit (ms) before a case counts as a hang. Default 5000. */
  timeoutMs?: number;
  /** Heap limit of each worker (MiB). Default 2048. */
  heapMiB?: number;
  log?: (line: string) => void;
}

export interface FailedCase {
  family: Family;
  seedName: string;
  index: number;
  outcome: Outcome;
  mutation: Mutation;
  error?: { name: string; message: string; stack?: string };
}

export interface FuzzReport {
  seed: number;
  counts: Record<Family, Record<Outcome, number>>;
  failures: FailedCase[];
  cases: number;
  skipped: number;
  seconds: number;
}

interface Job {
  family: Family;
  seed: Seed;
  index: number;
}

interface Worker {
  proc: ChildProcess;
  dir: string;
  ready: Promise<void>;
}

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.js');

function spawnWorker(dir: string, heapMiB: number): Worker {
  const proc = fork(WORKER, [], { execArgv: [`--max-old-space-size=${heapMiB}`], stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'advanced' });
  const ready = new Promise<void>((ok, fail) => {
    proc.once('message', () => ok());
    proc.once('exit', (code) => fail(new Error(`fuzz worker exited before it was ready (code ${code})`)));
  });
  ready.catch(() => {});
  return { proc, dir, ready };
}

function writeCase(dir: string, files: Map<string, Uint8Array>): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [rel, b] of files) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), b);
  }
}

/** Run one case on a worker; resolves with its outcome (hang / crash detected here). */
function runOn(w: Worker, path: string, id: number, timeoutMs: number): Promise<CaseResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const done = (r: CaseResult) => {
      clearTimeout(timer);
      w.proc.off('message', onMsg);
      w.proc.off('exit', onExit);
      resolve(r);
    };
    const onMsg = (m: CaseResult) => {
      if (m.id === id) done(m);
    };
    const onExit = (code: number | null, signal: string | null) => done({ id, outcome: 'crash', error: { name: 'Crash', message: `worker exited (code ${code}, signal ${signal})` }, ms: performance.now() - t0 });
    const timer = setTimeout(() => {
      w.proc.off('exit', onExit);
      w.proc.kill('SIGKILL');
      done({ id, outcome: 'hang', error: { name: 'Hang', message: `no answer within ${timeoutMs} ms` }, ms: performance.now() - t0 });
    }, timeoutMs);
    w.proc.on('message', onMsg);
    w.proc.once('exit', onExit);
    w.proc.send({ id, path });
  });
}

/** Run the fuzz campaign; see the module comment. */
export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const seed = o.seed ?? 1;
  const families = o.families ?? FAMILIES;
  const timeoutMs = o.timeoutMs ?? 5000;
  const heapMiB = o.heapMiB ?? 2048;
  const nWorkers = Math.max(1, o.workers ?? Math.min(4, cpus().length - 1));
  const deadline = o.seconds !== undefined ? t0 + o.seconds * 1000 : Infinity;
  const log = o.log ?? (() => {});
  const seeds = await makeSeeds(families);
  const byFamily = new Map<Family, Seed[]>(families.map((f) => [f, seeds.filter((s) => s.family === f)]));
  // Round-robin over families, so a time limit still covers every family.
  const jobs: Job[] = [];
  for (let i = 0; i < o.count; i++) {
    for (const f of families) {
      const list = byFamily.get(f)!;
      jobs.push({ family: f, seed: list[i % list.length]!, index: i });
    }
  }
  const counts = Object.fromEntries(families.map((f) => [f, Object.fromEntries(OUTCOMES.map((k) => [k, 0]))])) as Record<Family, Record<Outcome, number>>;
  const failures: FailedCase[] = [];
  const work = mkdtempSync(join(tmpdir(), 'bitnet-fuzz-'));
  let next = 0, cases = 0, lastLog = performance.now();
  const loop = async (slot: number) => {
    let w = spawnWorker(join(work, `w${slot}`), heapMiB);
    try {
      for (;;) {
        if (next >= jobs.length || performance.now() > deadline) return;
        const job = jobs[next]!;
        const id = next++;
        const rng = new Rng(seed).fork(`${job.family}:${job.index}`);
        const m = mutate(job.seed, rng);
        writeCase(w.dir, m.files);
        const path = job.seed.entry === '.' ? w.dir : join(w.dir, job.seed.entry);
        let r: CaseResult;
        try {
          await w.ready;
          r = await runOn(w, path, id, timeoutMs);
        } catch (e) {
          r = { id, outcome: 'crash', error: { name: 'Crash', message: (e as Error).message }, ms: 0 };
        }
        if (r.outcome === 'hang' || r.outcome === 'crash' || w.proc.exitCode !== null || w.proc.signalCode !== null) {
          w.proc.kill('SIGKILL');
          w = spawnWorker(w.dir, heapMiB);
        }
        counts[job.family][r.outcome]++;
        cases++;
        if (FAILURES.includes(r.outcome)) {
          const fc: FailedCase = { family: job.family, seedName: job.seed.name, index: job.index, outcome: r.outcome, mutation: m.mutation, ...(r.error ? { error: r.error } : {}) };
          failures.push(fc);
          if (o.out !== undefined) {
            const dir = join(o.out, job.family, `${String(job.index).padStart(6, '0')}-${r.outcome}`);
            writeCase(join(dir, 'files'), m.files);
            writeFileSync(join(dir, 'case.json'), JSON.stringify({ ...fc, seed, entry: job.seed.entry, reproduce: `new Rng(${seed}).fork('${job.family}:${job.index}')` }, null, 2) + '\n');
          }
        }
        if (performance.now() - lastLog > 10_000) {
          lastLog = performance.now();
          log(`${cases}/${jobs.length} cases, ${failures.length} failing, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
        }
      }
    } finally {
      w.proc.kill('SIGKILL');
    }
  };
  try {
    await Promise.all(Array.from({ length: nWorkers }, (_, i) => loop(i)));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { seed, counts, failures, cases, skipped: jobs.length - cases, seconds: (performance.now() - t0) / 1000 };
}

/** The per-family table the CLI prints. */
export function formatReport(r: FuzzReport): string {
  const fams = Object.keys(r.counts) as Family[];
  const head = ['family', ...OUTCOMES];
  const rows = fams.map((f) => [f, ...OUTCOMES.map((k) => String(r.counts[f][k]))]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)));
  const line = (x: string[]) => x.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  const sig = new Map<string, number>();
  for (const f of r.failures) {
    const top = f.error?.stack?.split('\n').find((l) => l.includes(' at ')) ?? '';
    const k = `${f.family} ${f.outcome}: ${f.error?.name ?? ''}: ${(f.error?.message ?? '').slice(0, 120)} ${top.trim()}`;
    sig.set(k, (sig.get(k) ?? 0) + 1);
  }
  return [
    `seed ${r.seed}: ${r.cases} cases in ${r.seconds.toFixed(1)} s${r.skipped ? ` (${r.skipped} skipped: time limit)` : ''}`,
    line(head),
    ...rows.map(line),
    ...(sig.size ? ['failures (distinct):', ...[...sig].map(([k, n]) => `  ${n} × ${k}`)] : ['no failures']),
  ].join('\n');
}
