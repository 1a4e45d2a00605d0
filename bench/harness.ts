/**
 * Benchmark harness: validate → warm up → time N reps → report physical units.
 * Each case prints one JSON line (machine-readable) and a table row at the end.
 * Medians of `reps` runs (≥ 5), with min and p90; never asserted by tests.
 */
import os from 'node:os';

export interface Result {
  suite: string;
  name: string;
  shape: string;
  backend: string;
  threads: number;
  medianMs: number;
  minMs: number;
  p90Ms: number;
  /** Physical-unit metrics: GFLOP/s, GOPS, GB/s, tokens/s, ratios… */
  metrics: Record<string, number>;
}

export const env = {
  node: process.version,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cpus: os.cpus().length,
};

/** Time `fn` `reps` times after `warmup` calls; returns sorted times in ms. */
export function timeIt(fn: () => void, reps = 5, warmup = 1): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return ts.sort((a, b) => a - b);
}

export function stats(ts: number[]): { medianMs: number; minMs: number; p90Ms: number } {
  const q = (f: number) => ts[Math.min(ts.length - 1, Math.floor(f * (ts.length - 1) + 0.5))]!;
  return { medianMs: q(0.5), minMs: ts[0]!, p90Ms: q(0.9) };
}

export class Reporter {
  readonly results: Result[] = [];
  add(r: Result): Result {
    this.results.push(r);
    console.log(JSON.stringify({ ...r, ...env }));
    return r;
  }
  table(): string {
    const rows = this.results.map((r) => [
      r.suite, r.name, r.shape, r.backend, String(r.threads), r.medianMs.toFixed(3), r.minMs.toFixed(3),
      Object.entries(r.metrics).map(([k, v]) => `${k}=${v < 10 ? v.toFixed(2) : v.toFixed(1)}`).join(' '),
    ]);
    const head = ['suite', 'case', 'shape', 'backend', 'thr', 'median ms', 'min ms', 'metrics'];
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i]!)).join('  ');
    return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
  }
}
