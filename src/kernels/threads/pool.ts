/**
 * ThreadPool: N-1 persistent workers + the calling thread, all on one shared
 * WebAssembly.Memory. A job is "call export FN(...args, r0, r1, tid) for each
 * thread's row range"; hand-off is a generation counter in shared memory
 * (spin, then Atomics.wait), never postMessage (docs/platform.md §3.4: 0.3–8 µs vs 5–100 µs).
 *
 * Rows are cut into chunks (a multiple of `align` rows, CHUNKS_PER_THREAD per thread) that every
 * thread, the caller included, claims from a shared counter (protocol.ts): a worker that wakes late or
 * is preempted leaves its share to the others instead of making them wait. Kernels compute each row
 * independently of the split, so results are bit-identical for any thread count and schedule.
 */
import { BackendError } from '../../errors.js';
import { canBlock, startWorker, type WorkerHandle } from '../../platform.js';
import { CHUNK, CHUNKS, CHUNKS_PER_THREAD, claimChunk, CMD, CMD_EXIT, CMD_RUN, CTRL_ARGS_BYTE, CTRL_BYTES, DEAD, DONE, ERROR, FN, GEN, MAX_ARGS, MAX_CHUNKS, MAX_THREADS, NARGS, NEXT, ROWS, type WorkerInit } from './protocol.js';

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
   * Run export `fn` over rows [0, rows), cut into chunks for `used` threads (1 ≤ used ≤ threads): about
   * CHUNKS_PER_THREAD·used chunks of a multiple of `align` rows, claimed by whichever thread is free.
   * `runLocal` runs a chunk on the calling thread (tid 0). Returns when every chunk is done.
   */
  run(fn: number, args: number[], rows: number, align: number, used: number, runLocal: (r0: number, r1: number, tid: number) => void): void {
    if (this.disposed) throw new BackendError('ThreadPool: used after dispose()');
    if (Atomics.load(this.ctrl, DEAD) > 0) throw new BackendError(`ThreadPool: a worker thread has died${this.lastError ? ` (${this.lastError})` : ''}; create a new backend`);
    const n = Math.max(1, Math.min(used, this.threads));
    if (n === 1 || this.threads === 1) {
      runLocal(0, rows, 0);
      return;
    }
    const chunk = chunkRows(rows, n * CHUNKS_PER_THREAD, align);
    this.runJob(fn, args, rows, chunk, runLocal);
  }

  private runJob(fn: number, args: number[], rows: number, chunk: number, runLocal: (r0: number, r1: number, tid: number) => void): void {
    const c = this.ctrl;
    if (args.length > MAX_ARGS) throw new BackendError(`ThreadPool: at most ${MAX_ARGS} kernel arguments`);
    for (let i = 0; i < args.length; i++) this.args[i] = args[i]!;
    const chunks = Math.ceil(rows / chunk);
    c[ROWS] = rows;
    c[CHUNK] = chunk;
    c[CHUNKS] = chunks;
    c[FN] = fn;
    c[NARGS] = args.length;
    c[CMD] = CMD_RUN;
    Atomics.store(c, DONE, 0);
    const job = (Atomics.load(c, GEN) + 1) & 0xffff;
    Atomics.store(c, NEXT, job << 16);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    let err: unknown;
    for (let k = claimChunk(c, job); k >= 0; k = claimChunk(c, job)) {
      try {
        if (err === undefined) runLocal(k * chunk, Math.min(rows, (k + 1) * chunk), 0);
      } catch (e) {
        err = e;
      }
      Atomics.add(c, DONE, 1);
    }
    this.waitDone(chunks);
    if (err !== undefined) throw err;
    if (Atomics.load(c, ERROR) !== 0) {
      Atomics.store(c, ERROR, 0);
      throw new BackendError(`a kernel failed in a worker thread${this.lastError ? `: ${this.lastError}` : ''}`);
    }
  }

  /** Wait until `chunks` chunks are done (spin, then Atomics.wait where this thread may block). */
  private waitDone(chunks: number): void {
    const c = this.ctrl;
    let spins = 0;
    for (;;) {
      const d = Atomics.load(c, DONE);
      if (d >= chunks) return;
      if (Atomics.load(c, DEAD) > 0) throw new BackendError(`ThreadPool: a worker thread died during a job${this.lastError ? ` (${this.lastError})` : ''}; create a new backend`);
      if (this.blocking && ++spins > 1 << 14) {
        Atomics.wait(c, DONE, d, 1);
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

/** Rows per chunk: about rows / `chunks`, rounded up to a multiple of `align`, so that at most MAX_CHUNKS chunks. */
export function chunkRows(rows: number, chunks: number, align: number): number {
  const a = Math.max(1, align);
  const per = Math.max(Math.ceil(rows / chunks), Math.ceil(rows / MAX_CHUNKS));
  return Math.ceil(per / a) * a;
}
