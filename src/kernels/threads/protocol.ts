/**
 * Layout of the shared control block between the main thread and the kernel workers.
 * One Int32Array over a SharedArrayBuffer; job arguments as f64 after CTRL_ARGS_BYTE.
 *
 *   GEN      generation: bumped once per job; workers wait for it to change
 *   FN       index of the export to call (in the sorted export-name list)
 *   NARGS    number of f64 arguments
 *   CMD      RUN or EXIT
 *   ERROR    set to 1 by a worker whose kernel threw
 *   DEAD     count of workers whose loop died (never waited for again)
 *   NEXT     (job << 16) | next unclaimed chunk: every thread claims chunks with compareExchange, so the
 *            rows go to whichever thread is free (a late or preempted thread takes fewer), and a
 *            worker that wakes after its job has finished cannot claim anything of the next one
 *   DONE     chunks finished (or failed) in the current job; the caller waits for it to reach CHUNKS
 *   ROWS, CHUNK, CHUNKS  rows of the job, rows per chunk (a multiple of the kernel's alignment), chunks
 * A row's result never depends on which thread computes it or on the chunk bounds (docs/kernels.md:
 * fixed reduction order within a row), so the output is bit-identical for any thread count and schedule.
 */
export const GEN = 0;
export const FN = 2;
export const NARGS = 3;
export const CMD = 4;
export const ERROR = 5;
/** Workers that left their loop unexpectedly (the caller must not wait for them). */
export const DEAD = 6;
export const NEXT = 7;
export const DONE = 8;
export const ROWS = 9;
export const CHUNK = 10;
export const CHUNKS = 11;
export const MAX_THREADS = 64;
/** Chunks per thread of a job: enough that a thread that starts late (woken from Atomics.wait) or is preempted leaves its share to the others, few enough that per-call setup stays negligible. */
export const CHUNKS_PER_THREAD = 4;
/** Chunk indices live in the low 16 bits of NEXT. */
export const MAX_CHUNKS = 0xffff;
export const CTRL_ARGS_BYTE = 16 * 4;
export const MAX_ARGS = 32;
export const CTRL_BYTES = CTRL_ARGS_BYTE + MAX_ARGS * 8;

/**
 * Claim the next chunk of job `job` (16 bits): its index, or −1 when the job has none left or is no longer
 * current. One compareExchange on NEXT; shared by the caller and the workers.
 */
export function claimChunk(ctrl: Int32Array, job: number): number {
  for (;;) {
    const v = Atomics.load(ctrl, NEXT);
    if (v >>> 16 !== job) return -1;
    const c = v & MAX_CHUNKS;
    if (c >= ctrl[CHUNKS]!) return -1;
    if (Atomics.compareExchange(ctrl, NEXT, v, v + 1) === v) return c;
  }
}

export const CMD_RUN = 0;
export const CMD_EXIT = 1;

/**
 * How long an idle worker spins on GEN before blocking in Atomics.wait. A
 * notify+wake costs 4–130 µs, a spin hand-off 0.3–2 µs (docs/platform.md §3.4), and
 * decode issues a kernel every few tens of µs, so workers spin through the gaps.
 */
export const SPIN_ITERS = 1 << 16;

/** Message that starts a worker. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  tid: number;
  names: string[];
}

/** Sorted names of a module's function exports: the FN index space shared by all threads. */
export function functionNames(module: WebAssembly.Module): string[] {
  return WebAssembly.Module.exports(module)
    .filter((e) => e.kind === 'function')
    .map((e) => e.name)
    .sort();
}

/** Imports every kernel module needs besides its memory. */
export function kernelImports(memory: WebAssembly.Memory): WebAssembly.Imports {
  return {
    env: {
      memory,
      abort: () => {
        throw new Error('wasm abort');
      },
    },
  };
}
