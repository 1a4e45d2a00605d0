/**
 * Layout of the shared control block between the main thread and the kernel workers.
 * One Int32Array over a SharedArrayBuffer; job arguments as f64 after CTRL_ARGS_BYTE.
 *
 *   GEN      generation: bumped once per job; workers wait for it to change
 *   PENDING  workers that have not finished the current job
 *   FN       index of the export to call (in the sorted export-name list)
 *   NARGS    number of f64 arguments
 *   CMD      RUN or EXIT
 *   ERROR    set to 1 by a worker whose kernel threw
 *   DEAD     count of workers whose loop died (never waited for again)
 *   RANGES   [r0, r1] per thread id (tid 0 = main thread)
 */
export const GEN = 0;
export const PENDING = 1;
export const FN = 2;
export const NARGS = 3;
export const CMD = 4;
export const ERROR = 5;
/** Workers that left their loop unexpectedly (the caller must not wait for them). */
export const DEAD = 6;
export const RANGES = 16;
export const MAX_THREADS = 64;
export const CTRL_ARGS_BYTE = (RANGES + 2 * MAX_THREADS) * 4;
export const MAX_ARGS = 32;
export const CTRL_BYTES = CTRL_ARGS_BYTE + MAX_ARGS * 8;

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
