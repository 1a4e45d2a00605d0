/**
 * ThreadPool: N-1 persistent workers + the calling thread, all on one shared
 * WebAssembly.Memory. A job is "call export FN(...args, r0, r1, tid) for each
 * thread's row range"; hand-off is a generation counter in shared memory
 * (spin, then Atomics.wait), never postMessage (docs/platform.md §3.4: 0.3–8 µs vs 5–100 µs).
 *
 * Rows are split into contiguous chunks aligned to `align`, in thread order;
 * kernels compute each row independently of the split, so results are
 * bit-identical for any thread count.
 */
import { BackendError } from '../../errors.js';
import { canBlock, startWorker, type WorkerHandle } from '../../platform.js';
import { CMD, CMD_EXIT, CMD_RUN, CTRL_ARGS_BYTE, CTRL_BYTES, DEAD, ERROR, FN, GEN, MAX_ARGS, MAX_THREADS, NARGS, PENDING, RANGES, type WorkerInit } from './protocol.js';

export class ThreadPool {
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly blocking = canBlock();
  private lastError = '';
  private disposed = false;

  private constructor(readonly threads: number, private readonly workers: WorkerHandle[], control: SharedArrayBuffer) {
    this.ctrl = new Int32Array(control);
    this.args = new Float64Array(control, CTRL_ARGS_BYTE, MAX_ARGS);
    for (const w of workers) w.onError((e) => (this.lastError = String(e)));
  }

  /** Start `threads - 1` workers sharing `memory` (must be shared) and `module`. */
  static async create(threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory, names: string[]): Promise<ThreadPool> {
    if (threads < 1 || threads > MAX_THREADS) throw new BackendError(`ThreadPool: threads must be in [1, ${MAX_THREADS}], got ${threads}`);
    const control = new SharedArrayBuffer(CTRL_BYTES);
    const url = new URL('./worker.js', import.meta.url);
    const workers: WorkerHandle[] = [];
    const ready: Promise<void>[] = [];
    for (let tid = 1; tid < threads; tid++) {
      const init: WorkerInit = { module, memory, control, tid, names };
      const w = await startWorker(url, init);
      ready.push(
        new Promise<void>((resolve, reject) => {
          w.onMessage((m) => {
            if ((m as { ready?: number }).ready === tid) resolve();
          });
          w.onError((e) => reject(new BackendError(`kernel worker ${tid} failed to start: ${String(e)}`)));
        }),
      );
      workers.push(w);
    }
    // Workers block in Atomics.wait once started, so wait for them asynchronously first.
    await Promise.all(ready);
    for (const w of workers) w.unref();
    return new ThreadPool(threads, workers, control);
  }

  /**
   * Run export `fn` over rows [0, rows) on `used` threads (1 ≤ used ≤ threads).
   * Threads beyond `used` receive empty ranges. Returns when all are done.
   */
  run(fn: number, args: number[], rows: number, align: number, used: number, runLocal: (r0: number, r1: number, tid: number) => void): void {
    if (this.disposed) throw new BackendError('ThreadPool: used after dispose()');
    if (Atomics.load(this.ctrl, DEAD) > 0) throw new BackendError(`ThreadPool: a worker thread has died${this.lastError ? ` (${this.lastError})` : ''}; create a new backend`);
    const n = Math.max(1, Math.min(used, this.threads));
    const ranges = splitRows(rows, n, align);
    if (n === 1 || this.threads === 1) {
      runLocal(0, rows, 0);
      return;
    }
    this.runJob(fn, args, ranges, rows, runLocal);
  }

  private runJob(fn: number, args: number[], ranges: number[], _rows: number, runLocal?: (r0: number, r1: number, tid: number) => void): void {
    const c = this.ctrl;
    if (args.length > MAX_ARGS) throw new BackendError(`ThreadPool: at most ${MAX_ARGS} kernel arguments`);
    for (let i = 0; i < args.length; i++) this.args[i] = args[i]!;
    for (let t = 0; t < this.threads; t++) {
      c[RANGES + 2 * t] = ranges[2 * t] ?? 0;
      c[RANGES + 2 * t + 1] = ranges[2 * t + 1] ?? 0;
    }
    c[FN] = fn;
    c[NARGS] = args.length;
    c[CMD] = CMD_RUN;
    Atomics.store(c, PENDING, this.threads - 1);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    let err: unknown;
    if (runLocal !== undefined && ranges[1]! > ranges[0]!) {
      try {
        runLocal(ranges[0]!, ranges[1]!, 0);
      } catch (e) {
        err = e;
      }
    }
    this.waitIdle();
    if (err !== undefined) throw err;
    if (Atomics.load(c, ERROR) !== 0) {
      Atomics.store(c, ERROR, 0);
      throw new BackendError(`a kernel failed in a worker thread${this.lastError ? `: ${this.lastError}` : ''}`);
    }
  }

  private waitIdle(): void {
    const c = this.ctrl;
    let spins = 0;
    for (;;) {
      const p = Atomics.load(c, PENDING);
      if (p === 0) return;
      if (this.blocking && ++spins > 1 << 14) {
        Atomics.wait(c, PENDING, p, 1);
        spins = 0;
      }
    }
  }

  /** Stop the workers. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.ctrl, CMD, CMD_EXIT);
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** [r0, r1] pairs for `n` threads: contiguous chunks of a multiple of `align` rows, in thread order. */
export function splitRows(rows: number, n: number, align: number): number[] {
  const out: number[] = [];
  const chunk = Math.ceil(rows / n / align) * align;
  for (let t = 0; t < n; t++) {
    const r0 = Math.min(rows, t * chunk);
    out.push(r0, Math.min(rows, r0 + chunk));
  }
  return out;
}
