/**
 * A run directory on disk (Node): config.json, metrics.jsonl and checkpoints
 * `ckpt-<step>.safetensors`, written atomically, the newest `keep` kept.
 * Implements the trainer's RunStore. Opening a store (a run start or a resume) removes the temp files
 * that writes killed mid-way left behind (`.ckpt-….safetensors.<pid>.<n>.tmp`, see atomicWriteFile)
 * when the process that wrote them is gone.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile, loadSafetensors, saveSafetensors } from '../io/files.js';
import { checkpointContents, parseCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import type { RunStore, StepLog } from './loop.js';

export function checkpointName(step: number): string {
  return `ckpt-${String(step).padStart(8, '0')}.safetensors`;
}

/** Checkpoint files in a run directory, oldest first. */
export function listCheckpoints(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => /^ckpt-\d{8}\.safetensors$/.test(n)).sort().map((n) => join(dir, n));
}

export function readCheckpoint(path: string): LoadedCheckpoint {
  return parseCheckpoint(loadSafetensors(path), path);
}

/** atomicWriteFile's temp names: `.<name>.<pid>.<counter>.tmp`. */
const TEMP_RE = /^\.(.+)\.(\d+)\.(\d+)\.tmp$/;

/** Whether process `pid` exists (EPERM: it exists but is not ours). */
function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove temp files of killed atomic writes in `dir` (those whose writer process no longer runs; a live
 * writer's file is left alone). Returns the paths removed.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = TEMP_RE.exec(n);
    if (m === null || alive(Number(m[2]))) continue;
    const p = join(dir, n);
    rmSync(p, { force: true });
    removed.push(p);
  }
  return removed;
}

export function runDirStore(dir: string): RunStore {
  mkdirSync(dir, { recursive: true });
  removeStaleTemps(dir);
  const metrics = join(dir, 'metrics.jsonl');
  return {
    latest() {
      const all = listCheckpoints(dir);
      return all.length > 0 ? readCheckpoint(all[all.length - 1]!) : undefined;
    },
    begin(config, opts) {
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: config, train: opts }, null, 2) + '\n');
      writeFileSync(metrics, '');
    },
    truncateMetrics(step) {
      let lines: string[];
      try {
        lines = readFileSync(metrics, 'utf8').split('\n');
      } catch {
        return;
      }
      const kept = lines.filter((l) => l && (JSON.parse(l) as StepLog).step <= step);
      atomicWriteFile(metrics, kept.map((l) => l + '\n').join(''));
    },
    appendMetrics(log) {
      appendFileSync(metrics, JSON.stringify(log) + '\n');
    },
    saveCheckpoint(model, opt, step, extra, keep) {
      const { tensors, metadata } = checkpointContents(model, opt, step, extra);
      saveSafetensors(join(dir, checkpointName(step)), tensors, metadata);
      const all = listCheckpoints(dir);
      for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(old, { force: true });
    },
  };
}
